import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getMethodPolicy, isRetryableMethod } from './method-policy';
import { loadProtos, protoPath, SERVICE_KINDS, SERVICE_PROTOS, serviceDefinition } from './protos';

describe('protos', () => {
  it('loads the five protos from their one source, the top-level proto/, when run from the repository', () => {
    // The packed package ships its own copy (made by the build); scripts/check-packages.ts runs
    // the seed samples against it, so this test covers the source layout only.
    const topLevel = join(import.meta.dirname, '..', '..', '..', 'proto');
    for (const kind of SERVICE_KINDS) {
      const path = protoPath(kind);
      expect(existsSync(path)).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe(
        readFileSync(join(topLevel, SERVICE_PROTOS[kind].file), 'utf8'),
      );
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
