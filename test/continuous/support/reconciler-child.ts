// A reconciler in its own process, for the SIGKILL test: argv = database url, schema, mode.
// mode `hang`: claims a batch, prints `claimed <n>`, and then blocks its event loop for good, so
// the parent can kill it with the batch's transaction open (claimed keys deleted, uncommitted).
import { writeSync } from 'node:fs';
import { okAsync } from 'neverthrow';
import pg from 'pg';
import { createMaxLevelResolver, type MaxLevelRecord, type RepositoryUnavailable } from '../../../src/index.js';
import { createPgMapping, createReconciler, ORIGINAL_SYSTEM_MAPPING } from '../../../src/pg/index.js';

const [url, schema, mode] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 2 });
pool.on('error', () => {});
const mapping = createPgMapping({ schema: schema! }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
const resolver = createMaxLevelResolver({
  repositories: [{ name: 'fixed', findMaxLevel: (id: string) => okAsync<MaxLevelRecord | null, RepositoryUnavailable>({ specializationId: id, maxLevel: 8 }) }],
  cache: false,
});
const reconciler = createReconciler(pool, {
  mapping,
  resolver,
  batchSize: 50,
  resyncIntervalMs: 0,
  lagIntervalMs: 0,
  onEvent: (event) => {
    if (event.type !== 'claimed') return;
    writeSync(1, `claimed ${event.changes}\n`);
    if (mode === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // stuck mid-batch, forever
  },
});
reconciler.start();
process.stdout.write('started\n');
