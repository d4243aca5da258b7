import { readFileSync } from 'node:fs';

/**
 * Runs a design document's sample, kept verbatim in `test/seed/<name>.sample.txt`, with the free
 * names it uses bound to `scope`: its imports are dropped (the scope provides what they named)
 * and its body runs as an async function. `tail` is appended to the body (to return a name the
 * sample declares).
 */
export async function runSeedSample(
  name: string,
  scope: Record<string, unknown>,
  tail = '',
): Promise<unknown> {
  const text = readFileSync(new URL(`./seed/${name}.sample.txt`, import.meta.url), 'utf8');
  const body = text.replace(/^import\s[\s\S]*?from\s+['"][^'"]+['"];?[ \t]*$/gm, '');
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<unknown>;
  const run = new AsyncFunction(...Object.keys(scope), `${body}\n${tail}`);
  return run(...Object.values(scope));
}

/** Which service runs each action of the sample-processing saga (its "Saga Definition"). */
export const OWNER: Record<string, string> = {
  validate_sample: 'sample-service',
  revert_validation: 'sample-service',
  update_status: 'sample-service',
  revert_status: 'sample-service',
  process_pdf: 'ai-service',
  cleanup_processing: 'ai-service',
  create_audit_log: 'audit-service',
};
