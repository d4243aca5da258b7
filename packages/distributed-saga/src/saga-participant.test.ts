import { createEventBus, EventBuilder, type EventBus } from '@clone/event-bus';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { commandType, replyType, type SagaCommand, type SagaReply } from './messages';
import { SagaParticipant } from './saga-participant';

let bus: EventBus;
let participant: SagaParticipant;

afterEach(async () => {
  await participant?.close();
  await bus?.close();
});

async function setup(): Promise<SagaReply[]> {
  bus = createEventBus({ serviceName: 'tester' });
  participant = new SagaParticipant({ bus, service: 'svc', announceIntervalMs: 0 });
  const replies: SagaReply[] = [];
  await bus.subscribe(replyType('t1'), (e) => void replies.push(e.data as SagaReply));
  return replies;
}

function command(kind: 'step' | 'compensation', stepId = 's'): SagaCommand {
  return {
    commandId: kind === 'step' ? `saga-1:${stepId}` : `saga-1:${stepId}:compensate`,
    kind,
    sagaId: 'saga-1',
    sagaType: 't',
    stepId,
    replyTo: 't1',
    step: { id: stepId, name: stepId, service: 'svc', action: 'act', compensationAction: 'undo' },
    context: {},
    attempt: 1,
    execution: 1,
    results: {},
  };
}

async function send(c: SagaCommand, replies: SagaReply[]): Promise<SagaReply> {
  const before = replies.length;
  await bus.publish(EventBuilder.create(commandType('svc'), { data: c }, 'tester'));
  while (replies.length === before) await new Promise((r) => setTimeout(r, 5));
  return replies[replies.length - 1]!;
}

describe('SagaParticipant', () => {
  it('answers a repeated command from its record without running the handler again', async () => {
    const replies = await setup();
    let calls = 0;
    participant.registerStepHandler('act', () => ++calls);
    await participant.start();
    expect(await send(command('step'), replies)).toMatchObject({ ok: true, result: 1, replayed: false });
    expect(await send(command('step'), replies)).toMatchObject({ ok: true, result: 1, replayed: true });
    expect(calls).toBe(1);
  });

  it('records a non-retryable ServiceError, and runs a plain Error again on the next send', async () => {
    const replies = await setup();
    let calls = 0;
    participant.registerStepHandler('act', (step) => {
      calls++;
      if (step.id === 'final')
        throw new ServiceError(ServiceErrorCode.CONFLICT, 'no', undefined, { retryable: false });
      throw new Error('flaky');
    });
    await participant.start();
    for (let i = 0; i < 2; i++) await send(command('step', 'final'), replies);
    expect(calls).toBe(1);
    expect(replies.at(-1)).toMatchObject({
      ok: false,
      replayed: true,
      error: { code: 'CONFLICT', plain: false },
    });
    for (let i = 0; i < 2; i++) await send(command('step', 'plain'), replies);
    expect(calls).toBe(3);
    expect(replies.at(-1)).toMatchObject({ ok: false, replayed: false, error: { plain: true } });
  });

  it('refuses a step whose compensation arrived first, without running it', async () => {
    const replies = await setup();
    const ran: string[] = [];
    participant.registerStepHandler('act', () => void ran.push('step'));
    participant.registerCompensationHandler(
      'undo',
      (_s, _c, execution) => void ran.push(`undo failed=${execution.failed}`),
    );
    await participant.start();
    const compensated = command('compensation');
    compensated.failed = true;
    expect(await send(compensated, replies)).toMatchObject({ ok: true, kind: 'compensation' });
    expect(await send(command('step'), replies)).toMatchObject({
      ok: false,
      error: { code: 'CANCELLED', retryable: false },
    });
    expect(ran).toEqual(['undo failed=true']);
  });
});
