import { type ChildProcess, spawn } from 'node:child_process';

/** Cleanup that runs when this process dies, even by SIGKILL. */
export interface Watchdog {
  /** The watchdog's own pid. */
  readonly pid: number | undefined;
  /** The process the script will stop (`$pid` in it); `undefined`: none at the moment (an outage). */
  guard(pid: number | undefined): void;
  /** Ends the watchdog without running its script: the server was stopped the ordinary way. */
  disarm(): void;
}

/**
 * Starts a watchdog that runs `script` (POSIX sh; `$pid` is the last guarded pid, `$1`… are
 * `args`) once this process is gone, however it went. Node has no PR_SET_PDEATHSIG and no handler
 * of ours runs on SIGKILL, so the watchdog is a separate `sh` blocked reading a pipe whose only
 * writer is this process: when we die the kernel closes our end, `read` sees end of file and the
 * script runs. The pipe is close-on-exec, so servers we start do not hold it open. Guarding a new
 * pid writes a line to the pipe. The watchdog has a session of its own (a terminal's Ctrl-C does not
 * reach it) and holds no handle that keeps this process alive.
 */
export function startWatchdog(script: string, args: readonly string[] = []): Watchdog {
  const child: ChildProcess = spawn(
    'sh',
    ['-c', `pid=; while IFS= read -r line; do pid=$line; done; ${script}`, 'watchdog', ...args],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  // A watchdog that failed to start (no sh) or died must not crash the tests it protects.
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  child.unref();
  (child.stdin as unknown as { unref?(): void } | null)?.unref?.();
  let disarmed = false;
  return {
    pid: child.pid,
    guard(pid) {
      if (!disarmed) child.stdin?.write(`${pid ?? ''}\n`);
    },
    disarm() {
      if (disarmed) return;
      disarmed = true;
      // SIGKILL first: closing the pipe alone would be read as our death and run the script.
      child.kill('SIGKILL');
      child.stdin?.destroy();
    },
  };
}
