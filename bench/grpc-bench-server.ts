/**
 * The callee of `pnpm bench:grpc`'s child-process section, run by the bench in a child process
 * (`node --import tsx`), so the server's work is not charged to the client being measured and
 * does not share its event loop. It is createServiceServer as a service would run it (token
 * verified with its audience, permission checked, correlation context, error mapping) with no
 * telemetry of its own: it is the same server for every client row, and the only thing a row's
 * client changes in what it receives is the bytes of its metadata.
 *
 * Protocol over the IPC channel: it sends `{ port }` once listening; on `'cpu'` it answers
 * `{ cpu }` (its `process.cpuUsage()`), so the bench can tell the server's CPU per call; on
 * `'close'` or when the parent goes away it shuts down and exits.
 */
import { createServiceServer } from '@clone/grpc-proto';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const answer = {
  transcript: 'hello there',
  confidence: 0.97,
  languageCode: 'en-US',
  words: [],
  audioDurationMs: 2,
};

const server = createServiceServer({
  serviceName: 'asr',
  auth: { jwtSecret: SECRET },
  services: {
    asr: { Transcribe: (_call, callback) => callback(null, answer), StreamTranscribe: (c) => c.end() },
  },
  requirePermissions: { asr: ['asr:read'] },
  handleSignals: false,
});
const port = await server.listen(0, '127.0.0.1');

let stopped = false;
const stop = async (): Promise<void> => {
  if (stopped) return;
  stopped = true;
  server.server.forceShutdown();
  await server.shutdown();
  // Closing the IPC channel leaves the process no handle, so it exits.
  if (process.connected) process.disconnect();
};
process.on('message', (message) => {
  if (message === 'cpu') process.send!({ cpu: process.cpuUsage() });
  else if (message === 'close') void stop();
});
process.on('disconnect', () => void stop());
process.send!({ port });
