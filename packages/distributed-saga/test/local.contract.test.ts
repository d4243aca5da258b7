import { SagaOrchestrator } from '@clone/saga';
import { sagaContract } from './contract';

// The embedded default: every handler in the orchestrator's process, no bus.
sagaContract('local', async () => {
  const orchestrator = new SagaOrchestrator();
  return {
    orchestrator,
    service: 'worker',
    registerStepHandler: (action, fn) => orchestrator.registerStepHandler(action, fn),
    registerCompensationHandler: (action, fn) => orchestrator.registerCompensationHandler(action, fn),
    ready: async () => {},
    close: () => orchestrator.close({ drainTimeoutMs: 0 }),
  };
});
