// The original system's admin sync endpoints on hono, built on levelsync: list desyncs (paginated,
// legacy ids as a summary), sync one user for one or every specialization, bulk sync (dry run
// unless asked), health. Copy it and replace `authenticate` with your own auth.
//
// Why hono: routing, typed path parameters and zod validation (`@hono/zod-validator`, the same
// zod levelsync validates with) in a few lines, on web-standard Request/Response, so the same app
// runs on Node (`@hono/node-server`), Bun, Deno or a worker, and `app.request()` tests it without
// a socket. Fastify would do the same job with JSON Schema validation and its plugin system; hono
// keeps the example small and the validation in zod.
import { createAdaptorServer } from '@hono/node-server';
import { zValidator } from '@hono/zod-validator';
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Server } from 'node:http';
import type { Result } from 'neverthrow';
import { z } from 'zod';
import {
  SYNC_DIRECTIONS,
  SpecializationIdSchema,
  applyPlan,
  checkHealth,
  createMaxLevelResolver,
  createPlanStream,
  describeAction,
  isInformational,
  openDesyncScan,
  syncPair,
  type Desync,
  type MaxLevelResolver,
  type PairKey,
  type StoreError,
  type SyncPairReport,
  type ValidationError,
} from 'levelsync';
import { LEVELSYNC_MAPPING, createPgMaxLevelRepository, createPgSyncStore, type PgConnectionInput, type PgMapping, type PgSyncStore } from 'levelsync/pg';

/** Who is calling. In the original this came from a Bearer JWT; here from a stand-in header. */
export interface Principal {
  readonly id: number;
  readonly role: 'admin' | 'instructor' | 'student';
}

export interface AdminApiOptions {
  /** A `pg.Pool` or a PGlite database (anything `levelsync/pg` accepts). */
  readonly pool: PgConnectionInput;
  /** Where the tables are (default: levelsync's own schema). */
  readonly mapping?: PgMapping;
  /** Default: the stand-in `X-User: <role>:<id>` header (e.g. `X-User: admin:1`). Replace it with your auth. */
  readonly authenticate?: (request: Request) => Principal | null;
}

/**
 * The stand-in auth: `X-User: admin:1`, `X-User: instructor:7`, `X-User: student:42`.
 * NOT authentication: anyone can send the header. Put your session or JWT check here.
 */
export function headerAuthentication(request: Request): Principal | null {
  const header = request.headers.get('x-user');
  const match = header === null ? null : /^(admin|instructor|student):(\d{1,15})$/.exec(header.trim());
  return match ? { role: match[1] as Principal['role'], id: Number(match[2]) } : null;
}

// Requests, validated with zod; a bad one is a 400 naming the field.
// `direction` accepts levelsync's names and the original's (progress_to_license …).
const Direction = z
  .string({ error: `must be one of ${SYNC_DIRECTIONS.join(', ')}` })
  .transform((value) => value.replace(/_/g, '-'))
  .pipe(z.enum(SYNC_DIRECTIONS, { error: `must be one of ${SYNC_DIRECTIONS.join(', ')}` }));
const Specialization = z.string({ error: 'is required' }).pipe(SpecializationIdSchema);
const SyncUserBody = z.strictObject({ specialization: Specialization, direction: Direction.default('higher-wins') });
const SyncUserAllBody = z.strictObject({ direction: Direction.default('higher-wins') });
const SyncAllBody = z.strictObject({ direction: Direction.default('higher-wins'), dry_run: z.boolean({ error: 'must be true or false' }).default(true) });
const UserIdParam = z.strictObject({
  userId: z.coerce.number({ error: 'must be a user id' }).int({ error: 'must be a user id' }).min(1, { error: 'must be a user id' }).max(Number.MAX_SAFE_INTEGER, { error: 'must be a user id' }),
});
export const MAX_PAGE_SIZE = 1_000;
const IssuesQuery = z.strictObject({
  specialization: Specialization.optional(),
  limit: z.coerce.number({ error: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }).int({ error: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }).min(1, { error: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }).max(MAX_PAGE_SIZE, { error: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }).default(100),
  cursor: z.string().min(1, { error: 'is not a cursor from this API' }).optional(),
});

/**
 * Where the next page starts and what the listing counted: the key of the last pair of the
 * previous page (user id, canonical specialization id), `total` as the first page counted it,
 * and the specialization filter the listing was started with.
 */
const Cursor = z.tuple([z.union([z.number().int(), z.string().min(1)]), SpecializationIdSchema, z.number().int().min(0), SpecializationIdSchema.nullable()]);
interface ListingCursor {
  readonly after: PairKey;
  readonly total: number;
  readonly specialization: string | null;
}

const READ = ['admin', 'instructor'] as const;

type Env = { Variables: { principal: Principal } };

/** A 4xx/5xx answer with a JSON body `{ error, field? }`. */
class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 503,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The zod-validator hook: the first issue becomes a 400 that names the field. */
const fieldError = (prefix: string) => (result: { success: boolean; error?: z.core.$ZodError }) => {
  if (result.success || !result.error) return;
  const issue = result.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.');
  const field = [prefix, path].filter(Boolean).join('.') || '(body)';
  throw new ApiError(400, `${field} ${issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message}`, field);
};

/** A store or validation error: 409 for a held run lock, 400 for bad input, 503 otherwise. */
function unwrap<T>(result: Result<T, StoreError | ValidationError>): T {
  if (result.isOk()) return result.value;
  const error = result.error;
  if (error._tag === 'RunInProgress') throw new ApiError(409, error.message);
  if (error._tag === 'ValidationError') throw new ApiError(400, error.message, error.field);
  throw new ApiError(503, error.message);
}

const encodeCursor = (c: ListingCursor) =>
  Buffer.from(JSON.stringify([c.after.userId, c.after.specializationId, c.total, c.specialization])).toString('base64url');
function decodeCursor(text: string): ListingCursor {
  try {
    const [userId, specializationId, total, specialization] = Cursor.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return { after: { userId, specializationId }, total, specialization };
  } catch {
    throw new ApiError(400, 'cursor is not a cursor from this API', 'cursor');
  }
}

/**
 * One page of a listing: the issues of the first `limit` pairs (in key order, then kind order) of
 * a desync stream, and whether a pair follows. Stops reading once it has seen the pair after the
 * page: breaking out of the stream closes the store's cursor.
 */
async function readPage(pages: AsyncIterable<Result<readonly Desync[], StoreError>>, limit: number, counts?: { total: number; issueCount: number; byKind: Record<string, number> }) {
  const issues: Desync[] = [];
  let pairs = 0;
  let last: PairKey | undefined;
  let more = false;
  scan: for await (const page of pages) {
    for (const d of unwrap(page)) {
      // Legacy-id notes are no work (the scan lists none unless asked): never an issue.
      if (isInformational(d)) continue;
      const newPair = last === undefined || d.userId !== last.userId || d.specializationId !== last.specializationId;
      if (newPair) {
        last = { userId: d.userId, specializationId: d.specializationId };
        if (counts) counts.total++;
        if (pairs === limit) {
          more = true;
          // The first page reads on to count; any other stops at the pair after the page.
          if (!counts) break scan;
        } else if (pairs < limit) {
          pairs++;
        }
      }
      if (counts) {
        counts.issueCount++;
        counts.byKind[d.kind] = (counts.byKind[d.kind] ?? 0) + 1;
      }
      if (!more) issues.push(d);
    }
  }
  const end = issues.at(-1);
  return { issues, more, lastKey: end === undefined ? undefined : { userId: end.userId, specializationId: end.specializationId } };
}

/**
 * The admin API as a hono app (`app.fetch`, `app.request()` in tests). Use {@link createAdminApi}
 * for a Node server.
 */
export function createAdminApp(options: AdminApiOptions): Hono<Env> {
  const mapping = options.mapping ?? LEVELSYNC_MAPPING;
  const resolver: MaxLevelResolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(options.pool, { mapping })] });
  // The store knows the catalog: rows under legacy ids (PLAYER, COACH) belong to their canonical pair.
  const store: PgSyncStore = createPgSyncStore(options.pool, { mapping, catalog: resolver.catalog });
  // For the pages after the first: a page needs at most MAX_PAGE_SIZE + 1 pairs, so FETCH no
  // more rows than that at a time; and no legacy-id counts (without `summarizeLegacyIds` the scan
  // counts legacy-id use from the pairs it reads, instead of a GROUP BY over the tables per page).
  const { summarizeLegacyIds: _countedByTheFirstPage, ...pageStore } = createPgSyncStore(options.pool, { mapping, catalog: resolver.catalog, fetchSize: MAX_PAGE_SIZE + 1 });
  const authenticate = options.authenticate ?? headerAuthentication;

  const requireRole = (roles: readonly Principal['role'][], message: string) =>
    async (c: Context<Env>, next: () => Promise<void>) => {
      const principal = authenticate(c.req.raw);
      if (principal === null) throw new ApiError(401, 'Could not validate credentials');
      if (!roles.includes(principal.role)) throw new ApiError(403, message);
      c.set('principal', principal);
      await next();
    };
  const readers = (message: string) => requireRole(READ, message);

  /** A specialization id the resolver knows (canonical), or a 400 naming `field`. */
  const knownSpecialization = async (id: string, field: string): Promise<string> => {
    const resolved = await resolver.resolve(id);
    if (resolved.isErr()) throw new ApiError(400, resolved.error.message, field);
    return resolved.value.specializationId;
  };

  const pairResult = (report: SyncPairReport) => ({
    userId: report.userId,
    specialization: report.specializationId,
    inSync: report.inSync,
    desyncs: report.desyncs.map((d) => d.kind),
    actions: report.actions.map((a, i) => ({
      kind: a.kind,
      change: describeAction(a),
      outcome: a.kind === 'FlagForReview' ? 'Flagged' : (report.outcomes[i] ?? 'Planned'),
    })),
  });

  const app = new Hono<Env>();

  // A body that is not declared JSON would be ignored by the validator (and `{"dry_run": false}`
  // sent by `curl -d` without a content type would quietly run dry): refuse it instead.
  app.use('/admin/*', async (c, next) => {
    const length = Number(c.req.header('content-length') ?? 0);
    const hasBody = length > 0 || c.req.header('transfer-encoding') !== undefined;
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (c.req.method === 'POST' && hasBody && !/^application\/([\w.-]+\+)?json$/.test(type)) {
      return c.json({ error: '(body) must be JSON: send content-type: application/json', field: '(body)' }, 415);
    }
    await next();
    return undefined;
  });

  // GET /admin/sync/desync-issues?specialization=&limit=100&cursor=
  // A page holds the issues of `limit` pairs (a pair can have two), in key order, then kind order.
  // The first page (no cursor) counts: `total` = pairs needing work, `issueCount`, `byKind`, and
  // `legacyIds` (rows stored under PLAYER, COACH: a summary, no issue). `nextCursor` is the key of
  // the page's last pair: the next page reads only the pairs after it (keyset paging in the
  // store's query) and stops after limit + 1 pairs; it repeats `total` from the cursor.
  app.get('/admin/sync/desync-issues', readers('Only admins and instructors can view sync issues'), zValidator('query', IssuesQuery, fieldError('')), async (c) => {
    const query = c.req.valid('query');
    const specialization = query.specialization === undefined ? null : await knownSpecialization(query.specialization, 'specialization');
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (cursor && cursor.specialization !== specialization) throw new ApiError(400, 'cursor belongs to a listing with another specialization filter', 'cursor');
    const scope = specialization === null ? {} : { specializationIds: [specialization] };

    if (cursor) {
      const scan = unwrap(await openDesyncScan(pageStore, { resolver, ...scope, after: cursor.after, pageSize: query.limit + 1 }));
      const page = await readPage(scan.pages, query.limit);
      return c.json({
        total: cursor.total,
        limit: query.limit,
        issues: page.issues,
        nextCursor: page.more && page.lastKey ? encodeCursor({ ...cursor, after: page.lastKey }) : null,
      });
    }

    // One pass over the differing pairs, streamed: memory holds a store page and this page.
    const scan = unwrap(await openDesyncScan(store, { resolver, ...scope }));
    const counts = { total: 0, issueCount: 0, byKind: {} as Record<string, number> };
    const page = await readPage(scan.pages, query.limit, counts);
    const summary = scan.summary();
    return c.json({
      total: counts.total,
      issueCount: counts.issueCount,
      byKind: counts.byKind,
      // One entry per stored legacy id: { storedId, canonicalId, progressRows, licenseRows, pairs, deprecatedAfter }.
      legacyIds: summary.legacyIds,
      warnings: summary.warnings,
      limit: query.limit,
      issues: page.issues,
      nextCursor: page.more && page.lastKey ? encodeCursor({ after: page.lastKey, total: counts.total, specialization }) : null,
    });
  });

  app.post('/admin/sync/user/:userId', readers('Only admins and instructors can sync progress'), zValidator('param', UserIdParam, fieldError('')), zValidator('json', SyncUserBody, fieldError('')), async (c) => {
    const { userId } = c.req.valid('param');
    const body = c.req.valid('json');
    const specializationId = await knownSpecialization(body.specialization, 'specialization');
    const report = unwrap(await syncPair(store, { userId, specializationId }, { resolver, policy: { direction: body.direction }, actor: c.get('principal').id }));
    if (report.notFound) throw new ApiError(404, `No progress or license for user ${userId} in ${specializationId}`);
    return c.json({ direction: body.direction, ...pairResult(report) });
  });

  app.post('/admin/sync/user/:userId/all', readers('Only admins and instructors can sync progress'), zValidator('param', UserIdParam, fieldError('')), zValidator('json', SyncUserAllBody, fieldError('')), async (c) => {
    const { userId } = c.req.valid('param');
    const body = c.req.valid('json');
    // Every specialization the user has a record in: read from the data, never a hard-coded list.
    const specializations: string[] = [];
    for await (const page of store.scanPairs({ userIds: [userId] })) {
      for (const pair of unwrap(page)) specializations.push(pair.specializationId);
    }
    if (specializations.length === 0) throw new ApiError(404, `No progress or license for user ${userId}`);
    const results: Record<string, unknown> = {};
    for (const specializationId of specializations) {
      const report = await syncPair(store, { userId, specializationId }, { resolver, policy: { direction: body.direction }, actor: c.get('principal').id });
      results[specializationId] = report.isOk() ? pairResult(report.value) : { error: report.error.message };
    }
    return c.json({ userId, direction: body.direction, results });
  });

  app.post('/admin/sync/all', requireRole(['admin'], 'Only admins can perform bulk sync'), zValidator('json', SyncAllBody, fieldError('')), async (c) => {
    const body = c.req.valid('json');
    // Lock first: a real run takes the run lock before it reads a single pair, so a second run
    // (here, another instance, `levelsync sync --apply`, a periodic job) gets its 409 at once,
    // and nothing is planned from data another run is still changing. A dry run writes nothing
    // and takes no lock (as `levelsync sync` without --apply): it can run beside a real run, and
    // then reports what is left to do at that moment.
    const runLock = body.dry_run ? undefined : unwrap(await store.acquireRunLock({}, { wait: false }));
    try {
      // Streamed: the scan feeds the plan and the plan feeds applyPlan batch by batch, so memory
      // holds a batch and a store page, never the whole drift.
      const scan = unwrap(await openDesyncScan(store, { resolver }));
      const plan = unwrap(createPlanStream(scan, { policy: { direction: body.direction } }));
      const report = unwrap(await applyPlan(plan, store, { dryRun: body.dry_run, actor: c.get('principal').id, ...(runLock ? { runLock } : {}) }));
      // Known once the plan has been read to its end: the counts, warnings and fingerprint.
      const trailer = plan.trailer();
      if (report.error !== undefined || report.status === 'LockLost' || trailer === undefined) {
        // The scan failed midway, or the lock's session ended: the batches before stay committed.
        const error = report.error?.message ?? (report.status === 'LockLost' ? 'The run lock was lost (its database session ended); stopped before the next batch' : 'The plan ended early');
        return c.json({ error, dryRun: report.dryRun, status: report.status, counts: report.counts }, 503);
      }
      const { desyncs, actions } = trailer.summary;
      return c.json({
        dryRun: report.dryRun,
        direction: body.direction,
        // Legacy-id notes are no work (the scan lists none unless asked): never an issue.
        totalIssues: desyncs.total - desyncs.LegacySpecializationId,
        plan: { fingerprint: trailer.fingerprint, summary: actions, warnings: trailer.warnings },
        status: report.status,
        counts: report.counts,
        ...(report.dryRun ? { message: 'Dry run complete. No changes made.' } : {}),
      });
    } finally {
      await runLock?.release().catch(() => undefined);
    }
  });

  app.get('/admin/health', readers('Only admins and instructors can view sync health'), async (c) => {
    const { desyncs: _desyncs, ...report } = unwrap(await checkHealth(store, { resolver }));
    return c.json(report);
  });

  app.notFound((c) => c.json({ error: 'Not found' }, 404));
  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json({ error: error.message, ...(error.field !== undefined ? { field: error.field } : {}) }, error.status);
    // hono's own 400 for a body that is not JSON.
    if (error instanceof HTTPException && error.status === 400) return c.json({ error: '(body) is not valid JSON', field: '(body)' }, 400);
    return c.json({ error: 'Internal error' }, 500);
  });
  return app;
}

/**
 * Creates the admin API as a Node server (not listening yet: call `listen`).
 *
 * ```ts
 * const server = createAdminApi({ pool: new pg.Pool() });
 * server.listen(3000);
 * ```
 */
export function createAdminApi(options: AdminApiOptions): Server {
  return createAdaptorServer({ fetch: createAdminApp(options).fetch }) as Server;
}
