/**
 * A V8 code cache for the `weft` process (what `module.enableCompileCache()`
 * does natively from Node 22.1; Node 20 has no such switch). Every CommonJS
 * file the process loads is compiled through `vm.Script` with the bytecode a
 * previous run left in the cache dir; at exit the bytecode of files that had
 * none (or whose cache V8 rejected) is written back once the run compiled
 * the functions it used, so the next start skips both the parse and the lazy
 * compiles (the cache is written 3 s after the start, and at exit). V8 checks each cache against its source (a changed file makes it
 * rejected and rewritten); the cache file name carries the path, size, mtime
 * and the Node version.
 *
 * The cache dir is `$WEFT_COMPILE_CACHE`, else `$XDG_CACHE_HOME/weft/v8` or
 * `~/.cache/weft/v8`, created 0700 and used only when owned by this user
 * (cached bytecode runs as code); `WEFT_COMPILE_CACHE=off` turns it off. Any
 * failure (unwritable dir, a Node without the hooks used) leaves loading as it
 * was: the cache only ever makes a start faster.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';

interface InternalModule {
  id: string;
  filename: string;
  paths: string[];
  exports: unknown;
  require(id: string): unknown;
  _compile(content: string, filename: string): unknown;
}
interface ModuleStatics {
  prototype: InternalModule;
  wrap(content: string): string;
  _resolveFilename(request: string, parent: InternalModule, isMain: boolean, options?: unknown): string;
  _extensions: unknown;
  _cache: unknown;
}

/** When the bytecode compiled so far is written (ms after the process starts): a node has started by then. */
const FLUSH_AFTER_MS = 3000;

/** The cache dir to use, or undefined when caching is off or the dir cannot be trusted. */
function cacheDir(): string | undefined {
  const env = process.env.WEFT_COMPILE_CACHE;
  if (env === 'off' || env === '0') return undefined;
  const dir = env !== undefined && env !== '' ? env : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'weft', 'v8');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = statSync(dir);
    if (!st.isDirectory() || (process.getuid !== undefined && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/**
 * Installs the cache for every CommonJS file loaded after this call (the
 * caller then `require`s the real entry). Returns false when it stayed off.
 */
export function installCompileCache(): boolean {
  const dir = cacheDir();
  const M = Module as unknown as ModuleStatics;
  if (dir === undefined || typeof M.wrap !== 'function' || typeof M.prototype._compile !== 'function') return false;
  const pending = new Map<string, Script>();
  const original = M.prototype._compile;
  M.prototype._compile = function compileCached(this: InternalModule, content: string, filename: string): unknown {
    let key: string;
    try {
      const st = statSync(filename);
      key = createHash('sha256').update(`${process.version}\0${filename}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 32);
    } catch {
      return original.call(this, content, filename);
    }
    const file = join(dir, key);
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(file);
    } catch {
      cachedData = undefined;
    }
    let script: Script;
    try {
      script = new Script(M.wrap(content.startsWith('#!') ? '//' + content.slice(2) : content), {
        filename,
        ...(cachedData !== undefined ? { cachedData } : {}),
        // import() inside a cached file resolves as it would in Node's own loader (Node >= 20.17 has this constant).
        ...(vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER !== undefined ? { importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER as never } : {}),
      });
    } catch {
      // A syntax error and the like: let Node report it its own way.
      return original.call(this, content, filename);
    }
    if (cachedData === undefined || script.cachedDataRejected === true) pending.set(file, script);
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const mod = this;
    const require = Object.assign((id: string) => mod.require(id), {
      resolve: (request: string, options?: unknown) => M._resolveFilename(request, mod, false, options),
      main: process.mainModule,
      extensions: M._extensions,
      cache: M._cache,
    });
    return fn.call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
  };
  const flush = (): void => {
    for (const [file, script] of pending) {
      pending.delete(file);
      try {
        const tmp = `${file}.${process.pid}.tmp`;
        const fd = openSync(tmp, 'w', 0o600);
        try {
          writeFileSync(fd, script.createCachedData());
          fstatSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file);
      } catch {
        // an unwritable cache costs the next start its speed, nothing else
      }
    }
  };
  // Written once the start is over (a node process may well end by a signal, without an exit event), then at exit.
  setTimeout(flush, FLUSH_AFTER_MS).unref();
  process.once('exit', flush);
  return true;
}
