/**
 * Chunked apply: a batch of write actions cut into chunks of whole pairs, each chunk ONE apply
 * statement; run as a single statement when one chunk needs nothing else, in one transaction
 * otherwise (several chunks, pair locks, a lock timeout).
 *
 * @module
 */
import { err, ok, type Result } from 'neverthrow';
import { z } from 'zod';
import { describeCause, validationError, type StoreError, type ValidationIssue } from '../../errors.js';
import { pgStoreUnavailable } from '../transient-errors.js';
import type { WriteAction } from '../../sync/action.js';
import type { Logger } from '../../logger.js';
import type { ApplyContext, WriteOutcome } from '../../sync/sync-store.js';
import { applyValues, checkBatch, chunkByPair } from '../apply-statement.js';
import type { CompiledMapping } from '../mapping/compile.js';
import { countValue, rowReader } from '../row-values.js';
import type { PgConnection, SqlRunner } from '../sql-client.js';
import type { MappedTableFacts } from '../table-introspection.js';
import { PAIR_LOCK_STATEMENT, pairLocksFor } from './pair-locks.js';

const readApplied = rowReader({ idx: countValue, done: z.boolean({ error: 'must be a boolean' }) }, 'apply result row', {});

/** What chunked apply needs from its store. */
export interface ApplyBatchContext {
  readonly connection: PgConnection;
  readonly name: string;
  readonly logger: Logger;
  readonly mapping: CompiledMapping;
  readonly chunkSize: number;
  readonly storeAliases: ReadonlyMap<string, string>;
  readonly loadFacts: () => Promise<MappedTableFacts>;
}

/** The store's `applyBatch`: validates, converts user ids to the column's form, applies in chunks. */
export function createBatchApplier(store: ApplyBatchContext): (actions: readonly WriteAction[], context: ApplyContext) => Promise<Result<readonly WriteOutcome[], StoreError>> {
  const { connection, name, logger, mapping } = store;
  const { columnUserId, applyStatement } = mapping;

  return async function applyAll(rawActions, rawContext) {
    if (rawActions.length === 0) return ok([]);
    // User ids in the column's form (a decimal string for an integer column, converted exactly).
    const issues: ValidationIssue[] = [];
    const actions = rawActions.map((action, i) => {
      const c = columnUserId(action.userId, `actions[${i}].userId`);
      if (!c.ok) issues.push(c.issue);
      return c.ok && c.value !== action.userId ? { ...action, userId: c.value } : action;
    });
    let actor = rawContext.actor;
    if (actor !== null) {
      const c = columnUserId(actor, 'context.actor');
      if (c.ok) actor = c.value;
      else issues.push(c.issue);
    }
    if (issues.length > 0) return err(validationError('write batch', issues));
    const context = {
      actor,
      now: rawContext.now,
      aliases: rawContext.aliases ?? store.storeAliases,
      ...(rawContext.lockTimeoutMs !== undefined ? { lockTimeoutMs: rawContext.lockTimeoutMs } : {}),
    };
    const invalid = checkBatch(actions, context, mapping.userIdType);
    if (invalid) return err(invalid);
    const outcomes: WriteOutcome[] = actions.map(() => 'Stale');
    const chunks = chunkByPair(actions, store.chunkSize);
    const started = Date.now();
    const runChunk = async (run: SqlRunner, chunk: (typeof chunks)[number], pairLocks: readonly string[]) => {
      if (pairLocks.length > 0) await run(PAIR_LOCK_STATEMENT, [pairLocks]);
      const result = await run(applyStatement, applyValues(chunk.actions, context, mapping));
      for (const raw of result.rows) {
        const row = readApplied(raw);
        if (row.isErr()) throw new Error(row.error.message);
        const index = chunk.indexes[row.value.idx];
        if (index !== undefined) outcomes[index] = row.value.done ? 'AlreadyApplied' : 'Applied';
      }
    };
    let statements = 0;
    try {
      // Pair locks only where another session could create the same record.
      const facts = connection.concurrentSessions ? await store.loadFacts() : undefined;
      const locks = chunks.map((chunk) => (facts ? pairLocksFor(chunk.actions, facts, mapping.lockNamespace) : []));
      statements = chunks.length + locks.filter((l) => l.length > 0).length;
      // A lock timeout needs a transaction of ours (SET LOCAL): never on a caller's session,
      // where it would outlive the batch; nor where no other session can hold a lock (PGlite).
      const lockTimeout =
        context.lockTimeoutMs !== undefined && context.lockTimeoutMs > 0 && connection.ownTransactions && connection.concurrentSessions
          ? context.lockTimeoutMs
          : undefined;
      if (chunks.length === 1 && locks[0]!.length === 0 && lockTimeout === undefined) await runChunk(connection.run, chunks[0]!, []);
      else {
        await connection.transaction(async (run) => {
          if (lockTimeout !== undefined) await run(`SELECT set_config('lock_timeout', $1::text, true)`, [`${lockTimeout}ms`]);
          for (let i = 0; i < chunks.length; i++) await runChunk(run, chunks[i]!, locks[i]!);
        });
      }
    } catch (cause) {
      logger.warn({ store: name, actions: actions.length }, `batch rolled back: ${describeCause(cause)}`);
      return err(pgStoreUnavailable(name, cause, 'rolled back a batch'));
    }
    const applied = outcomes.filter((o) => o === 'Applied').length;
    logger.debug({ store: name, actions: actions.length, applied, stale: actions.length - applied, statements, ms: Date.now() - started }, 'batch applied');
    return ok(outcomes);
  };
}
