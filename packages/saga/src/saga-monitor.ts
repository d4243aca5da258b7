import { Emitter, type Unsubscribe } from '@clone/service-errors';
import type { SagaOrchestratorEvents } from './orchestrator-types';
import { assertStepContextHook, type StepContextHook } from './step-context';

/**
 * The events of the `createSaga` sagas run with a {@link SagaMonitor}: the same names and
 * payloads as a `SagaOrchestrator`'s, so what reads one (`@clone/telemetry`'s
 * `instrumentSagaOrchestrator` and `traceSagaOrchestrator`, a dashboard) reads the other. A
 * builder step has a service only when its `service` option names one.
 */
export interface SagaMonitorEvents {
  'saga:started': SagaOrchestratorEvents['saga:started'];
  'saga:completed': SagaOrchestratorEvents['saga:completed'];
  'saga:compensating': SagaOrchestratorEvents['saga:compensating'];
  'saga:compensated': SagaOrchestratorEvents['saga:compensated'];
  'saga:failed': SagaOrchestratorEvents['saga:failed'];
  /**
   * The saga's `signal` stopped it (as `cancelSaga` on an orchestrator): reported when the saga
   * learns of it, before `saga:compensating`; `saga:compensated` or `saga:failed` still follows.
   */
  'saga:cancelled': SagaOrchestratorEvents['saga:cancelled'];
  'step:started': Omit<SagaOrchestratorEvents['step:started'], 'service'> & { service: string | undefined };
  'step:retrying': SagaOrchestratorEvents['step:retrying'];
  'step:completed': SagaOrchestratorEvents['step:completed'];
  'step:failed': SagaOrchestratorEvents['step:failed'];
  'compensation:started': SagaOrchestratorEvents['compensation:started'];
  'compensation:completed': SagaOrchestratorEvents['compensation:completed'];
  'compensation:failed': SagaOrchestratorEvents['compensation:failed'];
}

// Declared before the class: its static block assigns them when the class is defined.
/** Reports an event of a builder saga to its monitor's subscribers. @internal */
export let reportTo: <K extends keyof SagaMonitorEvents>(
  monitor: SagaMonitor,
  event: K,
  payload: SagaMonitorEvents[K],
) => void;

/** The step-context hook installed in a monitor. @internal */
export let stepContextOf: (monitor: SagaMonitor) => StepContextHook | undefined;

/**
 * What the in-process sagas of an application report, in one place: pass it to each
 * `createSaga(ctx, { type, monitor })` and subscribe once (`on`), as you would to an
 * orchestrator; a hook installed with `useStepContext` wraps every step and compensation
 * attempt of those sagas (a saga's own `stepContext` option wins over it).
 *
 * ```ts
 * const sagas = new SagaMonitor();
 * traceSagaOrchestrator(sagas); // saga and step spans; handlers run in their step's span
 * await createSaga(ctx, { type: 'conversation', monitor: sagas }).step('transcribe', run).execute();
 * ```
 */
export class SagaMonitor {
  readonly #events = new Emitter<SagaMonitorEvents>();
  #stepContext: StepContextHook | undefined;

  static {
    // The builder reports through these; the monitor's users only subscribe.
    reportTo = (monitor, event, payload) => monitor.#events.emit(event, payload);
    stepContextOf = (monitor) => monitor.#stepContext;
  }

  /** Subscribes to an event of the sagas run with this monitor; returns the unsubscribe function. */
  on<K extends keyof SagaMonitorEvents>(event: K, listener: (e: SagaMonitorEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Installs the hook every step and compensation attempt of these sagas runs inside. One hook
   * at a time; returns its removal. Throws BAD_REQUEST naming `hook` for anything without
   * `runStep` and `runCompensation`.
   */
  useStepContext(hook: StepContextHook): () => void {
    const checked = assertStepContextHook(hook, 'SagaMonitor.useStepContext', 'hook');
    this.#stepContext = checked;
    return () => {
      if (this.#stepContext === checked) this.#stepContext = undefined;
    };
  }
}
