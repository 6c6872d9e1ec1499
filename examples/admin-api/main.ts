// Runs the admin API: `npx tsx examples/admin-api/main.ts` from the repository root
// (DATABASE_URL for your server; without it, an in-memory PGlite with sample learners).
import { openExampleDatabase } from '../shared/example-database.js';
import { createAdminApi } from './admin-api.js';

const db = await openExampleDatabase();
const server = createAdminApi({ pool: db.connection });
const port = Number(process.env.PORT ?? 3000);
server.listen(port, () => {
  console.log(`levelsync admin API on http://localhost:${port} (${db.description})`);
  console.log(`  curl -H 'X-User: instructor:7' 'http://localhost:${port}/admin/sync/desync-issues?limit=10'`);
  console.log(`  curl -H 'X-User: admin:1' -H 'content-type: application/json' -X POST -d '{"dry_run": false}' http://localhost:${port}/admin/sync/all`);
});
const stop = () => server.close(() => void db.close().then(() => process.exit(0)));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
