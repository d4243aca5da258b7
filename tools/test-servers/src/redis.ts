import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit, track } from './children';
import { freePort, waitFor } from './ports';
import type { RestartableServer } from './restartable-server';
import { startWatchdog } from './watchdog';

/** A private Redis on a random loopback port with a temporary data directory. */
export interface RedisServer extends RestartableServer {
  /** `redis://127.0.0.1:PORT`, for ioredis. */
  readonly url: string;
}

/** What {@link startRedis} takes. */
export interface RedisStartOptions {
  /**
   * Sync every write to an append-only file (default true), so `kill()` (SIGKILL, a crash) and
   * `start()` bring the keys back, as an outage of a persistent Redis would. False: memory only,
   * as a cache is usually run, and as benchmarks want it (an fsync per write dominates a round trip).
   */
  durable?: boolean;
}

/**
 * Starts Debian's `redis-server` (7.0) and resolves once it answers PING. It dies with this
 * process, even when this process is killed with SIGKILL (a watchdog kills it and removes the
 * data directory).
 */
export async function startRedis(options: RedisStartOptions = {}): Promise<RedisServer> {
  const durable = options.durable ?? true;
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'redis-server is not installed: run `pnpm servers` (installs the Debian package redis-server)',
    );
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'clone-redis-'));
  const unhook = atExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const watchdog = startWatchdog('[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$1"', [dataDir]);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const start = async (): Promise<void> => {
    output = '';
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dataDir,
        '--save',
        '',
        '--appendonly',
        durable ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    track(child);
    const started = child;
    watchdog.guard(started.pid);
    // Once it is gone (killed for an outage, or dead by itself) its pid may be reused: unguard it.
    started.once('exit', () => {
      if (child === started || child === undefined) watchdog.guard(undefined);
    });
    await waitFor(
      async () => {
        if (started.exitCode !== null)
          throw new Error(`redis-server exited with ${started.exitCode}: ${output}`);
        return (await ping(port)) === '+PONG';
      },
      15_000,
      `redis on 127.0.0.1:${port}`,
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

  try {
    await start();
  } catch (error) {
    await kill();
    watchdog.disarm();
    unhook();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
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

/** Sends PING over a plain socket; resolves with the first reply line ('' when nothing answers). */
function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (value: string): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(1000, () => done(''));
    socket.once('error', () => done(''));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      const end = reply.indexOf('\r\n');
      if (end !== -1) done(reply.slice(0, end));
    });
  });
}
