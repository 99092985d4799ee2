import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startService, type Service } from './runtime.ts';

// `npm start`: configuration from the environment, then the service until SIGTERM/SIGINT.

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let service: Service;
  if (!config.lark.appId) {
    // No Feishu app configured: start the sandbox, where the browser plays Feishu. Said first, so nobody misses it.
    const logger = createLogger(config.logLevel);
    const url = `http://localhost:${config.port}/sandbox`;
    logger.info({ url }, `sandbox mode (LARK_APP_ID is not set): open ${url} to try Banli in a browser`);
    // Loaded only here: the emulator and the sandbox page are no part of a real deployment's memory.
    const { startSandbox } = await import('./sandbox/sandbox.ts');
    service = (await startSandbox(config, { logger })).service;
  } else {
    service = await startService(config);
  }
  const stop = (signal: string) => {
    service.logger.info({ signal }, 'shutting down');
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        service.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`banli failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
