import { ServiceErrorCode } from './error-code';

/**
 * The seventeen gRPC status codes, as numbers. Mirrors `@grpc/grpc-js`'s `status` enum so
 * that this package needs no gRPC dependency; the values are fixed by the gRPC spec.
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status code number (0–16). */
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];
/** A gRPC status code name, e.g. `'UNAVAILABLE'`. */
export type GrpcStatusName = keyof typeof GrpcStatus;

const NAMES: readonly GrpcStatusName[] = Object.keys(GrpcStatus) as GrpcStatusName[];

/** The name of a gRPC status number (`14` → `'UNAVAILABLE'`), or undefined outside 0–16. */
export function grpcStatusName(code: number): GrpcStatusName | undefined {
  return Number.isInteger(code) ? NAMES[code] : undefined;
}

/** How a gRPC status becomes a ServiceError: the code and whether a retry may help. */
export interface GrpcStatusMapping {
  readonly code: ServiceErrorCode;
  readonly retryable: boolean;
}

/**
 * gRPC status → ServiceError code, indexed by status number. Retryable are the statuses the
 * gRPC spec calls transient (UNAVAILABLE, and ABORTED which asks the client to retry the
 * transaction), plus DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED which a later attempt, after a
 * backoff, commonly passes.
 *
 * | gRPC status         | ServiceErrorCode     | retryable |
 * | ------------------- | -------------------- | --------- |
 * | OK (0)              | INTERNAL_ERROR       | no (an "error" with OK is a bug) |
 * | CANCELLED           | CANCELLED            | no        |
 * | UNKNOWN             | INTERNAL_ERROR       | no        |
 * | INVALID_ARGUMENT    | BAD_REQUEST          | no        |
 * | DEADLINE_EXCEEDED   | TIMEOUT              | yes       |
 * | NOT_FOUND           | NOT_FOUND            | no        |
 * | ALREADY_EXISTS      | CONFLICT             | no        |
 * | PERMISSION_DENIED   | FORBIDDEN            | no        |
 * | RESOURCE_EXHAUSTED  | RATE_LIMIT_EXCEEDED  | yes       |
 * | FAILED_PRECONDITION | BAD_REQUEST          | no        |
 * | ABORTED             | CONFLICT             | yes       |
 * | OUT_OF_RANGE        | BAD_REQUEST          | no        |
 * | UNIMPLEMENTED       | NOT_IMPLEMENTED      | no        |
 * | INTERNAL            | INTERNAL_ERROR       | no        |
 * | UNAVAILABLE         | SERVICE_UNAVAILABLE  | yes       |
 * | DATA_LOSS           | INTERNAL_ERROR       | no        |
 * | UNAUTHENTICATED     | UNAUTHORIZED         | no        |
 */
export const GRPC_STATUS_TO_ERROR: readonly GrpcStatusMapping[] = [
  { code: ServiceErrorCode.INTERNAL_ERROR, retryable: false },
  { code: ServiceErrorCode.CANCELLED, retryable: false },
  { code: ServiceErrorCode.INTERNAL_ERROR, retryable: false },
  { code: ServiceErrorCode.BAD_REQUEST, retryable: false },
  { code: ServiceErrorCode.TIMEOUT, retryable: true },
  { code: ServiceErrorCode.NOT_FOUND, retryable: false },
  { code: ServiceErrorCode.CONFLICT, retryable: false },
  { code: ServiceErrorCode.FORBIDDEN, retryable: false },
  { code: ServiceErrorCode.RATE_LIMIT_EXCEEDED, retryable: true },
  { code: ServiceErrorCode.BAD_REQUEST, retryable: false },
  { code: ServiceErrorCode.CONFLICT, retryable: true },
  { code: ServiceErrorCode.BAD_REQUEST, retryable: false },
  { code: ServiceErrorCode.NOT_IMPLEMENTED, retryable: false },
  { code: ServiceErrorCode.INTERNAL_ERROR, retryable: false },
  { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  { code: ServiceErrorCode.INTERNAL_ERROR, retryable: false },
  { code: ServiceErrorCode.UNAUTHORIZED, retryable: false },
];

/**
 * ServiceError code → the gRPC status a server should answer with. Service-specific failures
 * (`ASR_FAILED` …) are INTERNAL; the quota codes are RESOURCE_EXHAUSTED.
 */
export const ERROR_TO_GRPC_STATUS: Readonly<Record<ServiceErrorCode, GrpcStatus>> = {
  [ServiceErrorCode.BAD_REQUEST]: GrpcStatus.INVALID_ARGUMENT,
  [ServiceErrorCode.UNAUTHORIZED]: GrpcStatus.UNAUTHENTICATED,
  [ServiceErrorCode.FORBIDDEN]: GrpcStatus.PERMISSION_DENIED,
  [ServiceErrorCode.NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [ServiceErrorCode.INTERNAL_ERROR]: GrpcStatus.INTERNAL,
  [ServiceErrorCode.SERVICE_UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [ServiceErrorCode.TIMEOUT]: GrpcStatus.DEADLINE_EXCEEDED,
  [ServiceErrorCode.CIRCUIT_OPEN]: GrpcStatus.UNAVAILABLE,
  [ServiceErrorCode.ASR_FAILED]: GrpcStatus.INTERNAL,
  [ServiceErrorCode.RAG_FAILED]: GrpcStatus.INTERNAL,
  [ServiceErrorCode.LLM_FAILED]: GrpcStatus.INTERNAL,
  [ServiceErrorCode.TTS_FAILED]: GrpcStatus.INTERNAL,
  [ServiceErrorCode.LIPSYNC_FAILED]: GrpcStatus.INTERNAL,
  [ServiceErrorCode.RATE_LIMIT_EXCEEDED]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ServiceErrorCode.QUOTA_EXCEEDED]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ServiceErrorCode.CANCELLED]: GrpcStatus.CANCELLED,
  [ServiceErrorCode.BULKHEAD_FULL]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ServiceErrorCode.CONFLICT]: GrpcStatus.ABORTED,
  [ServiceErrorCode.NOT_IMPLEMENTED]: GrpcStatus.UNIMPLEMENTED,
};
