import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit } from './children';
import { freePort, waitFor } from './ports';

/** A private PostgreSQL cluster on a random loopback port with a temporary data directory. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth on loopback only). */
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
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
 * figures measured against it are real.
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
  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
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
    async stop() {
      unhook();
      stopSync();
    },
  };
}
