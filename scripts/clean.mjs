// Removes the build output (both tsup configurations write into dist/, so neither cleans it).
import { rmSync } from 'node:fs';
rmSync('dist', { recursive: true, force: true });
