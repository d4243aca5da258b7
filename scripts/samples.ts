/**
 * Turns each verbatim seed sample in docs/samples into a runnable program: imports hoisted, the
 * body wrapped in `async function main()`, the names its prelude provides destructured from
 * `setup()`, and `teardown()` awaited after. Used from sources by docs/samples.test.ts and
 * against the packed packages (ESM and CommonJS) by scripts/check-packages.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const samplesDir = join(import.meta.dirname, '..', 'docs', 'samples');

export interface Sample {
  slug: string;
  source: string;
  prelude: string | undefined;
  provides: string[];
  /** The ServiceError code the sample throws by design (`// throws: ServiceError CODE` in its prelude). */
  throws: string | undefined;
}

export function listSamples(dir = samplesDir): Sample[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sample.ts'))
    .sort()
    .map((file) => {
      const slug = file.slice(0, -'.sample.ts'.length);
      const source = readFileSync(join(dir, file), 'utf8');
      let prelude: string | undefined;
      try {
        prelude = readFileSync(join(dir, `${slug}.prelude.ts`), 'utf8');
      } catch {
        prelude = undefined;
      }
      const provides =
        /\/\/\s*provides:\s*(.*)/
          .exec(prelude ?? '')?.[1]
          ?.split(/[\s,]+/)
          .filter(Boolean) ?? [];
      const throws = /\/\/\s*throws:\s*ServiceError\s+(\w+)/.exec(prelude ?? '')?.[1];
      return { slug, source, prelude, provides, throws };
    });
}

/** Splits a sample into its import declarations and the rest. */
export function splitImports(source: string): { imports: string; body: string } {
  const importRe = /^import\s[\s\S]*?from\s+['"][^'"]+['"];?[ \t]*$/gm;
  const imports: string[] = [];
  const body = source.replace(importRe, (m) => {
    imports.push(m);
    return '';
  });
  return { imports: imports.join('\n'), body };
}

/**
 * The program text for a sample. `preludeSpecifier` is how the wrapper imports its prelude
 * (e.g. `./x.prelude.mjs` for ESM output, `./x.prelude.cjs` for CommonJS output).
 */
export function wrapSample(sample: Sample, preludeSpecifier: string): string {
  const { imports, body } = splitImports(sample.source);
  const lines = ['// Generated from docs/samples: the seed sample, verbatim, inside main().', imports];
  if (sample.prelude !== undefined) lines.push(`import setup from '${preludeSpecifier}';`);
  lines.push('async function main(): Promise<void> {');
  if (sample.prelude !== undefined) {
    lines.push('  const __ctx = await setup();');
    if (sample.provides.length > 0) lines.push(`  const { ${sample.provides.join(', ')} } = __ctx;`);
  }
  if (sample.throws === undefined) {
    lines.push('  try {', body, '  } finally {');
  } else {
    // A sample that shows how to throw must throw exactly that error, and nothing else.
    const code = JSON.stringify(sample.throws);
    lines.push(
      '  try {',
      '    let threw = false;',
      '    try {',
      body,
      '    } catch (error) {',
      `      if ((error as Error)?.name !== 'ServiceError' || (error as { code?: unknown }).code !== ${code}) throw error;`,
      "      process.stdout.write('threw as documented: ' + String((error as Error).message) + '\\n');",
      '      threw = true;',
      '    }',
      `    if (!threw) throw new Error('the sample should have thrown ServiceError ' + ${code});`,
      '  } finally {',
    );
  }
  if (sample.prelude !== undefined) {
    lines.push('    await (__ctx as { teardown?: () => Promise<void> | void }).teardown?.();');
  }
  lines.push(
    '  }',
    '}',
    '',
    'main().then(',
    "  () => process.stdout.write('\\nsample finished\\n'),",
    '  (error: unknown) => {',
    "    process.stderr.write('sample failed: ' + String((error as Error)?.stack ?? error) + '\\n');",
    '    process.exitCode = 1;',
    '  },',
    ');',
    '',
  );
  return lines.join('\n');
}
