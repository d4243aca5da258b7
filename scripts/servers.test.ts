import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * `scripts/servers.sh` runs first in `pnpm test`: its exit status decides whether a fresh
 * machine's first run passes. apt-get is replaced by a script that records its arguments (the
 * real one would install packages); everything else is the real script under bash.
 */
const script = join(import.meta.dirname, 'servers.sh');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(policyExists: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'servers-sh-'));
  dirs.push(dir);
  const log = join(dir, 'apt.log');
  writeFileSync(join(dir, 'apt-get'), `#!/bin/sh\necho "$@" >> '${log}'\nexit 0\n`);
  chmodSync(join(dir, 'apt-get'), 0o755);
  const policy = join(dir, 'policy-rc.d');
  if (policyExists) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const result = spawnSync('bash', [script, 'clone-no-such-package'], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, SERVERS_POLICY_RC_D: policy },
    encoding: 'utf8',
  });
  return { result, policy, log };
}

describe.skipIf(process.getuid?.() !== 0)('scripts/servers.sh', () => {
  it('exits 0 after installing when a policy-rc.d already existed, and leaves it in place', () => {
    const { result, policy, log } = run(true);
    expect(result.stderr).toContain('installed clone-no-such-package');
    expect(result.status).toBe(0);
    expect(existsSync(policy)).toBe(true);
    expect(existsSync(log)).toBe(true);
  });

  it('exits 0 after installing when it had to create policy-rc.d, and removes it again', () => {
    const { result, policy } = run(false);
    expect(result.status).toBe(0);
    expect(existsSync(policy)).toBe(false);
  });

  it('installs redis-server when no redis-server is on the PATH, and leaves the service down', () => {
    const dir = mkdtempSync(join(tmpdir(), 'servers-sh-'));
    dirs.push(dir);
    const log = join(dir, 'apt.log');
    writeFileSync(join(dir, 'apt-get'), `#!/bin/sh\necho "$@" >> '${log}'\nexit 0\n`);
    chmodSync(join(dir, 'apt-get'), 0o755);
    // Only what the script itself runs: the real redis-server stays out of sight.
    for (const tool of ['id', 'tee', 'chmod', 'rm', 'sh']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      symlinkSync(found, join(dir, tool));
    }
    const policy = join(dir, 'policy-rc.d');
    const bash = spawnSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
    const result = spawnSync(bash, [script, 'redis-server'], {
      env: { ...process.env, PATH: dir, SERVERS_POLICY_RC_D: policy },
      encoding: 'utf8',
    });
    expect(result.stderr).toContain('installed redis-server');
    expect(result.status).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('redis-server');
    // policy-rc.d existed during the install (it kept the service from starting) and is gone after.
    expect(existsSync(policy)).toBe(false);
  });
});
