import { createHash } from 'node:crypto';

/** Where stable JSON text goes: appended to `text`, handed to `flush` in pieces when given. */
interface Sink {
  text: string;
  readonly flush?: (text: string) => void;
}

const FLUSH_AT = 65_536;
const quotedKeys = new Map<string, string>();

/** `"key":`, remembered: plans repeat a few dozen keys hundreds of thousands of times. */
function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < 1_000) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * Writes the stable JSON of `value` (object keys sorted by UTF-16 code units, undefined members
 * left out, as JSON.stringify would write everything else) to `sink`.
 */
function writeStable(value: unknown, sink: Sink): void {
  switch (typeof value) {
    case 'string':
      sink.text += JSON.stringify(value);
      break;
    case 'number':
      sink.text += Number.isFinite(value) ? String(value) : 'null';
      break;
    case 'boolean':
      sink.text += value ? 'true' : 'false';
      break;
    case 'object': {
      if (value === null) {
        sink.text += 'null';
        break;
      }
      if (Array.isArray(value)) {
        sink.text += '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) sink.text += ',';
          writeStable(value[i], sink);
        }
        sink.text += ']';
        break;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length > 1) keys.sort();
      sink.text += '{';
      let first = true;
      for (const key of keys) {
        const member = record[key];
        if (member === undefined) continue;
        sink.text += first ? quotedKey(key) : `,${quotedKey(key)}`;
        first = false;
        writeStable(member, sink);
      }
      sink.text += '}';
      break;
    }
    default:
      // undefined (in an array), functions, symbols: what JSON.stringify writes there; bigint throws as there.
      sink.text += JSON.stringify(value) ?? 'null';
  }
  if (sink.flush && sink.text.length >= FLUSH_AT) {
    sink.flush(sink.text);
    sink.text = '';
  }
}

/** JSON with object keys sorted, so equal values always give equal text. */
export function stableStringify(value: unknown): string {
  const sink: Sink = { text: '' };
  writeStable(value, sink);
  return sink.text;
}

/**
 * `sha256:<hex>` of the stable JSON of a value. The text is hashed as it is produced, in 64 KiB
 * pieces, so a plan of a hundred thousand actions never exists as one string in memory.
 */
export function fingerprintOf(value: unknown): string {
  const hash = createHash('sha256');
  const sink: Sink = { text: '', flush: (text) => hash.update(text, 'utf8') };
  writeStable(value, sink);
  hash.update(sink.text, 'utf8');
  return `sha256:${hash.digest('hex')}`;
}

/**
 * An incremental `sha256:` fingerprint over a sequence of stable-JSON lines (each followed by
 * `\n`): a streamed plan is hashed line by line as it is written or read, so a plan of millions
 * of actions never exists as one string. `line(value)` returns the stable text it hashed, so a
 * writer can emit exactly what was fingerprinted.
 */
export interface LineHasher {
  line(value: unknown): string;
  /** Hashes text that is already stable JSON (a line without its `\n`). */
  text(line: string): void;
  digest(): string;
}

export function createLineHasher(): LineHasher {
  const hash = createHash('sha256');
  let pending = '';
  const add = (line: string) => {
    pending += line;
    pending += '\n';
    if (pending.length >= FLUSH_AT) {
      hash.update(pending, 'utf8');
      pending = '';
    }
  };
  return {
    line(value) {
      const text = stableStringify(value);
      add(text);
      return text;
    },
    text(line) {
      add(line);
    },
    digest() {
      hash.update(pending, 'utf8');
      pending = '';
      return `sha256:${hash.digest('hex')}`;
    },
  };
}
