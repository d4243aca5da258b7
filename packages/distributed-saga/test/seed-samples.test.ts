import { createEventBus, type EventBus } from '@clone/event-bus';
import { type RabbitMQServer, startRabbitMQ } from '@clone/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributedSagaOrchestrator } from '../src/index';
import { type Child, startChild, waitUntil } from './child';
import { runSeedSample } from './seed-sample';

/**
 * The design document's "Saga Definition" and "Saga Step Handlers" samples, verbatim, with the
 * handlers in three service processes (sample, ai, audit) and the orchestrator in this one.
 */
let broker: RabbitMQServer;
let bus: EventBus;
let orchestrator: DistributedSagaOrchestrator;
const services: Record<string, Child> = {};

beforeAll(async () => {
  broker = await startRabbitMQ();
  for (const service of ['sample-service', 'ai-service', 'audit-service']) {
    services[service] = startChild('./seed-service-child.ts', {
      RABBITMQ_URL: broker.url,
      EXCHANGE: 'seed',
      SERVICE: service,
    });
  }
  await waitUntil(
    () => Object.values(services).every((c) => c.lines.some((l) => l.ready === true)),
    'the three services to be ready',
  );
  bus = createEventBus({ serviceName: 'orchestrator-service', url: broker.url, exchange: 'seed' });
  orchestrator = new DistributedSagaOrchestrator({ bus, orchestratorId: 'seed-orchestrator' });
  await orchestrator.waitForParticipants({
    'sample-service': ['validate_sample', 'update_status'],
    'ai-service': ['process_pdf'],
    'audit-service': ['create_audit_log'],
  });
}, 180_000);

afterAll(async () => {
  for (const child of Object.values(services)) child.process.kill('SIGKILL');
  await orchestrator?.close({ drainTimeoutMs: 0 });
  await bus?.close();
  await broker?.stop();
});

function ran(service: string): unknown[] {
  return services[service]!.lines.filter((l) => 'ran' in l).map((l) => l.ran);
}

describe("the design document's saga samples across processes", () => {
  it('runs each step in the process of the service that owns it', async () => {
    const sagaId = (await runSeedSample(
      'saga-definition',
      {
        sagaOrchestrator: orchestrator,
        sampleId: 'sample-1',
        userId: 'user-1',
        fileName: 'a.pdf',
        correlationId: 'c-1',
      },
      'return sagaId',
    )) as string;
    const done = await orchestrator.waitForSaga(sagaId);
    expect(done.status).toBe('completed');
    expect(done.correlationId).toBe('c-1');
    expect(done.stepResults.get('validate_sample')).toEqual({
      validated: true,
      sample: { id: 'sample-1', status: 'submitted' },
    });
    const pid = services['ai-service']!.process.pid;
    expect(done.stepResults.get('process_pdf')).toMatchObject({
      extractionResult: { by: `ai-service pid ${pid}` },
    });
    // The reply can arrive before the child's stdout line is read: wait for the line, then compare.
    await waitUntil(() => ran('audit-service').length > 0, 'the audit process to report its step');
    expect(ran('sample-service')).toEqual(['validate_sample', 'update_status']);
    expect(ran('ai-service')).toEqual(['process_pdf']);
    expect(ran('audit-service')).toEqual(['create_audit_log']);
  });

  it('compensates across processes when the AI step fails', async () => {
    const before = ran('sample-service').length;
    const sagaId = (await runSeedSample(
      'saga-definition',
      {
        sagaOrchestrator: orchestrator,
        sampleId: 'sample-2',
        userId: 'user-1',
        fileName: 'corrupt.pdf',
        correlationId: 'c-2',
      },
      'return sagaId',
    )) as string;
    const done = await orchestrator.waitForSaga(sagaId);
    expect(done.status).toBe('compensated');
    expect(done.error?.message).toContain('cannot read corrupt.pdf');
    // process_pdf ran twice (retryAttempts: 1 retries a plain Error), then validate_sample was undone.
    await waitUntil(() => ran('sample-service').length >= before + 2, 'the sample process to report');
    expect(ran('sample-service').slice(before)).toEqual(['validate_sample', 'revert_validation']);
  });
});
