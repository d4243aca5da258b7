import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit } from './children';
import { freePort, waitFor } from './ports';
import type { RestartableServer } from './restartable-server';
import { startWatchdog } from './watchdog';

/** Where Debian's `rabbitmq-server` keeps the real scripts (the /usr/sbin wrappers switch user). */
const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';

/** A private RabbitMQ broker on random loopback ports with a temporary data directory. */
export interface RabbitMQServer extends RestartableServer {
  /** `amqp://guest:guest@127.0.0.1:PORT`, for amqplib's `connect`. */
  readonly url: string;
  /** Runs `rabbitmqctl` against this broker (e.g. `['list_queues', 'name', 'messages']`). */
  ctl(args: readonly string[]): Promise<string>;
}

/**
 * Starts Debian's RabbitMQ as a private node and resolves once it accepts AMQP connections.
 * The node has its own HOME (Erlang cookie), data, log and plugins directories, its own epmd on a
 * random port (so it never meets the system's or another test run's), and fewer busy-waiting
 * schedulers (a broker spinning on a 2-core box slows every other test). It dies with this process,
 * even when this process is killed with SIGKILL: a watchdog kills the broker's process group and
 * its epmd and removes the data directory.
 */
export async function startRabbitMQ(): Promise<RabbitMQServer> {
  if (!existsSync(join(RABBITMQ_BIN, 'rabbitmq-server'))) {
    throw new Error(
      'rabbitmq-server is not installed: run `pnpm servers` (installs the Debian package rabbitmq-server)',
    );
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'clone-rabbitmq-'));
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const nodeName = `clone${port}@localhost`;
  for (const dir of ['mnesia', 'log']) mkdirSync(join(dataDir, dir));
  writeFileSync(join(dataDir, 'plugins'), '[].\n');
  writeFileSync(join(dataDir, 'rabbitmq.conf'), 'log.console = false\nlog.file.level = warning\n');
  writeFileSync(join(dataDir, 'rabbitmq-env.conf'), '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dataDir,
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dataDir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dataDir, 'plugins'),
    RABBITMQ_CONFIG_FILE: join(dataDir, 'rabbitmq.conf'),
    RABBITMQ_CONF_ENV_FILE: join(dataDir, 'rabbitmq-env.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dataDir, 'advanced.config'),
    RABBITMQ_PID_FILE: join(dataDir, 'rabbitmq.pid'),
    // Schedulers that sleep instead of spinning, and two of them: this is a test broker.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none +S 2:2',
  };

  // Our own epmd, started by us, so we know its pid and end it (the broker's would daemonise).
  const epmd = spawn('epmd', ['-port', String(epmdPort)], { stdio: 'ignore', detached: true, env });
  epmd.on('error', () => {});
  epmd.unref();
  const watchdog = startWatchdog(
    '[ -n "$pid" ] && kill -KILL "-$pid" 2>/dev/null; kill -KILL "$2" 2>/dev/null; rm -rf "$1"',
    [dataDir, String(epmd.pid ?? '')],
  );
  let child: ChildProcess | undefined;
  let output = '';
  const killGroup = (pid: number | undefined, signal: NodeJS.Signals): void => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const unhook = atExit(() => {
    killGroup(child?.pid, 'SIGKILL');
    if (epmd.pid !== undefined) killGroup(epmd.pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ctl = (args: readonly string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        join(RABBITMQ_BIN, 'rabbitmqctl'),
        ['-n', nodeName, ...args],
        { env, timeout: 60_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`rabbitmqctl ${args.join(' ')}: ${stderr || error.message}`));
          else resolve(stdout);
        },
      );
    });

  const start = async (): Promise<void> => {
    output = '';
    // A process group of its own: the script, the Erlang VM and its helpers die together.
    child = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.unref();
    watchdog.guard(child.pid);
    const started = child;
    await waitFor(
      async () => {
        if (started.exitCode !== null)
          throw new Error(`rabbitmq-server exited with ${started.exitCode}: ${output}`);
        return amqpAnswers(port);
      },
      120_000,
      `rabbitmq on 127.0.0.1:${port}`,
    );
    await ctl(['await_startup', '--timeout', '60']);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    // Referenced while we wait: an unreferenced child's exit would not keep this process alive.
    running.ref();
    const exited = new Promise((r) => running.once('exit', r));
    if (signal === 'SIGKILL') killGroup(running.pid, 'SIGKILL');
    else running.kill(signal); // the script traps TERM and stops the VM cleanly
    await exited;
    if (signal !== 'SIGKILL') killGroup(running.pid, 'SIGKILL'); // helpers left behind, if any
    // Until the port is free a restart would fail to bind.
    await waitFor(async () => !(await amqpAnswers(port)), 30_000, `rabbitmq on ${port} to go down`);
    watchdog.guard(undefined);
  };

  try {
    await start();
  } catch (error) {
    killGroup(child?.pid, 'SIGKILL');
    killGroup(epmd.pid, 'SIGKILL');
    watchdog.disarm();
    unhook();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    dataDir,
    get pid() {
      return child?.pid;
    },
    kill,
    start,
    ctl,
    async stop() {
      await kill('SIGTERM');
      if (epmd.exitCode === null && epmd.signalCode === null) {
        epmd.ref();
        const gone = new Promise((r) => epmd.once('exit', r));
        killGroup(epmd.pid, 'SIGKILL');
        await gone;
      }
      watchdog.disarm();
      unhook();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function amqpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
