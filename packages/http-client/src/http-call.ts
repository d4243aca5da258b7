import type { Clock, ExecuteContext } from '@clone/service-errors';
import type { Agent, Dispatcher } from 'undici';
import { authorization, type ServiceCredentials } from './auth-source';
import { Exchange } from './exchange';
import { setHeader } from './header-list';
import type { PreparedRequest } from './prepare-request';
import { DEADLINE_HEADER } from './propagation-headers';
import { instanceOrigin, type ServiceDiscovery, type Target } from './target';

/** What every call of one client shares. @internal */
export interface CallEnvironment {
  readonly serviceName: string;
  readonly agent: Agent;
  readonly clock: Clock;
  readonly fixed: Target | undefined;
  readonly discovery: ServiceDiscovery | undefined;
  readonly auth: ServiceCredentials | undefined;
}

/**
 * One call: each attempt finds an instance, adds the token and the time left, and sends the
 * request on the client's pool as one {@link Exchange}, which turns the answer into the parsed
 * body or a ServiceError.
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

  /** Adds the token (awaited only when its source is asynchronous), then sends. */
  #send(target: Target, context: ExecuteContext): Promise<T> {
    const auth = this.#env.auth;
    if (auth === undefined) return this.#exchange(target, context, undefined);
    const value = authorization(auth, this.#env.serviceName);
    if (typeof value === 'string') return this.#exchange(target, context, value);
    return value.then((header) => this.#exchange(target, context, header));
  }

  #exchange(target: Target, context: ExecuteContext, auth: string | undefined): Promise<T> {
    const env = this.#env;
    const request = this.#request;
    const headers = request.headers.slice();
    if (auth !== undefined) setHeader(headers, 'authorization', auth);
    const options: Dispatcher.DispatchOptions = {
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
    if (request.body !== undefined) options.body = request.body;
    return Exchange.send(env, request, options, request.abortable ? context.signal : undefined) as Promise<T>;
  }
}
