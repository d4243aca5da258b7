import { type Clock, type ExecuteContext, isServiceError, type ServiceError } from '@clone/service-errors';
import type { Agent, Dispatcher } from 'undici';
import { authorization, forgetToken, type ServiceCredentials } from './auth-source';
import { setHeader } from './header-list';
import { DEADLINE_HEADER } from './propagation-headers';
import { decodeBody, parseJson, type ResponseType } from './response-body';
import { responseError } from './response-error';
import { isStaleSocketError } from './stale-socket';
import { instanceOrigin, type ServiceDiscovery, type Target } from './target';
import { transportError } from './transport-error';

/** What every call of one client shares. @internal */
export interface CallEnvironment {
  readonly serviceName: string;
  readonly agent: Agent;
  readonly clock: Clock;
  readonly fixed: Target | undefined;
  readonly discovery: ServiceDiscovery | undefined;
  readonly auth: ServiceCredentials | undefined;
}

/** A request checked and encoded, ready for its attempts. @internal */
export interface PreparedRequest {
  readonly method: Dispatcher.HttpMethod;
  /** Path and query, without the target's prefix. */
  readonly path: string;
  /** Every header but the per-attempt ones (authorization, deadline), as [name, value, …]. */
  readonly headers: readonly string[];
  readonly body: Dispatcher.DispatchOptions['body'];
  /** Whether the request may be sent again (idempotent or keyed, and a replayable body). */
  readonly retrySafe: boolean;
  readonly responseType: ResponseType;
  readonly maxResponseBytes: number;
  /** Whether the caller gave a signal: only then is one handed to undici (see `#send`). */
  readonly abortable: boolean;
}

/**
 * One call: each attempt finds an instance, adds the token and the time left, sends the request
 * on the client's pool and turns the answer into the parsed body or a ServiceError. A request
 * that a stale pooled socket swallowed before any response byte is sent once more at once
 * (when it may be repeated): that is the pool's fault, not the callee's, so it costs no retry.
 */
export class HttpCall<T> {
  readonly #env: CallEnvironment;
  readonly #request: PreparedRequest;

  constructor(env: CallEnvironment, request: PreparedRequest) {
    this.#env = env;
    this.#request = request;
  }

  /** One attempt (the operation the policies run). A fixed target costs no extra promise. */
  attempt(context: ExecuteContext): Promise<T> {
    const fixed = this.#env.fixed;
    return fixed === undefined ? this.#discovered(context) : this.#send(fixed, context);
  }

  async #discovered(context: ExecuteContext): Promise<T> {
    const env = this.#env;
    const instance = await env.discovery!.getServiceInstance(env.serviceName);
    const target = { origin: instanceOrigin(instance, env.serviceName), prefix: '', instance };
    try {
      return await this.#send(target, context);
    } finally {
      env.discovery!.release?.(instance);
    }
  }

  async #send(target: Target, context: ExecuteContext): Promise<T> {
    const env = this.#env;
    const request = this.#request;
    const headers = request.headers.slice();
    if (env.auth !== undefined) {
      const value = authorization(env.auth, env.serviceName);
      setHeader(headers, 'authorization', typeof value === 'string' ? value : await value);
    }
    const options: Dispatcher.RequestOptions = {
      origin: target.origin,
      path: target.prefix + request.path,
      method: request.method,
      headers,
    };
    if (context.deadline !== Number.POSITIVE_INFINITY) {
      const left = Math.max(1, Math.ceil(context.deadline - env.clock.now()));
      setHeader(headers, DEADLINE_HEADER, String(left));
      // undici's own timers end the request on the wire at the deadline, when the policies'
      // timeout rejects the call: cheaper than an AbortController per request, which is made
      // only for a caller's own signal.
      options.headersTimeout = left;
      options.bodyTimeout = left;
    }
    if (request.abortable) options.signal = context.signal;
    if (request.body !== undefined) options.body = request.body;
    let response: Dispatcher.ResponseData;
    try {
      response = await env.agent.request(options);
    } catch (error) {
      if (
        !(request.retrySafe && isStaleSocketError(error) && !(request.abortable && context.signal.aborted))
      ) {
        throw transportError(error, env.serviceName, target.origin);
      }
      try {
        response = await env.agent.request(options);
      } catch (again) {
        throw transportError(again, env.serviceName, target.origin);
      }
    }
    if (response.statusCode >= 400) {
      const error = await responseError(response, {
        service: env.serviceName,
        method: request.method,
        path: request.path,
        now: env.clock.now(),
      });
      if (response.statusCode === 401 && env.auth !== undefined) forgetToken(env.auth);
      throw error;
    }
    try {
      const { body, headers: answer } = response;
      // The common answer, JSON of a declared length within the limit, read in one step.
      const length = answer['content-length'];
      if (
        request.responseType === 'json' &&
        typeof length === 'string' &&
        Number(length) <= request.maxResponseBytes
      ) {
        return parseJson(await body.text(), answer, env.serviceName) as T;
      }
      return (await decodeBody(
        body,
        answer,
        request.responseType,
        request.maxResponseBytes,
        env.serviceName,
      )) as T;
    } catch (error) {
      throw isServiceError(error)
        ? (error as ServiceError)
        : transportError(error, env.serviceName, target.origin);
    }
  }
}
