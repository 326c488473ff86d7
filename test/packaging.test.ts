/**
 * What an `npm install @weft/<pkg>` user gets: the built dist loads through the
 * package's exports map under both `require` and `import`, both expose the same
 * names, and a consumer compiled with NodeNext resolution type-checks against
 * the emitted declarations. Needs `npm run build` first (CI builds before tests).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeWith, type Capability } from '../test-support/capabilities';

const root = join(__dirname, '..');
const packages = ['vxlan', 'crypto', 'ipam', 'raft', 'core'];

function builtCapability(): Capability {
  const missing = packages.filter((p) => !existsSync(join(root, 'packages', p, 'dist', 'index.js')));
  return missing.length === 0 ? { ok: true, reason: '' } : { ok: false, reason: `run \`npm run build\` first (no dist for ${missing.join(', ')})` };
}

function nodeEval(code: string, type: 'commonjs' | 'module'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8', timeout: 30_000 });
}

describeWith(builtCapability(), 'built packages', () => {
  it.each(packages)('@weft/%s loads with require and import and exposes the same names', (name) => {
    const cjs = JSON.parse(nodeEval(`console.log(JSON.stringify(Object.keys(require('@weft/${name}')).sort()))`, 'commonjs')) as string[];
    const esm = JSON.parse(nodeEval(`const m = await import('@weft/${name}'); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()))`, 'module')) as string[];
    expect(cjs.length).toBeGreaterThan(0);
    expect(esm).toEqual(cjs);
  });

  it('a NodeNext consumer type-checks against the emitted declarations', () => {
    // Inside the repo so Node-style resolution walks up to its node_modules.
    mkdirSync(join(root, '.tmp'), { recursive: true });
    const dir = mkdtempSync(join(root, '.tmp', 'consumer-'));
    try {
      const imports = packages.map((p) => `import * as ${p} from '@weft/${p}';`).join('\n');
      writeFileSync(join(dir, 'consumer.mts'), `${imports}\nexport const all = [${packages.join(', ')}];\n`);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] },
          files: ['consumer.mts'],
        }),
      );
      try {
        execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')], {
          cwd: root,
          encoding: 'utf8',
          timeout: 60_000,
        });
      } catch (err) {
        const out = (err as { stdout?: string }).stdout ?? '';
        throw new Error(`consumer type-check failed:\n${out}`, { cause: err });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
