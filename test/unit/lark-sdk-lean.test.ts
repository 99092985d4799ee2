import fs from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lark } from '../../src/lark/sdk.ts';
import { encryptForLark } from '../../src/sandbox/lark/events.ts';
import { buildLeanSdk, escapeNonAscii, leanSdkPath, originalSdkPath, requiresResolvedElsewhere, resolvesAsOriginal } from '../../src/lark/sdk-lean.ts';

// The service loads a copy of the Feishu SDK without its comments, held one byte per character (src/lark/sdk-lean.ts).
// `npm test` builds first, so the copy exists here, and every test that talks to the emulator runs on it.

const require = createRequire(import.meta.url);

describe('the lean Feishu SDK', () => {
  it('escapes non-ASCII characters to the same string values, beyond the BMP too', () => {
    const text = '办理 — “答复” 📅 ok';
    const escaped = escapeNonAscii(text);
    expect(escaped).toMatch(/^[\x00-\x7f]*$/);
    expect(new Function(`return '${escaped}';`)()).toBe(text);
    expect(new Function(`return \`${escaped}\`;`)()).toBe(text);
    expect(new RegExp(escapeNonAscii('[办理]')).test('理')).toBe(true);
  });

  it('is built, ASCII only, much smaller than the original, and exports what the SDK exports', async () => {
    const result = await buildLeanSdk();
    expect(result.reason).toBeUndefined();
    const leanPath = leanSdkPath();
    expect(result.path).toBe(leanPath);
    const lean = fs.readFileSync(leanPath, 'utf8');
    const original = fs.readFileSync(originalSdkPath(), 'utf8');
    expect(lean).toMatch(/^[\x00-\x7f]*$/);
    expect(lean.length).toBeLessThan(original.length * 0.8);
    expect(Object.keys(require(leanPath) as object).sort()).toEqual(Object.keys(require(originalSdkPath()) as object).sort());
  });

  it('is what the service loads', () => {
    const leanPath = leanSdkPath();
    expect(require.cache[leanPath]?.exports).toBe(lark);
    // and it works: the cipher Banli decrypts events with reads what Lark's encryption wrote
    expect(new lark.AESCipher('encrypt-key').decrypt(encryptForLark('encrypt-key', '{"办理":"📅"}'))).toBe('{"办理":"📅"}');
  });

  it('is named by the original it was made from, so an updated SDK never loads an old copy', () => {
    const root = fs.mkdtempSync('/tmp/banli-sdk-');
    const other = `${root}/node_modules/@larksuiteoapi/node-sdk/lib/index.js`;
    fs.mkdirSync(other.slice(0, other.lastIndexOf('/')), { recursive: true });
    fs.writeFileSync(other, `${fs.readFileSync(originalSdkPath(), 'utf8')}\n// 1.74.1\n`);
    expect(leanSdkPath(other)).not.toBe(leanSdkPath());
    expect(leanSdkPath(other).startsWith(`${root}/node_modules/.cache/banli/`)).toBe(true);
    // The same file under another version number is another SDK; the same one asked twice keeps its name.
    const named = leanSdkPath(other);
    expect(leanSdkPath(other)).toBe(named);
    fs.writeFileSync(`${root}/node_modules/@larksuiteoapi/node-sdk/package.json`, JSON.stringify({ name: '@larksuiteoapi/node-sdk', version: '1.74.1' }));
    expect(leanSdkPath(other)).not.toBe(named);
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe('the lean copy finds what the SDK finds', () => {
  /** An installed SDK in a scratch folder that requires `dep`, with another version of `dep` nested under it or not. */
  function install(nested: boolean): { root: string; original: string } {
    const root = fs.mkdtempSync('/tmp/banli-sdk-');
    const sdkDir = `${root}/node_modules/@larksuiteoapi/node-sdk`;
    fs.mkdirSync(`${sdkDir}/lib`, { recursive: true });
    fs.writeFileSync(`${sdkDir}/lib/index.js`, "'use strict';\nmodule.exports = require('dep');\n");
    fs.mkdirSync(`${root}/node_modules/dep`, { recursive: true });
    fs.writeFileSync(`${root}/node_modules/dep/index.js`, 'module.exports = 1;\n');
    if (nested) {
      fs.mkdirSync(`${sdkDir}/node_modules/dep`, { recursive: true });
      fs.writeFileSync(`${sdkDir}/node_modules/dep/index.js`, 'module.exports = 2;\n');
    }
    return { root, original: `${sdkDir}/lib/index.js` };
  }

  it('is used when every package the SDK requires is found at the top of node_modules', () => {
    const { root, original } = install(false);
    expect(resolvesAsOriginal(original)).toBe(true);
    expect(requiresResolvedElsewhere(fs.readFileSync(original, 'utf8'), original, leanSdkPath(original))).toEqual([]);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('is not used when npm nested another version of a package under the SDK, and is not written then', () => {
    const { root, original } = install(true);
    expect(resolvesAsOriginal(original)).toBe(false);
    expect(requiresResolvedElsewhere(fs.readFileSync(original, 'utf8'), original, leanSdkPath(original))).toEqual(['dep']);
    fs.rmSync(root, { recursive: true, force: true });
  });
});
