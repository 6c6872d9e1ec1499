// The help text of every command. Over 300 lines because it is prose: one block per command.
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
  --users-file <path|->  Only the users listed in this file, one id per line (- reads
                         standard input; # starts a comment); for lists too long for --user
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
  --wait-for-lock        Wait for another run to finish instead of exiting with code 1
                         (the run lock is taken before the scan, so nothing goes stale)
  --lock-timeout <t>     Longest wait for a row another session has locked, per statement
                         (default 5s; 0: no limit); a batch that times out is rolled back,
                         retried, then reported`;

const EXIT_CODES = `Exit codes:
  0    in sync / done (actions flagged for review alone do not count in apply and sync)
  1    work remains: desyncs found (check), write actions to do (sync without --apply),
       actions stale, failed or not attempted (apply, sync --apply), health not "healthy",
       another run holds the run lock or the embedded database, the run lock was lost
  2    bad usage or configuration: unknown command or option, bad value, malformed, edited
       or unapproved plan file, unknown specialization, bad or unreachable database,
       missing tables, a schema newer than this release
  70   internal error (a bug: please report it)
  130  stopped by SIGINT (Ctrl-C); 143: by SIGTERM. The report is printed first.`;

const TOP = `levelsync: keep learners' progress levels and license levels in sync.

Usage: levelsync <command> [options]

Commands:
  check              List the desyncs (exit 1 when there is one to repair or review)
  plan               Write a reviewable plan file and print its review table
  apply <plan-file>  Apply a saved plan (actions whose records moved on are skipped as stale)
  sync               Plan and apply in one go: a DRY RUN unless --apply
  health             Consistency rate and status (healthy ≥ 99 %, degraded ≥ 95 %, critical)
  max-level <id>     A specialization's maximum level and where it came from
  migrate            Create or update levelsync's own tables (change capture included)
  cleanup-duplicates Archive duplicate rows per (user, specialization): a DRY RUN unless --apply
  watch              Continuous mode: repair every captured change as it commits
  capture <action>   install or uninstall change capture on a mapped schema (--dry-run prints the DDL)
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
legacy id are summarised once per stored id (information only). Writes nothing. With --pending,
only the pairs with a captured change waiting for a reconciler (cost independent of the table
size; needs change capture).

Exit code: 0 when in sync (legacy ids alone do not count), 1 when there is something to
repair or review, 2 on bad usage or configuration.

${FILTERS}
  --limit <n>            Rows shown in the table, and listed by --json (default 20)
  --full                 With --json: list every desync (streamed as the scan runs)
  --list-legacy          One line per record stored under a legacy id (default: one
                         summary line per stored id: rows, pairs, canonical id)
  --pending              Only the pairs with a pending captured change (filters do not apply)

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

Exit code: 0 when every write action was applied or already applied (flagged ones are left
for review), 1 when an action went stale or failed or another run holds the lock, 2 when the
plan file is missing, malformed, edited or not the approved one, or on bad configuration.

  --expect-fingerprint <fp>  Apply only the plan with this fingerprint (the one a reviewer
                         approved: \`levelsync plan\` prints it); another plan is exit 2

${APPLYING}
  --limit <n>            Rows listed per kind of outcome (default 20)
  --full                 With --json: list every stale, failed and flagged action

${CONNECTION}

${OUTPUT}
`,
  sync: `Usage: levelsync sync [options]

Plans and applies in one go. Without --apply this is a DRY RUN: it shows what would change
and writes nothing.

Exit code: without --apply, 0 when there is nothing to write (actions flagged for review
alone do not count, as with --apply) and 1 when there is; with --apply, 0 when every write
was applied (flagged actions are left for review), 1 when an action went
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
are summarised once per stored id; they do not make a pair inconsistent. Where change capture
is installed it also reports the pending changes and the age of the oldest (the reconcilers' lag).

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
  'cleanup-duplicates': `Usage: levelsync cleanup-duplicates [--apply] [options]

Finds duplicate rows per (user, specialization) — possible where the tables have no unique
key, as the original schema in some eras — and, with --apply, keeps the row with the highest
level (then the latest update) and MOVES the others to <table>_archive (nothing is deleted),
re-pointing their history rows to the kept license. One transaction. A DRY RUN (counts only)
unless --apply. With --apply it takes the run lock first, like sync --apply. Afterwards, add
the unique keys.

Exit code: 0 when there is nothing to clean or it was cleaned, 1 when a dry run found
duplicates or another run holds the run lock, 2 on bad usage or configuration.

  --apply                Move the duplicates (default: count them, change nothing)
  --wait-for-lock        With --apply: wait for another run to finish instead of exiting with
                         code 1

${CONNECTION}

${OUTPUT}

Example:
  levelsync cleanup-duplicates --mapping original            # what would move
  levelsync cleanup-duplicates --mapping original --apply
`,
  watch: `Usage: levelsync watch [options]

Continuous mode (needs change capture: \`levelsync migrate\` for levelsync's tables,
\`levelsync capture install\` for a mapped schema). Polls the change table, claims batches of
changed pairs (FOR UPDATE SKIP LOCKED: run as many watchers as you like), repairs them with
the policy and removes their keys in the same transaction. A full resync runs every
--resync-interval under the run lock. A changed maximum level invalidates the cache at once
(LISTEN). Prints one line per event (--json: one JSON object per line). Ctrl-C or SIGTERM
stops after the batch in flight.

Exit code: 0 after a graceful stop, 2 on bad usage or configuration.

  --batch-size <n>       Changes claimed per transaction (default 500)
  --resync-interval <d>  Full resync period: 6h (default), 30m, 90s, or 0 for none

${POLICY}

${CONNECTION}

${OUTPUT}

Example:
  levelsync watch --mapping original --database-url postgres://app@db/school --resync-interval 12h
`,
  capture: `Usage: levelsync capture install|uninstall [options]

Installs (or removes) change capture on the mapped tables, in one transaction: the table
<schema>.levelsync_changes, statement-level triggers on the progress and license tables that
record the (user, specialization) keys of the rows each statement wrote, and a trigger on the specializations table that
announces a changed maximum (NOTIFY levelsync_max_level). Uninstall removes all of it and
leaves the schema as it was. CREATE TRIGGER briefly locks each table against writes.

Exit code: 0 when done, 2 on bad usage or configuration.

  --dry-run              Print the DDL for review and run nothing (no database needed)
  --notify               The capture triggers also NOTIFY levelsync_changes, for your own
                         listeners (watch polls either way). NOTIFY makes every writing
                         transaction commit one at a time: keep it off under many writers
  --filter-updates       An UPDATE records a key only when a level (or the key) changed, so
                         XP-only updates queue nothing; costs every writing statement more
                         (an anti-join of the old and new rows). Without it every updated
                         row is queued and the reconciler finds XP-only changes in sync

${CONNECTION}

${OUTPUT}

Example:
  levelsync capture install --mapping original --dry-run > capture.sql
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
