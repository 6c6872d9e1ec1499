/** A count of zero for each of `keys`: the start of a tally by kind, status or story. */
export function emptyCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}
