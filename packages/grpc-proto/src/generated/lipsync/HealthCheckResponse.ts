// Original file: proto/lipsync.proto

import type { Long } from '@grpc/proto-loader';

// Original file: proto/lipsync.proto

export const _lipsync_HealthCheckResponse_ServingStatus = {
  UNKNOWN: 'UNKNOWN',
  SERVING: 'SERVING',
  NOT_SERVING: 'NOT_SERVING',
} as const;

export type _lipsync_HealthCheckResponse_ServingStatus =
  | 'UNKNOWN'
  | 0
  | 'SERVING'
  | 1
  | 'NOT_SERVING'
  | 2

export type _lipsync_HealthCheckResponse_ServingStatus__Output = typeof _lipsync_HealthCheckResponse_ServingStatus[keyof typeof _lipsync_HealthCheckResponse_ServingStatus]

export interface HealthCheckResponse {
  'status'?: (_lipsync_HealthCheckResponse_ServingStatus);
  'service'?: (string);
  'version'?: (string);
  'timestampMs'?: (number | string | Long);
}

export interface HealthCheckResponse__Output {
  'status': (_lipsync_HealthCheckResponse_ServingStatus__Output);
  'service': (string);
  'version': (string);
  'timestampMs': (number);
}
