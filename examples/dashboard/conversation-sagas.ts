/**
 * The demo's conversations as saga events. The conversation saga is built with `createSaga`
 * (no orchestrator, so no `saga:*` events); its orchestrator reports each step's end, from which
 * this derives what `instrumentSagaOrchestrator` reads: a saga starts with its first step,
 * completes with its last, and is compensated when a step fails.
 */
import { Emitter } from '@clone/service-errors';
import type { SagaEvents } from '@clone/telemetry';
import type { ConversationOrchestrator } from '../orchestrator';

/** The conversation saga's steps, in order (see examples/orchestrator.ts). */
const STEPS = ['transcribe-audio', 'retrieve-context', 'generate-response', 'synthesize-speech'];
const TYPE = 'conversation';

/** Saga events of `orchestrator`'s conversations; `stop()` ends the translation. */
export function conversationSagaEvents(
  orchestrator: Pick<ConversationOrchestrator, 'on'>,
): Emitter<SagaEvents> & { stop(): void } {
  const events = new Emitter<SagaEvents>();
  const started = new Map<string, number>();
  const off = orchestrator.on('step', (e) => {
    const sagaId = `conversation-${e.sessionId}`;
    const now = performance.now();
    if (e.step === STEPS[0] || !started.has(sagaId)) {
      started.set(sagaId, now - e.durationMs);
      events.emit('saga:started', { sagaId, type: TYPE });
    }
    const begun = started.get(sagaId) ?? now;
    if (e.ok) {
      events.emit('step:completed', { sagaId, stepId: e.step, durationMs: e.durationMs });
      if (e.step === STEPS.at(-1)) {
        started.delete(sagaId);
        events.emit('saga:completed', { sagaId, type: TYPE, durationMs: now - begun });
      }
    } else {
      started.delete(sagaId);
      events.emit('step:failed', {
        sagaId,
        stepId: e.step,
        error: { code: 'STEP_FAILED', message: e.detail },
      });
      events.emit('saga:compensated', { sagaId, type: TYPE, durationMs: now - begun });
    }
  });
  return Object.assign(events, { stop: off });
}
