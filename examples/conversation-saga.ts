/**
 * The seed's four-step conversation saga, transcribe-audio → retrieve-context →
 * generate-response → synthesize-speech, each step one call through the orchestrator's
 * `executeServiceCall` path. When a step fails for good, the completed steps are compensated in
 * reverse order (RAG `ClearCache`, TTS `ReleaseAudio`). The saga reports its events to the
 * orchestrator's `SagaMonitor` (spans, metrics; each step's calls run in its span), and each
 * step and compensation to the live view through a {@link ConversationSagaReport}.
 */
import type { ASRClient, LLMClient, RAGClient, ServiceKind, TTSClient } from '@clone/grpc-proto';
import { createSaga, type SagaResult } from '@clone/saga';
import { collect } from './collect-stream';
import { CONVERSATION_SAGA, type ConversationSagaReport } from './conversation-saga-report';
import { SAMPLE_RATE } from './lib/speech-codec';

/** The saga's context, as in the seed (plus what the demo prints). */
export interface ConversationContext {
  userId: string;
  sessionId: string;
  /** The user's utterance, PCM16 at 16 kHz. */
  userAudio: Buffer;
  transcript?: string;
  ragContext?: string;
  llmResponse?: string;
  audioData?: Buffer;
}

/** One user utterance of a session. */
export interface ConversationTurn {
  userId: string;
  sessionId: string;
  audio: Buffer;
}

/** What the saga calls: the orchestrator's call path and its typed clients. */
export interface ConversationServices {
  /** One rpc through the service's policies, in a call span; `signal` is the step's. */
  call<T>(
    service: ServiceKind,
    method: string,
    call: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>;
  asr: ASRClient;
  rag: RAGClient;
  llm: LLMClient;
  tts: TTSClient;
}

/** Runs the conversation saga for one turn; failure is a value (the result), not a rejection. */
export function runConversationSaga(
  services: ConversationServices,
  turn: ConversationTurn,
  report: ConversationSagaReport,
): Promise<SagaResult<ConversationContext>> {
  const { sessionId, sagaId } = report;
  return createSaga<ConversationContext>(
    { userId: turn.userId, sessionId, userAudio: turn.audio },
    { sagaId, type: CONVERSATION_SAGA, monitor: report.sagas },
  )
    .step(
      'transcribe-audio',
      (ctx, step) =>
        report.step(
          'transcribe-audio',
          async () => {
            const reply = await services.call(
              'asr',
              'Transcribe',
              (signal) =>
                services.asr.promises.Transcribe(
                  {
                    sessionId,
                    audio: ctx.userAudio,
                    encoding: 'LINEAR16',
                    sampleRateHz: SAMPLE_RATE,
                    languageCode: 'en-US',
                  },
                  { signal },
                ),
              step.signal,
            );
            ctx.transcript = reply.transcript;
            return reply.transcript;
          },
          (t) => `"${t}"`,
        ),
      () => report.compensate('transcribe-audio', async () => 'nothing to undo (ASR keeps no state)'),
      { service: 'asr' },
    )
    .step(
      'retrieve-context',
      (ctx, step) =>
        report.step(
          'retrieve-context',
          async () => {
            const reply = await services.call(
              'rag',
              'Retrieve',
              (signal) =>
                services.rag.promises.Retrieve(
                  { userId: ctx.userId, query: ctx.transcript!, topK: 2, sessionId },
                  { signal },
                ),
              step.signal,
            );
            ctx.ragContext = reply.documents.map((d) => d.document?.content ?? '').join('\n');
            return reply.documents.map((d) => d.document?.id ?? '?');
          },
          (ids) => `${ids.length} documents [${ids.join(', ')}]`,
        ),
      (ctx) =>
        // The seed's clearContextCache(sessionId): drop what Retrieve cached for the session.
        report.compensate('retrieve-context', async () => {
          const { cleared } = await services.call('rag', 'ClearCache', (signal) =>
            services.rag.promises.ClearCache({ sessionId: ctx.sessionId }, { signal }),
          );
          return `rag.ClearCache → cleared=${cleared}`;
        }),
      { service: 'rag' },
    )
    .step(
      'generate-response',
      (ctx, step) =>
        report.step(
          'generate-response',
          async () => {
            const reply = await services.call(
              'llm',
              'Generate',
              (signal) =>
                services.llm.promises.Generate(
                  { sessionId, prompt: ctx.transcript!, context: ctx.ragContext ?? '', maxTokens: 64 },
                  { signal },
                ),
              step.signal,
            );
            ctx.llmResponse = reply.text;
            return reply.text;
          },
          (text) => `"${text}"`,
        ),
      () =>
        report.compensate(
          'generate-response',
          async () => 'nothing to undo (generation has no side effects)',
        ),
      { service: 'llm' },
    )
    .step(
      'synthesize-speech',
      (ctx, step) =>
        report.step(
          'synthesize-speech',
          async () => {
            const chunks = await services.call(
              'tts',
              'Synthesize',
              (signal) =>
                collect(
                  services.tts.Synthesize({
                    sessionId,
                    text: ctx.llmResponse!,
                    voiceId: 'clone-en',
                    encoding: 'LINEAR16',
                    sampleRateHz: SAMPLE_RATE,
                  }),
                  'tts',
                  signal,
                ),
              step.signal,
            );
            ctx.audioData = Buffer.concat(chunks.map((c) => c.audio));
            return { chunks: chunks.length, bytes: ctx.audioData.length };
          },
          (r) => `${r.chunks} audio chunks, ${r.bytes} bytes`,
        ),
      (ctx) =>
        // The seed's cleanupAudioResources(sessionId).
        report.compensate('synthesize-speech', async () => {
          const { released } = await services.call('tts', 'ReleaseAudio', (signal) =>
            services.tts.promises.ReleaseAudio({ sessionId: ctx.sessionId }, { signal }),
          );
          return `tts.ReleaseAudio → released=${released}`;
        }),
      { service: 'tts' },
    )
    .execute();
}
