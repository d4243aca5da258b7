/** Renders a rejected value for an error message; long strings are cut and secrets never pass here. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  try {
    if (Array.isArray(value)) return `an array of ${value.length}`;
    const json = JSON.stringify(value);
    return json === undefined ? 'an object' : json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    // Proxies, throwing getters and cycles: a message must never throw.
    return 'an object';
  }
}
