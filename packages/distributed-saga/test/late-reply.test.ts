import { createEventBus, type EventBus } from '@clone/event-bus';
import { afterEach, describe, expect, it } from 'vitest';
import { DistributedSagaOrchestrator, SagaParticipant } from '../src/index';

let bus: EventBus;
let orchestrator: DistributedSagaOrchestrator;
let participant: SagaParticipant;

afterEach(async () => {
  await orchestrator?.close({ drainTimeoutMs: 0 });
  await participant?.close();
  await bus?.close();
});

describe('DistributedSagaOrchestrator', () => {
  it('compensates a step whose success arrives after it timed out', async () => {
    bus = createEventBus({ serviceName: 'orders' });
    orchestrator = new DistributedSagaOrchestrator({ bus, resendIntervalMs: 50 });
    participant = new SagaParticipant({ bus, service: 'slow', announceIntervalMs: 0 });
    const undone: string[] = [];
    participant.registerStepHandler('work', async () => {
      await new Promise((r) => setTimeout(r, 300));
      return 'done late';
    });
    participant.registerCompensationHandler(
      'undo',
      (_s, _c, execution) => void undone.push(String(execution.result)),
    );
    await participant.start();
    await orchestrator.waitForParticipants({ slow: ['work'] });
    const late = new Promise((resolve) => orchestrator.commands.events.on('compensation:late', resolve));
    const id = await orchestrator.startSaga(
      'late',
      [{ id: 'w', name: 'w', service: 'slow', action: 'work', compensationAction: 'undo', timeout: 100 }],
      {},
    );
    const done = await orchestrator.waitForSaga(id);
    expect(done.status).toBe('compensated');
    expect(done.error?.code).toBe('TIMEOUT');
    expect(await late).toEqual({ sagaId: id, stepId: 'w', service: 'slow', ok: true });
    expect(undone).toEqual(['done late']);
    expect(orchestrator.commands.getStats().lateReplies).toBeGreaterThanOrEqual(1);
  });

  it('refuses at startSaga a step of a service no participant ever announced, naming the step', async () => {
    bus = createEventBus({ serviceName: 'orders' });
    orchestrator = new DistributedSagaOrchestrator({ bus });
    await orchestrator.start();
    await expect(
      orchestrator.startSaga(
        'x',
        [{ id: 'typo', name: 'typo', service: 'ai-servce', action: 'process_pdf' }],
        {},
      ),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining("step 'typo' runs in service 'ai-servce'"),
    });
  });
});
