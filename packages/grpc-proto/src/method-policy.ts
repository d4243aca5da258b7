import type { ServiceDefinition } from '@grpc/grpc-js';
import { SERVICE_KINDS, serviceDefinition } from './protos';

/** `google.protobuf.MethodOptions.idempotency_level`, as proto-loader reports it. */
export type IdempotencyLevel = 'IDEMPOTENCY_UNKNOWN' | 'NO_SIDE_EFFECTS' | 'IDEMPOTENT';

/** What the proto says about one method, and what follows for callers. */
export interface MethodPolicy {
  /** `/asr.ASRService/Transcribe`. */
  path: string;
  /** `Transcribe`. */
  name: string;
  idempotencyLevel: IdempotencyLevel;
  /** NO_SIDE_EFFECTS or IDEMPOTENT: a failed call may be repeated without harm. */
  idempotent: boolean;
  requestStream: boolean;
  responseStream: boolean;
}

const policies = new Map<string, MethodPolicy>();
let loadedBuiltIns = false;

function levelOf(method: unknown): IdempotencyLevel {
  const options = (method as { options?: Record<string, unknown> }).options;
  const level = options?.idempotency_level ?? options?.idempotencyLevel;
  return level === 'NO_SIDE_EFFECTS' || level === 'IDEMPOTENT' ? level : 'IDEMPOTENCY_UNKNOWN';
}

/**
 * Learns the methods of a service definition (from proto-loader): their idempotency level
 * and streaming shape. The five built-in services are known already; register your own
 * services' definitions so that calls to them follow their protos too.
 */
export function registerMethodPolicies(definition: ServiceDefinition): void {
  for (const method of Object.values(definition)) {
    const level = levelOf(method);
    policies.set(method.path, {
      path: method.path,
      name: methodName(method.path),
      idempotencyLevel: level,
      idempotent: level !== 'IDEMPOTENCY_UNKNOWN',
      requestStream: method.requestStream,
      responseStream: method.responseStream,
    });
  }
}

function ensureBuiltIns(): void {
  if (loadedBuiltIns) return;
  loadedBuiltIns = true;
  for (const kind of SERVICE_KINDS) registerMethodPolicies(serviceDefinition(kind));
}

/** The policy of a method by full path, or undefined for a method no known proto declares. */
export function getMethodPolicy(path: string): MethodPolicy | undefined {
  ensureBuiltIns();
  return policies.get(path);
}

/** The method name of a full path (`/asr.ASRService/Transcribe` → `Transcribe`). */
export function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Whether a failed call to `path` may be retried automatically: only methods marked
 * `idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT` in their proto, and never a stream
 * whose request went out piece by piece (it cannot be replayed).
 */
export function isRetryableMethod(path: string): boolean {
  return isRetryablePolicy(getMethodPolicy(path));
}

/** {@link isRetryableMethod} for a policy already looked up (undefined: no known proto declares it). */
export function isRetryablePolicy(policy: MethodPolicy | undefined): boolean {
  return policy?.idempotent === true && !policy.requestStream;
}
