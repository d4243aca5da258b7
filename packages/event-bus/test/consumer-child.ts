/**
 * A consumer in its own process, for the tests that kill one. It subscribes to `chaos.#` on the
 * queue QUEUE and prints a JSON line per event it starts handling (`{"handling":id}`) and, in mode
 * `finish`, per event it finished. Mode `hang` never finishes (the test kills it with SIGKILL
 * mid-handler); mode `crash` kills itself with SIGKILL inside the handler, every time.
 * env: URL, EXCHANGE, SERVICE, QUEUE, MODE (hang|crash|finish), DELIVERY_LIMIT.
 */
import { createEventBus } from '../src/index';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const bus = createEventBus({ url: env('URL'), exchange: env('EXCHANGE'), serviceName: env('SERVICE') });
const mode = env('MODE');
await bus.subscribe(
  'chaos.#',
  async (event) => {
    say({ handling: event.id });
    if (mode === 'crash') process.kill(process.pid, 'SIGKILL');
    if (mode === 'hang') await new Promise(() => {});
    say({ finished: event.id });
  },
  { queue: env('QUEUE'), deliveryLimit: Number(env('DELIVERY_LIMIT')) },
);
say({ ready: true });
