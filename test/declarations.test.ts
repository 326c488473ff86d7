/**
 * One concept, one name (STYLE.md §12, issue 8): over the BUILT declaration
 * files of every package entry (each `exports` subpath's `require.types`),
 * no two packages export the same name — unless the name is
 * `@weft/interface`'s own export and every other package that exports it
 * re-exports that very declaration from `@weft/interface`. Two entries of one
 * package may share a name only for the same declaration.
 *
 * Origins are found with the TypeScript compiler: each export symbol is
 * followed through its aliases (`export { X } from '@weft/interface'`, tsup's
 * `export { a as X } from './chunk.js'`) to its declaration, and the
 * declaration's package is the nearest package.json above the (real) file.
 *
 * Builds nothing: CI builds before testing; locally run `npm run build` first.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as ts from 'typescript';
import { describeWith } from '../test-support/capabilities';
import { builtCapability, packageEntries } from '../test-support/package-entries';

const root = join(__dirname, '..');
const CONTRACTS = '@weft/interface';

/** One built entry: `@weft/raft/level` and its declaration file. */
export interface DeclarationEntry {
  readonly pkg: string;
  readonly entry: string;
  readonly file: string;
}

/** One exported name of one entry and the package that declares it. */
export interface ExportOrigin {
  /** The exported name. */
  readonly name: string;
  readonly entry: string;
  readonly pkg: string;
  /** Package whose files hold the declaration the name resolves to. */
  readonly declaredIn: string;
  /** The declaration's symbol (identity: the same declaration reached through two entries is one symbol). */
  readonly symbol: ts.Symbol;
}

const packageNameCache = new Map<string, string>();
/** The `name` of the nearest package.json above `file` (after resolving symlinks). */
function owningPackage(file: string): string {
  let dir = dirname(realpathSync(file));
  const start = dir;
  const cached = packageNameCache.get(start);
  if (cached) return cached;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      const name = (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name;
      if (name) {
        packageNameCache.set(start, name);
        return name;
      }
    }
    const up = dirname(dir);
    if (up === dir) return '(no package)';
    dir = up;
  }
}

/** Every exported name (values and types) of every entry, with where it is really declared. */
export function collectExports(entries: readonly DeclarationEntry[]): ExportOrigin[][] {
  const program = ts.createProgram(
    entries.map((e) => e.file),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true, types: [], skipLibCheck: true },
  );
  const checker = program.getTypeChecker();
  return entries.map((e) => {
    const source = program.getSourceFile(e.file);
    if (!source) throw new Error(`${e.entry}: cannot read ${e.file}`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (!moduleSymbol) return [];
    return checker.getExportsOfModule(moduleSymbol).map((exported) => {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const declaration = symbol.declarations?.[0];
      const declaredIn = declaration ? owningPackage(declaration.getSourceFile().fileName) : '(unresolved)';
      return { name: exported.getName(), entry: e.entry, pkg: e.pkg, declaredIn, symbol };
    });
  });
}

/**
 * The violations in `perEntry` (from {@link collectExports}): a name exported
 * by two packages that is not the contracts package's own, re-exported
 * unchanged; or one package exporting two different declarations under one name.
 */
export function findDuplicates(perEntry: readonly (readonly ExportOrigin[])[], contracts = CONTRACTS): string[] {
  const byName = new Map<string, ExportOrigin[]>();
  for (const list of perEntry) {
    for (const origin of list) {
      const all = byName.get(origin.name) ?? [];
      all.push(origin);
      byName.set(origin.name, all);
    }
  }
  const problems: string[] = [];
  for (const [name, origins] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const packages = [...new Set(origins.map((o) => o.pkg))];
    const contractsOwn = origins.find((o) => o.pkg === contracts && o.declaredIn === contracts);
    if (packages.length > 1) {
      const foreign = origins.filter((o) => !(contractsOwn && o.declaredIn === contracts && o.symbol === contractsOwn.symbol));
      const foreignPackages = [...new Set(foreign.map((o) => o.pkg))];
      if (foreignPackages.length > 0 && (contractsOwn !== undefined || foreignPackages.length > 1)) {
        const where = origins.map((o) => `${o.entry} (declared in ${o.declaredIn})`).join(', ');
        problems.push(`${name}: exported by ${where}`);
      }
      continue;
    }
    // One package: its entries may share a name only for the same declaration.
    if (new Set(origins.map((o) => o.symbol)).size > 1) {
      problems.push(`${name}: two different declarations in ${origins.map((o) => o.entry).join(', ')}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------

function builtEntries(): DeclarationEntry[] {
  return packageEntries()
    .filter((e) => e.require?.types !== undefined)
    .map((e) => ({ pkg: e.pkg, entry: e.entry, file: join(root, 'packages', e.dir, e.require?.types ?? '') }));
}

describeWith(builtCapability(), 'built declarations', () => {
  const entries = builtEntries();
  let perEntry: ExportOrigin[][] = [];
  beforeAll(() => {
    perEntry = collectExports(entries);
  });

  it('reads every entry of every package, each exporting something', () => {
    expect(entries.map((e) => e.entry)).toEqual(expect.arrayContaining(['@weft/interface', '@weft/vxlan', '@weft/crypto', '@weft/ipam', '@weft/raft', '@weft/raft/level', '@weft/raft/testing', '@weft/core']));
    for (const [i, list] of perEntry.entries()) expect([entries[i]?.entry, list.length > 0]).toEqual([entries[i]?.entry, true]);
  });

  it('no two packages export the same name, except @weft/interface re-exports', () => {
    expect(findDuplicates(perEntry)).toEqual([]);
  });

  it('sees re-exports from @weft/interface as the contracts package own declarations', () => {
    const raft = perEntry[entries.findIndex((e) => e.entry === '@weft/raft')] ?? [];
    expect(raft.find((o) => o.name === 'InvalidOptionsError')?.declaredIn).toBe('@weft/interface');
    expect(raft.find((o) => o.name === 'RaftError')?.declaredIn).toBe('@weft/raft');
  });
});

describe('findDuplicates on synthetic packages', () => {
  let dir = '';
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const pkg = (name: string, dts: string): DeclarationEntry => {
    write(`node_modules/${name}/package.json`, JSON.stringify({ name, types: './index.d.ts' }));
    write(`node_modules/${name}/index.d.ts`, dts);
    return { pkg: name, entry: name, file: join(dir, 'node_modules', name, 'index.d.ts') };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-declarations-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes re-exports of the contracts package and fails on a deliberate duplicate', () => {
    const contracts = pkg('@weft/interface', 'export declare class InvalidOptionsError extends Error {}\nexport interface Underlay { send(): void }\nexport declare function helper(): void;\n');
    const a = pkg(
      '@weft/a',
      "import { Underlay } from '@weft/interface';\nexport { InvalidOptionsError, Underlay } from '@weft/interface';\nexport declare class Duplicated {}\nexport declare function own(u: Underlay): void;\n",
    );
    const b = pkg(
      '@weft/b',
      "export { InvalidOptionsError } from '@weft/interface';\nexport declare class Duplicated {}\nexport interface Underlay { send(): void }\nexport declare function helper(): void;\nexport declare const own: number;\n",
    );
    const problems = findDuplicates(collectExports([contracts, a, b]));
    // InvalidOptionsError (re-exported by both) passes; a copied contract, a shared own name, and interface's name redefined fail.
    expect(problems.map((p) => p.split(':')[0])).toEqual(['Duplicated', 'helper', 'own', 'Underlay']);
    expect(problems.find((p) => p.startsWith('Underlay:'))).toContain('@weft/b (declared in @weft/b)');
  });

  it('flags a re-export under another name that collides, and two declarations in one package', () => {
    const contracts = pkg('@weft/interface', 'export declare class MalformedPacketError extends Error {}\n');
    const c = pkg('@weft/c', "export { MalformedPacketError as PacketError } from '@weft/interface';\n");
    const d = pkg('@weft/d', 'export declare class PacketError extends Error {}\n');
    write('node_modules/@weft/d/sub.d.ts', 'export declare class Other {}\nexport declare class PacketError2 {}\n');
    const dSub: DeclarationEntry = { pkg: '@weft/d', entry: '@weft/d/sub', file: join(dir, 'node_modules/@weft/d/sub.d.ts') };
    write('node_modules/@weft/d/sub2.d.ts', 'export declare class Other {}\n');
    const dSub2: DeclarationEntry = { pkg: '@weft/d', entry: '@weft/d/sub2', file: join(dir, 'node_modules/@weft/d/sub2.d.ts') };
    expect(findDuplicates(collectExports([contracts, c, d, dSub, dSub2])).map((p) => p.split(':')[0])).toEqual(['Other', 'PacketError']);
  });
});
