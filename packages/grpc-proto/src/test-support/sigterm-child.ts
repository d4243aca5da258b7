// Run as its own process by server.test.ts: a server with a call in flight when SIGTERM arrives.
import { startServer } from './servers';

const server = await startServer({
  auth: false,
  handleSignals: true,
  services: {
    tts: {
      ListVoices: async () => {
        process.stdout.write('handling\n');
        // The parent sends SIGTERM as soon as it reads "handling": the answer comes after it.
        await new Promise((resolve) => setTimeout(resolve, 500));
        process.stdout.write(`answering, serving=${server.health.getStatus('')}\n`);
        return { voices: [{ id: 'v', name: 'drained', languageCode: 'en' }] };
      },
      Synthesize: (call) => call.end(),
      ReleaseAudio: (_call, callback) => callback(null, { released: true }),
    },
  },
});
process.stdout.write(`port ${server.port}\n`);
