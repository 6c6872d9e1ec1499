import { pgPool } from 'levelsync/pg';
import { countingPool } from '../support/counting-client.js';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';
import { defineCallerTransaction } from './suites/caller-transaction.js';
import { defineHostileValues } from './suites/hostile-values.js';
import { defineBigUserIds } from './suites/big-user-ids.js';
import { defineNativeDiffProperty, defineShardAgreement } from './suites/native-diff-property.js';
import { defineSchemaTools } from './suites/schema-tools.js';
import { defineSpecializationRows } from './suites/specialization-rows.js';
import { defineStatementBudget } from './suites/statement-budget.js';
import { defineStreamedApply } from './suites/streamed-apply.js';
import type { PgTestTarget } from './suites/target.js';
import { defineUserIdMisuse } from './suites/user-id-misuse.js';

describeWithServer('levelsync/pg on PostgreSQL: behaviour', () => {
  const database = useTestDatabase('behaviour');
  const target: PgTestTarget = { label: 'PostgreSQL', connection: () => pgPool(database().pool), server: true };
  defineNativeDiffProperty(target, 'srv', 30);
  defineBigUserIds(target, 'srv');
  defineShardAgreement(target);
  defineStatementBudget(target, 'srv', () => countingPool(database().pool), { pairs: 10_000, chunk: 1_000 });
  defineStreamedApply(target, 'srv', 5000);
  defineHostileValues(target, 'srv');
  defineSchemaTools(target, 'srv');
  defineSpecializationRows(target, 'srv', () => database().url);
  defineUserIdMisuse(target, 'srv');
  defineCallerTransaction(target, 'srv', async (fn, outcome) => {
    const client = await database().pool.connect();
    try {
      await client.query('BEGIN');
      await fn(client);
      await client.query(outcome === 'commit' ? 'COMMIT' : 'ROLLBACK');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  });
});
