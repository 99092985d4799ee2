import { buildLeanSdk } from '../lark/sdk-lean.ts';

// Part of `npm run build`: writes the lean copy of the Feishu SDK the service loads (see src/lark/sdk-lean.ts).
// A build that cannot make one (no TypeScript, a read-only node_modules, …) still succeeds: the service then loads
// the SDK as installed, which costs it some memory and nothing else.

try {
  const result = await buildLeanSdk();
  if (result.reason) console.warn(`lean Feishu SDK not written (${result.reason}); the service loads the SDK as installed`);
} catch (err) {
  console.warn(`lean Feishu SDK not written (${err instanceof Error ? err.message : String(err)}); the service loads the SDK as installed`);
}
