import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./consumer-child.ts', import.meta.url));

/** A consumer process (test/consumer-child.ts) and the JSON lines it printed so far. */
export interface ConsumerChild {
  readonly process: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<void>;
}

/** Starts test/consumer-child.ts from sources with `env`. */
export function startConsumerChild(env: Record<string, string>): ConsumerChild {
  const child = spawn(process.execPath, ['--conditions=@clone/source', '--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
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
  return { process: child, lines, exited };
}
