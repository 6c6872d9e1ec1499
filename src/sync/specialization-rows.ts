import type { SyncAction } from './action.js';

/**
 * The rows of a store's specializations table, as the store read them: what the foreign keys of
 * its progress and license tables reference. A record created under a stored id with no row here
 * is refused by the database, so the plan flags that write for review (`SpecializationRowMissing`)
 * instead of planning it. Ids are compared exactly as stored: a table holding `GANCUJU_PLAYER`
 * but not `PLAYER` refuses a record created under `PLAYER`.
 */
export interface SpecializationRows {
  /** The table as messages name it, e.g. `levelsync.specializations`. */
  readonly table: string;
  /** The stored ids that have a row. */
  readonly ids: readonly string[];
  /**
   * Which tables refuse a record whose id has no row (they hold a foreign key to the table). A
   * side without one takes any id, so nothing is flagged for it.
   */
  readonly enforced: { readonly progress: boolean; readonly license: boolean };
}

/** {@link SpecializationRows} in the form the planner asks: is a creation on this side refused? */
export interface SpecializationRowCheck {
  readonly table: string;
  /** True when creating a `side` record under `storedId` would be refused (no row, foreign key present). */
  refuses(side: 'progress' | 'license', storedId: string): boolean;
}

export function specializationRowCheck(rows: SpecializationRows): SpecializationRowCheck {
  const ids = new Set(rows.ids);
  return {
    table: rows.table,
    refuses: (side, storedId) => (side === 'progress' ? rows.enforced.progress : rows.enforced.license) && !ids.has(storedId),
  };
}

/** The message of a write flagged because its specialization has no row. */
export function specializationRowMissingMessage(table: string, side: 'progress' | 'license', storedId: string): string {
  const record = side === 'progress' ? 'progress record' : 'license';
  return `No row for specialization ${storedId} in ${table}: creating the ${record} would violate its foreign key (add the row, then plan again)`;
}

/** True for a flag raised because a specialization row is missing. */
export function isSpecializationRowMissing(action: SyncAction): boolean {
  return action.kind === 'FlagForReview' && action.reasons.includes('SpecializationRowMissing');
}
