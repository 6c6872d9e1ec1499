import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import type { UserId } from '../index.js';
import { configFailure, usageFailure, type CliFailure } from './cli-failure.js';
import { parseUserId } from './cli-options.js';

/** The most ids one run takes (the scan's limit); split a longer list with --shard or several runs. */
export const MAX_USER_IDS = 100_000;

/** Where `--users-file -` reads from. */
export type StdinSource = AsyncIterable<string | Uint8Array>;

/**
 * The ids of `--users-file <path|->`: one per line; blank lines and `#` comments are skipped,
 * spaces around an id ignored, repeats dropped. A bad id is a usage error naming its line.
 * For lists too long for the command line (the shell's argument limit is reached near 40 000 ids).
 */
export function parseUsersFile(text: string, source: string): Result<UserId[], CliFailure> {
  const ids: UserId[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const id = parseUserId(line);
    if (id.isErr()) return err(usageFailure(`--users-file ${source} line ${i + 1}: ${id.error.message.replace(/^--user /, '')}`));
    const key = `${typeof id.value}:${String(id.value)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ids.push(id.value);
  }
  if (ids.length === 0) return err(usageFailure(`--users-file ${source} holds no user id (one per line)`));
  return ok(ids);
}

/** Reads `--users-file`: a path (relative to `cwd`) or `-` for standard input. */
export async function readUsersFile(path: string, cwd: string, stdin: StdinSource | undefined): Promise<Result<UserId[], CliFailure>> {
  let text = '';
  if (path === '-') {
    if (!stdin) return err(usageFailure('--users-file -: no standard input to read from'));
    const decoder = new TextDecoder();
    for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    text += decoder.decode();
  } else {
    try {
      text = await readFile(resolve(cwd, path), 'utf8');
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      return err(configFailure(`--users-file ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${String(code ?? cause)})`}`));
    }
  }
  return parseUsersFile(text, path === '-' ? '(standard input)' : path);
}

/** `--user` ids and the file's, merged without repeats; at most {@link MAX_USER_IDS}. */
export function mergeUserIds(fromOptions: readonly UserId[] | undefined, fromFile: readonly UserId[]): Result<UserId[], CliFailure> {
  const merged: UserId[] = [];
  const seen = new Set<string>();
  for (const id of [...(fromOptions ?? []), ...fromFile]) {
    const key = `${typeof id}:${String(id)}`;
    if (!seen.has(key)) {
      seen.add(key);
      merged.push(id);
    }
  }
  if (merged.length > MAX_USER_IDS) {
    return err(usageFailure(`--users-file: ${merged.length} user ids, at most ${MAX_USER_IDS} per run: split the list, or use --shard k/n for everyone`));
  }
  return ok(merged);
}
