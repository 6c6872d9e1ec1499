#!/usr/bin/env node
// The API report: every name each public entry point exports, with its signature, as the
// TypeScript compiler sees it in the sources. The reports are committed under api/; the test
// test/api/api-report.test.ts regenerates them in memory and fails with a diff when the public
// surface changed and api/ was not updated, so that a change to the surface is a deliberate diff.
//
//   npm run api:update        rewrite api/*.api.txt from the sources
//   node scripts/api-report.mjs --check   exit 1 (with a diff) when api/ is out of date
//   node scripts/api-report.mjs --count   how many names each entry point exports
//
// The output is deterministic: names sorted, whitespace normalised, no absolute path.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The public entry points: the package specifier, its source and its report file under api/. */
export const ENTRY_POINTS = [
  { specifier: 'levelsync', source: 'src/index.ts', report: 'api/levelsync.api.txt' },
  { specifier: 'levelsync/pg', source: 'src/pg/index.ts', report: 'api/levelsync-pg.api.txt' },
  { specifier: 'levelsync/testing', source: 'src/testing/index.ts', report: 'api/levelsync-testing.api.txt' },
];

const NODE_FLAGS =
  ts.NodeBuilderFlags.NoTruncation |
  ts.NodeBuilderFlags.UseSingleQuotesForStringLiteralType |
  ts.NodeBuilderFlags.UseAliasDefinedOutsideCurrentScope |
  ts.NodeBuilderFlags.IgnoreErrors;

const printer = ts.createPrinter({ removeComments: true, omitTrailingSemicolon: true });
const scratch = ts.createSourceFile('api-report.ts', '', ts.ScriptTarget.Latest);

/**
 * Prints a node the compiler built, with the members of every union sorted: the checker orders
 * a union by type creation order, which depends on what was checked first, so without sorting an
 * unrelated change could reorder `A | B` in the report.
 */
function print(node) {
  const text = (n) => printer.printNode(ts.EmitHint.Unspecified, n, scratch);
  const sortUnions = (context) => {
    const visit = (n) => {
      const visited = ts.visitEachChild(n, visit, context);
      if (!ts.isUnionTypeNode(visited)) return visited;
      const sorted = [...visited.types].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
      return context.factory.updateUnionTypeNode(visited, context.factory.createNodeArray(sorted));
    };
    return (root) => ts.visitNode(root, visit);
  };
  const result = ts.transform(node, [sortUnions]);
  const out = text(result.transformed[0]);
  result.dispose();
  return portable(out);
}

/** Rewrites what could depend on the machine (absolute paths in `import("…")` types), normalises whitespace. */
function portable(text) {
  return text
    .replace(/import\("([^"]*)"\)/g, (_, path) => {
      const np = path.split(sep).join('/');
      const nm = np.lastIndexOf('/node_modules/');
      if (nm >= 0) {
        const rest = np.slice(nm + '/node_modules/'.length).split('/');
        return `import("${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}")`;
      }
      const rel = np.startsWith('/') || /^[A-Za-z]:\//.test(np) ? relative(root, np).split(sep).join('/') : np;
      return `import("${rel}")`;
    })
    .replace(/\s+/g, ' ')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .replace(/;\s*}/g, '; }')
    .trim();
}

function typeText(checker, type, at, extra = 0) {
  const node = checker.typeToTypeNode(type, at, NODE_FLAGS | extra);
  return node ? print(node) : portable(checker.typeToString(type, at, ts.TypeFormatFlags.NoTruncation));
}

/** `<T>(a: A, b?: B): R` for a signature, unions sorted. */
function signatureText(checker, signature, at) {
  const declaration = checker.signatureToSignatureDeclaration(signature, ts.SyntaxKind.MethodSignature, at, NODE_FLAGS);
  if (!declaration) return portable(checker.signatureToString(signature, at));
  const typeParameters = declaration.typeParameters?.length ? `<${declaration.typeParameters.map(print).join(', ')}>` : '';
  const parameters = declaration.parameters.map(print).join(', ');
  return `${typeParameters}(${parameters}): ${declaration.type ? print(declaration.type) : 'void'}`;
}

function kindOf(symbol) {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.TypeAlias) return 'type';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.Variable) return 'const';
  return 'other';
}

function typeParameters(symbol) {
  const declaration = symbol.declarations?.find((d) => 'typeParameters' in d && d.typeParameters?.length);
  if (!declaration) return '';
  return `<${declaration.typeParameters.map((p) => portable(p.getText())).join(', ')}>`;
}

/** Members of an interface or class instance type, one per line, in declaration order. */
function members(checker, type, at) {
  const lines = [];
  for (const property of checker.getPropertiesOfType(type)) {
    const declaration = property.valueDeclaration ?? property.declarations?.[0];
    const modifiers = declaration ? ts.getCombinedModifierFlags(declaration) : 0;
    if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
    if (property.name.startsWith('#') || property.name.startsWith('__@')) continue;
    const readonly = modifiers & ts.ModifierFlags.Readonly ? 'readonly ' : '';
    const optional = property.flags & ts.SymbolFlags.Optional ? '?' : '';
    const propertyType = checker.getTypeOfSymbolAtLocation(property, declaration ?? at);
    if (property.flags & ts.SymbolFlags.Method) {
      for (const signature of propertyType.getCallSignatures()) lines.push(`${property.name}${optional}${signatureText(checker, signature, at)}`);
    } else {
      lines.push(`${readonly}${property.name}${optional}: ${typeText(checker, propertyType, at)}`);
    }
  }
  for (const signature of type.getCallSignatures()) lines.push(signatureText(checker, signature, at));
  for (const info of checker.getIndexInfosOfType(type)) {
    lines.push(`${info.isReadonly ? 'readonly ' : ''}[key: ${typeText(checker, info.keyType, at)}]: ${typeText(checker, info.type, at)}`);
  }
  return lines.map((line) => `  ${line}`);
}

function describe(checker, name, exported, at) {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const kind = kindOf(symbol);
  const out = [];
  switch (kind) {
    case 'function': {
      const type = checker.getTypeOfSymbolAtLocation(symbol, at);
      for (const signature of type.getCallSignatures()) out.push(`function ${name}${signatureText(checker, signature, at)}`);
      break;
    }
    case 'const': {
      const type = checker.getTypeOfSymbolAtLocation(symbol, at);
      out.push(`const ${name}: ${typeText(checker, type, at)}`);
      break;
    }
    case 'type': {
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      out.push(`type ${name}${typeParameters(symbol)} = ${typeText(checker, type, at, ts.NodeBuilderFlags.InTypeAlias)}`);
      break;
    }
    case 'interface': {
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      const bases = (type.getBaseTypes?.() ?? []).map((t) => typeText(checker, t, at));
      out.push(`interface ${name}${typeParameters(symbol)}${bases.length ? ` extends ${bases.join(', ')}` : ''} {`, ...members(checker, type, at), '}');
      break;
    }
    case 'class': {
      const staticType = checker.getTypeOfSymbolAtLocation(symbol, at);
      const instance = checker.getDeclaredTypeOfSymbol(symbol);
      out.push(`class ${name}${typeParameters(symbol)} {`);
      for (const signature of staticType.getConstructSignatures()) {
        out.push(`  constructor${signatureText(checker, signature, at).replace(/: [^:]*$/, '')}`);
      }
      out.push(...members(checker, instance, at), '}');
      break;
    }
    default:
      out.push(`${kind} ${name}`);
  }
  return out.join('\n');
}

/**
 * A program over the entry points' sources with the repository's compiler options. `overrides`
 * replaces the text of some files (paths relative to the repository root), for the test that
 * proves the check catches a change; `oldProgram` lets such a second program reuse the first.
 */
export function createApiProgram({ overrides = {}, oldProgram } = {}) {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.json could not be read');
  const options = { ...config.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const replaced = new Map(Object.entries(overrides).map(([path, text]) => [join(root, path), text]));
  if (replaced.size > 0) {
    const { readFile, getSourceFile } = host;
    host.readFile = (name) => replaced.get(name) ?? readFile.call(host, name);
    host.getSourceFile = (name, language, onError, create) =>
      replaced.has(name) ? ts.createSourceFile(name, replaced.get(name), language, true) : getSourceFile.call(host, name, language, onError, create);
  }
  return ts.createProgram({ rootNames: ENTRY_POINTS.map((e) => join(root, e.source)), options, host, oldProgram });
}

/** The exported names of one entry point, sorted: [name, 'value' | 'type']. */
export function exportedNames(program, source) {
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(join(root, source));
  if (!file) throw new Error(`${source} is not in the program`);
  const module = checker.getSymbolAtLocation(file);
  return checker
    .getExportsOfModule(module)
    .map((exported) => {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      return [exported.name, symbol.flags & ts.SymbolFlags.Value ? 'value' : 'type'];
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The report of one entry point, as committed under api/. */
export function apiReport(program, entry) {
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(join(root, entry.source));
  if (!file) throw new Error(`${entry.source} is not in the program`);
  const module = checker.getSymbolAtLocation(file);
  const exports = checker.getExportsOfModule(module).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = exportedNames(program, entry.source);
  const values = names.filter(([, k]) => k === 'value').length;
  const header = [
    `// API report of \`${entry.specifier}\` (${entry.source}): ${names.length} names, ${values} values and ${names.length - values} types.`,
    '// Generated by scripts/api-report.mjs; regenerate with `npm run api:update`. Do not edit by hand.',
    '',
    '',
  ];
  return `${header.join('\n')}${exports.map((e) => describe(checker, e.name, e, file)).join('\n\n')}\n`;
}

/** Every report, by the file it goes to (relative to the repository root). */
export function apiReports(program = createApiProgram()) {
  return ENTRY_POINTS.map((entry) => ({ ...entry, text: apiReport(program, entry) }));
}

/** A line diff of two texts with two lines of context, enough to read what changed in a report. */
export function lineDiff(before, after, context = 2) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Longest common subsequence over lines; reports are a few thousand lines at most.
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push(`- ${a[i++]}`);
    else ops.push(`+ ${b[j++]}`);
  }
  const changed = ops.map((op) => !op.startsWith('  '));
  const shown = ops.map((_, k) => changed.slice(Math.max(0, k - context), k + context + 1).some(Boolean));
  const out = [];
  ops.forEach((op, k) => {
    if (shown[k]) out.push(op.trimEnd());
    else if (k > 0 && shown[k - 1]) out.push('  …');
  });
  return out.join('\n');
}

function readOr(path, fallback) {
  try {
    return readFileSync(path, 'utf8').replace(/\r\n/g, '\n');
  } catch {
    return fallback;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args.includes('--check')) {
    const reports = apiReports();
    let stale = 0;
    for (const report of reports) {
      const committed = readOr(join(root, report.report), '');
      if (committed === report.text) continue;
      stale++;
      console.error(`${report.report} is out of date (- committed, + sources):\n${lineDiff(committed, report.text)}\n`);
    }
    if (stale > 0) console.error('Run `npm run api:update` and commit api/ if the change is intended.');
    process.exit(stale > 0 ? 1 : 0);
  } else if (args.includes('--count')) {
    const program = createApiProgram();
    for (const entry of ENTRY_POINTS) {
      const names = exportedNames(program, entry.source);
      const values = names.filter(([, k]) => k === 'value').length;
      console.log(`${entry.specifier}: ${names.length} names (${values} values, ${names.length - values} types)`);
    }
  } else {
    for (const report of apiReports()) {
      mkdirSync(dirname(join(root, report.report)), { recursive: true });
      writeFileSync(join(root, report.report), report.text);
      console.log(`wrote ${report.report}`);
    }
  }
}
