/**
 * Checks the packages as users get them: publint and `attw --pack` (types resolve for `import`
 * and `require` under node16 and bundler), then the packed tarballs installed into a fresh
 * project where every seed sample is compiled by strict tsc as ESM (.mts) and CommonJS (.cts)
 * and run by node. Run after `pnpm build`. Prints `N passed, N failed` and writes it to
 * `.check-packages.json` for .ci/run.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listSamples, samplesDir, wrapSample } from './samples';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
// Private packages (`@clone/internal`) are never published: each package's build inlines them,
// and the packed-package run below proves the published ones work without them.
const packages = readdirSync(join(root, 'packages'))
  .filter((pkg) => !JSON.parse(readFileSync(join(root, 'packages', pkg, 'package.json'), 'utf8')).private)
  .sort();
let passed = 0;
let failed = 0;

async function check(name: string, fn: () => Promise<unknown>): Promise<boolean> {
  const started = Date.now();
  try {
    await fn();
    passed++;
    process.stdout.write(`  ✓ ${name} (${Date.now() - started} ms)\n`);
    return true;
  } catch (error) {
    failed++;
    const e = error as { stdout?: string; stderr?: string; message?: string };
    process.stdout.write(
      `  ✗ ${name}\n${[e.message, e.stdout, e.stderr].filter(Boolean).join('\n').slice(0, 6000)}\n`,
    );
    return false;
  }
}

const work = mkdtempSync(join(tmpdir(), 'clone-pack-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);

process.stdout.write('packaging\n');
for (const pkg of packages) {
  const dir = join(root, 'packages', pkg);
  await check(`${pkg}: publint`, async () => {
    const { stdout } = await exec(bin('publint'), ['--strict'], { cwd: dir });
    if (/warning|error|suggestion/i.test(stdout) && !/All good/i.test(stdout)) throw new Error(stdout);
  });
  await check(`${pkg}: attw --pack (node16, bundler)`, () =>
    exec(bin('attw'), ['--pack', '.', '--profile', 'node16', '--format', 'table-flipped'], { cwd: dir }),
  );
  await check(`${pkg}: built files inline @clone/internal`, async () => {
    const dist = join(dir, 'dist');
    // Source maps carry the original sources, imports included; only code and types ship imports.
    const leaks = readdirSync(dist)
      .filter((file) => !file.endsWith('.map'))
      .filter((file) => /["']@clone\/internal["']/.test(readFileSync(join(dist, file), 'utf8')));
    if (leaks.length > 0)
      throw new Error(`dist files import the private @clone/internal: ${leaks.join(', ')}`);
  });
  await check(`${pkg}: pnpm pack`, () =>
    exec('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir }),
  );
}

process.stdout.write('seed samples against the packed packages\n');
const consumer = join(work, 'consumer');
mkdirSync(consumer);
writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2));
const installed = await check('npm install of the packed packages', () =>
  exec(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...readdirSync(tarballs).map((t) => join(tarballs, t)),
      'typescript@~5.9',
      '@types/node@^20',
    ],
    { cwd: consumer, timeout: 300_000 },
  ),
);

if (installed) {
  const samples = listSamples();
  for (const sample of samples) {
    for (const ext of ['mts', 'cts'] as const) {
      const out = ext === 'mts' ? 'mjs' : 'cjs';
      writeFileSync(
        join(consumer, `${sample.slug}.${ext}`),
        wrapSample(sample, `./${sample.slug}.prelude.${out}`),
      );
      if (sample.prelude !== undefined) {
        copyFileSync(
          join(samplesDir, `${sample.slug}.prelude.ts`),
          join(consumer, `${sample.slug}.prelude.${ext}`),
        );
      }
    }
  }
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        // The design documents' samples read `error.message` in a catch, as TypeScript allowed
        // before 4.4: everything else stays strict.
        useUnknownInCatchVariables: false,
        noUncheckedIndexedAccess: true,
        esModuleInterop: true,
        skipLibCheck: true,
        types: ['node'],
        outDir: 'out',
      },
      include: ['*.mts', '*.cts'],
    }),
  );
  const compiled = await check('strict tsc of every sample as ESM and CommonJS', () =>
    exec(join(consumer, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: consumer }),
  );
  if (compiled) {
    const env = { ...process.env, JWT_SECRET: 'docs-sample-secret-0123456789-abcdefghijklmnop' };
    for (const sample of samples) {
      for (const out of ['mjs', 'cjs']) {
        await check(`${sample.slug}.${out} runs and exits by itself`, async () => {
          const { stdout } = await exec(process.execPath, [join('out', `${sample.slug}.${out}`)], {
            cwd: consumer,
            env,
            timeout: 90_000,
          });
          if (!stdout.includes('sample finished')) throw new Error(`no completion line:\n${stdout}`);
        });
      }
    }
  }
}

rmSync(work, { recursive: true, force: true });
writeFileSync(join(root, '.check-packages.json'), JSON.stringify({ passed, failed }));
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;
