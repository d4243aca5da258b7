import type { EventBus } from '@clone/event-bus';
import { DistributedSagaOrchestrator, SagaParticipant } from '../src/index';
import type { SagaHarness } from './contract';

let next = 0;

/**
 * The distributed mode of the contract: the handlers registered through the harness run in a
 * participant of another service, reached through the event bus(es) given.
 */
export function distributedHarness(
  orchestratorBus: EventBus,
  participantBus: EventBus,
  extraClose: () => Promise<void> = async () => {},
): SagaHarness {
  const n = ++next;
  const service = `worker-${n}`;
  const orchestrator = new DistributedSagaOrchestrator({
    bus: orchestratorBus,
    orchestratorId: `orch-${n}-${process.pid}`,
    resendIntervalMs: 1_000,
  });
  const participant = new SagaParticipant({ bus: participantBus, service, announceIntervalMs: 0 });
  const actions = new Set<string>();
  const compensations = new Set<string>();
  return {
    orchestrator,
    service,
    registerStepHandler: (action, fn) => {
      actions.add(action);
      participant.registerStepHandler(action, fn);
    },
    registerCompensationHandler: (action, fn) => {
      compensations.add(action);
      participant.registerCompensationHandler(action, fn);
    },
    waitingByService: () => orchestrator.commands.getStats().waiting,
    ready: async () => {
      await orchestrator.start();
      await participant.start();
      await orchestrator.waitForParticipants({ [service]: [...actions] }, { timeoutMs: 20_000 });
    },
    close: async () => {
      await orchestrator.close({ drainTimeoutMs: 0 });
      await participant.close();
      await extraClose();
    },
  };
}
