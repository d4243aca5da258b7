import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './ports';
import { startWatchdog } from './watchdog';

const ROOT = join(import.meta.dirname, '../../..');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Whether `pid` is a live process (a zombie waiting for its new parent to reap it is not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pids of `pid`'s children (a postmaster's checkpointer, walwriter, backends…). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Starts `test-support/outlived-child.ts <kind>` and resolves with what it prints once serving. */
async function childWithServer(kind: string): Promise<{ child: ChildProcess; pid: number; dataDir: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@clone/source',
      join(import.meta.dirname, 'test-support/outlived-child.ts'),
      kind,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let errors = '';
  child.stderr!.on('data', (d) => {
    errors += d;
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${errors}`)));
  });
  return { child, ...(JSON.parse(line) as { pid: number; dataDir: string }) };
}

describe('servers die with the test process', () => {
  it.each(['etcd', 'etcd-restarted', 'postgres'])(
    '%s: killing the test process with SIGKILL stops the server and removes its data',
    async (kind) => {
      const { child, pid, dataDir } = await childWithServer(kind);
      // The whole tree: PostgreSQL's postmaster has a process per background worker.
      const tree = [pid, ...childrenOf(pid)];
      if (kind === 'postgres') expect(tree.length).toBeGreaterThan(1);
      expect(tree.filter(alive)).toEqual(tree);
      expect(existsSync(dataDir)).toBe(true);
      child.kill('SIGKILL');
      // No handler of the child runs: only its watchdog can do this. Poll generously for it.
      const done = async (): Promise<boolean> => tree.every((p) => !alive(p)) && !existsSync(dataDir);
      await waitFor(done, 25_000, `${kind} cleanup`).catch(() => {});
      expect(tree.filter(alive)).toEqual([]);
      expect(existsSync(dataDir)).toBe(false);
    },
    60_000,
  );
});

describe('startWatchdog', () => {
  it('disarm() ends the watchdog without running its script', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clone-watchdog-'));
    try {
      const marker = join(dir, 'ran');
      const watchdog = startWatchdog('echo "$pid" > "$1"', [marker]);
      watchdog.guard(123);
      expect(alive(watchdog.pid!)).toBe(true);
      watchdog.disarm();
      await waitFor(async () => !alive(watchdog.pid!), 10_000, 'the watchdog to end');
      // Gone without running its script: nothing can write the marker any more.
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
