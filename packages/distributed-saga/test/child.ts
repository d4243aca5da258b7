import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A test process and the JSON lines it printed so far. */
export interface Child {
  readonly process: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<void>;
  /** The first lines it wrote to stderr. */
  readonly errors: string[];
}

/** Starts `fixture` (a file of this folder) from sources with `env`. */
export function startChild(fixture: string, env: Record<string, string>): Child {
  const file = fileURLToPath(new URL(fixture, import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@clone/source', '--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Kept for the failure message of a child that never gets ready.
  const errors: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (errors.length < 50) errors.push(line);
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not ours
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { process: child, lines, exited, errors };
}

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs` (a hang guard, not a timing assertion). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
