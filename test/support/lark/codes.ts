// The Lark emulator lives in the service now (src/sandbox/lark/); this path stays for the tests that import it.
export * from '../../../src/sandbox/lark/codes.ts';
