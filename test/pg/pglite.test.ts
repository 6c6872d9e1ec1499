import { describe } from 'vitest';
import { pglite } from 'levelsync/pg';
import { countingPGlite } from '../support/counting-client.js';
import { usePGlite } from '../support/pglite-instance.js';
import { defineCallerTransaction } from './suites/caller-transaction.js';
import { defineMaxLevelConformance, defineSyncStoreConformance } from './suites/conformance.js';
import { defineHostileValues } from './suites/hostile-values.js';
import { defineBigUserIds } from './suites/big-user-ids.js';
import { defineNativeDiffProperty, defineShardAgreement } from './suites/native-diff-property.js';
import { defineSchemaTools } from './suites/schema-tools.js';
import { defineSpecializationRows } from './suites/specialization-rows.js';
import { defineStatementBudget } from './suites/statement-budget.js';
import { defineStreamedApply } from './suites/streamed-apply.js';
import type { PgTestTarget } from './suites/target.js';
import { defineUserIdMisuse } from './suites/user-id-misuse.js';

// Every PGlite suite lives in this one file: one PGlite instance (5–18 s to start, ~500 MB),
// shared by all of them; each suite works in its own schema.
describe('levelsync/pg on PGlite', () => {
  const db = usePGlite();
  const target: PgTestTarget = { label: 'PGlite', connection: () => pglite(db()), server: false };
  defineSyncStoreConformance(target, 'pgl');
  defineMaxLevelConformance(target, 'pgl');
  defineNativeDiffProperty(target, 'pgl', 40);
  defineBigUserIds(target, 'pgl');
  defineShardAgreement(target);
  defineStatementBudget(target, 'pgl', () => countingPGlite(db()), { pairs: 1_500, chunk: 500 });
  defineStreamedApply(target, 'pgl', 1200);
  defineHostileValues(target, 'pgl');
  defineSchemaTools(target, 'pgl');
  defineSpecializationRows(target, 'pgl');
  defineUserIdMisuse(target, 'pgl');
  defineCallerTransaction(target, 'pgl', async (fn, outcome) => {
    await db()
      .transaction(async (tx) => {
        await fn(tx);
        if (outcome === 'rollback') await tx.rollback();
      });
  });
});
