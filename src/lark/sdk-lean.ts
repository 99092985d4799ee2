import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// A lean copy of @larksuiteoapi/node-sdk for the running service, written by the build (`npm run build`, which
// `npm start` and `npm test` run) into node_modules/.cache/banli/.
//
// Why: the SDK is one 6 MB CommonJS file, and V8 keeps a module's source text for the life of the process. Its
// comments are in Chinese, so the text is held two bytes per character: 12 MB. The lean copy is the same code with
// the comments removed (TypeScript's own printer, nothing rewritten by hand) and the few non-ASCII characters left in
// string literals written as \u escapes, which mean the same character. That is 4 MB, held one byte per character.
// The copy is named by the installed SDK's version, size and file time, so an updated or patched SDK is never served
// an old copy; when there is no copy (a build that could not make one, `npm run dev` before a build), the service
// loads the original.

const require = createRequire(import.meta.url);

/** The SDK as installed. */
export function originalSdkPath(): string {
  return require.resolve('@larksuiteoapi/node-sdk');
}

/** The top node_modules folder the SDK is installed in. */
function nodeModulesOf(original: string): string {
  return original.slice(0, original.lastIndexOf(`${path.sep}node_modules${path.sep}`) + `${path.sep}node_modules`.length);
}

/**
 * What names the installed SDK: its package version, and the size and modification time of its file. An update
 * changes the version; an edit in place (a patch applied after install) changes the file's time. Read from a stat and
 * a small package.json at every start, where hashing the 6 MB file took 40 ms.
 */
function sdkStamp(original: string): string {
  const file = fs.statSync(original);
  let version = '';
  for (let dir = path.dirname(original); dir.length > nodeModulesOf(original).length; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      version = String((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version?: unknown }).version ?? '');
      break;
    }
  }
  return createHash('sha256').update(`${version}\0${file.size}\0${file.mtimeMs}`).digest('hex').slice(0, 16);
}

/** Where the lean copy of the installed SDK is (whether or not it exists yet). */
export function leanSdkPath(original = originalSdkPath()): string {
  return path.join(nodeModulesOf(original), '.cache', 'banli', `larksuiteoapi-node-sdk-${sdkStamp(original)}.cjs`);
}

/** Every non-ASCII character as a \u escape (two for characters beyond the BMP): the same string values. */
export function escapeNonAscii(source: string): string {
  return source.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Whether a package required from the lean copy is found where the SDK itself finds it: true unless npm put packages
 * between the SDK and the top node_modules folder (a node_modules folder inside the SDK's, or inside its scope's).
 */
export function resolvesAsOriginal(original = originalSdkPath()): boolean {
  const top = nodeModulesOf(original);
  for (let dir = path.dirname(original); dir.length > top.length; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'node_modules'))) return false;
  }
  return true;
}

/**
 * The packages the SDK requires that would resolve to another file from `target` than from `original` (a version
 * npm installed under the SDK's own node_modules, for example): the copy must load exactly what the SDK loads.
 */
export function requiresResolvedElsewhere(source: string, original: string, target: string): string[] {
  const fromOriginal = createRequire(original);
  const fromTarget = createRequire(target);
  const resolve = (r: NodeJS.Require, id: string): string => {
    try {
      return r.resolve(id);
    } catch {
      return '(not found)';
    }
  };
  const ids = new Set([...source.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!));
  return [...ids].filter((id) => resolve(fromOriginal, id) !== resolve(fromTarget, id));
}

/**
 * Writes the lean copy unless it is there already. Returns its path, or the reason it was not written, in which case
 * the service runs on the SDK as installed.
 */
export async function buildLeanSdk(): Promise<{ path?: string; built: boolean; reason?: string }> {
  const original = originalSdkPath();
  const target = leanSdkPath(original);
  if (fs.existsSync(target)) return { path: target, built: false };
  let ts: typeof import('typescript');
  try {
    ts = (await import('typescript')).default;
  } catch {
    return { built: false, reason: 'typescript is not installed' };
  }
  const source = fs.readFileSync(original, 'utf8');
  const printed = ts.transpileModule(source, {
    fileName: 'index.js',
    // ESNext and CommonJS in, the same out: nothing is down-levelled or re-moduled, only the comments go.
    compilerOptions: { allowJs: true, removeComments: true, target: ts.ScriptTarget.ESNext, module: ts.ModuleKind.CommonJS },
    reportDiagnostics: false,
  }).outputText;
  const lean = escapeNonAscii(printed);
  const elsewhere = requiresResolvedElsewhere(lean, original, target);
  if (elsewhere.length > 0) return { built: false, reason: `from node_modules/.cache these would load another copy: ${elsewhere.join(', ')}` };
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, lean);
  // The copy must load, and export what the original does, or it is not used.
  try {
    const want = Object.keys(require(original) as object).sort().join(',');
    const got = Object.keys(require(tmp) as object).sort().join(',');
    if (want !== got) return { built: false, reason: 'the lean copy does not export what the SDK exports' };
    fs.renameSync(tmp, target);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  // Copies of SDKs no longer installed (a running service has its copy in memory already).
  for (const name of fs.readdirSync(path.dirname(target))) {
    if (/^larksuiteoapi-node-sdk-[0-9a-f]+\.cjs$/.test(name) && name !== path.basename(target)) fs.rmSync(path.join(path.dirname(target), name), { force: true });
  }
  return { path: target, built: true };
}
