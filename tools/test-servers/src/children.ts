import type { ChildProcess } from 'node:child_process';

// Server processes started by this test process; killed if it exits without stopping them,
// so a crashed test run leaves no etcd or postgres behind. This covers exit and signals we can
// handle; SIGKILL runs no handler of ours, which is what each server's watchdog is for.
const live = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let hooked = false;

/** Kills `child` (SIGKILL) if this process exits or is ended by a signal while it runs. */
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

function cleanupAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // best effort at exit
    }
  }
  cleanups.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', cleanupAll);
  // 'exit' does not run when a signal ends the process (Ctrl-C, a runner's SIGTERM): clean up,
  // then let the signal do what it would have done had we not listened.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupAll();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
