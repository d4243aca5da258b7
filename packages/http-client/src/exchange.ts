import { Readable } from 'node:stream';
import type { Clock } from '@clone/service-errors';
import type { Agent, Dispatcher } from 'undici';
import { forgetToken, type ServiceCredentials } from './auth-source';
import type { PreparedRequest } from './prepare-request';
import { decodeBody, headerValue, type ResponseHeaders, tooLarge } from './response-body';
import { ERROR_BODY_LIMIT, responseError } from './response-error';
import { isStaleSocketError } from './stale-socket';
import { transportError } from './transport-error';

/** What an exchange needs of its client. @internal */
export interface ExchangeEnvironment {
  readonly serviceName: string;
  readonly agent: Agent;
  readonly auth: ServiceCredentials | undefined;
  readonly clock: Clock;
}

type Controller = Dispatcher.DispatchController;

/**
 * One request and its answer on the client's pool, through undici's dispatcher interface:
 * the body arrives as the chunks undici parsed and becomes the parsed value (or the error)
 * when it ends. This is what `undici.request` + `body.json()` do, without what a general API
 * needs and a client of JSON services does not: a stream, an async resource and several
 * promises per request. That saving pays for the policies and the headers: in
 * `pnpm bench:http` a ServiceClient costs about the client CPU per request of a bare
 * `undici.request`. Only `responseType: 'stream'` gets a stream, fed with backpressure.
 *
 * The exchange is its own handler and, for a caller's signal, its own abort listener: no
 * closure per request. It settles its promise once; anything undici reports after that (the
 * error of a connection it was told to drop) only ends a stream it handed out.
 *
 * A request that a stale pooled socket swallowed before any response byte is sent once more
 * (when it may be repeated): that is the pool's fault, not the callee's, so it costs no retry.
 * @internal
 */
export class Exchange implements Dispatcher.DispatchHandler {
  readonly #env: ExchangeEnvironment;
  readonly #request: PreparedRequest;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #signal: AbortSignal | undefined;
  #resolve!: (value: unknown) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #controller: Controller | undefined;
  /** Whether any response head (1xx included) came: then the request reached the callee. */
  #responded = false;
  #resent = false;
  #status = 0;
  #headers: ResponseHeaders | undefined;
  #chunks: Buffer[] = [];
  #size = 0;
  #limit = 0;
  #stream: Readable | undefined;

  private constructor(
    env: ExchangeEnvironment,
    request: PreparedRequest,
    options: Dispatcher.DispatchOptions,
    signal: AbortSignal | undefined,
  ) {
    this.#env = env;
    this.#request = request;
    this.#options = options;
    this.#signal = signal;
  }

  /**
   * Sends `options` and resolves to the decoded answer; rejects with the status's or the
   * transport's ServiceError. `signal` (only a caller's: see PreparedRequest.abortable) stops
   * the request on the wire.
   */
  static send(
    env: ExchangeEnvironment,
    request: PreparedRequest,
    options: Dispatcher.DispatchOptions,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const exchange = new Exchange(env, request, options, signal);
    Exchange.#starting = exchange;
    const promise = new Promise(Exchange.#takeSettlers);
    Exchange.#starting = undefined;
    if (signal !== undefined) {
      if (signal.aborted) {
        exchange.#fail(signal.reason);
        return promise;
      }
      signal.addEventListener('abort', exchange);
    }
    env.agent.dispatch(options, exchange);
    return promise;
  }

  /** The exchange whose promise is being made (the Promise executor runs synchronously). */
  static #starting: Exchange | undefined;

  /** One executor shared by every exchange (no closure per request): it hands over the settlers. */
  static #takeSettlers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
    const exchange = Exchange.#starting!;
    exchange.#resolve = resolve;
    exchange.#reject = reject;
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    // Aborted while it waited for a connection: it must not be written.
    if (this.#settled && this.#stream === undefined) controller.abort(new Error('request abandoned'));
  }

  onResponseStart(controller: Controller, statusCode: number, headers: ResponseHeaders): void {
    this.#responded = true;
    if (statusCode < 200 || this.#settled) return; // 1xx: informational, the answer follows
    this.#status = statusCode;
    this.#headers = headers;
    const request = this.#request;
    if (statusCode >= 400) {
      this.#limit = ERROR_BODY_LIMIT;
    } else if (request.responseType === 'stream') {
      const stream = new Readable({ read: () => controller.resume() });
      this.#stream = stream;
      stream.once('close', () => this.#streamClosed(stream));
      this.#succeed(stream);
      return;
    } else {
      this.#limit = request.maxResponseBytes;
    }
    const declared = headerValue(headers, 'content-length');
    // A declared length past the limit is refused before a byte is read (a HEAD, a 204 or a
    // 304 declares a body it does not send).
    if (
      declared !== undefined &&
      Number(declared) > this.#limit &&
      request.method !== 'HEAD' &&
      statusCode !== 204 &&
      statusCode !== 304
    ) {
      this.#overLimit(controller, Number(declared));
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    const stream = this.#stream;
    if (stream !== undefined) {
      if (!stream.push(chunk)) controller.pause();
      return;
    }
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size > this.#limit) this.#overLimit(controller, undefined);
    else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.#release();
    if (this.#stream !== undefined) {
      this.#stream.push(null);
      return;
    }
    if (this.#settled) return;
    const request = this.#request;
    const env = this.#env;
    const status = this.#status;
    if (status >= 400) {
      this.#failStatus(
        decodeBody(this.#chunks, this.#size, this.#headers!, 'text', env.serviceName) as string,
      );
      return;
    }
    let value: unknown;
    try {
      value = decodeBody(
        this.#chunks,
        this.#size,
        this.#headers!,
        request.responseType as Exclude<PreparedRequest['responseType'], 'stream'>,
        env.serviceName,
      );
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#succeed(value);
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    if (this.#stream !== undefined) {
      this.#release();
      this.#stream.destroy(error);
      return;
    }
    if (this.#settled) return;
    const request = this.#request;
    if (
      !this.#responded &&
      !this.#resent &&
      request.retrySafe &&
      isStaleSocketError(error) &&
      this.#signal?.aborted !== true
    ) {
      this.#resent = true;
      this.#controller = undefined;
      // After undici has finished with the dead connection, as a resend from a rejected
      // promise would be: dispatched from inside its error handling, the request could be
      // queued on the client that is being torn down.
      queueMicrotask(() => this.#env.agent.dispatch(this.#options, this));
      return;
    }
    this.#fail(error);
  }

  /** The caller's signal aborted (the exchange is its own listener). */
  handleEvent(): void {
    const reason: unknown = this.#signal!.reason;
    if (this.#stream !== undefined) {
      this.#release();
      this.#stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
      return;
    }
    if (this.#settled) return;
    this.#fail(reason);
    this.#controller?.abort(reason instanceof Error ? reason : new Error(String(reason)));
  }

  /** The body passed its limit: the answer is refused and the connection dropped. */
  #overLimit(controller: Controller, declared: number | undefined): void {
    // An error answer keeps its status, which alone tells what happened.
    if (this.#status >= 400) this.#failStatus(undefined);
    else this.#fail(tooLarge(this.#env.serviceName, this.#limit, declared));
    this.#chunks = [];
    controller.abort(new Error('response body over its limit'));
  }

  #failStatus(text: string | undefined): void {
    const env = this.#env;
    const request = this.#request;
    const error = responseError(this.#status, this.#headers!, text, {
      service: env.serviceName,
      method: request.method,
      path: request.path,
      now: env.clock.now(),
    });
    if (this.#status === 401 && env.auth !== undefined) forgetToken(env.auth);
    this.#settle();
    this.#reject(error);
  }

  #succeed(value: unknown): void {
    this.#settle();
    this.#resolve(value);
  }

  #fail(error: unknown): void {
    this.#settle();
    this.#reject(transportError(error, this.#env.serviceName, this.#options.origin as string));
  }

  #settle(): void {
    this.#settled = true;
    // A stream handed out still listens: the caller may stop reading it with the signal.
    if (this.#stream === undefined) this.#release();
  }

  /** Stops listening to the caller's signal. */
  #release(): void {
    this.#signal?.removeEventListener('abort', this);
  }

  /** The caller closed (or finished) the stream: the request ends with it. */
  #streamClosed(stream: Readable): void {
    this.#release();
    if (!stream.readableEnded) this.#controller?.abort(new Error('response stream closed by the caller'));
  }
}
