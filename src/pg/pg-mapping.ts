/**
 * The mapping's public face: its schema and derived types (`mapping/schema.ts`), validation
 * (`mapping/parse.ts`), the merge builder (`mapping/patch.ts`) and the shipped presets
 * (`mapping/presets.ts`).
 *
 * @module
 */
export { PgMappingSchema } from './mapping/schema.js';
export type { PgLicensesMapping, PgMapping, PgProgressionsMapping, PgProgressMapping, PgSpecializationsMapping, PgUserIdType } from './mapping/schema.js';
export { parsePgMapping, requireMapping } from './mapping/parse.js';
export { createPgMapping, type PgMappingPatch } from './mapping/patch.js';
export { createLevelsyncMapping, LEVELSYNC_MAPPING, ORIGINAL_SYSTEM_MAPPING, type LevelsyncSchemaOptions } from './mapping/presets.js';
