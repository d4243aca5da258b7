/**
 * One service of the design document's sample-processing saga, in its own process: it runs the
 * document's "Saga Step Handlers" sample verbatim, with `sagaOrchestrator` standing for this
 * service's participant (it keeps the registrations of the actions this service owns), and
 * registers the actions the sample leaves out. Prints `{"ready":true}`, then `{"ran":action}`
 * per handler run. A file name containing `corrupt` makes the AI step fail.
 * env: RABBITMQ_URL, EXCHANGE, SERVICE.
 */
import { createEventBus } from '@clone/event-bus';
import type { CompensationHandler, StepHandler } from '@clone/saga';
import { SagaParticipant } from '../src/index';
import { OWNER, runSeedSample } from './seed-sample';

const service = process.env.SERVICE!;
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const bus = createEventBus({
  serviceName: service,
  url: process.env.RABBITMQ_URL!,
  exchange: process.env.EXCHANGE!,
});
const participant = new SagaParticipant({ bus, service, announceIntervalMs: 0 });
const mine = (action: string): boolean => OWNER[action] === service;
const traced =
  <H extends (...args: never[]) => unknown>(action: string, handler: H) =>
  (...args: Parameters<H>): unknown => {
    say({ ran: action });
    return handler(...args);
  };
const sagaOrchestrator = {
  registerStepHandler(action: string, handler: StepHandler): void {
    if (mine(action)) participant.registerStepHandler(action, traced(action, handler));
  },
  registerCompensationHandler(action: string, handler: CompensationHandler): void {
    if (mine(action)) participant.registerCompensationHandler(action, traced(action, handler));
  },
};
const sampleService = {
  getSample: async (sampleId: string) => ({ id: sampleId, status: 'submitted' }),
  revertValidation: async (_sampleId: string) => undefined,
};
const aiService = {
  processPDF: async (sampleId: string, fileName: string) => {
    if (fileName.includes('corrupt')) throw new Error(`cannot read ${fileName}`);
    return { sampleId, fileName, fields: 12, by: `ai-service pid ${process.pid}` };
  },
};
await runSeedSample('saga-step-handlers', { sagaOrchestrator, sampleService, aiService });
// The actions of the saga definition that the handlers sample does not show.
sagaOrchestrator.registerStepHandler('update_status', () => ({ status: 'processed' }));
sagaOrchestrator.registerCompensationHandler('revert_status', () => undefined);
sagaOrchestrator.registerCompensationHandler('cleanup_processing', () => undefined);
sagaOrchestrator.registerStepHandler('create_audit_log', () => ({ logged: true }));
await participant.start();
say({ ready: true });
