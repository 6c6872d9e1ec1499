import { createHash } from 'node:crypto';

/** Writes the stable JSON of `value` (object keys sorted, undefined members left out) to `emit`. */
function writeStable(value: unknown, emit: (text: string) => void): void {
  if (value === null || typeof value !== 'object') {
    emit(JSON.stringify(value) ?? 'null');
    return;
  }
  if (Array.isArray(value)) {
    emit('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) emit(',');
      writeStable(value[i], emit);
    }
    emit(']');
    return;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  emit('{');
  entries.forEach(([key, v], i) => {
    emit(i > 0 ? `,${JSON.stringify(key)}:` : `${JSON.stringify(key)}:`);
    writeStable(v, emit);
  });
  emit('}');
}

/** JSON with object keys sorted, so equal values always give equal text. */
export function stableStringify(value: unknown): string {
  const parts: string[] = [];
  writeStable(value, (text) => parts.push(text));
  return parts.join('');
}

/**
 * `sha256:<hex>` of the stable JSON of a value. The text is hashed as it is produced, in 64 KiB
 * pieces, so a plan of a hundred thousand actions never exists as one string in memory.
 */
export function fingerprintOf(value: unknown): string {
  const hash = createHash('sha256');
  let buffer = '';
  writeStable(value, (text) => {
    buffer += text;
    if (buffer.length >= 65_536) {
      hash.update(buffer, 'utf8');
      buffer = '';
    }
  });
  hash.update(buffer, 'utf8');
  return `sha256:${hash.digest('hex')}`;
}
