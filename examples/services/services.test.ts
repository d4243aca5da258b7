import { type ASRClient, ServiceCommunicationManager } from '@clone/grpc-proto';
import type { ServiceError } from '@clone/service-errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audioChunks, decodeSpeech, encodeSpeech } from '../lib/speech-codec';
import { DEMO_JWT_SECRET, type RunningService, startASRService, startLLMService } from './index';
import { startRAGService } from './rag';
import { startTTSService } from './tts';

describe('example services over real gRPC', () => {
  let comm: ServiceCommunicationManager;
  let asr: RunningService;
  let llm: RunningService;
  let rag: Awaited<ReturnType<typeof startRAGService>>;
  let tts: Awaited<ReturnType<typeof startTTSService>>;

  beforeAll(async () => {
    comm = new ServiceCommunicationManager({
      serviceId: 'test-1',
      serviceName: 'test',
      jwtSecret: DEMO_JWT_SECRET,
      tokenExpirySeconds: 3600,
      healthCheckIntervalMs: 30_000,
      enableServiceDiscovery: true,
    });
    const registry = comm.getServiceRegistry();
    const auth = { jwtSecret: DEMO_JWT_SECRET };
    [asr, llm, rag, tts] = await Promise.all([
      startASRService({ registry, auth }),
      startLLMService({ registry, auth }),
      startRAGService({ registry, auth }),
      startTTSService({ registry, auth }),
    ]);
  });

  afterAll(async () => {
    await comm?.close();
    await Promise.all([asr, llm, rag, tts].map((s) => s?.shutdown()));
  });

  it('registers each service under its name', () => {
    const registry = comm.getServiceRegistry();
    expect(registry.getInstances('asr').map((i) => [i.serviceId, i.port])).toEqual([
      ['asr-service-1', asr.port],
    ]);
    expect(registry.getServiceNames().sort()).toEqual(['asr', 'llm', 'rag', 'tts']);
  });

  it('ASR transcribes encodeSpeech audio exactly, unary and streaming', async () => {
    const client: ASRClient = comm.createASRClient(asr.address, ['asr:read']);
    const text = 'Is Paxos a good cat?';
    const audio = encodeSpeech(text);
    const reply = await client.promises.Transcribe({ audio, encoding: 'LINEAR16', sampleRateHz: 16_000 });
    expect(reply.transcript).toBe(text);
    expect(reply.words.map((w) => w.word)).toEqual(['Is', 'Paxos', 'a', 'good', 'cat?']);
    expect(reply.audioDurationMs).toBe(text.length * 20);

    const stream = client.StreamTranscribe();
    const results: { transcript: string; isFinal: boolean }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (r) => results.push({ transcript: r.transcript, isFinal: r.isFinal }));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    const chunks = [...audioChunks(audio, 4)];
    for (const [sequence, chunk] of chunks.entries())
      stream.write({ audio: chunk, sequence, endOfUtterance: sequence === chunks.length - 1 });
    stream.end();
    await done;
    expect(results.filter((r) => r.isFinal)).toEqual([{ transcript: text, isFinal: true }]);
    expect(results.filter((r) => !r.isFinal).map((r) => r.transcript)[0]).toBe(text.slice(0, 4));
  });

  it('ASR rejects empty audio as BAD_REQUEST, which is not retried', async () => {
    const client = comm.createASRClient(asr.address, ['asr:read']);
    let attempts = 0;
    const error = await comm
      .executeServiceCall('asr', () => {
        attempts++;
        return client.promises.Transcribe({});
      })
      .catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe('BAD_REQUEST');
    expect(attempts).toBe(1);
  });

  it('LLM streams the same answer token by token', async () => {
    const client = comm.createLLMClient(llm.address, ['llm:read']);
    const request = { prompt: 'Where did you grow up?', context: 'I grew up in Lisbon.\nI sail.' };
    const whole = await client.promises.Generate(request);
    expect(whole.text).toBe('I grew up in Lisbon. Anything else you would like to know?');
    const deltas: string[] = [];
    let finish = '';
    await new Promise<void>((resolve, reject) => {
      const stream = client.StreamGenerate(request);
      stream.on('data', (c) => {
        deltas.push(c.delta);
        if (c.finishReason !== 'FINISH_REASON_UNSPECIFIED') finish = c.finishReason;
      });
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('').trimEnd()).toBe(whole.text);
    expect(finish).toBe('STOP');
  });

  it('RAG retrieves, caches per session, and ClearCache needs rag:write', async () => {
    const writer = comm.createRAGClient(rag.address, ['rag:read', 'rag:write']);
    const reader = comm.createRAGClient(rag.address, ['rag:read']);
    const found = await reader.promises.Retrieve({ userId: 'u1', query: 'cat', topK: 1, sessionId: 's1' });
    expect(found.documents.map((d) => d.document?.id)).toEqual(['pets-1']);
    expect(rag.state.cache.has('s1')).toBe(true);
    const denied = await reader.promises.ClearCache({ sessionId: 's1' }).catch((e: ServiceError) => e);
    expect((denied as ServiceError).code).toBe('FORBIDDEN');
    expect(await writer.promises.ClearCache({ sessionId: 's1' })).toEqual({ cleared: true });
    expect(await writer.promises.ClearCache({ sessionId: 's1' })).toEqual({ cleared: false });
  });

  it('TTS streams audio that decodes back to the text, and ReleaseAudio frees it', async () => {
    const client = comm.createTTSClient(tts.address, ['tts:read', 'tts:write']);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.Synthesize({ sessionId: 's2', text: 'Hello from the clone.' });
      stream.on('data', (c) => chunks.push(c.audio));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    expect(chunks.length).toBeGreaterThan(1);
    expect(decodeSpeech(Buffer.concat(chunks))).toBe('Hello from the clone.');
    expect(tts.state.buffered.has('s2')).toBe(true);
    expect(await client.promises.ReleaseAudio({ sessionId: 's2' })).toEqual({ released: true });
    expect(tts.state.buffered.has('s2')).toBe(false);
  });
});
