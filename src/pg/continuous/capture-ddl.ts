/**
 * The DDL of change capture: a change table (a queue of changed (user, stored specialization id)
 * keys), statement-level triggers with transition tables on the progress and license tables (and
 * a row-level trigger for UPDATEs that change a key), and
 * a row-level trigger on the specializations table that announces a changed maximum level with
 * `NOTIFY`. Shared by `migrate` (levelsync's own schema) and `installCapture` (a mapped schema).
 *
 * @module
 */
import { quoteIdentifier as q, quoteTable, splitTable } from '../identifier.js';
import type { PgMapping } from '../pg-mapping.js';
import { userIdSqlType } from '../sql-params.js';

/** The channel on which a changed maximum level is announced (payload: JSON `{schema, table, id}`). */
export const MAX_LEVEL_CHANNEL = 'levelsync_max_level';
/** The channel on which capture triggers installed with `notify` announce new changes (payload: the change table). */
export const CHANGES_CHANNEL = 'levelsync_changes';
/** The name of the change table, in the mapping's schema. */
export const CHANGE_TABLE = 'levelsync_changes';
/**
 * The setting a transaction sets (`SET LOCAL levelsync.capture = 'off'`) so that its own writes
 * are not captured: the reconciler's repairs, which would otherwise queue the pairs they just
 * repaired.
 */
export const CAPTURE_SETTING = 'levelsync.capture';

/** Options of the capture DDL. */
export interface CaptureDdlOptions {
  /**
   * Also `NOTIFY` from the capture triggers (once per writing statement). Off by default:
   * `NOTIFY` takes a cluster-wide lock at commit that makes every notifying transaction commit
   * one at a time; reconcilers poll the change table instead (see docs/continuous.md).
   */
  readonly notify?: boolean;
  /**
   * `statement` (default): one trigger call per statement, keys read from the transition
   * tables — cheapest for bulk statements (measured, see docs/continuous.md). `row`: one call
   * per changed row, skipped in C by a `WHEN` clause when no watched column changed.
   */
  readonly level?: 'statement' | 'row';
  /**
   * Statement-level capture only. `false` (default): an UPDATE records the key of every row it
   * updated, whatever the columns it changed; a reconciler finds an XP-only change in sync and
   * writes nothing. `true`: an UPDATE records a key only when a watched column (level, max
   * achieved level) or the key changed, by matching the old and new transition rows — an
   * anti-join that costs every writing statement more (measured on 8 single-row writers: 26 %
   * of their throughput against 12 % unfiltered; see docs/continuous.md).
   * Row-level capture always filters, in C, with the trigger's `WHEN` clause.
   */
  readonly filterUpdates?: boolean;
  /**
   * `true` (default): the change table is an ordinary, WAL-logged table. `false`: UNLOGGED —
   * a cheaper insert for writers, but PostgreSQL empties it after a crash and it is not
   * replicated to standbys: changes pending at a crash or failover are then found only by the
   * next full resync.
   */
  readonly durable?: boolean;
}

/** The names of what capture creates, quoted, for one mapping. */
export interface CaptureObjects {
  readonly changeTable: string;
  readonly progressTable: string;
  readonly licensesTable: string;
  readonly specializationsTable: string;
  readonly progressFunction: string;
  readonly licensesFunction: string;
  readonly maxLevelFunction: string;
}

interface SideColumns {
  readonly table: string;
  readonly userId: string;
  readonly specializationId: string;
  /** The columns whose change matters to the sync: level (and max achieved level). */
  readonly watched: readonly string[];
}

/** The objects capture creates for a mapping. */
export function captureObjects(mapping: PgMapping): CaptureObjects {
  const s = q(mapping.schema);
  return {
    changeTable: `${s}.${q(CHANGE_TABLE)}`,
    progressTable: quoteTable(mapping.schema, mapping.progress.table),
    licensesTable: quoteTable(mapping.schema, mapping.licenses.table),
    specializationsTable: quoteTable(mapping.schema, mapping.specializations.table),
    progressFunction: `${s}.${q('levelsync_capture_progress')}`,
    licensesFunction: `${s}.${q('levelsync_capture_licenses')}`,
    maxLevelFunction: `${s}.${q('levelsync_notify_max_level')}`,
  };
}

const TRIGGERS = {
  insert: 'levelsync_capture_insert',
  update: 'levelsync_capture_update',
  delete: 'levelsync_capture_delete',
  keyChange: 'levelsync_capture_key_change',
  maxLevel: 'levelsync_max_level_notify',
} as const;

/**
 * The statements that install capture for a mapping, in order. Idempotent (`IF NOT EXISTS`,
 * `OR REPLACE`, triggers dropped first), so installing twice is harmless.
 */
export function installCaptureStatements(mapping: PgMapping, options: CaptureDdlOptions = {}): string[] {
  const o = captureObjects(mapping);
  const userType = userIdSqlType(mapping.userIdType);
  const notify = options.notify ?? false;
  const rowLevel = options.level === 'row';
  const filterUpdates = options.filterUpdates ?? false;
  const progress: SideColumns = {
    table: o.progressTable,
    userId: mapping.progress.userId,
    specializationId: mapping.progress.specializationId,
    watched: [mapping.progress.level],
  };
  const licenses: SideColumns = {
    table: o.licensesTable,
    userId: mapping.licenses.userId,
    specializationId: mapping.licenses.specializationId,
    watched: [mapping.licenses.level, mapping.licenses.maxAchievedLevel],
  };
  const spec = mapping.specializations;
  const specTable = splitTable(mapping.schema, spec.table);
  return [
    // A queue: rows live from a writer's commit to a reconciler's commit. Vacuumed eagerly.
    `CREATE TABLE IF NOT EXISTS ${o.changeTable} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id ${userType} NOT NULL,
      specialization_id text NOT NULL,
      changed_at timestamptz NOT NULL DEFAULT statement_timestamp()
    ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000)`,
    `ALTER TABLE ${o.changeTable} SET ${options.durable === false ? 'UNLOGGED' : 'LOGGED'}`,
    `COMMENT ON TABLE ${o.changeTable} IS 'levelsync change capture: changed (user, stored specialization id) keys waiting for a reconciler'`,
    ...(rowLevel
      ? [rowCaptureFunction(o.progressFunction, o.changeTable, progress, notify), rowCaptureFunction(o.licensesFunction, o.changeTable, licenses, notify)]
      : [captureFunction(o.progressFunction, o.changeTable, progress, notify, filterUpdates), captureFunction(o.licensesFunction, o.changeTable, licenses, notify, filterUpdates)]),
    ...[progress, licenses].flatMap((side) => {
      const fn = side === progress ? o.progressFunction : o.licensesFunction;
      const changed = [side.userId, side.specializationId, ...side.watched].map((c) => `OLD.${q(c)} IS DISTINCT FROM NEW.${q(c)}`).join(' OR ');
      const keyChanged = [side.userId, side.specializationId].map((c) => `OLD.${q(c)} IS DISTINCT FROM NEW.${q(c)}`).join(' OR ');
      return [
        `DROP TRIGGER IF EXISTS ${q(TRIGGERS.insert)} ON ${side.table}`,
        `DROP TRIGGER IF EXISTS ${q(TRIGGERS.update)} ON ${side.table}`,
        `DROP TRIGGER IF EXISTS ${q(TRIGGERS.delete)} ON ${side.table}`,
        `DROP TRIGGER IF EXISTS ${q(TRIGGERS.keyChange)} ON ${side.table}`,
        ...(rowLevel
          ? [
              `CREATE TRIGGER ${q(TRIGGERS.insert)} AFTER INSERT ON ${side.table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
              `CREATE TRIGGER ${q(TRIGGERS.update)} AFTER UPDATE ON ${side.table} FOR EACH ROW WHEN (${changed}) EXECUTE FUNCTION ${fn}()`,
              `CREATE TRIGGER ${q(TRIGGERS.delete)} AFTER DELETE ON ${side.table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
            ]
          : [
              `CREATE TRIGGER ${q(TRIGGERS.insert)} AFTER INSERT ON ${side.table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
              // Filtered, the UPDATE trigger compares the old rows with the new ones; unfiltered it needs the new ones only.
              `CREATE TRIGGER ${q(TRIGGERS.update)} AFTER UPDATE ON ${side.table} REFERENCING ${filterUpdates ? 'OLD TABLE AS old_rows ' : ''}NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
              `CREATE TRIGGER ${q(TRIGGERS.delete)} AFTER DELETE ON ${side.table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
              // Unfiltered: the new rows carry the new keys; a row whose key changed also
              // records its old key here (fires only when the UPDATE sets a key column, and
              // then the WHEN clause is evaluated in C).
              ...(filterUpdates
                ? []
                : [`CREATE TRIGGER ${q(TRIGGERS.keyChange)} AFTER UPDATE OF ${q(side.userId)}, ${q(side.specializationId)} ON ${side.table} FOR EACH ROW WHEN (${keyChanged}) EXECUTE FUNCTION ${fn}()`]),
            ]),
      ];
    }),
    `CREATE OR REPLACE FUNCTION ${o.maxLevelFunction}() RETURNS trigger LANGUAGE plpgsql AS $levelsync$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.${q(spec.maxLevel)} IS NOT DISTINCT FROM OLD.${q(spec.maxLevel)} AND NEW.${q(spec.id)} IS NOT DISTINCT FROM OLD.${q(spec.id)} THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('${MAX_LEVEL_CHANNEL}', json_build_object('schema', ${literal(specTable.schema)}, 'table', ${literal(specTable.name)}, 'id', OLD.${q(spec.id)}::text)::text);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    PERFORM pg_notify('${MAX_LEVEL_CHANNEL}', json_build_object('schema', ${literal(specTable.schema)}, 'table', ${literal(specTable.name)}, 'id', NEW.${q(spec.id)}::text)::text);
  END IF;
  RETURN NULL;
END
$levelsync$`,
    `DROP TRIGGER IF EXISTS ${q(TRIGGERS.maxLevel)} ON ${o.specializationsTable}`,
    `CREATE TRIGGER ${q(TRIGGERS.maxLevel)} AFTER INSERT OR UPDATE OR DELETE ON ${o.specializationsTable} FOR EACH ROW EXECUTE FUNCTION ${o.maxLevelFunction}()`,
  ];
}

/** The statements that remove everything {@link installCaptureStatements} created (pending changes included). */
export function uninstallCaptureStatements(mapping: PgMapping): string[] {
  const o = captureObjects(mapping);
  return [
    ...[o.progressTable, o.licensesTable].flatMap((table) => [
      `DROP TRIGGER IF EXISTS ${q(TRIGGERS.insert)} ON ${table}`,
      `DROP TRIGGER IF EXISTS ${q(TRIGGERS.update)} ON ${table}`,
      `DROP TRIGGER IF EXISTS ${q(TRIGGERS.delete)} ON ${table}`,
      `DROP TRIGGER IF EXISTS ${q(TRIGGERS.keyChange)} ON ${table}`,
    ]),
    `DROP TRIGGER IF EXISTS ${q(TRIGGERS.maxLevel)} ON ${o.specializationsTable}`,
    `DROP FUNCTION IF EXISTS ${o.progressFunction}()`,
    `DROP FUNCTION IF EXISTS ${o.licensesFunction}()`,
    `DROP FUNCTION IF EXISTS ${o.maxLevelFunction}()`,
    `DROP TABLE IF EXISTS ${o.changeTable}`,
  ];
}

/**
 * One trigger function for a table's statement-level INSERT, UPDATE and DELETE triggers (and,
 * unfiltered, the row-level key-change trigger). Unfiltered (the default), an UPDATE records the
 * key of every new row, with no per-row test: the cheapest statement for writers (measured, see
 * docs/continuous.md). Filtered, an UPDATE records a key only when a watched column (or the key
 * itself) changed: the old and new transition rows are matched on the key and the watched
 * values, so an XP-only update queues nothing. Transactions that
 * `SET LOCAL levelsync.capture = 'off'` are not captured.
 */
function captureFunction(name: string, changeTable: string, side: SideColumns, notify: boolean, filterUpdates: boolean): string {
  const u = q(side.userId);
  const s = q(side.specializationId);
  const same = (a: string, b: string) => [`${a}.${u} = ${b}.${u}`, `${a}.${s} = ${b}.${s}`, ...side.watched.map((c) => `${a}.${q(c)} IS NOT DISTINCT FROM ${b}.${q(c)}`)].join(' AND ');
  const insert = (source: string) => `INSERT INTO ${changeTable} (user_id, specialization_id) ${source}`;
  const update = filterUpdates
    ? insert(`SELECT n.${u}, n.${s}::text FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM old_rows o WHERE ${same('o', 'n')})
    UNION
    SELECT o.${u}, o.${s}::text FROM old_rows o WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE ${same('n', 'o')})`)
    : insert(`SELECT n.${u}, n.${s}::text FROM new_rows n`);
  const branches: [condition: string, statement: string][] = [
    // The row-level key-change trigger (unfiltered only): the row's old key.
    ...(filterUpdates ? [] : [[`TG_LEVEL = 'ROW'`, `INSERT INTO ${changeTable} (user_id, specialization_id) VALUES (OLD.${u}, OLD.${s}::text)`] as [string, string]]),
    [`TG_OP = 'INSERT'`, insert(`SELECT n.${u}, n.${s}::text FROM new_rows n`)],
    [`TG_OP = 'DELETE'`, insert(`SELECT o.${u}, o.${s}::text FROM old_rows o`)],
  ];
  const body = branches.map(([condition, statement], i) => `${i === 0 ? 'IF' : 'ELSIF'} ${condition} THEN\n    ${statement};\n  `).join('');
  return triggerFunction(name, changeTable, notify, `${body}ELSE\n    ${update};\n  END IF;`);
}

/** The row-level variant: one INSERT per changed row (the UPDATE trigger's WHEN clause filters). */
function rowCaptureFunction(name: string, changeTable: string, side: SideColumns, notify: boolean): string {
  const u = q(side.userId);
  const s = q(side.specializationId);
  return triggerFunction(
    name,
    changeTable,
    notify,
    `IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO ${changeTable} (user_id, specialization_id) VALUES (NEW.${u}, NEW.${s}::text);
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.${u}, OLD.${s}::text) IS DISTINCT FROM (NEW.${u}, NEW.${s}::text)) THEN
    INSERT INTO ${changeTable} (user_id, specialization_id) VALUES (OLD.${u}, OLD.${s}::text);
  END IF;`,
  );
}

/**
 * A capture trigger function around `body`: it does nothing in a transaction that turned capture
 * off (the reconciler's own repairs), and ends with the optional `NOTIFY`.
 */
function triggerFunction(name: string, changeTable: string, notify: boolean, body: string): string {
  const notifyLine = notify ? `\n  PERFORM pg_notify('${CHANGES_CHANNEL}', '${changeTable.replace(/'/g, "''")}');` : '';
  return `CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $levelsync$
BEGIN
  IF current_setting('${CAPTURE_SETTING}', true) = 'off' THEN
    RETURN NULL;
  END IF;
  ${body}${notifyLine}
  RETURN NULL;
END
$levelsync$`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
