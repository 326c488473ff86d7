/**
 * The public entries of the workspace's packages, read from each
 * `packages/*\/package.json` `exports` map: what the root tests (bad options,
 * declarations, packaging) iterate over, so a new subpath is covered the
 * moment it is exported.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Capability } from './capabilities';

/** One condition's targets in an `exports` map. */
export interface ExportTargets {
  readonly types?: string;
  readonly default?: string;
}

/** One public entry: `@weft/raft/level` is package `@weft/raft`, subpath `./level`. */
export interface PackageEntry {
  /** Package name, `@weft/raft`. */
  readonly pkg: string;
  /** The package's directory name under `packages/`, `raft`. */
  readonly dir: string;
  /** What a consumer imports, `@weft/raft/level`. */
  readonly entry: string;
  /** The `exports` key, `./level` (`.` for the main entry). */
  readonly subpath: string;
  readonly import?: ExportTargets;
  readonly require?: ExportTargets;
}

/** The workspace root (this file lives in `test-support/`). */
export const workspaceRoot = join(__dirname, '..');

interface PackageJson {
  name: string;
  exports?: Record<string, string | { import?: ExportTargets; require?: ExportTargets }>;
}

/** Every `exports` subpath (except `./package.json`) of every package, in directory order. */
export function packageEntries(root = workspaceRoot): PackageEntry[] {
  const entries: PackageEntry[] = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const file = join(root, 'packages', dir, 'package.json');
    if (!existsSync(file)) continue;
    const pj = JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
    for (const [subpath, target] of Object.entries(pj.exports ?? { '.': {} })) {
      if (subpath === './package.json') continue;
      const conditions = typeof target === 'string' ? {} : target;
      entries.push({
        pkg: pj.name,
        dir,
        entry: subpath === '.' ? pj.name : `${pj.name}/${subpath.slice(2)}`,
        subpath,
        ...(conditions.import ? { import: conditions.import } : {}),
        ...(conditions.require ? { require: conditions.require } : {}),
      });
    }
  }
  return entries;
}

/** Built when every entry's `require` and `import` targets exist (`npm run build` makes them). */
export function builtCapability(root = workspaceRoot): Capability {
  const missing: string[] = [];
  for (const e of packageEntries(root)) {
    for (const t of [e.require?.default, e.require?.types, e.import?.default, e.import?.types]) {
      if (t !== undefined && !existsSync(join(root, 'packages', e.dir, t))) missing.push(`${e.dir}/${t.replace(/^\.\//, '')}`);
    }
  }
  return missing.length === 0 ? { ok: true, reason: '' } : { ok: false, reason: `run \`npm run build\` first (missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''})` };
}
