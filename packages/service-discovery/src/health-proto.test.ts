import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { HEALTH_PROTO_LOADER_OPTIONS, healthServiceDefinition } from './health-proto';

describe('grpc.health.v1 definition', () => {
  it('matches the shipped health.proto, method by method and byte for byte', () => {
    const file = join(import.meta.dirname, '..', 'proto', 'grpc', 'health', 'v1', 'health.proto');
    const shipped = grpc.loadPackageDefinition(loadSync(file, HEALTH_PROTO_LOADER_OPTIONS)) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const fromFile = shipped.grpc.health.v1.Health.service;
    expect(Object.keys(healthServiceDefinition)).toEqual(Object.keys(fromFile));
    for (const name of Object.keys(fromFile)) {
      const ours = healthServiceDefinition[name]!;
      const theirs = fromFile[name]!;
      expect(ours.path).toBe(theirs.path);
      expect(ours.requestStream).toBe(theirs.requestStream);
      expect(ours.responseStream).toBe(theirs.responseStream);
      expect(ours.requestSerialize({ service: 'asr' })).toEqual(theirs.requestSerialize({ service: 'asr' }));
      for (const status of ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN']) {
        const bytes = theirs.responseSerialize({ status });
        expect(ours.responseSerialize({ status })).toEqual(bytes);
        expect(ours.responseDeserialize(bytes)).toEqual(theirs.responseDeserialize(bytes));
      }
    }
    expect(healthServiceDefinition.Check?.path).toBe('/grpc.health.v1.Health/Check');
  });
});
