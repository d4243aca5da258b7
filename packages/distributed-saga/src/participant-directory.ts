import type { SagaStepDefinition } from '@clone/saga';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { ParticipantAnnouncement } from './messages';

/** What an orchestrator knows of one participant service. */
export interface ParticipantInfo {
  service: string;
  /** Step actions its instances announced. */
  actions: string[];
  /** Compensation actions its instances announced. */
  compensations: string[];
  /** Instances heard from. */
  instances: string[];
  /** When the last announcement arrived (the orchestrator's clock, epoch ms). */
  lastSeenAt: number;
}

interface Entry {
  actions: Set<string>;
  compensations: Set<string>;
  instances: Set<string>;
  lastSeenAt: number;
}

function badRequest(message: string, metadata: Record<string, unknown>): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, undefined, { retryable: false, metadata });
}

/**
 * The participants an orchestrator has heard announce themselves, and the actions each serves.
 * `startSaga` checks remote steps against it, so a definition naming a service no participant
 * ever announced (a typo, a service not deployed) fails at once instead of waiting on a queue
 * nobody reads. A service is never forgotten: an instance down now is expected back, and its
 * commands wait in its durable queue meanwhile.
 */
export class ParticipantDirectory {
  readonly #services = new Map<string, Entry>();
  readonly #waiters = new Set<() => void>();

  /** Records an announcement; returns true when it taught the directory something new. */
  add(announcement: ParticipantAnnouncement, now: number): boolean {
    let entry = this.#services.get(announcement.service);
    let changed = false;
    if (entry === undefined) {
      entry = { actions: new Set(), compensations: new Set(), instances: new Set(), lastSeenAt: now };
      this.#services.set(announcement.service, entry);
      changed = true;
    }
    entry.lastSeenAt = now;
    changed = addAll(entry.actions, announcement.actions) || changed;
    changed = addAll(entry.compensations, announcement.compensations) || changed;
    changed = addAll(entry.instances, [announcement.instanceId]) || changed;
    if (changed) for (const wake of this.#waiters) wake();
    return changed;
  }

  has(service: string): boolean {
    return this.#services.has(service);
  }

  /** Whether `service` announced `action` (`compensation` true: as a compensation). */
  serves(service: string, action: string, compensation: boolean): boolean {
    const entry = this.#services.get(service);
    return (compensation ? entry?.compensations : entry?.actions)?.has(action) ?? false;
  }

  list(): ParticipantInfo[] {
    return [...this.#services].map(([service, e]) => ({
      service,
      actions: [...e.actions],
      compensations: [...e.compensations],
      instances: [...e.instances],
      lastSeenAt: e.lastSeenAt,
    }));
  }

  /** Resolves once `ready()` holds, checked on every change; the caller bounds the wait. */
  async until(ready: () => boolean, signal: AbortSignal): Promise<void> {
    while (!ready()) {
      if (signal.aborted) throw signal.reason;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /**
   * Throws BAD_REQUEST naming the step when no participant of its service announced the action
   * (`kind` 'step') or the compensation (`kind` 'compensation').
   */
  assertServes(def: SagaStepDefinition, kind: 'step' | 'compensation', ownService: string): void {
    const action = kind === 'step' ? def.action : def.compensationAction!;
    const what = kind === 'step' ? 'action' : 'compensation';
    const metadata = {
      step: def.id,
      service: def.service,
      [kind === 'step' ? 'action' : 'compensationAction']: action,
    };
    if (def.service === ownService) {
      throw badRequest(
        `startSaga: step '${def.id}' names ${what} '${action}' of this orchestrator's own service '${ownService}', which has no registered ${kind} handler`,
        metadata,
      );
    }
    if (!this.#services.has(def.service)) {
      throw badRequest(
        `startSaga: step '${def.id}' runs in service '${def.service}', which has no local handler for '${action}' and no participant of it was ever seen`,
        metadata,
      );
    }
    if (!this.serves(def.service, action, kind === 'compensation')) {
      throw badRequest(
        `startSaga: step '${def.id}' names ${what} '${action}', which no participant of service '${def.service}' serves`,
        metadata,
      );
    }
  }
}

function addAll(set: Set<string>, values: readonly string[]): boolean {
  const before = set.size;
  for (const v of values) set.add(v);
  return set.size !== before;
}
