// Original file: proto/asr.proto

import type { Long } from '@grpc/proto-loader';

// Original file: proto/asr.proto

export const _asr_HealthCheckResponse_ServingStatus = {
  UNKNOWN: 'UNKNOWN',
  SERVING: 'SERVING',
  NOT_SERVING: 'NOT_SERVING',
} as const;

export type _asr_HealthCheckResponse_ServingStatus =
  | 'UNKNOWN'
  | 0
  | 'SERVING'
  | 1
  | 'NOT_SERVING'
  | 2

export type _asr_HealthCheckResponse_ServingStatus__Output = typeof _asr_HealthCheckResponse_ServingStatus[keyof typeof _asr_HealthCheckResponse_ServingStatus]

export interface HealthCheckResponse {
  'status'?: (_asr_HealthCheckResponse_ServingStatus);
  'service'?: (string);
  'version'?: (string);
  'timestampMs'?: (number | string | Long);
}

export interface HealthCheckResponse__Output {
  'status': (_asr_HealthCheckResponse_ServingStatus__Output);
  'service': (string);
  'version': (string);
  'timestampMs': (number);
}
