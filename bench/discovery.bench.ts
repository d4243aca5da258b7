/**
 * `pnpm bench:discovery`: load balancer pick() cost, change propagation through etcd between two
 * processes next to the raw etcd3 put → watch it is built on, and how long a killed process
 * stays visible. The same file runs as the second process (`child` argument).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  createLoadBalancer,
  type LoadBalancerName,
  parseInstance,
  ServiceRegistry,
} from '@clone/service-discovery';
import { EtcdBackend } from '@clone/service-discovery/etcd';
import { startEtcd } from '@clone/test-servers';
import { Etcd3 } from 'etcd3';
import { formatNs, measure, printTable, type Row, summarize } from './harness';

const RAW_PREFIX = '/bench/raw/';
const REGISTRY_PREFIX = '/bench/registry/';
const DOOMED_PREFIX = '/bench/doomed/';
const SAMPLES = 400;
const DOOMED_TTL_SECONDS = 2;

const now = (): bigint => process.hrtime.bigint();
const instance = (i: number) => ({
  serviceId: `asr-${i}`,
  serviceName: 'asr',
  host: '10.0.0.1',
  port: 10_000 + i,
  protocol: 'grpc' as const,
  metadata: { zone: `z${i % 3}` },
});

// ---------------------------------------------------------------------------------------------
// Second process: reports, on stdout, the monotonic time (shared by every process on the
// machine) at which each change reached it, through raw etcd3 and through a ServiceRegistry.

async function child(endpoint: string): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (process.argv[4] === 'doomed') {
    const registry = new ServiceRegistry({
      backend: new EtcdBackend({ hosts: endpoint, prefix: DOOMED_PREFIX, ttlSeconds: DOOMED_TTL_SECONDS }),
    });
    registry.on('backendConnected', () => say('ready'));
    registry.register(instance(1));
    return;
  }
  const client = new Etcd3({ hosts: endpoint });
  const watcher = await client.watch().prefix(RAW_PREFIX).create();
  watcher.on('put', (kv) => say(`raw ${kv.key.toString().slice(RAW_PREFIX.length)} ${now()}`));
  const registry = new ServiceRegistry({
    backend: new EtcdBackend({ hosts: endpoint, prefix: REGISTRY_PREFIX }),
  });
  registry.on('registered', (e) => {
    if (!e.local) say(`reg ${e.instance.serviceId} ${now()}`);
  });
  registry.on('backendConnected', () => say('ready'));
}

// ---------------------------------------------------------------------------------------------

function spawnChild(endpoint: string, mode = 'watch') {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@clone/source', import.meta.filename, 'child', endpoint, mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const waiting = new Map<string, (at: bigint) => void>();
  let ready: () => void;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (line === 'ready') return ready();
    const [kind, id, at] = line.split(' ');
    waiting.get(`${kind} ${id}`)?.(BigInt(at!));
  });
  return {
    proc,
    ready: isReady,
    /** Resolves with the child's receive time of `kind id`. */
    arrival: (kind: string, id: string) =>
      new Promise<bigint>((resolve) => {
        waiting.set(`${kind} ${id}`, (at) => {
          waiting.delete(`${kind} ${id}`);
          resolve(at);
        });
      }),
  };
}

async function benchPick(): Promise<void> {
  const rows: Row[] = [];
  let sink: unknown;
  for (const n of [10, 1_000]) {
    const instances = Array.from({ length: n }, (_, i) =>
      parseInstance({ ...instance(i), weight: 1 + (i % 5) }),
    );
    for (const name of ['round-robin', 'random', 'weighted', 'least-outstanding'] as LoadBalancerName[]) {
      const balancer = createLoadBalancer(name);
      balancer.update(instances);
      const sample = await measure(() => {
        sink = balancer.pick();
      });
      rows.push({
        name: `${name} pick @ ${n}`,
        value: sample.medianNs,
        unit: 'ns',
        baseline: `round-robin pick @ ${n}`,
        extra: { p99: formatNs(sample.p99Ns), target: n === 1_000 ? '≤ 50 ns' : '' },
      });
      if (name === 'least-outstanding') {
        // What a caller pays per call: the pick and reporting the call's end.
        const pair = await measure(() => {
          const picked = balancer.pick()!;
          balancer.release?.(picked);
          sink = picked;
        });
        rows.push({
          name: `${name} pick+release @ ${n}`,
          value: pair.medianNs,
          unit: 'ns',
          baseline: `round-robin pick @ ${n}`,
          extra: { p99: formatNs(pair.p99Ns), target: '' },
        });
      }
    }
    const registry = new ServiceRegistry();
    for (const i of instances) registry.register(i);
    const sample = await measure(() => {
      sink = registry.getServiceInstance('asr');
    });
    rows.push({
      name: `registry.getServiceInstance @ ${n}`,
      value: sample.medianNs,
      unit: 'ns',
      baseline: `round-robin pick @ ${n}`,
      extra: { p99: formatNs(sample.p99Ns) },
    });
    await registry.close();
  }
  if (sink === undefined) throw new Error('unreachable');
  printTable('Load balancer pick() (ns per call)', rows);
}

async function benchPropagation(endpoint: string): Promise<void> {
  const other = spawnChild(endpoint);
  const client = new Etcd3({ hosts: endpoint });
  const lease = client.lease(10);
  await lease.grant();
  const registry = new ServiceRegistry({
    backend: new EtcdBackend({ hosts: endpoint, prefix: REGISTRY_PREFIX }),
  });
  await new Promise((resolve) => registry.on('backendConnected', resolve));
  await other.ready;

  const raw: number[] = [];
  const ours: number[] = [];
  // Interleaved, one change in flight at a time, so both paths see the same machine load.
  for (let i = 0; i < SAMPLES + 20; i++) {
    const value = JSON.stringify(parseInstance(instance(i)));
    const rawArrival = other.arrival('raw', `k-${i}`);
    const rawStart = now();
    await lease.put(`${RAW_PREFIX}k-${i}`).value(value);
    const rawAt = await rawArrival;
    const regArrival = other.arrival('reg', `asr-${i}`);
    const regStart = now();
    registry.register(instance(i));
    const regAt = await regArrival;
    if (i >= 20) {
      // the first ones warm up connections and JIT
      raw.push(Number(rawAt - rawStart));
      ours.push(Number(regAt - regStart));
    }
  }
  const r = summarize(raw);
  const o = summarize(ours);
  printTable(`Change propagation between two processes through etcd (loopback, ${SAMPLES} changes)`, [
    {
      name: 'raw etcd3 lease put → watch',
      value: r.medianNs,
      unit: 'ns',
      extra: { p99: formatNs(r.p99Ns), 'p99 ratio': '', target: '' },
    },
    {
      name: 'register() → registered event',
      value: o.medianNs,
      unit: 'ns',
      baseline: 'raw etcd3 lease put → watch',
      extra: {
        p99: formatNs(o.p99Ns),
        'p99 ratio': `${(o.p99Ns / r.p99Ns).toFixed(2)}x`,
        target: '≤ 1.25x at p50 and p99',
      },
    },
  ]);
  other.proc.kill('SIGKILL');
  await registry.close();
  await lease.revoke();
  client.close();
}

async function benchDeadInstance(endpoint: string): Promise<void> {
  const observer = new ServiceRegistry({
    backend: new EtcdBackend({ hosts: endpoint, prefix: DOOMED_PREFIX, ttlSeconds: DOOMED_TTL_SECONDS }),
  });
  const doomed: ChildProcess = spawnChild(endpoint, 'doomed').proc;
  await new Promise<void>((resolve) => {
    const off = observer.on('registered', () => {
      off();
      resolve();
    });
  });
  const gone = new Promise<bigint>((resolve) => observer.on('deregistered', () => resolve(now())));
  const killedAt = now();
  doomed.kill('SIGKILL');
  const goneAfterNs = Number((await gone) - killedAt);
  printTable('A process killed with SIGKILL leaves every view', [
    {
      name: `lease TTL ${DOOMED_TTL_SECONDS} s, kill -9 → deregistered`,
      value: goneAfterNs / 1e6,
      unit: 'ms',
      extra: { target: `≤ TTL + 1 s = ${DOOMED_TTL_SECONDS * 1000 + 1000} ms` },
    },
  ]);
  await observer.close();
}

async function main(): Promise<void> {
  await benchPick();
  const etcd = await startEtcd();
  try {
    await benchPropagation(etcd.endpoint);
    await benchDeadInstance(etcd.endpoint);
  } finally {
    await etcd.stop();
  }
}

if (process.argv[2] === 'child') {
  void child(process.argv[3]!);
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
      process.exit(1);
    },
  );
}
