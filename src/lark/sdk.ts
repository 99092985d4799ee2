import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Sdk from '@larksuiteoapi/node-sdk';
import { leanSdkPath, originalSdkPath, resolvesAsOriginal } from './sdk-lean.ts';

// @larksuiteoapi/node-sdk, loaded with require(): an ESM `import` of this 6 MB CommonJS file keeps a second copy of
// its source for the CommonJS export scan, about 23 MB of resident memory more for the life of the process. The lean
// copy the build writes (./sdk-lean.ts) is loaded when it is there and finds the SDK's packages where the SDK would.
// Types come from `import type` as usual.

function load(): typeof Sdk {
  const require = createRequire(import.meta.url);
  const original = originalSdkPath();
  const lean = leanSdkPath(original);
  return require(fs.existsSync(lean) && resolvesAsOriginal(original) ? lean : original) as typeof Sdk;
}

export const lark: typeof Sdk = load();
