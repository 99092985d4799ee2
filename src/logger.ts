import pino, { type Logger } from 'pino';

// Errors from the Lark SDK are axios errors: their `config` holds the request, with the app secret in a token
// request's body and the tenant token in the Authorization header. Only what helps diagnose a failure is logged.
function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; response?: { status?: unknown; data?: { code?: unknown; msg?: unknown } } };
  return {
    type: e.name,
    message: e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.response ? { status: e.response.status, larkCode: e.response.data?.code, larkMsg: e.response.data?.msg } : {}),
    stack: e.stack,
  };
}

/** Structured JSON logs on stdout; request secrets never reach them. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'banli' },
    serializers: { err: serializeError, error: serializeError },
    redact: {
      paths: ['*.app_secret', '*.encrypt', '*.token', 'headers.authorization', '*.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
