/**
 * Appends every element of `source` to `target` one by one: `target.push(...source)` passes each element
 * as an argument, and a source of a few hundred thousand elements (200 000 rules under one prefix)
 * overflows the stack (RangeError) instead of appending.
 */
export function appendAll<T>(target: T[], source: readonly T[]): void {
  for (let index = 0; index < source.length; index++) target.push(source[index]!);
}
