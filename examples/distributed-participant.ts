/**
 * A participant service of `pnpm demo --distributed`, in its own process: SERVICE `ai-service`
 * runs `process_pdf` (a second, so a kill lands mid-step) and `cleanup_processing`;
 * `audit-service` runs `create_audit_log`, which refuses a file named `reject*`. Prints JSON
 * lines: `{"ready":true}`, then `{"ran":action,"pid":n}` per handler run. env: RABBITMQ_URL, SERVICE.
 */
import { SagaParticipant } from '@clone/distributed-saga';
import { createEventBus } from '@clone/event-bus';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';

const service = process.env.SERVICE!;
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const bus = createEventBus({
  serviceName: service,
  url: process.env.RABBITMQ_URL!,
  maxReconnectDelayMs: 250,
});
const participant = new SagaParticipant({ bus, announceIntervalMs: 1_000 });
interface Context {
  sampleId: string;
  fileName: string;
}

if (service === 'ai-service') {
  participant.registerStepHandler<Context>('process_pdf', async (_step, { sampleId, fileName }) => {
    say({ ran: 'process_pdf', pid: process.pid });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return { extractionResult: { sampleId, fileName, fields: 12, by: `ai-service pid ${process.pid}` } };
  });
  participant.registerCompensationHandler<Context>('cleanup_processing', () => {
    say({ ran: 'cleanup_processing', pid: process.pid });
  });
} else {
  participant.registerStepHandler<Context>('create_audit_log', (_step, { fileName }) => {
    say({ ran: 'create_audit_log', pid: process.pid });
    if (fileName.startsWith('reject')) {
      throw new ServiceError(ServiceErrorCode.FORBIDDEN, `audit refuses ${fileName}`, service, {
        retryable: false,
      });
    }
    return { logged: true };
  });
}
await participant.start();
say({ ready: true });
