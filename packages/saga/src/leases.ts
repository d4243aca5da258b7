import { dictionary } from './dictionary';
import { deepFreeze } from './json';
import { type Run, type SagaRuntime, Suspended, suspend } from './saga-run';
import type { SagaRecord, SagaStatus } from './store';
import { toServiceError } from './user-callbacks';

const ACTIVE: ReadonlySet<SagaStatus> = new Set(['running', 'compensating']);

/**
 * Keeps this orchestrator's leases and takes over the sagas of dead ones. Every active saga
 * is leased to one orchestrator; the heartbeat renews the leases every third of `leaseMs`, a
 * saga whose lease was taken over is suspended (fencing: its writes would be refused anyway),
 * and, every `recoveryIntervalMs` when set, sagas whose lease expired are claimed.
 */
export class LeaseKeeper {
  readonly #runtime: SagaRuntime;
  readonly #active: ReadonlyMap<string, Run>;
  readonly #recover: () => Promise<unknown>;
  #heartbeat: unknown;
  #recoveryTimer: unknown;
  #stopped = false;

  /** `active` is the orchestrator's map of runs; `recover` claims and drives orphaned sagas. */
  constructor(runtime: SagaRuntime, active: ReadonlyMap<string, Run>, recover: () => Promise<unknown>) {
    this.#runtime = runtime;
    this.#active = active;
    this.#recover = recover;
    this.#scheduleHeartbeat();
    if (runtime.options.recoveryIntervalMs > 0) this.#scheduleRecovery();
  }

  /** Stops the timers (the leases themselves run out or are released by the caller). */
  stop(): void {
    this.#stopped = true;
    this.#runtime.clock.clearTimeout(this.#heartbeat);
    this.#runtime.clock.clearTimeout(this.#recoveryTimer);
  }

  /**
   * Claims up to `limit` sagas whose lease expired, ready to drive: their JSON frozen, as a
   * started saga's is, and step states keyed by a null-prototype object (step ids are user
   * data). Returns each with the steps a crash interrupted.
   */
  async claim(limit: number): Promise<Array<{ record: SagaRecord; interrupted: string[] }>> {
    const { store, orchestratorId, options } = this.#runtime;
    const claimed = await store.claim(orchestratorId, options.leaseMs, limit);
    return claimed.map((record) => {
      record.stepStates = Object.assign(dictionary<SagaRecord['stepStates'][string]>(), record.stepStates);
      deepFreeze(record.context);
      const interrupted: string[] = [];
      for (const [id, state] of Object.entries(record.stepStates)) {
        deepFreeze(state.result);
        if (state.status === 'running' || state.status === 'compensating') interrupted.push(id);
      }
      return { record, interrupted };
    });
  }

  #scheduleHeartbeat(): void {
    const { clock, options } = this.#runtime;
    const every = Math.max(50, Math.floor(options.leaseMs / 3));
    this.#heartbeat = clock.setTimeout(
      () => {
        void this.#renew().finally(() => {
          if (!this.#stopped) this.#scheduleHeartbeat();
        });
      },
      every,
      true,
    );
  }

  async #renew(): Promise<void> {
    const { store, orchestratorId, options, logger } = this.#runtime;
    const ids = [...this.#active.values()].filter((r) => r.persisted && !r.suspended).map((r) => r.record.id);
    if (ids.length === 0) return;
    try {
      const held = new Set(await store.renew(orchestratorId, ids, options.leaseMs));
      for (const id of ids) {
        const run = this.#active.get(id);
        // A saga that finished meanwhile is no longer active in the store: not a lost lease.
        if (run && !held.has(id) && ACTIVE.has(run.record.status) && this.#active.has(id)) {
          const stored = await store.load(id);
          if (stored && ACTIVE.has(stored.status)) suspend(run, new Suspended('lease-lost'));
        }
      }
    } catch (error) {
      logger.warn('saga lease renewal failed', { error: toServiceError(error).message });
    }
  }

  #scheduleRecovery(): void {
    const { clock, options, logger } = this.#runtime;
    this.#recoveryTimer = clock.setTimeout(
      () => {
        void this.#recover()
          .catch((error: unknown) => {
            logger.warn('saga recovery failed', { error: toServiceError(error).message });
          })
          .finally(() => {
            if (!this.#stopped) this.#scheduleRecovery();
          });
      },
      options.recoveryIntervalMs,
      true,
    );
  }
}
