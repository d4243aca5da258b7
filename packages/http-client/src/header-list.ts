/**
 * Headers as undici takes them fastest: a flat `[name, value, name, value, …]` list with
 * lower-case names. Copying such a list costs far less than spreading an object whose keys are
 * header names (which V8 clones on a slow path), and a request has few headers to scan.
 */
/** Where header `name` (lower case) sits in a flat list, or -1. */
export function headerIndex(list: readonly string[], name: string): number {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return i;
  return -1;
}

/** Sets header `name` (lower case) in a flat list, replacing its value if it is there. */
export function setHeader(list: string[], name: string, value: string): void {
  const at = headerIndex(list, name);
  if (at < 0) list.push(name, value);
  else list[at + 1] = value;
}
