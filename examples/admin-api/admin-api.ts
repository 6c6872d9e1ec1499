// The original system's admin sync endpoints on a plain `node:http` server (no framework),
// built on levelsync: list desyncs, sync one user for one or every specialization, bulk sync
// (dry run unless asked), health. Copy it and replace `authenticate` with your own auth.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Result } from 'neverthrow';
import { z } from 'zod';
import {
  SYNC_DIRECTIONS,
  SpecializationIdSchema,
  applyPlan,
  checkHealth,
  createMaxLevelResolver,
  createPlan,
  describeAction,
  scanDesyncs,
  syncPair,
  type MaxLevelResolver,
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
  readonly authenticate?: (request: IncomingMessage) => Principal | null;
}

/**
 * The stand-in auth: `X-User: admin:1`, `X-User: instructor:7`, `X-User: student:42`.
 * NOT authentication: anyone can send the header. Put your session or JWT check here.
 */
export function headerAuthentication(request: IncomingMessage): Principal | null {
  const header = request.headers['x-user'];
  const match = typeof header === 'string' ? /^(admin|instructor|student):(\d{1,15})$/.exec(header.trim()) : null;
  return match ? { role: match[1] as Principal['role'], id: Number(match[2]) } : null;
}

// Request bodies, validated with zod; a bad one is a 400 naming the field.
// `direction` accepts levelsync's names and the original's (progress_to_license …).
const Direction = z
  .string({ error: `must be one of ${SYNC_DIRECTIONS.join(', ')}` })
  .transform((value) => value.replace(/_/g, '-'))
  .pipe(z.enum(SYNC_DIRECTIONS, { error: `must be one of ${SYNC_DIRECTIONS.join(', ')}` }));
const Specialization = z.string({ error: 'is required' }).pipe(SpecializationIdSchema);
const SyncUserBody = z.strictObject({ specialization: Specialization, direction: Direction.default('higher-wins') });
const SyncUserAllBody = z.strictObject({ direction: Direction.default('higher-wins') });
const SyncAllBody = z.strictObject({ direction: Direction.default('higher-wins'), dry_run: z.boolean({ error: 'must be true or false' }).default(true) });
const UserIdParam = z.coerce.number({ error: 'must be a user id' }).int({ error: 'must be a user id' }).min(1, { error: 'must be a user id' }).max(Number.MAX_SAFE_INTEGER);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

const READ = ['admin', 'instructor'] as const;

/**
 * Creates the admin API server (not listening yet: call `listen`).
 *
 * ```ts
 * const server = createAdminApi({ pool: new pg.Pool() });
 * server.listen(3000);
 * ```
 */
export function createAdminApi(options: AdminApiOptions): Server {
  const mapping = options.mapping ?? LEVELSYNC_MAPPING;
  const store: PgSyncStore = createPgSyncStore(options.pool, { mapping });
  const resolver: MaxLevelResolver = createMaxLevelResolver({ repositories: [createPgMaxLevelRepository(options.pool, { mapping })] });
  const authenticate = options.authenticate ?? headerAuthentication;
  let bulkRunning = false;

  const requireRole = (request: IncomingMessage, roles: readonly Principal['role'][], message: string): Principal => {
    const principal = authenticate(request);
    if (principal === null) throw new HttpError(401, 'Could not validate credentials');
    if (!roles.includes(principal.role)) throw new HttpError(403, message);
    return principal;
  };

  /** A specialization id the resolver knows (canonical), or a 400 naming `field`. */
  const knownSpecialization = async (id: string, field: string): Promise<string> => {
    const resolved = await resolver.resolve(id);
    if (resolved.isErr()) throw new HttpError(400, resolved.error.message, field);
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

  const routes: { method: string; pattern: RegExp; handle: (request: IncomingMessage, url: URL, params: string[]) => Promise<[number, unknown]> }[] = [
    {
      method: 'GET',
      pattern: /^\/admin\/sync\/desync-issues$/,
      handle: async (request, url) => {
        requireRole(request, READ, 'Only admins and instructors can view sync issues');
        const raw = url.searchParams.get('specialization');
        const specializationIds = raw === null ? undefined : [await knownSpecialization(parse(Specialization, raw, 'specialization'), 'specialization')];
        const scan = unwrap(await scanDesyncs(store, { resolver, ...(specializationIds ? { specializationIds } : {}) }));
        const byKind: Record<string, number> = {};
        for (const d of scan.desyncs) byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
        return [200, { total: scan.desyncs.length, byKind, warnings: scan.warnings, issues: scan.desyncs }];
      },
    },
    {
      method: 'POST',
      pattern: /^\/admin\/sync\/user\/([^/]+)$/,
      handle: async (request, _url, [rawUserId]) => {
        const principal = requireRole(request, READ, 'Only admins and instructors can sync progress');
        const userId = parse(UserIdParam, rawUserId, 'userId');
        const body = parse(SyncUserBody, await readJson(request), '');
        const specializationId = await knownSpecialization(body.specialization, 'specialization');
        const report = unwrap(await syncPair(store, { userId, specializationId }, { resolver, policy: { direction: body.direction }, actor: principal.id }));
        if (report.notFound) throw new HttpError(404, `No progress or license for user ${userId} in ${specializationId}`);
        return [200, { direction: body.direction, ...pairResult(report) }];
      },
    },
    {
      method: 'POST',
      pattern: /^\/admin\/sync\/user\/([^/]+)\/all$/,
      handle: async (request, _url, [rawUserId]) => {
        const principal = requireRole(request, READ, 'Only admins and instructors can sync progress');
        const userId = parse(UserIdParam, rawUserId, 'userId');
        const body = parse(SyncUserAllBody, await readJson(request), '');
        // Every specialization the user has a record in: read from the data, never a hard-coded list.
        const specializations: string[] = [];
        for await (const page of store.scanPairs({ userIds: [userId] })) {
          for (const pair of unwrap(page)) specializations.push(pair.specializationId);
        }
        if (specializations.length === 0) throw new HttpError(404, `No progress or license for user ${userId}`);
        const results: Record<string, unknown> = {};
        for (const specializationId of specializations) {
          const report = await syncPair(store, { userId, specializationId }, { resolver, policy: { direction: body.direction }, actor: principal.id });
          results[specializationId] = report.isOk() ? pairResult(report.value) : { error: report.error.message };
        }
        return [200, { userId, direction: body.direction, results }];
      },
    },
    {
      method: 'POST',
      pattern: /^\/admin\/sync\/all$/,
      handle: async (request) => {
        const principal = requireRole(request, ['admin'], 'Only admins can perform bulk sync');
        const body = parse(SyncAllBody, await readJson(request), '');
        if (!body.dry_run && bulkRunning) throw new HttpError(409, 'A bulk sync is already running in this process; try again when it has finished');
        bulkRunning ||= !body.dry_run;
        try {
          const scan = unwrap(await scanDesyncs(store, { resolver }));
          const plan = unwrap(createPlan(scan, { policy: { direction: body.direction } }));
          const applied = await applyPlan(plan, store, { dryRun: body.dry_run, actor: principal.id, lock: 'try' });
          if (applied.isErr() && applied.error._tag === 'RunInProgress') throw new HttpError(409, applied.error.message);
          const report = unwrap(applied);
          return [
            200,
            {
              dryRun: report.dryRun,
              direction: body.direction,
              totalIssues: scan.desyncs.length,
              plan: { fingerprint: plan.fingerprint, summary: plan.summary.actions, warnings: plan.warnings },
              status: report.status,
              counts: report.counts,
              ...(report.dryRun ? { message: 'Dry run complete. No changes made.' } : {}),
            },
          ];
        } finally {
          if (!body.dry_run) bulkRunning = false;
        }
      },
    },
    {
      method: 'GET',
      pattern: /^\/admin\/health$/,
      handle: async (request) => {
        requireRole(request, READ, 'Only admins and instructors can view sync health');
        const { desyncs: _desyncs, ...report } = unwrap(await checkHealth(store, { resolver }));
        return [200, report];
      },
    },
  ];

  return createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const matching = routes.filter((r) => r.pattern.test(url.pathname));
      try {
        if (matching.length === 0) throw new HttpError(404, 'Not found');
        const route = matching.find((r) => r.method === request.method);
        if (!route) throw new HttpError(405, `Use ${matching.map((r) => r.method).join(' or ')} on ${url.pathname}`);
        const params = route.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
        const [status, body] = await route.handle(request, url, params);
        send(response, status, body);
      } catch (error) {
        if (error instanceof HttpError) send(response, error.status, { error: error.message, ...(error.field !== undefined ? { field: error.field } : {}) });
        else send(response, 500, { error: 'Internal error' });
      }
    })();
  });
}

/** Parses with zod; the first issue becomes a 400 that names the field. */
function parse<T>(schema: z.ZodType<T>, input: unknown, prefix: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.');
  const field = [prefix, path].filter(Boolean).join('.') || '(body)';
  const message = issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message;
  throw new HttpError(400, `${field} ${message}`, field);
}

/** A store or validation error: 409 for a held run lock, 400 for bad input, 503 otherwise. */
function unwrap<T>(result: Result<T, StoreError | ValidationError>): T {
  if (result.isOk()) return result.value;
  const error = result.error;
  if (error._tag === 'RunInProgress') throw new HttpError(409, error.message);
  if (error._tag === 'ValidationError') throw new HttpError(400, error.message, error.field);
  throw new HttpError(503, error.message);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 1_000_000) throw new HttpError(413, 'Request body too large');
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, '(body) is not valid JSON', '(body)');
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
