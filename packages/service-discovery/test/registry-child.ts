/**
 * A registry in its own process, for the cross-process tests and the bench. It registers one
 * instance on etcd, then reports what it sees as JSON lines on stdout, each with the monotonic
 * time (`process.hrtime`, shared by every process on the machine) it saw it at.
 * stdin: `register <id> <port>`, `deregister <id>`, `close` (close the registry and exit).
 * env: ETCD (endpoint), PREFIX, TTL (seconds), ID, NAME.
 */
import { createInterface } from 'node:readline';
import { EtcdBackend } from '../src/etcd';
import { ServiceRegistry } from '../src/index';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const say = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, at: process.hrtime.bigint().toString() })}\n`);
};

process.on('unhandledRejection', (error) => say({ event: 'unhandledRejection', error: String(error) }));

const registry = new ServiceRegistry({
  backend: new EtcdBackend({ hosts: env('ETCD'), prefix: env('PREFIX'), ttlSeconds: Number(env('TTL')) }),
});
registry.on('registered', (e) => say({ event: 'registered', id: e.instance.serviceId, local: e.local }));
registry.on('deregistered', (e) => say({ event: 'deregistered', id: e.instance.serviceId, local: e.local }));
registry.on('backendConnected', () => say({ event: 'connected' }));
registry.on('backendDisconnected', () => say({ event: 'disconnected' }));

const register = (id: string, port: number): void => {
  registry.register({ serviceId: id, serviceName: env('NAME'), host: '127.0.0.1', port, protocol: 'grpc' });
};
register(env('ID'), 40_000 + (process.pid % 20_000));

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, id, port] = line.trim().split(' ');
  if (command === 'register' && id !== undefined) register(id, Number(port ?? 1));
  else if (command === 'deregister' && id !== undefined) registry.deregister(id);
  else if (command === 'close') void registry.close().then(() => process.exit(0));
});
