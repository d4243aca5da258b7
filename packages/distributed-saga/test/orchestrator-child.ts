/**
 * An orchestrator in its own process, for the test that kills one: starts COUNT chaos sagas
 * (ids `${RUN}-${i}`), prints `{"started":COUNT}` once all are durable, then `{"finished":n}`
 * as they end.
 * env: RABBITMQ_URL, EXCHANGE, DATABASE_URL, RUN, COUNT, ORCHESTRATOR_ID.
 */
import { createEventBus } from '@clone/event-bus';
import { PostgresSagaStore } from '@clone/saga/postgres';
import { DistributedSagaOrchestrator } from '../src/index';
import { chaosContext, chaosSteps, SERVICES, sagaId } from './chaos-saga';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const bus = createEventBus({
  serviceName: 'orders',
  url: env('RABBITMQ_URL'),
  exchange: env('EXCHANGE'),
  maxReconnectDelayMs: 250,
});
bus.on('error', () => {});
const orchestrator = new DistributedSagaOrchestrator({
  bus,
  orchestratorId: env('ORCHESTRATOR_ID'),
  store: new PostgresSagaStore({ connectionString: env('DATABASE_URL') }),
  maxActiveSagas: 1_000,
  leaseMs: 2_000,
  resendIntervalMs: 1_000,
});
await orchestrator.waitForParticipants([...SERVICES]);
const count = Number(env('COUNT'));
let finished = 0;
const steps = chaosSteps(20_000);
const ids = await Promise.all(
  Array.from({ length: count }, (_, i) =>
    orchestrator.startSaga('chaos', steps, chaosContext(i), undefined, { sagaId: sagaId(env('RUN'), i) }),
  ),
);
say({ started: ids.length });
for (const id of ids) {
  void orchestrator.waitForSaga(id).then(() => say({ finished: ++finished }));
}
