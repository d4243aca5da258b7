import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasAllPermissions, hasAnyPermission, hasPermission, permissionMatches } from './permissions';

const holder = (...permissions: string[]) => ({ permissions });

describe('permissions', () => {
  it('matches exact grants', () => {
    expect(hasPermission(holder('asr:read', 'llm:read'), 'asr:read')).toBe(true);
    expect(hasPermission(holder('asr:read'), 'asr:write')).toBe(false);
    expect(hasPermission(holder(), 'asr:read')).toBe(false);
  });

  it('grants nothing to a holder without a permissions array', () => {
    expect(hasPermission({} as never, 'asr:read')).toBe(false);
    expect(hasPermission(null as never, 'asr:read')).toBe(false);
    expect(hasAllPermissions({ permissions: 'asr:read' } as never, ['asr:read'])).toBe(false);
  });

  it('treats a granted resource wildcard as every action of that resource', () => {
    const p = holder('asr:*');
    expect(hasPermission(p, 'asr:read')).toBe(true);
    expect(hasPermission(p, 'asr:write')).toBe(true);
    expect(hasPermission(p, 'llm:read')).toBe(false);
    expect(hasPermission(p, 'asr')).toBe(false);
    expect(hasPermission(p, 'asr:doc:read')).toBe(false);
  });

  it('treats a granted action wildcard as that action on every resource', () => {
    const p = holder('*:read');
    expect(hasPermission(p, 'asr:read')).toBe(true);
    expect(hasPermission(p, 'tts:read')).toBe(true);
    expect(hasPermission(p, 'tts:write')).toBe(false);
  });

  it('treats a granted * as everything', () => {
    expect(hasPermission(holder('*'), 'asr:read')).toBe(true);
    expect(hasPermission(holder('*'), 'rag:index:write')).toBe(true);
  });

  it('matches a required pattern literally: asr:read does not grant asr:*', () => {
    expect(hasPermission(holder('asr:read', 'asr:write'), 'asr:*')).toBe(false);
    expect(hasPermission(holder('asr:*'), 'asr:*')).toBe(true);
    expect(hasPermission(holder('*:*'), 'asr:*')).toBe(true);
    expect(hasPermission(holder('*'), '*')).toBe(true);
  });

  it('does not treat * inside a segment as a glob', () => {
    expect(permissionMatches('as*:read', 'asr:read')).toBe(false);
    expect(permissionMatches('asr:re*', 'asr:read')).toBe(false);
  });

  it('checks all and any', () => {
    const p = holder('asr:read', 'rag:*');
    expect(hasAllPermissions(p, ['asr:read', 'rag:write'])).toBe(true);
    expect(hasAllPermissions(p, ['asr:read', 'llm:read'])).toBe(false);
    expect(hasAllPermissions(p, [])).toBe(true);
    expect(hasAnyPermission(p, ['llm:read', 'rag:read'])).toBe(true);
    expect(hasAnyPermission(p, ['llm:read', 'tts:read'])).toBe(false);
    expect(hasAnyPermission(p, [])).toBe(false);
  });

  it('never grants a permission absent from a wildcard-free list', () => {
    const segment = fc.stringMatching(/^[a-z]{1,6}$/);
    const perm = fc.tuple(segment, segment).map(([a, b]) => `${a}:${b}`);
    fc.assert(
      fc.property(fc.array(perm), perm, (granted, required) => {
        expect(hasPermission(holder(...granted), required)).toBe(granted.includes(required));
      }),
    );
  });
});
