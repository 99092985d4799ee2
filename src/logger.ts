import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; secrets in Lark payloads and headers are redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'banli' },
    redact: {
      paths: ['*.app_secret', '*.encrypt', 'headers.authorization', '*.headers.authorization', 'config.lark.appSecret', 'config.lark.encryptKey'],
      censor: '[redacted]',
    },
  });
}
