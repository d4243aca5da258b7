import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=@clone/source', join(ROOT, 'examples/demo.ts'), ...args],
      { cwd: ROOT, timeout: 110_000, env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('pnpm demo --distributed', () => {
  it('completes a saga whose AI participant is killed mid-step, and compensates one across processes', async () => {
    const { code, stdout, stderr } = await runDemo(['--distributed']);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('participants announced: ');
    expect(stdout).toMatch(/saga waits on: process_pdf on ai-service/);
    const killed = /kill -9 of the ai-service participant \(pid (\d+)\)/.exec(stdout)?.[1];
    const restarted = /ai-service started again \(pid (\d+)\)/.exec(stdout)?.[1];
    expect(killed).toBeDefined();
    expect(restarted).toBeDefined();
    expect(restarted).not.toBe(killed);
    // The step is finished by the new process, and the saga completes.
    expect(stdout).toContain(`saga 1 completed: process_pdf done by ai-service pid ${restarted}`);
    // The refused audit step undoes the completed steps in reverse order, across processes.
    expect(stdout).toMatch(
      /revert_status \(sample-service[^\n]*\n[^\n]*process_pdf compensated by ai-service[^\n]*\n[^\n]*revert_validation/,
    );
    expect(stdout).toContain('saga 2 compensated: audit refuses reject.pdf');
  }, 120_000);
});
