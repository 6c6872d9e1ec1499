import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createMaxLevelResolver } from 'levelsync';
import {
  checkPending,
  createLevelsyncMapping,
  createPgMaxLevelInvalidation,
  createPgMaxLevelRepository,
  createReconciler,
  migrate,
  pglite,
  type ReconcilerEvent,
} from 'levelsync/pg';
import { usePGlite } from '../support/pglite-instance.js';

describe('continuous mode in process (PGlite)', () => {
  const db = usePGlite();

  it('migrate installs capture; the reconciler loop repairs changes; a changed maximum invalidates through db.listen', async () => {
    const connection = pglite(db());
    (await migrate(connection, { schema: 'cont' }))._unsafeUnwrap();
    const mapping = createLevelsyncMapping({ schema: 'cont' })._unsafeUnwrap();
    await connection.run(`INSERT INTO cont.specializations (id, name, max_level) VALUES ('LFA_COACH', 'Coach', 8), ('COACH', 'Coach (legacy)', 8), ('INTERNSHIP', 'Internship', 3)`);
    await connection.run(`INSERT INTO cont.progress (user_id, specialization_id, level) SELECT g, CASE WHEN g % 2 = 0 THEN 'COACH' ELSE 'LFA_COACH' END, 2 FROM generate_series(1, 40) g`);
    await connection.run(`INSERT INTO cont.licenses (user_id, specialization_id, level, max_achieved_level) SELECT g, 'LFA_COACH', 2, 2 FROM generate_series(1, 40) g`);
    const resolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(connection, { mapping })], cache: { ttlMs: 600_000 } });
    const events: ReconcilerEvent[] = [];
    const reconciler = createReconciler(connection, { mapping, resolver, resyncIntervalMs: 0, minPollMs: 5, maxPollMs: 20, onEvent: (e) => events.push(e) });
    expect((await reconciler.drain())._unsafeUnwrap().licenseChanges).toBe(0); // the seed was in sync

    await connection.run(`UPDATE cont.progress SET level = 5 WHERE user_id <= 10`);
    const pending = (await checkPending(connection, { mapping, resolver }))._unsafeUnwrap();
    expect(pending.pendingKeys).toBe(10);
    expect(pending.desyncs.filter((d) => d.kind === 'LevelMismatch')).toHaveLength(10);

    reconciler.start();
    const deadline = Date.now() + 20_000;
    while ((await reconciler.lag())._unsafeUnwrap().pending > 0 && Date.now() < deadline) await sleep(20);
    await reconciler.stop();
    expect((await reconciler.lag())._unsafeUnwrap().pending).toBe(0);
    const licenses = await connection.run(`SELECT count(*)::int AS n FROM cont.licenses WHERE level = 5 AND user_id <= 10`);
    expect(licenses.rows[0]!['n']).toBe(10);
    const history = await connection.run(`SELECT count(*)::int AS n FROM cont.license_progressions`);
    expect(history.rows[0]!['n']).toBe(10);
    expect(events.at(-1)?.type).toBe('stopped');

    const invalidated: (string | undefined)[] = [];
    const sub = createPgMaxLevelInvalidation(db(), { resolver, schema: 'cont', onInvalidate: (id) => invalidated.push(id) });
    await sub.ready;
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().maxLevel).toBe(3);
    await connection.run(`UPDATE cont.specializations SET max_level = 4 WHERE id = 'INTERNSHIP'`);
    const until = Date.now() + 10_000;
    while (!invalidated.includes('INTERNSHIP') && Date.now() < until) await sleep(20);
    expect(invalidated).toContain('INTERNSHIP');
    expect((await resolver.resolve('INTERNSHIP'))._unsafeUnwrap().maxLevel).toBe(4);
    await sub.close();
  }, 120_000);
});
