// A reconciler in its own process, for the SIGKILL test: argv = database url, schema, mode.
// mode `hang`: claims a batch, prints `claimed <n>`, and never finishes it (its max-level source
// never answers), so the parent can kill it with the batch's transaction open.
import { okAsync, ResultAsync, type Result } from 'neverthrow';
import pg from 'pg';
import { createMaxLevelResolver, type MaxLevelRecord, type RepositoryUnavailable } from '../../../src/index.js';
import { createPgMapping, createReconciler, ORIGINAL_SYSTEM_MAPPING } from '../../../src/pg/index.js';

const [url, schema, mode] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 2 });
pool.on('error', () => {});
const mapping = createPgMapping({ schema: schema! }, ORIGINAL_SYSTEM_MAPPING)._unsafeUnwrap();
const never = new ResultAsync(new Promise<Result<MaxLevelRecord | null, RepositoryUnavailable>>(() => {}));
const resolver = createMaxLevelResolver({
  repositories: [{ name: 'stuck', findMaxLevel: (id: string) => (mode === 'hang' ? never : okAsync<MaxLevelRecord | null, RepositoryUnavailable>({ specializationId: id, maxLevel: 8 })) }],
  cache: false,
});
const reconciler = createReconciler(pool, {
  mapping,
  resolver,
  batchSize: 50,
  resyncIntervalMs: 0,
  lagIntervalMs: 0,
  onEvent: (event) => {
    if (event.type === 'claimed') process.stdout.write(`claimed ${event.changes}\n`);
  },
});
reconciler.start();
process.stdout.write('started\n');
