/**
 * Permissions are `resource:action` strings (`asr:read`); more segments are allowed
 * (`rag:index:write`). A granted permission may use `*` for a whole segment (`asr:*`,
 * `*:read`), and a granted `*` alone grants everything. Wildcards only widen what a token
 * *grants*: a required permission is matched literally, so requiring `asr:*` needs a grant of
 * `asr:*` or `*`, never merely `asr:read`.
 */

/** What {@link hasPermission} and friends read from a payload. */
export interface PermissionHolder {
  readonly permissions: readonly string[];
}

/** Whether the granted pattern covers the required permission. */
export function permissionMatches(granted: string, required: string): boolean {
  if (granted === required || granted === '*') return true;
  if (!granted.includes('*')) return false;
  const g = granted.split(':');
  const r = required.split(':');
  if (g.length !== r.length) return false;
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== '*' && g[i] !== r[i]) return false;
  }
  return true;
}

/** Whether `payload` grants `permission`, wildcards included. */
export function hasPermission(payload: PermissionHolder, permission: string): boolean {
  const granted = payload?.permissions;
  if (!Array.isArray(granted)) return false;
  // Exact grants are the common case: one pass of string compares before any splitting.
  for (let i = 0; i < granted.length; i++) if (granted[i] === permission) return true;
  for (let i = 0; i < granted.length; i++) {
    const g = granted[i]!;
    if (g.includes('*') && permissionMatches(g, permission)) return true;
  }
  return false;
}

/** Whether `payload` grants every one of `permissions` (true for an empty list). */
export function hasAllPermissions(payload: PermissionHolder, permissions: readonly string[]): boolean {
  for (const p of permissions) if (!hasPermission(payload, p)) return false;
  return true;
}

/** Whether `payload` grants at least one of `permissions` (false for an empty list). */
export function hasAnyPermission(payload: PermissionHolder, permissions: readonly string[]): boolean {
  for (const p of permissions) if (hasPermission(payload, p)) return true;
  return false;
}

/** The first of `permissions` that `payload` does not grant, or undefined. */
export function firstMissingPermission(
  payload: PermissionHolder,
  permissions: readonly string[],
): string | undefined {
  for (const p of permissions) if (!hasPermission(payload, p)) return p;
  return undefined;
}
