import { formatValue } from '@clone/internal';

/** A listener for one event type. */
export type Listener<T> = (event: T) => void;

/** Removes the listener it was returned for. */
export type Unsubscribe = () => void;

/**
 * A small typed event emitter. Listener lists are created on first subscription, so an
 * instance nobody listens to costs one empty slot, and `emit` with no listener is a property
 * read. A listener that throws does not break the emitter or the caller: its error is reported
 * as a process warning (a policy must not fail a call because a metrics hook failed).
 */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  #listeners: { [K in keyof Events]?: Listener<Events[K]>[] } | undefined;

  /** Subscribes to `event`; returns a function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    this.#listeners ??= {};
    const list = this.#listeners[event];
    // Copy on write: an emit in progress keeps iterating its own snapshot.
    this.#listeners[event] = list ? [...list, listener] : [listener];
    return () => this.off(event, listener);
  }

  /** Subscribes for the next `event` only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): Unsubscribe {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes `listener` from `event`. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const list = this.#listeners?.[event];
    if (!list) return;
    const next = list.filter((l) => l !== listener);
    this.#listeners![event] = next.length > 0 ? next : undefined;
  }

  /** Whether anyone listens to `event`: lets hot paths skip building a payload. */
  hasListeners<K extends keyof Events>(event: K): boolean {
    return this.#listeners?.[event] !== undefined;
  }

  /** Delivers `payload` to the listeners of `event`, in subscription order. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const list = this.#listeners?.[event];
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (error) {
        reportListenerError(String(event), error);
      }
    }
  }

  /** Removes every listener. */
  removeAllListeners(): void {
    this.#listeners = undefined;
  }
}

/** A listener threw: a process warning, built so that no thrown value can make it throw too. */
function reportListenerError(event: string, error: unknown): void {
  let message: string;
  let detail: string | undefined;
  try {
    message = error instanceof Error ? String(error.message) : String(error);
    detail = error instanceof Error ? error.stack : undefined;
  } catch {
    message = formatValue(error);
  }
  process.emitWarning(`A listener for '${event}' threw: ${message}`, {
    code: 'CLONE_LISTENER_ERROR',
    detail,
  });
}
