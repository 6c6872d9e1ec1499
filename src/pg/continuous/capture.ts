import { err, ok, ResultAsync } from 'neverthrow';
import type { StoreUnavailable } from '../../errors.js';
import { pgStoreUnavailable } from '../transient-errors.js';
import { LEVELSYNC_MAPPING, requireMapping, type PgMapping } from '../pg-mapping.js';
import { toPgConnection, type PgConnectionInput } from '../sql-client.js';
import { CHANGE_TABLE, installCaptureStatements, uninstallCaptureStatements, type CaptureDdlOptions } from './capture-ddl.js';

/**
 * Options of {@link installCapture} and {@link uninstallCapture}.
 *
 * ```ts
 * await installCapture(pool, { mapping: ORIGINAL_SYSTEM_MAPPING, dryRun: true }); // the DDL, nothing run
 * ```
 */
export interface CaptureOptions extends CaptureDdlOptions {
  /** Default {@link LEVELSYNC_MAPPING} (whose schema `migrate` already equips with capture). */
  readonly mapping?: PgMapping;
  /** Return the statements without running them. */
  readonly dryRun?: boolean;
}

/** What {@link installCapture} or {@link uninstallCapture} ran (or would run). */
export interface CaptureReport {
  readonly statements: readonly string[];
  readonly dryRun: boolean;
}

/**
 * The capture DDL for a mapping, as text a DBA can review (statements separated by `;`).
 *
 * ```ts
 * console.log(captureDdl('install', { mapping: ORIGINAL_SYSTEM_MAPPING }));
 * ```
 */
export function captureDdl(action: 'install' | 'uninstall', options: Omit<CaptureOptions, 'dryRun'> = {}): string {
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  const statements = action === 'install' ? installCaptureStatements(mapping, options) : uninstallCaptureStatements(mapping);
  return ['BEGIN;', ...statements.map((s) => `${s};`), 'COMMIT;'].join('\n\n') + '\n';
}

/**
 * Installs change capture on a mapped schema in one transaction: the change table
 * `<schema>.levelsync_changes`, statement-level capture triggers on the progress and license
 * tables, and the max-level `NOTIFY` trigger on the specializations table. Idempotent;
 * {@link uninstallCapture} removes all of it. Takes a brief `SHARE ROW EXCLUSIVE` lock on each
 * table (CREATE TRIGGER): writers wait for it, readers do not.
 *
 * ```ts
 * const report = await installCapture(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
 * ```
 */
export function installCapture(client: PgConnectionInput, options: CaptureOptions = {}): ResultAsync<CaptureReport, StoreUnavailable> {
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  return runStatements(client, installCaptureStatements(mapping, options), options.dryRun ?? false, 'install change capture');
}

/**
 * Removes what {@link installCapture} created (pending changes included), in one transaction,
 * leaving the schema as it was before.
 *
 * ```ts
 * await uninstallCapture(pool, { mapping: ORIGINAL_SYSTEM_MAPPING });
 * ```
 */
export function uninstallCapture(client: PgConnectionInput, options: CaptureOptions = {}): ResultAsync<CaptureReport, StoreUnavailable> {
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  return runStatements(client, uninstallCaptureStatements(mapping), options.dryRun ?? false, 'remove change capture');
}

/**
 * True when the mapping's schema has a change table.
 *
 * ```ts
 * const installed = await isCaptureInstalled(pool);
 * if (installed.isErr()) console.error(installed.error.message);
 * else if (!installed.value) console.log('run levelsync capture install');
 * ```
 */
export function isCaptureInstalled(client: PgConnectionInput, options: { readonly mapping?: PgMapping } = {}): ResultAsync<boolean, StoreUnavailable> {
  const connection = toPgConnection(client);
  const mapping = requireMapping(options.mapping ?? LEVELSYNC_MAPPING);
  return ResultAsync.fromPromise(
    connection.run(`SELECT to_regclass($1::text) IS NOT NULL AS present`, [`"${mapping.schema}"."${CHANGE_TABLE}"`]),
    (cause) => pgStoreUnavailable('postgres', cause, 'could not read the catalog'),
  ).map((result) => (result.rows[0] as { present: boolean }).present === true);
}

function runStatements(client: PgConnectionInput, statements: readonly string[], dryRun: boolean, what: string): ResultAsync<CaptureReport, StoreUnavailable> {
  if (dryRun) return new ResultAsync(Promise.resolve(ok({ statements, dryRun })));
  const connection = toPgConnection(client);
  return new ResultAsync(
    connection
      .transaction(async (run) => {
        for (const statement of statements) await run(statement);
      })
      .then(
        () => ok({ statements, dryRun }),
        (cause) => err(pgStoreUnavailable('postgres', cause, `could not ${what}`)),
      ),
  );
}
