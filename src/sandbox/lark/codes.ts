// The Lark OpenAPI error codes the emulator answers with, each with the HTTP status and message Lark's
// documentation lists for it (im-v1 message create/reply/patch, the generic error-code page, the
// rate-limit guide). Kept in one table so tests can name a code instead of repeating a magic number.

export interface LarkCode {
  readonly code: number;
  readonly status: number;
  readonly msg: string;
}

export const LARK_CODES = {
  /** Request parameters fail validation before reaching the IM service (missing/invalid fields). */
  fieldValidation: { code: 99992402, status: 400, msg: 'field validation failed' },
  /** No `Authorization` header on an API that needs a token. */
  missingToken: {
    code: 99991661,
    status: 400,
    msg: 'Missing access token for authorization. Please make a request with token attached.',
  },
  /** Token unknown or expired. */
  invalidToken: {
    code: 99991663,
    status: 400,
    msg: 'Invalid access token for authorization. Please make a request with token attached.',
  },
  /** Per-app gateway limit (the rate-limit guide shows HTTP 429 and x-ogw-ratelimit-* headers). */
  appRateLimited: { code: 99991400, status: 429, msg: 'request trigger frequency limit' },
  /** tenant_access_token/internal with bad parameters or an unknown app_id. */
  authInvalidParam: { code: 10003, status: 400, msg: 'invalid param' },
  /** tenant_access_token/internal with the wrong app_secret. */
  authBadSecret: { code: 10014, status: 400, msg: 'app secret invalid' },
  /** Generic internal error, used as the default body of injected 5xx faults. */
  internal: { code: 1500, status: 500, msg: 'internal error' },

  invalidParam: { code: 230001, status: 400, msg: 'Your request contains an invalid request parameter.' },
  userUnavailable: { code: 230013, status: 400, msg: 'Bot has NO availability to this user.' },
  /** Per-chat (or per-user) send limit: 5 QPS, shared by the bots in a group. */
  chatRateLimited: { code: 230020, status: 400, msg: 'This operation triggers the frequency limit.' },
  /** Text over 150 KB, card or post over 30 KB. */
  contentTooLong: { code: 230025, status: 400, msg: 'The length of the message content reaches its limit.' },
  noPermission: { code: 230027, status: 400, msg: 'Lack of necessary permissions.' },
  invalidReceiveId: { code: 230034, status: 400, msg: 'The receive_id is invalid.' },
  cardContentFailed: { code: 230099, status: 400, msg: 'Failed to create card content' },
  /** messageResource.get: the file_key is not in that message (or the message is unknown to the bot). */
  resourceNotInMessage: { code: 234003, status: 400, msg: 'File not in msg.' },
  /** messageResource.get: the resource is over the 100 MB download limit. */
  resourceTooLarge: { code: 234037, status: 400, msg: 'Downloaded file size exceeds limit.' },
  /** im.file.create: an empty file, or over 30 MB. */
  fileSizeInvalid: { code: 234006, status: 400, msg: 'The file size exceed the max value or is empty.' },
  /** A file message whose file_key the app never uploaded. */
  fileKeyInvalid: { code: 230055, status: 400, msg: 'The file key is invalid or the file was not uploaded by this app.' },
  /** contact/v3: the user is not in the app's contact scope (also what an unknown open_id gets). */
  noUserAuthority: { code: 41050, status: 400, msg: 'no user authority error' },
} as const satisfies Record<string, LarkCode>;

export type LarkCodeName = keyof typeof LARK_CODES;

/** Byte limits of message content, from the create/patch docs ("文本 150 KB，卡片及富文本 30 KB"). */
export const CONTENT_LIMITS = {
  text: 150 * 1024,
  card: 30 * 1024,
} as const;

/** The most components a Card JSON 2.0 card may hold (230099, ErrCode 11310 "element exceeds the limit"). */
export const CARD_V2_MAX_ELEMENTS = 200;

/** Tags Card JSON 1.0 had and 2.0 rejects (230099, ErrCode 200861). */
export const CARD_V2_REMOVED_TAGS: readonly string[] = ['action', 'note'];
