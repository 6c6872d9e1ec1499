import type { Result } from 'neverthrow';
import type { StoreError } from '../errors.js';
import type { WriteAction } from './action.js';
import { comparePairKeys } from './pair-key.js';
import type { WriteOutcome } from './sync-store.js';

/** Why the database refused one action: its SQLSTATE and constraint when the driver says. */
export interface ActionRefusal {
  /** E.g. `23503` (foreign key violation), `23514` (check violation). */
  readonly sqlState?: string;
  /** The constraint that refused it, e.g. `licenses_specialization_id_fkey`. */
  readonly constraint?: string;
  readonly message: string;
}

/**
 * True when a rolled-back batch was refused because of what some of its actions write (SQLSTATE
 * class 22 data exception or 23 integrity constraint violation): bisecting finds them. Other
 * failures (a lost connection, missing tables, a timeout) would fail every half the same way.
 */
export function isRefusal(error: StoreError): boolean {
  if (error._tag !== 'StoreUnavailable' || error.transient) return false;
  const code = sqlStateOf(error.cause);
  return code !== undefined && /^2[23]/.test(code);
}

export function refusalOf(error: StoreError): ActionRefusal {
  const cause = error._tag === 'StoreUnavailable' ? error.cause : undefined;
  const sqlState = sqlStateOf(cause);
  const constraint = field(cause, 'constraint');
  return { ...(sqlState ? { sqlState } : {}), ...(constraint ? { constraint } : {}), message: error.message };
}

function field(cause: unknown, name: string, depth = 0): string | undefined {
  if (depth > 4 || typeof cause !== 'object' || cause === null) return undefined;
  const value = (cause as Record<string, unknown>)[name];
  if (typeof value === 'string' && value !== '') return value;
  return field((cause as { cause?: unknown }).cause, name, depth + 1);
}

function sqlStateOf(cause: unknown): string | undefined {
  const code = field(cause, 'code');
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** What isolating a refused batch found: every action's outcome, or its refusal. */
export interface Isolation {
  readonly outcomes: ReadonlyMap<number, WriteOutcome>;
  readonly refused: ReadonlyMap<number, ActionRefusal>;
  /** Store calls made. */
  readonly calls: number;
}

/**
 * Splits a batch the database refused into halves (never splitting one pair's actions), again
 * and again, until the refusing pairs are alone: the other actions are applied (each half is
 * its own transaction, compare-and-set as always) and the refusing ones named. One refusing
 * pair among n costs about 2·log2(n) extra store calls.
 */
export async function isolateRefusals(
  indexes: readonly number[],
  actionAt: (index: number) => WriteAction,
  apply: (actions: readonly WriteAction[]) => Promise<Result<readonly WriteOutcome[], StoreError>>,
  firstError: StoreError,
): Promise<Isolation> {
  const outcomes = new Map<number, WriteOutcome>();
  const refused = new Map<number, ActionRefusal>();
  let calls = 0;
  // Groups of indexes that share a pair (adjacent in plan order).
  const groups: number[][] = [];
  for (const index of indexes) {
    const last = groups[groups.length - 1];
    if (last && comparePairKeys(actionAt(last[0]!), actionAt(index)) === 0) last.push(index);
    else groups.push([index]);
  }
  const visit = async (part: readonly number[][], error: StoreError): Promise<void> => {
    if (part.length === 1) {
      for (const index of part[0]!) refused.set(index, refusalOf(error));
      return;
    }
    const middle = Math.ceil(part.length / 2);
    for (const half of [part.slice(0, middle), part.slice(middle)]) {
      const flat = half.flat();
      calls++;
      const result = await apply(flat.map(actionAt));
      if (result.isOk() && result.value.length === flat.length) result.value.forEach((outcome, k) => outcomes.set(flat[k]!, outcome));
      else if (result.isErr() && isRefusal(result.error)) await visit(half, result.error);
      else {
        const error = result.isErr() ? result.error : firstError;
        for (const index of flat) refused.set(index, refusalOf(error));
      }
    }
  };
  await visit(groups, firstError);
  return { outcomes, refused, calls };
}
