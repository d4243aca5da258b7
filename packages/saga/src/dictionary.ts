/**
 * An empty object whose keys are data only: no inherited `__proto__` setter and no
 * `constructor` or `prototype` to shadow. Step ids and names are user data, so every object
 * keyed by them is one of these (or a Map), and `__proto__` is a key like any other.
 */
export function dictionary<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
