/**
 * The conversation orchestrator: the seed's websocket-server. One `ServiceCommunicationManager`
 * (typed, authenticated clients; a circuit breaker and a retry policy per service) running the
 * seed's four-step conversation saga (conversation-saga.ts), each step one `executeServiceCall`,
 * then the avatar's lip-sync frames. When the saga ends, a `conversation.completed` or
 * `conversation.failed` event goes to the publisher, if one is given.
 *
 * Traced through @clone/telemetry (the OpenTelemetry API only: free without an SDK): a span per
 * conversation, the saga and each step (`traceSagaOrchestrator` over the `SagaMonitor` the
 * conversation saga reports to), and through the manager's hook (`traceCommunication` installs it) a call span per
 * `executeServiceCall` and a CLIENT span per attempt with the W3C trace context in the metadata.
 * Register the SDK before constructing it: instrumentation decides once whether one is there.
 */

import type { EventEnvelope } from '@clone/event-bus';
import {
  type ClientFactoryOptions,
  type ClientTarget,
  type LipSyncClient,
  ServiceCommunicationManager,
  type ServiceKind,
} from '@clone/grpc-proto';
import { SagaMonitor, type SagaResult } from '@clone/saga';
import type { RegistryBackend, ServiceRegistry } from '@clone/service-discovery';
import {
  type CircuitBreakerOptions,
  Emitter,
  type Listener,
  type RetryOptions,
  ServiceError,
  type Unsubscribe,
} from '@clone/service-errors';
import {
  type CallTelemetry,
  createTracer,
  type SagaTracing,
  type Tracer,
  traceCommunication,
  traceSagaOrchestrator,
} from '@clone/telemetry';
import { collect } from './collect-stream';
import { conversationEvent } from './conversation-events';
import {
  type ConversationContext,
  type ConversationServices,
  type ConversationTurn,
  runConversationSaga,
} from './conversation-saga';
import {
  type CompensationRan,
  ConversationSagaReport,
  type SagaReportSinks,
  type StepEnded,
} from './conversation-saga-report';
import { SAMPLE_RATE } from './lib/speech-codec';

/** The orchestrator's service name: its manager's, and the `source` of the events it publishes. */
export const ORCHESTRATOR_SERVICE = 'websocket-server';

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
  step: StepEnded;
  /** A compensation ran (after a later step failed). */
  compensation: CompensationRan;
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

export class ConversationOrchestrator {
  readonly comm: ServiceCommunicationManager;
  readonly #events = new Emitter<OrchestratorEvents>();
  /**
   * The conversation sagas' events (`createSaga` reports to it), in the shape of a
   * `SagaOrchestrator`'s: what `instrumentSagaOrchestrator` (the dashboard) and
   * `traceSagaOrchestrator` read.
   */
  readonly sagas = new SagaMonitor();
  readonly #sagaTracing: SagaTracing;
  /** Where each conversation's saga report goes. */
  readonly #report: SagaReportSinks;
  readonly #communicationTracing: CallTelemetry;
  readonly #tracer: Tracer;
  /** The saga's view of this orchestrator: `call` and the typed clients. */
  readonly #services: ConversationServices;
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
    // Installs the manager's hook: every executeServiceCall gets a call span, every gRPC call of
    // its clients a CLIENT span with the trace context in its metadata.
    this.#communicationTracing = traceCommunication(this.comm);
    // A span per saga, step and compensation; each step's calls run in its span (the monitor's hook).
    this.#sagaTracing = traceSagaOrchestrator(this.sagas);
    this.#report = {
      sagas: this.sagas,
      onStep: (e) => this.#events.emit('step', e),
      onCompensation: (e) => this.#events.emit('compensation', e),
    };
    this.#tracer = createTracer({ serviceName: ORCHESTRATOR_SERVICE });
    this.#publisher = options.publisher;
    const at = options.endpoints ?? {};
    // As in the seed: an explicit endpoint and the permissions each client's token carries.
    this.#services = {
      call: (service, method, call, signal) => this.call(service, method, call, signal),
      asr: this.comm.createASRClient(at.asr, ['asr:read']),
      rag: this.comm.createRAGClient(at.rag, ['rag:read', 'rag:write']),
      llm: this.comm.createLLMClient(at.llm, ['llm:read']),
      tts: this.comm.createTTSClient(at.tts, ['tts:read', 'tts:write']),
    };
    this.#lipsync = this.comm.createLipSyncClient(at.lipsync, ['lipsync:read']);
  }

  on<K extends keyof OrchestratorEvents>(event: K, listener: Listener<OrchestratorEvents[K]>): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * One rpc through the service's breaker and retry policy, each attempt timed and reported; the
   * manager traces it as a call span whose children are the attempts' CLIENT spans.
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

  /**
   * Runs the conversation saga for one user utterance, then renders the reply's lip-sync frames,
   * all in one span (`conversation <sessionId>`): one trace per conversation.
   */
  converse(turn: ConversationTurn): Promise<ConversationOutcome> {
    const span = this.#tracer.startSpan(`conversation ${turn.sessionId}`);
    span.setAttribute('clone.session.id', turn.sessionId);
    return this.#tracer
      .withSpan(span, () => this.#converse(turn))
      .then(
        (outcome) => {
          span.setStatus(outcome.saga.success ? 'ok' : 'error', outcome.saga.error?.message).end();
          return outcome;
        },
        (error: unknown) => {
          span.setStatus('error', ServiceError.from(error).message).end();
          throw error;
        },
      );
  }

  async #converse(turn: ConversationTurn): Promise<ConversationOutcome> {
    const { sessionId } = turn;
    const report = new ConversationSagaReport(this.#report, sessionId);
    const saga = await runConversationSaga(this.#services, turn, report);
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

  /** Stops the tracing and closes the manager: channels, health checks, its registry. */
  async close(): Promise<void> {
    this.#sagaTracing.stop();
    this.#communicationTracing.stop();
    this.#events.removeAllListeners();
    await this.comm.close();
  }
}
