/**
 * Text tables for terminals and plan reviews: the one formatter of the library and the command.
 *
 * @module
 */

/** Left-aligned columns, two spaces apart; columns listed in `right` are right-aligned. */
export function formatTable(rows: readonly (readonly string[])[], options: { readonly right?: readonly number[]; readonly indent?: string } = {}): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const right = new Set(options.right ?? []);
  return rows.map(
    (row) =>
      (options.indent ?? '') +
      row
        .map((cell, i) => (right.has(i) ? cell.padStart(widths[i] ?? 0) : i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
  );
}
