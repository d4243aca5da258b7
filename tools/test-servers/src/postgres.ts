import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit } from './children';
import { freePort, waitFor } from './ports';
import { startWatchdog } from './watchdog';

/**
 * What the watchdog does when this process dies without stopping the server: an immediate
 * shutdown of the postmaster named in the pid file (SIGQUIT: it stops its backends and exits, as
 * `pg_ctl stop -m immediate` does), SIGKILL if it is still there after 10 s, then the directory
 * goes. The pid file, not a pid we pass, so that a kill during `pg_ctl start` is covered too. As
 * root the watchdog runs as root and may signal the `postgres` user's postmaster.
 */
const REAP_POSTMASTER = [
  // Gone, or a zombie waiting for its new parent (init) to reap it: either way it has exited.
  'running() { s=$(sed "s/.*) //" "/proc/$1/stat" 2>/dev/null | cut -c1); [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]; }',
  'pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)',
  'if [ -n "$pid" ]; then',
  '  kill -QUIT "$pid" 2>/dev/null',
  '  i=0; while running "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done',
  '  kill -KILL "$pid" 2>/dev/null',
  'fi',
  'rm -rf "$1"',
].join('\n');

/** A private PostgreSQL cluster on a random loopback port with a temporary data directory. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth on loopback only). */
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** The cluster's data directory (removed by `stop()`). */
  readonly dataDir: string;
  /** The postmaster's pid. */
  readonly pid: number;
  /** Stops the server (fast shutdown) and removes its data directory. */
  stop(): Promise<void>;
}

function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL is not installed: run `pnpm servers` (installs the Debian package postgresql)',
    );
  }
  return join(root, versions[0]!, 'bin');
}

/**
 * Starts PostgreSQL with `initdb` + `pg_ctl`. Debian's server refuses to run as root, so as
 * root it runs as the `postgres` user the package creates. fsync stays on: durability
 * figures measured against it are real. The server dies with this process, even when this
 * process is killed with SIGKILL: `pg_ctl` detaches the postmaster, so a watchdog stops it and
 * removes the data directory.
 */
export async function startPostgres(options: { fsync?: boolean } = {}): Promise<PostgresServer> {
  const bin = postgresBin();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'clone-pg-'));
  const dataDir = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]): void => {
    const full = join(bin, cmd);
    if (asRoot) {
      const quoted = [full, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', quoted], { stdio: 'pipe' });
    } else {
      execFileSync(full, args, { stdio: 'pipe' });
    }
  };
  // Armed before anything exists to clean up, so a kill at any point after this leaves nothing.
  const watchdog = startWatchdog(REAP_POSTMASTER, [dir]);
  const port = await freePort();
  run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    `-c fsync=${options.fsync === false ? 'off' : 'on'}`,
    '-c max_connections=200',
  ].join(' ');
  run('pg_ctl', ['-D', dataDir, '-o', settings, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  // `pg_ctl start -w` returns once the server accepts connections, its pid file written.
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    watchdog.disarm();
    try {
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const unhook = atExit(stopSync);
  const connectionString = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor(
    async () => existsSync(join(dataDir, 'postmaster.pid')),
    10_000,
    `PostgreSQL on port ${port}`,
  );
  return {
    connectionString,
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    dataDir,
    pid,
    async stop() {
      unhook();
      stopSync();
    },
  };
}
