// Runs the service once: `npx tsx examples/service-hooks/main.ts` from the repository root.
import { openExampleDatabase } from '../shared/example-database.js';
import { createLearningService } from './learning-service.js';

const db = await openExampleDatabase();
const service = createLearningService({ pool: db.pool });

// Learner 3 earns enough for INTERNSHIP level 2: the progress levels up and, in the same
// transaction, the missing license is created at level 2.
const gain = await service.recordProgressGain(3, 'INTERNSHIP', { xp: 10_000, sessions: 5, theoryHours: 60, practiceHours: 60 });
if (gain.isOk()) {
  console.log(`progress ${gain.value.progress.before.level} → ${gain.value.progress.after.level};`, 'license:', gain.value.sync.actions.map((a) => a.kind).join(', ') || 'already in step');
} else console.log('refused:', gain.error.message);

// Staff advance learner 5's license from 4 to 5: the progress record follows in the same transaction.
const advanced = await service.advanceLicense(5, 'LFA_FOOTBALL_PLAYER', 5, 900, 'Passed the assessment');
if (advanced.isOk()) console.log(`license ${advanced.value.fromLevel} → ${advanced.value.toLevel};`, 'progress:', advanced.value.sync.actions.map((a) => a.kind).join(', ') || 'already in step');
else console.log('refused:', advanced.error.message);

// Skipping a level is refused and nothing is written.
const skip = await service.advanceLicense(1, 'LFA_COACH', 5, 900, 'Too fast');
console.log('advance LFA_COACH 2 → 5:', skip.isErr() ? skip.error.message : 'accepted?!');

await db.close();
