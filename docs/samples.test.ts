import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type RabbitMQServer, startRabbitMQ } from '@clone/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listSamples, samplesDir, wrapSample } from '../scripts/samples';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..');
const outDir = join(samplesDir, '.generated');
const samples = listSamples();
const env = { ...process.env, JWT_SECRET: 'docs-sample-secret-0123456789-abcdefghijklmnop' };

/** Runs a wrapped sample in its own process; it must exit 0 by itself and say it finished. */
async function runSample(slug: string, variables: NodeJS.ProcessEnv = {}): Promise<void> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--conditions=@clone/source', join(outDir, `${slug}.run.ts`)],
    { cwd: root, env: { ...env, ...variables }, timeout: 90_000 },
  );
  expect(stdout).toContain('sample finished');
}

/**
 * The design documents' samples, from sources: strict tsc over the wrapped programs, then each
 * program runs in its own process and must exit 0 by itself (a handle left open fails it).
 * scripts/check-packages.ts does the same against the packed packages as ESM and CommonJS.
 */
describe('seed samples (from sources)', () => {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const sample of samples) {
    writeFileSync(join(outDir, `${sample.slug}.run.ts`), wrapSample(sample, `../${sample.slug}.prelude.ts`));
  }
  writeFileSync(
    join(outDir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.base.json',
      // The design documents' samples read `error.message` in a catch, as TypeScript allowed
      // before 4.4: everything else stays strict.
      compilerOptions: { noEmit: true, allowImportingTsExtensions: true, useUnknownInCatchVariables: false },
      include: ['*.ts', '../*.prelude.ts'],
    }),
  );

  it('type-check under strict tsc', async () => {
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    const result = await run(tsc, ['-p', join(outDir, 'tsconfig.json')], { cwd: root }).catch((e) => e);
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('');
  });

  for (const sample of samples) {
    it(`${sample.slug} runs and exits by itself`, () => runSample(sample.slug));
  }
});

/**
 * The event samples again with RABBITMQ_URL set, as a deployed service runs them: the same code
 * on a private broker (in memory above). Runs after the programs above were written.
 */
describe('event samples on a real broker (from sources)', () => {
  let broker: RabbitMQServer;
  beforeAll(async () => {
    broker = await startRabbitMQ();
  }, 180_000);
  afterAll(() => broker?.stop());

  for (const sample of samples.filter((s) => s.slug.startsWith('events-'))) {
    it(`${sample.slug} runs on RabbitMQ and exits by itself`, () =>
      runSample(sample.slug, { RABBITMQ_URL: broker.url }));
  }
});
