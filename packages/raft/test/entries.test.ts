/**
 * The package's three entries: `@weft/raft` must not reach LevelDB (the
 * native classic-level addon) or the testing tools through any import chain,
 * and package.json's exports map must point at what tsup emits for each entry.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import * as raft from '../src';
import * as testing from '../src/testing';

const pkg = join(__dirname, '..');
const src = join(pkg, 'src');

/** Every file reachable from `entry` through relative imports, and every bare module it imports. */
function importGraph(entry: string): { files: Set<string>; modules: Set<string> } {
  const files = new Set<string>();
  const modules = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const ref of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const spec = ref.fileName;
      if (!spec.startsWith('.')) {
        modules.add(spec);
        continue;
      }
      const base = resolve(dirname(file), spec);
      const candidates = [`${base}.ts`, join(base, 'index.ts')];
      const found = candidates.find((c) => {
        try {
          readFileSync(c);
          return true;
        } catch {
          return false;
        }
      });
      if (found === undefined) throw new Error(`${relative(pkg, file)}: cannot resolve ${spec}`);
      visit(found);
    }
  };
  visit(entry);
  return { files, modules };
}

describe('entries', () => {
  it('@weft/raft reaches neither level nor the testing tools', () => {
    const { files, modules } = importGraph(join(src, 'index.ts'));
    expect(files.size).toBeGreaterThan(30);
    expect([...modules].filter((m) => /level/.test(m))).toEqual([]);
    expect([...files].map((f) => relative(src, f)).filter((f) => f.startsWith('level') || f.startsWith('testing'))).toEqual([]);
  });

  it('@weft/raft/level is where level is imported; @weft/raft/testing does not import it', () => {
    expect(importGraph(join(src, 'level', 'index.ts')).modules).toContain('level');
    expect([...importGraph(join(src, 'testing', 'index.ts')).modules].filter((m) => /level/.test(m))).toEqual([]);
  });

  it('the main entry exports no testing tool, no LevelStorage and no VERSION', () => {
    for (const name of ['checkLinearizability', 'kvModel', 'Prng', 'InvalidHistoryError', 'RaftTestingError', 'LevelStorage', 'VERSION', 'seededRandom']) {
      expect(Object.keys(raft)).not.toContain(name);
    }
    expect(Object.keys(testing).sort()).toEqual(['InvalidHistoryError', 'Prng', 'RaftTestingError', 'checkLinearizability', 'kvModel']);
  });

  it('package.json exports every tsup entry at the paths tsup emits', () => {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
      exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } } | string>;
      tsup: { entry: string[] };
      dependencies: Record<string, string>;
    };
    const subpaths = Object.keys(manifest.exports).filter((k) => k !== './package.json');
    expect(subpaths.sort()).toEqual(['.', './level', './testing']);
    expect(manifest.tsup.entry.sort()).toEqual(['src/index.ts', 'src/level/index.ts', 'src/testing/index.ts']);
    for (const entry of manifest.tsup.entry) {
      // tsup keeps the entries' paths relative to their common root, src/
      const out = `./dist/${entry.replace(/^src\//, '').replace(/\.ts$/, '')}`;
      const subpath = entry === 'src/index.ts' ? '.' : `./${dirname(entry.replace(/^src\//, ''))}`;
      expect(manifest.exports[subpath]).toEqual({
        import: { types: `${out}.d.mts`, default: `${out}.mjs` },
        require: { types: `${out}.d.ts`, default: `${out}.js` },
      });
    }
    expect(manifest.dependencies).toHaveProperty('level');
  });
});
