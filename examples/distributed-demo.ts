/**
 * `pnpm demo --distributed`: the design document's sample-processing saga across three
 * processes on a private RabbitMQ broker. This process is the orchestrator and the sample
 * service (validate_sample, update_status and their compensations run here); the AI and audit
 * services are participants in processes of their own (examples/distributed-participant.ts).
 * The AI participant is killed (SIGKILL) in the middle of its step and started again: its
 * command comes back to the new process and the saga completes. Then the audit step refuses a
 * sample and the saga compensates across processes, in reverse order.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DistributedSagaOrchestrator } from '@clone/distributed-saga';
import { createEventBus } from '@clone/event-bus';
import type { SagaStepDefinition } from '@clone/saga';
import { bold, cyan, dim, green, heading, log, ms, red, yellow } from './demo-output';
import { SetupError } from './deployments';

interface Participant {
  process: ChildProcess;
  lines: Record<string, unknown>[];
}

const steps: SagaStepDefinition[] = [
  {
    id: 'validate_sample',
    name: 'Validate Sample Data',
    service: 'sample-service',
    action: 'validate_sample',
    compensationAction: 'revert_validation',
    timeout: 30000,
    retryAttempts: 2,
  },
  {
    id: 'process_pdf',
    name: 'Process PDF with AI',
    service: 'ai-service',
    action: 'process_pdf',
    compensationAction: 'cleanup_processing',
    timeout: 120000,
    retryAttempts: 1,
    dependencies: ['validate_sample'],
  },
  {
    id: 'update_sample_status',
    name: 'Update Sample Status',
    service: 'sample-service',
    action: 'update_status',
    compensationAction: 'revert_status',
    timeout: 15000,
    dependencies: ['process_pdf'],
  },
  {
    id: 'create_audit_log',
    name: 'Create Audit Log',
    service: 'audit-service',
    action: 'create_audit_log',
    timeout: 10000,
    dependencies: ['update_sample_status'],
  },
];

function startParticipant(service: string, url: string): Participant {
  const file = fileURLToPath(new URL('./distributed-participant.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@clone/source', '--import', 'tsx', file], {
    env: { ...process.env, RABBITMQ_URL: url, SERVICE: service },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not ours
    }
  });
  return { process: child, lines };
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs the distributed show; `onInterrupt` gets what Ctrl-C must stop. */
export async function runDistributedDemo(onInterrupt: Set<() => Promise<unknown>>): Promise<void> {
  heading(
    'Distributed saga: orchestrator + sample service here, AI and audit services in processes of their own',
  );
  const { startRabbitMQ } = await import('@clone/test-servers');
  const broker = await startRabbitMQ().catch((error: unknown) => {
    throw new SetupError(`pnpm demo --distributed needs rabbitmq-server: ${(error as Error).message}`);
  });
  const participants: Participant[] = [];
  const stopAll = async (): Promise<void> => {
    for (const p of participants) p.process.kill('SIGKILL');
    await broker.stop();
  };
  onInterrupt.add(stopAll);
  log(`private RabbitMQ at ${broker.url}`);
  const bus = createEventBus({ serviceName: 'sample-service', url: broker.url, maxReconnectDelayMs: 250 });
  const orchestrator = new DistributedSagaOrchestrator({
    bus,
    orchestratorId: 'demo-orchestrator',
    resendIntervalMs: 1_000,
  });
  try {
    let ai = startParticipant('ai-service', broker.url);
    const audit = startParticipant('audit-service', broker.url);
    participants.push(ai, audit);
    orchestrator.registerStepHandler('validate_sample', (_s, { sampleId }: { sampleId: string }) => ({
      validated: true,
      sampleId,
    }));
    orchestrator.registerStepHandler('update_status', () => ({ status: 'processed' }));
    orchestrator.registerCompensationHandler('revert_validation', () =>
      log(`   ${yellow('↺')} revert_validation (sample-service, this process)`),
    );
    orchestrator.registerCompensationHandler('revert_status', () =>
      log(`   ${yellow('↺')} revert_status (sample-service, this process)`),
    );
    orchestrator.on('step:started', (e) =>
      log(
        `   ${dim('·')} step ${e.stepId} started → ${e.service}${e.service === 'sample-service' ? ' (here)' : ' (command over RabbitMQ)'}`,
      ),
    );
    orchestrator.on('step:completed', (e) =>
      log(`   ${green('✓')} step ${e.stepId} completed in ${ms(e.durationMs)}`),
    );
    orchestrator.on('step:failed', (e) =>
      log(`   ${red('✗')} step ${e.stepId} failed: ${e.error.code} ${e.error.message}`),
    );
    orchestrator.commands.events.on('command:sent', (e) => {
      if (e.resend) log(`   ${dim('·')} command ${e.commandId} sent again to ${e.service} (no reply yet)`);
    });
    orchestrator.commands.events.on('reply:received', (e) => {
      if (e.kind === 'compensation')
        log(`   ${yellow('↺')} ${e.stepId} compensated by ${e.service} (its process)`);
    });
    await orchestrator.waitForParticipants({
      'ai-service': ['process_pdf'],
      'audit-service': ['create_audit_log'],
    });
    log(
      `participants announced: ${orchestrator
        .participants()
        .map((p) => `${p.service} [${p.actions.join(', ')}]`)
        .join('; ')}`,
    );

    heading('Saga 1: the AI participant is killed mid-step and restarted');
    const first = await orchestrator.startSaga(
      'sample_processing_workflow',
      steps,
      { sampleId: 'sample-123', userId: 'user-456', fileName: 'run.pdf' },
      'demo-1',
    );
    await until(() => ai.lines.some((l) => l.ran === 'process_pdf'), 'the AI step to start');
    const waiting = orchestrator.getSagaStatus(first)?.waitingOn.map((w) => `${w.stepId} on ${w.service}`);
    log(`   saga waits on: ${waiting?.join(', ')}`);
    log(
      `   ${red('✗')} kill -9 of the ai-service participant (pid ${ai.process.pid}) in the middle of process_pdf`,
    );
    ai.process.kill('SIGKILL');
    ai = startParticipant('ai-service', broker.url);
    participants.push(ai);
    await until(() => ai.lines.some((l) => l.ready === true), 'the new ai-service');
    log(`   ai-service started again (pid ${ai.process.pid}); its unacknowledged command comes back to it`);
    const done = await orchestrator.waitForSaga(first);
    const by = (done.stepResults.get('process_pdf') as { extractionResult: { by: string } }).extractionResult
      .by;
    log(
      `${bold(done.status === 'completed' ? green('saga 1 completed') : red(`saga 1 ${done.status}`))}: process_pdf done by ${cyan(by)}`,
    );

    heading('Saga 2: the audit step refuses, and the saga compensates across processes');
    const second = await orchestrator.startSaga(
      'sample_processing_workflow',
      steps,
      { sampleId: 'sample-124', userId: 'user-456', fileName: 'reject.pdf' },
      'demo-2',
    );
    const failed = await orchestrator.waitForSaga(second);
    const undone = Object.entries(failed.stepStates)
      .filter(([, s]) => s.status === 'compensated')
      .map(([id]) => id);
    log(
      `${bold(failed.status === 'compensated' ? yellow('saga 2 compensated') : red(`saga 2 ${failed.status}`))}: ${failed.error?.message}; undone: ${undone.join(', ')}`,
    );
    const stats = orchestrator.commands.getStats();
    log(
      `commands sent ${stats.commandsSent}, resent ${stats.resends}, replies ${stats.replies}, late replies ${stats.lateReplies}`,
    );
  } finally {
    await orchestrator.close({ drainTimeoutMs: 0 });
    await bus.close();
    await stopAll();
    onInterrupt.delete(stopAll);
  }
}
