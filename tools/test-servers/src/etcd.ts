import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit, track } from './children';
import { freePort, waitFor } from './ports';
import type { RestartableServer } from './restartable-server';
import { startWatchdog } from './watchdog';

/** A private etcd on a random loopback port with a temporary data directory. */
export interface EtcdServer extends RestartableServer {
  /** `http://127.0.0.1:PORT`, for the etcd3 client's `hosts`. */
  readonly endpoint: string;
}

/**
 * Starts etcd (Debian's `etcd-server`, v3 API) and resolves once `/health` answers. It dies with
 * this process, even when this process is killed with SIGKILL (a watchdog kills it and removes the
 * data directory).
 */
export async function startEtcd(): Promise<EtcdServer> {
  try {
    execFileSync('etcd', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('etcd is not installed: run `pnpm servers` (installs the Debian package etcd-server)');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'clone-etcd-'));
  const unhook = atExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const watchdog = startWatchdog('[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$1"', [dataDir]);
  const [port, peerPort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${port}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    child = spawn(
      'etcd',
      [
        '--name=test',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${endpoint}`,
        `--advertise-client-urls=${endpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=test=${peer}`,
        '--log-level=error',
        '--logger=zap',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    });
    track(child);
    const started = child;
    watchdog.guard(started.pid);
    // Once it is gone (killed for an outage, or dead by itself) its pid may be reused: unguard it.
    started.once('exit', () => {
      if (child === started || child === undefined) watchdog.guard(undefined);
    });
    await waitFor(
      async () => {
        if (started.exitCode !== null) throw new Error(`etcd exited with ${started.exitCode}: ${output}`);
        const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(500) });
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      },
      15_000,
      `etcd on ${endpoint}`,
    );
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill(signal);
    await exited;
  };

  await start();
  return {
    endpoint,
    port,
    dataDir,
    get pid() {
      return child?.pid;
    },
    kill,
    start,
    async stop() {
      await kill('SIGTERM');
      watchdog.disarm();
      unhook();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
