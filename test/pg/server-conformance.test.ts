import { pgPool } from 'levelsync/pg';
import { describeWithServer, useTestDatabase } from '../support/postgres-server.js';
import { defineMaxLevelConformance, defineSyncStoreConformance } from './suites/conformance.js';
import type { PgTestTarget } from './suites/target.js';

describeWithServer('levelsync/pg on PostgreSQL: conformance', () => {
  const database = useTestDatabase('conformance');
  const target: PgTestTarget = { label: 'PostgreSQL', connection: () => pgPool(database().pool), server: true };
  defineSyncStoreConformance(target, 'srv');
  defineMaxLevelConformance(target, 'srv');
});
