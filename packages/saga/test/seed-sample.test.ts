import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it, vi } from 'vitest';

const samples = fileURLToPath(new URL('../../../docs/samples/', import.meta.url));
// Under the package's git-ignored .tmp/, at the same depth as test/, so relative imports hold.
const generated = fileURLToPath(new URL('../.tmp/seed-sample.generated.ts', import.meta.url));

afterEach(() => {
  rmSync(generated, { force: true });
  vi.restoreAllMocks();
});

/**
 * Runs seed 000's "Using Saga Pattern" block exactly as written, the way the docs sample runner
 * does: imports hoisted, the body wrapped in a function, the prelude's names destructured.
 */
it("runs the seed's conversation saga as written", async () => {
  const sample = readFileSync(`${samples}using-saga-pattern.sample.ts`, 'utf8');
  const prelude = readFileSync(`${samples}using-saga-pattern.prelude.ts`, 'utf8');
  const provides = /\/\/ provides: (.+)/
    .exec(prelude)![1]!
    .split(',')
    .map((n) => n.trim());
  const lines = sample.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import ')).join('\n');
  mkdirSync(fileURLToPath(new URL('../.tmp/', import.meta.url)), { recursive: true });
  writeFileSync(
    generated,
    `${imports.join('\n')}
import setup from '../../../docs/samples/using-saga-pattern.prelude';
export default async function main() {
  const { ${provides.join(', ')}, teardown } = await setup();
${body}
  await teardown();
  return result;
}
`,
  );
  const logged: unknown[][] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(args));
  const { default: main } = (await import(/* @vite-ignore */ generated)) as { default: () => Promise<any> };
  const result = await main();
  expect(result.success).toBe(true);
  expect(result.completedSteps).toEqual([
    'transcribe-audio',
    'retrieve-context',
    'generate-response',
    'synthesize-speech',
  ]);
  expect(result.context.llmResponse).toMatch(
    /^reply to "transcript of session-456" using context for user-123/,
  );
  expect(Buffer.isBuffer(result.context.audioData)).toBe(true);
  expect(logged[0]).toEqual(['Conversation processed successfully']);
});
