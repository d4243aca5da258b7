// Run as its own process by watchdog.test.ts: starts a server, prints its pid and data directory
// as JSON, then waits to be killed. `etcd-restarted` kills etcd and starts it again first (an
// outage), so the pid printed is the second process's.
import { startEtcd, startPostgres } from '../index';

const kind = process.argv[2];
let server: { pid: number | undefined; dataDir: string };
if (kind === 'postgres') {
  server = await startPostgres();
} else {
  const etcd = await startEtcd();
  if (kind === 'etcd-restarted') {
    await etcd.kill();
    await etcd.start();
  }
  server = etcd;
}
process.stdout.write(`${JSON.stringify({ pid: server.pid, dataDir: server.dataDir })}\n`);
setInterval(() => {}, 60_000);
