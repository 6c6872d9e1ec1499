import { err, ok, type Result } from 'neverthrow';
import { DEFAULT_CATALOG, createMaxLevelResolver, describeCause } from '../index.js';
import {
  cleanupDuplicates,
  createLevelsyncMapping,
  createPgMapping,
  createPgMaxLevelRepository,
  createPgSyncStore,
  migrate,
  ORIGINAL_SYSTEM_MAPPING,
  upsertSpecializations,
  type PgMapping,
} from '../pg/index.js';
import type { CliBackend, MigrateSummary } from './cli-backend.js';
import { configFailure, usageFailure, type CliFailure } from './cli-failure.js';
import type { CliEnvironment, CliOutput } from './cli-io.js';
import type { CommandArgs } from './cli-options.js';
import { resolveTarget } from './connection-target.js';
import { openDatabase } from './open-database.js';
import { toColumnUserId } from '../pg/sql-params.js';

/** The mapping the arguments name: levelsync's own schema or the original system's tables, in `--schema`. */
export function mappingFor(args: Pick<CommandArgs, 'mapping' | 'schema'>): Result<PgMapping, CliFailure> {
  const mapping =
    args.mapping === 'original'
      ? createPgMapping(args.schema !== undefined ? { schema: args.schema } : {}, ORIGINAL_SYSTEM_MAPPING)
      : createLevelsyncMapping(args.schema !== undefined ? { schema: args.schema } : {});
  return mapping.mapErr((error) => usageFailure(error.message));
}

/**
 * Opens the backend of a data command on PostgreSQL (`pg`) or the embedded PGlite database,
 * through `levelsync/pg`: the sync store and a resolver asking the database first, then the
 * default catalog's fallback constants.
 */
export async function openPgBackend(
  args: CommandArgs,
  out: CliOutput,
  options: { readonly create: boolean },
  environment: CliEnvironment,
): Promise<Result<CliBackend, CliFailure>> {
  const target = resolveTarget(args, environment.env, environment.cwd);
  if (target.isErr()) return err(target.error);
  const mapping = mappingFor(args);
  if (mapping.isErr()) return err(mapping.error);
  // The store's rule (`userIdForKind`): decimal strings convert exactly to integer ids (ids beyond
  // 2^53 stay decimal strings); anything else that does not fit the column is a usage error here.
  for (const id of args.userIds ?? []) {
    const fits = toColumnUserId(typeof id === 'number' && !numericMapping(mapping.value.userIdType) ? String(id) : id, mapping.value.userIdType);
    if (!fits.ok) return err(usageFailure(`--user ${JSON.stringify(String(id))}: ${fits.message} (user ids are ${mapping.value.userIdType} in this mapping)`));
  }
  const opened = await openDatabase(target.value, out, { ...options, ...(args.lockTimeoutMs !== undefined ? { lockTimeoutMs: args.lockTimeoutMs } : {}) });
  if (opened.isErr()) return err(opened.error);
  const db = opened.value;
  const connection = db.connection;
  const where = db.kind === 'server' ? db.target.display : `the embedded database in ${db.target.display}`;
  const repository = createPgMaxLevelRepository(connection, { mapping: mapping.value });
  const backend: CliBackend = {
    target: where,
    mapping: args.mapping,
    store: createPgSyncStore(connection, { mapping: mapping.value, catalog: DEFAULT_CATALOG }),
    pg: { connection, mapping: mapping.value, listenSource: db.kind === 'server' ? db.pool : db.db },
    resolver: createMaxLevelResolver({ repositories: [repository] }),
    async migrate(): Promise<Result<MigrateSummary, CliFailure>> {
      const schema = mapping.value.schema;
      try {
        const result = await migrate(connection, { schema });
        if (result.isErr()) return err(configFailure(`migration failed on ${where}: ${result.error.message}`));
        const report = result.value;
        // The default catalog's specializations that the table lacks (existing rows are never changed).
        const existing = await repository.findAll!();
        const known = new Set(existing.isOk() ? existing.value.map((row) => row.specializationId) : []);
        const missing = DEFAULT_CATALOG.specializations.filter((spec) => !known.has(spec.id));
        if (missing.length > 0) {
          const added = await upsertSpecializations(connection, missing.map((spec) => ({ id: spec.id, name: spec.name, maxLevel: spec.maxLevel })), { mapping: mapping.value });
          if (added.isErr()) return err(configFailure(`could not add the default specializations on ${where}: ${added.error.message}`));
        }
        const label = (m: { version: number; name: string }) => `${m.version} ${m.name}`;
        return ok({ schema, applied: report.applied.map(label), current: report.current.map(label), specializationsAdded: missing.map((spec) => spec.id) });
      } catch (cause) {
        return err(configFailure(`migration failed on ${where}: ${describeCause(cause)}`));
      }
    },
    async cleanupDuplicates({ dryRun }) {
      const report = await cleanupDuplicates(connection, { mapping: mapping.value, dryRun });
      return report.mapErr((error) => (error._tag === 'ValidationError' ? usageFailure(error.message) : configFailure(`duplicate clean-up failed on ${where}: ${error.message}`)));
    },
    close: () => db.close(),
  };
  return ok(backend);
}

function numericMapping(type: string): boolean {
  return type === 'integer' || type === 'bigint';
}
