// Types of scripts/api-report.mjs, for the test that imports it.
import type ts from 'typescript';

export interface EntryPoint {
  /** The package specifier: `levelsync`, `levelsync/pg`, `levelsync/testing`. */
  readonly specifier: string;
  /** Its source, relative to the repository root. */
  readonly source: string;
  /** Its committed report, relative to the repository root. */
  readonly report: string;
}
export const ENTRY_POINTS: readonly EntryPoint[];
export function createApiProgram(options?: { readonly overrides?: Readonly<Record<string, string>>; readonly oldProgram?: ts.Program }): ts.Program;
export function exportedNames(program: ts.Program, source: string): [name: string, kind: 'value' | 'type'][];
export function apiReport(program: ts.Program, entry: EntryPoint): string;
export function apiReports(program?: ts.Program): (EntryPoint & { readonly text: string })[];
export function lineDiff(before: string, after: string): string;
