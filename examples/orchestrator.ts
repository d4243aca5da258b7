/**
 * The conversation orchestrator: the seed's websocket-server. One `ServiceCommunicationManager`
 * (typed, authenticated clients; a circuit breaker and a retry policy per service) and the
 * seed's four-step conversation saga, transcribe-audio → retrieve-context → generate-response →
 * synthesize-speech, each step one `executeServiceCall`. When a step fails for good, the
 * completed steps are compensated in reverse order (RAG `ClearCache`, …). When the saga ends, a
 * `conversation.completed` or `conversation.failed` event goes to the publisher, if one is given.
 */

import type { EventEnvelope } from '@clone/event-bus';
import {
  type ASRClient,
  type ClientFactoryOptions,
  type ClientTarget,
  type LipSyncClient,
  type LLMClient,
  type RAGClient,
  ServiceCommunicationManager,
  type ServiceKind,
  type TTSClient,
} from '@clone/grpc-proto';
import { createSaga, type SagaResult } from '@clone/saga';
import type { RegistryBackend, ServiceRegistry } from '@clone/service-discovery';
import {
  type CircuitBreakerOptions,
  Emitter,
  type Listener,
  type RetryOptions,
  ServiceError,
  type Unsubscribe,
} from '@clone/service-errors';
import { conversationEvent } from './conversation-events';
import { SAMPLE_RATE } from './lib/speech-codec';

/** The orchestrator's service name: its manager's, and the `source` of the events it publishes. */
export const ORCHESTRATOR_SERVICE = 'websocket-server';

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

export interface ConversationTurn {
  userId: string;
  sessionId: string;
  audio: Buffer;
}

export interface ConversationOutcome {
  saga: SagaResult<ConversationContext>;
  /** Lip-sync frames rendered for the reply (after a successful saga; 0 when that failed). */
  frames: number;
}

/** What the orchestrator reports, for a live view. */
export interface OrchestratorEvents {
  /** One attempt of one rpc (an attempt refused by an open circuit never gets here). */
  attempt: {
    service: ServiceKind;
    method: string;
    attempt: number;
    durationMs: number;
    error?: ServiceError;
  };
  /** A saga step ended. */
  step: { sessionId: string; step: string; ok: boolean; durationMs: number; detail: string };
  /** A compensation ran (after a later step failed). */
  compensation: { sessionId: string; step: string; detail: string };
}

export interface ConversationOrchestratorOptions {
  jwtSecret: string;
  /** Where each service listens; a service without an endpoint is found by name through discovery. */
  endpoints?: Partial<Record<ServiceKind, ClientTarget>> | undefined;
  /** A registry of your own (left running by `close()`); default: one made by the manager. */
  registry?: ServiceRegistry | undefined;
  /** The backend of the manager's registry (e.g. `EtcdBackend`); default in memory. */
  discoveryBackend?: RegistryBackend | undefined;
  healthCheckIntervalMs?: number | undefined;
  circuitBreaker?: CircuitBreakerOptions | undefined;
  retry?: RetryOptions | undefined;
  client?: ClientFactoryOptions | undefined;
  /**
   * Where the conversation events go (e.g. a `BackgroundPublisher`). `publish` must return at once:
   * a user's reply never waits for the broker.
   */
  publisher?: { publish(event: EventEnvelope): void } | undefined;
}

type Stream<T> = NodeJS.ReadableStream & {
  cancel(): void;
  on(event: 'data', fn: (item: T) => void): unknown;
};

/** Collects a server stream; rejects with a ServiceError; `signal` cancels it. */
function collect<T>(stream: Stream<T>, service: string, signal: AbortSignal): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    const items: T[] = [];
    const onAbort = (): void => stream.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (item: T) => items.push(item));
    stream.on('error', (error: unknown) => {
      signal.removeEventListener('abort', onAbort);
      reject(ServiceError.from(error, service));
    });
    stream.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(items);
    });
  });
}

export class ConversationOrchestrator {
  readonly comm: ServiceCommunicationManager;
  readonly #events = new Emitter<OrchestratorEvents>();
  readonly #asr: ASRClient;
  readonly #rag: RAGClient;
  readonly #llm: LLMClient;
  readonly #tts: TTSClient;
  readonly #lipsync: LipSyncClient;
  readonly #publisher: ConversationOrchestratorOptions['publisher'];

  constructor(options: ConversationOrchestratorOptions) {
    this.comm = new ServiceCommunicationManager({
      serviceId: 'websocket-server-1',
      serviceName: ORCHESTRATOR_SERVICE,
      jwtSecret: options.jwtSecret,
      tokenExpirySeconds: 3600,
      healthCheckIntervalMs: options.healthCheckIntervalMs ?? 30_000,
      enableServiceDiscovery: true,
      ...(options.registry === undefined ? {} : { registry: options.registry }),
      ...(options.discoveryBackend === undefined ? {} : { discoveryBackend: options.discoveryBackend }),
      ...(options.circuitBreaker === undefined ? {} : { circuitBreaker: options.circuitBreaker }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      ...(options.client === undefined ? {} : { client: options.client }),
    });
    this.#publisher = options.publisher;
    const at = options.endpoints ?? {};
    // As in the seed: an explicit endpoint and the permissions each client's token carries.
    this.#asr = this.comm.createASRClient(at.asr, ['asr:read']);
    this.#rag = this.comm.createRAGClient(at.rag, ['rag:read', 'rag:write']);
    this.#llm = this.comm.createLLMClient(at.llm, ['llm:read']);
    this.#tts = this.comm.createTTSClient(at.tts, ['tts:read', 'tts:write']);
    this.#lipsync = this.comm.createLipSyncClient(at.lipsync, ['lipsync:read']);
  }

  on<K extends keyof OrchestratorEvents>(event: K, listener: Listener<OrchestratorEvents[K]>): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * One rpc through the service's breaker and retry policy, each attempt timed and reported.
   * `call` gets the attempt's signal (the saga step's, so a cancelled saga cancels the rpc).
   */
  call<T>(
    service: ServiceKind,
    method: string,
    call: (signal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.comm.executeServiceCall(
      service,
      async (ctx) => {
        const start = performance.now();
        const report = (error?: ServiceError): void =>
          this.#events.emit('attempt', {
            service,
            method,
            attempt: ctx.attempt,
            durationMs: performance.now() - start,
            ...(error === undefined ? {} : { error }),
          });
        try {
          const value = await call(ctx.signal);
          report();
          return value;
        } catch (error) {
          report(ServiceError.from(error, service));
          throw error;
        }
      },
      signal === undefined ? {} : { signal },
    );
  }

  /** Runs the conversation saga for one user utterance, then renders the reply's lip-sync frames. */
  async converse(turn: ConversationTurn): Promise<ConversationOutcome> {
    const { sessionId } = turn;
    const emitStep = (step: string, ok: boolean, start: number, detail: string): void =>
      this.#events.emit('step', { sessionId, step, ok, durationMs: performance.now() - start, detail });
    const timed = async <T>(
      step: string,
      run: () => Promise<T>,
      detail: (value: T) => string,
    ): Promise<T> => {
      const start = performance.now();
      try {
        const value = await run();
        emitStep(step, true, start, detail(value));
        return value;
      } catch (error) {
        const e = ServiceError.from(error);
        emitStep(step, false, start, `${e.code}: ${e.message}`);
        throw error;
      }
    };
    const compensated = (step: string, detail: string): void =>
      this.#events.emit('compensation', { sessionId, step, detail });

    const saga = await createSaga<ConversationContext>(
      { userId: turn.userId, sessionId, userAudio: turn.audio },
      { sagaId: `conversation-${sessionId}` },
    )
      .step(
        'transcribe-audio',
        (ctx, step) =>
          timed(
            'transcribe-audio',
            async () => {
              const reply = await this.call(
                'asr',
                'Transcribe',
                (signal) =>
                  this.#asr.promises.Transcribe(
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
        async () => compensated('transcribe-audio', 'nothing to undo (ASR keeps no state)'),
      )
      .step(
        'retrieve-context',
        (ctx, step) =>
          timed(
            'retrieve-context',
            async () => {
              const reply = await this.call(
                'rag',
                'Retrieve',
                (signal) =>
                  this.#rag.promises.Retrieve(
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
        async (ctx) => {
          // The seed's clearContextCache(sessionId): drop what Retrieve cached for the session.
          const { cleared } = await this.call('rag', 'ClearCache', (signal) =>
            this.#rag.promises.ClearCache({ sessionId: ctx.sessionId }, { signal }),
          );
          compensated('retrieve-context', `rag.ClearCache → cleared=${cleared}`);
        },
      )
      .step(
        'generate-response',
        (ctx, step) =>
          timed(
            'generate-response',
            async () => {
              const reply = await this.call(
                'llm',
                'Generate',
                (signal) =>
                  this.#llm.promises.Generate(
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
        async () => compensated('generate-response', 'nothing to undo (generation has no side effects)'),
      )
      .step(
        'synthesize-speech',
        (ctx, step) =>
          timed(
            'synthesize-speech',
            async () => {
              const chunks = await this.call(
                'tts',
                'Synthesize',
                (signal) =>
                  collect(
                    this.#tts.Synthesize({
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
        async (ctx) => {
          // The seed's cleanupAudioResources(sessionId).
          const { released } = await this.call('tts', 'ReleaseAudio', (signal) =>
            this.#tts.promises.ReleaseAudio({ sessionId: ctx.sessionId }, { signal }),
          );
          compensated('synthesize-speech', `tts.ReleaseAudio → released=${released}`);
        },
      )
      .execute();
    this.#publisher?.publish(conversationEvent(turn, saga, ORCHESTRATOR_SERVICE));

    let frames = 0;
    if (saga.success && saga.context.audioData !== undefined) {
      const audio = saga.context.audioData;
      // The avatar is best effort: a lip-sync failure does not undo the conversation.
      try {
        const rendered = await this.call('lipsync', 'GenerateFrames', (signal) =>
          collect(
            this.#lipsync.GenerateFrames({
              sessionId,
              avatarId: 'clone',
              audio,
              sampleRateHz: SAMPLE_RATE,
              fps: 25,
              width: 256,
              height: 256,
            }),
            'lipsync',
            signal,
          ),
        );
        frames = rendered.length;
      } catch {
        frames = 0;
      }
    }
    return { saga, frames };
  }

  /** Closes the manager: channels, health checks, its registry. */
  async close(): Promise<void> {
    this.#events.removeAllListeners();
    await this.comm.close();
  }
}
