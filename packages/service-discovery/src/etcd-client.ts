import { type BackoffOptions, backoffDelay } from '@clone/service-errors';
import type { IOptions } from 'etcd3';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
/** etcd3's per-host policy: a cockatiel `IPolicy`, typed through etcd3 since cockatiel is its dependency, not ours. */
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>;
/** etcd3's watch reconnect backoff: a cockatiel `IBackoff`. */
type WatchBackoff = NonNullable<FaultHandling['watchBackoff']>;

/** What the etcd client needs from the backend's options. */
export interface EtcdClientSettings {
  hosts: string | string[];
  callTimeoutMs: number;
  /** The longest wait between two attempts to reach etcd while it is unreachable. */
  reconnectMaxMs: number;
  /** Uniform numbers in [0, 1), for the reconnect jitter. */
  random: () => number;
}

/** The first wait before reconnecting; doubles up to `reconnectMaxMs`. */
const RECONNECT_INITIAL_MS = 100;

/** The reconnect backoff of the watch and of re-reading the registry: one shape for both. */
export function reconnectBackoff(reconnectMaxMs: number): BackoffOptions {
  return {
    initialDelayMs: Math.min(RECONNECT_INITIAL_MS, reconnectMaxMs),
    maxDelayMs: reconnectMaxMs,
    backoffMultiplier: 2,
    // At least half the ceiling, so registries that lost etcd together do not return in step.
    jitter: 'equal',
  };
}

const noEvent = () => ({ dispose() {} });
const NEVER_ABORTED = new AbortController().signal;

/**
 * Every call goes to the host. etcd3's default per-host circuit breaker refuses every call for
 * 5 s after three consecutive failures, so a registry kept failing for up to 5 s after etcd
 * came back. The registry already paces its attempts (capped backoff, at most
 * `reconnectMaxMs` apart), so a breaker on top only delays recovery; with several hosts,
 * etcd3's global retry moves each attempt to the next host anyway.
 */
export const passThroughHostPolicy: HostPolicy = {
  _altReturn: undefined as never,
  onSuccess: noEvent,
  onFailure: noEvent,
  execute: async (fn, signal) => fn({ signal: signal ?? NEVER_ABORTED }),
};

/** An etcd3 watch backoff drawing its delays from `backoffDelay`, starting at attempt 1. */
export function watchBackoff(options: BackoffOptions, random: () => number): WatchBackoff {
  const step = (attempt: number, previousMs: number): WatchBackoff => {
    const duration = backoffDelay(attempt, previousMs, options, random);
    return { duration, next: () => step(attempt + 1, duration) };
  };
  // etcd3 starts from `initial.next()`; the initial duration itself is never waited.
  return { duration: 0, next: () => step(1, 0) };
}

/** The options of the etcd3 client a backend makes for itself. */
export function etcdClientOptions(settings: EtcdClientSettings): IOptions {
  const timeout = settings.callTimeoutMs;
  return {
    hosts: settings.hosts,
    dialTimeout: timeout,
    // grpc-js compares deadlines with the wall clock, so this one is wall-clock time.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    faultHandling: {
      host: () => passThroughHostPolicy,
      watchBackoff: watchBackoff(reconnectBackoff(settings.reconnectMaxMs), settings.random),
    },
  };
}
