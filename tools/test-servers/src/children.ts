import type { ChildProcess } from 'node:child_process';

// Server processes started by this test process; killed if it exits without stopping them,
// so a crashed test run leaves no etcd or postgres behind.
const live = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let hooked = false;

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  hook();
}

/** Registers a synchronous cleanup that runs at process exit (e.g. `pg_ctl stop`). */
export function atExit(fn: () => void): () => void {
  cleanups.add(fn);
  hook();
  return () => cleanups.delete(fn);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const fn of cleanups) {
      try {
        fn();
      } catch {
        // best effort at exit
      }
    }
  });
}
