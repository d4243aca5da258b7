import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getMethodPolicy, isRetryableMethod } from './method-policy';
import {
  getProtoDir,
  loadProtos,
  protoPath,
  SERVICE_KINDS,
  SERVICE_PROTOS,
  serviceDefinition,
} from './protos';

describe('protos', () => {
  it('ships the five protos, identical to the top-level sources', () => {
    for (const kind of SERVICE_KINDS) {
      const shipped = protoPath(kind);
      expect(existsSync(shipped)).toBe(true);
      const source = join(getProtoDir(), '..', '..', '..', 'proto', SERVICE_PROTOS[kind].file);
      expect(readFileSync(shipped, 'utf8')).toBe(readFileSync(source, 'utf8'));
    }
  });

  it('gives every service a HealthCheck rpc and domain rpcs', () => {
    const protos = loadProtos();
    expect(Object.keys(protos.asr.ASRService.service).sort()).toEqual([
      'HealthCheck',
      'StreamTranscribe',
      'Transcribe',
    ]);
    expect(Object.keys(protos.rag.RAGService.service).sort()).toEqual([
      'ClearCache',
      'Delete',
      'HealthCheck',
      'Ingest',
      'Retrieve',
      'Upsert',
    ]);
    for (const kind of SERVICE_KINDS) expect(serviceDefinition(kind).HealthCheck).toBeDefined();
    expect(protos.tts.TTSService.service.Synthesize.responseStream).toBe(true);
    expect(protos.lipsync.LipSyncService.service.GenerateFrames.responseStream).toBe(true);
    expect(protos.asr.ASRService.service.StreamTranscribe.requestStream).toBe(true);
  });

  it('reads idempotency_level from the protos', () => {
    expect(getMethodPolicy('/asr.ASRService/Transcribe')?.idempotencyLevel).toBe('NO_SIDE_EFFECTS');
    expect(getMethodPolicy('/rag.RAGService/Upsert')?.idempotencyLevel).toBe('IDEMPOTENT');
    expect(getMethodPolicy('/rag.RAGService/Ingest')?.idempotencyLevel).toBe('IDEMPOTENCY_UNKNOWN');
    expect(isRetryableMethod('/asr.ASRService/HealthCheck')).toBe(true);
    expect(isRetryableMethod('/rag.RAGService/Upsert')).toBe(true);
    expect(isRetryableMethod('/rag.RAGService/Ingest')).toBe(false);
    // A client stream cannot be replayed, whatever its proto says.
    expect(isRetryableMethod('/asr.ASRService/StreamTranscribe')).toBe(false);
    expect(isRetryableMethod('/unknown.Service/Method')).toBe(false);
  });
});
