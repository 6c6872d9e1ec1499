import type { CommandName } from './cli-options.js';

const CONNECTION = `Connection:
  --database-url <url>   PostgreSQL server, e.g. postgres://user:password@host:5432/db
                         (default: $DATABASE_URL; without either, the embedded database)
  --data-dir <dir>       Folder of the embedded PGlite database (default: .levelsync/data)
  --mapping <name>       levelsync (default: levelsync's own tables, see \`migrate\`) or
                         original (the original system's specialization_progress,
                         user_licenses, license_progressions and specializations tables)
  --schema <name>        Schema holding the tables (default: levelsync for --mapping
                         levelsync, public for --mapping original)`;

const OUTPUT = `Output:
  --json                 Print one JSON document on stdout and nothing else there
  -h, --help             Show this help`;

const FILTERS = `Filters (combine with AND):
  --specialization <id>  Only this specialization (repeat, or a comma list; legacy ids such
                         as PLAYER name their canonical id)
  --user <id>            Only this user (repeat, or a comma list)
  --shard <k/n>          Only the k-th of n disjoint parts of the users (hash of the user id),
                         so that n workers can split one run: 1/4, 2/4, 3/4, 4/4`;

const POLICY = `Policy (what a plan does about each desync):
  --direction <d>        higher-wins (default: the lower record is raised, nothing is
                         demoted), progress-to-license or license-to-progress
  --allow-demotion       Let the direction lower a level (default: such a change is flagged
                         for review instead; an admin-advanced license is never lowered)
  --missing <m>          create (default: a missing record is created from its counterpart)
                         or flag
  --above-max <a>        flag (default) or clamp (lower it to the maximum)`;

const APPLYING = `Applying:
  --batch-size <n>       Write actions per transaction (default 1000)
  --wait-for-lock        Wait for another run to finish instead of exiting with code 1`;

const EXIT_CODES = `Exit codes:
  0  in sync / done
  1  desyncs found (check, sync without --apply), actions failed or went stale (apply,
     sync --apply), health not "healthy", or another run holds the lock
  2  bad usage or configuration: unknown command or option, bad value, malformed or
     edited plan file, unknown specialization, bad or unreachable database, missing tables`;

const TOP = `levelsync: keep learners' progress levels and license levels in sync.

Usage: levelsync <command> [options]

Commands:
  check              List the desyncs (exit 1 when there is one to repair or review)
  plan               Write a reviewable plan file and print its review table
  apply <plan-file>  Apply a saved plan (actions whose records moved on are skipped as stale)
  sync               Plan and apply in one go: a DRY RUN unless --apply
  health             Consistency rate and status (healthy ≥ 99 %, degraded ≥ 95 %, critical)
  max-level <id>     A specialization's maximum level and where it came from
  migrate            Create or update levelsync's own tables
  demo               Seed an embedded database with realistic desyncs and repair them

Run \`levelsync <command> --help\` for the options of a command.

${CONNECTION}

${EXIT_CODES}

Examples:
  levelsync demo
  levelsync check --database-url postgres://app@db.internal/school --mapping original
  levelsync plan --specialization LFA_COACH --out coach-plan.json
  levelsync apply coach-plan.json
  levelsync sync --shard 2/4 --apply
`;

const HELP: Readonly<Record<CommandName, string>> = {
  check: `Usage: levelsync check [options]

Lists every desync: level mismatches, records missing on either side, duplicates, levels
above the maximum or invalid, unknown specializations and unreadable rows; rows stored under a
legacy id are summarised once per stored id (information only). Writes nothing.

Exit code: 0 when in sync (legacy ids alone do not count), 1 when there is something to
repair or review, 2 on bad usage or configuration.

${FILTERS}
  --limit <n>            Rows shown in the table, and listed by --json (default 20)
  --full                 With --json: list every desync (streamed as the scan runs)
  --list-legacy          One line per record stored under a legacy id (default: one
                         summary line per stored id: rows, pairs, canonical id)

${CONNECTION}

${OUTPUT}

Example:
  levelsync check --specialization PLAYER,INTERNSHIP --json
`,
  plan: `Usage: levelsync plan [options]

Finds the desyncs and writes a plan: every action with the state it expects to find, so that
\`levelsync apply\` writes nothing a concurrent change has touched. Prints the review table.
The file (JSON Lines: a header line, one action per line, a trailer line) is written as the
scan runs and fingerprinted: an edited or truncated plan is refused.

Exit code: 0 when the plan was written (even an empty one), 2 on bad usage or configuration.

  -o, --out <file>       Where to write the plan (default: levelsync-plan.jsonl)
  --limit <n>            Rows shown in the review table (default 20)
  --list-legacy          One line per record stored under a legacy id (default: one
                         summary line per stored id: rows, pairs, canonical id)

${POLICY}

${FILTERS}

${CONNECTION}

${OUTPUT}

Example:
  levelsync plan --direction progress-to-license --out p2l.jsonl
`,
  apply: `Usage: levelsync apply <plan-file> [options]

Applies a saved plan in batches, each batch one transaction. Each action is written only if
its records are still exactly as the plan saw them; otherwise it is reported stale and
skipped, never overwritten. Re-applying an applied plan changes nothing. Actions flagged for
review are listed and never written. Ctrl-C stops between batches. The whole file is verified
(every line, the fingerprint) before the first write.

Exit code: 0 when every write action was applied (flagged ones are left for review), 1 when
an action went stale or failed or another run holds the lock, 2 when the plan file is
missing, malformed or edited, or on bad configuration.

${APPLYING}
  --limit <n>            Rows listed per kind of outcome (default 20)
  --full                 With --json: list every stale, failed and flagged action

${CONNECTION}

${OUTPUT}
`,
  sync: `Usage: levelsync sync [options]

Plans and applies in one go. Without --apply this is a DRY RUN: it shows what would change
and writes nothing.

Exit code: without --apply, 0 when there is nothing to do and 1 when there is; with --apply,
0 when every write was applied (flagged actions are left for review), 1 when an action went
stale or failed or another run holds the lock; 2 on bad usage or configuration.

  --apply                Write the changes (default: dry run); batches are applied as the
                         scan finds them, so memory stays bounded
  --limit <n>            Rows shown in the table (default 20)
  --full                 With --json: list every stale, failed and flagged action
  --list-legacy          One line per record stored under a legacy id (default: one
                         summary line per stored id: rows, pairs, canonical id)

${POLICY}

${APPLYING}

${FILTERS}

${CONNECTION}

${OUTPUT}

Example:
  levelsync sync --shard 1/2 --apply   # and --shard 2/2 on another worker
`,
  health: `Usage: levelsync health [options]

Counts the pairs (orphans on both sides included) and the consistent ones:
healthy at ≥ 99 %, degraded at ≥ 95 %, critical below. Rows stored under a legacy id
are summarised once per stored id; they do not make a pair inconsistent.

Exit code: 0 when healthy, 1 when degraded or critical, 2 on bad usage or configuration.

${FILTERS}
  --list-legacy          One line per record stored under a legacy id (default: one
                         summary line per stored id: rows, pairs, canonical id)

${CONNECTION}

${OUTPUT}
`,
  'max-level': `Usage: levelsync max-level <specialization-id> [options]

Resolves a specialization's maximum level and says where it came from: the database
(repository), the cache, a stale cache, or the fallback constants; and whether a legacy
alias (PLAYER, COACH) was used.

Exit code: 0 when resolved, 2 when the id is invalid or unknown, or on bad configuration.

${CONNECTION}

${OUTPUT}

Example:
  levelsync max-level PLAYER
`,
  migrate: `Usage: levelsync migrate [options]

Creates or updates levelsync's own tables (specializations, progress, licenses,
license_progressions) in the schema; safe to run again. With no --database-url and no
DATABASE_URL it creates the embedded database in .levelsync/data.
The original system's tables (--mapping original) are yours: migrate refuses to touch them.

Exit code: 0 when done, 2 on bad usage or configuration.

${CONNECTION}

${OUTPUT}
`,
  demo: `Usage: levelsync demo [options]

Creates a fresh embedded database (PGlite, in .levelsync/demo, recreated on every run) with
the original system's tables and several thousand learners, plants every kind of desync,
then runs check → plan → apply → check and summarises what was fixed and what is left for
review. Needs no server. With --database-url it uses a dedicated schema (levelsync_demo,
dropped and recreated) on that server instead.

Exit code: 0 when the demo ran, 2 on bad usage or configuration.

  --database-url <url>   Run on this PostgreSQL server instead (default: embedded; the demo
                         ignores DATABASE_URL so that it never touches your data by accident)
  --data-dir <dir>       Folder of the demo's embedded database (default: .levelsync/demo;
                         only a folder the demo made is ever recreated)
  --schema <name>        Schema the demo creates on the server (default: levelsync_demo)
  --users <n>            Learners to create (default 4000)
  --seed <n>             Seed of the data generator (default 42: the same data every run)

${OUTPUT}
`,
};

export function topHelp(): string {
  return TOP;
}

export function commandHelp(command: CommandName): string {
  return HELP[command];
}
