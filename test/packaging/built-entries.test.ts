/**
 * The built dist of every entry of every package (each `exports` subpath)
 * loads through the workspace's own links under both `require` and `import`,
 * and both expose the same names. Quick; the full consumer check from packed
 * tarballs is `tarballs.test.ts`. Needs `npm run build` first (CI builds
 * before testing).
 */
import { execFileSync } from 'node:child_process';
import { describeWith } from '../../test-support/capabilities';
import { builtCapability, packageEntries, workspaceRoot } from '../../test-support/package-entries';

const entries = packageEntries().map((e) => e.entry);

function nodeEval(code: string, type: 'commonjs' | 'module'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: workspaceRoot, encoding: 'utf8', timeout: 30_000 });
}

describeWith(builtCapability(), 'built entries', () => {
  it.each(entries)('%s loads with require and import and exposes the same names', (entry) => {
    const cjs = JSON.parse(nodeEval(`console.log(JSON.stringify(Object.keys(require('${entry}')).sort()))`, 'commonjs')) as string[];
    const esm = JSON.parse(
      nodeEval(`const m = await import('${entry}'); console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default').sort()))`, 'module'),
    ) as string[];
    expect(cjs.length).toBeGreaterThan(0);
    expect(esm).toEqual(cjs);
  });
});
