import { z } from 'zod';

// Lark payloads → Banli's transport-neutral events. The SDK's EventDispatcher hands handlers the v2 event with its
// header fields merged in; everything read from it is checked here.

export interface IncomingMessage {
  eventId: string;
  messageId: string;
  chatId: string;
  chatType: 'p2p' | 'group';
  senderOpenId: string;
  senderType: string;
  messageType: string;
  /** The text with mention placeholders still in it (`@_user_1`). */
  text: string;
  mentions: { key: string; openId: string; name: string }[];
  /** A file message's key and name (download it with the message-resource API); absent for other messages. */
  file?: { fileKey: string; fileName: string };
}

export interface IncomingCardAction {
  eventId: string;
  operatorOpenId: string;
  messageId: string;
  chatId: string | null;
  value: unknown;
  formValue: Record<string, unknown> | null;
  name: string | null;
  option: string | null;
}

const messageEventSchema = z.object({
  event_id: z.string().min(1),
  sender: z.object({
    sender_id: z.object({ open_id: z.string().min(1) }),
    sender_type: z.string().default('user'),
  }),
  message: z.object({
    message_id: z.string().min(1),
    chat_id: z.string().min(1),
    chat_type: z.string(),
    message_type: z.string(),
    content: z.string().default('{}'),
    mentions: z
      .array(
        z.object({
          key: z.string(),
          id: z.object({ open_id: z.string().optional() }).optional(),
          name: z.string().default(''),
        }),
      )
      .nullish(),
  }),
});

const cardActionSchema = z.object({
  event_id: z.string().min(1),
  operator: z.object({ open_id: z.string().min(1) }),
  action: z.object({
    value: z.unknown().optional(),
    form_value: z.record(z.string(), z.unknown()).nullish(),
    name: z.string().nullish(),
    option: z.string().nullish(),
  }),
  context: z.object({
    open_message_id: z.string().min(1),
    open_chat_id: z.string().nullish(),
  }),
});

function textOf(messageType: string, content: string): string {
  try {
    const parsed: unknown = JSON.parse(content);
    if (messageType === 'text' && typeof parsed === 'object' && parsed && 'text' in parsed && typeof parsed.text === 'string') return parsed.text;
    if (messageType === 'post' && typeof parsed === 'object' && parsed) {
      // A rich-text post: join its text runs (a staff member may paste a formatted note).
      const post = parsed as { content?: Array<Array<{ tag?: string; text?: string; user_id?: string }>> };
      return (post.content ?? [])
        .map((line) => line.map((run) => (run.tag === 'at' ? `@${run.user_id ?? ''}` : (run.text ?? ''))).join(''))
        .join('\n');
    }
  } catch {
    // not JSON: nothing to read
  }
  return '';
}

const fileContentSchema = z.object({ file_key: z.string().min(1), file_name: z.string().default('') });

function fileOf(messageType: string, content: string): { fileKey: string; fileName: string } | undefined {
  if (messageType !== 'file') return undefined;
  try {
    const r = fileContentSchema.safeParse(JSON.parse(content));
    return r.success ? { fileKey: r.data.file_key, fileName: r.data.file_name.trim() || r.data.file_key } : undefined;
  } catch {
    return undefined;
  }
}

/** Reads an im.message.receive_v1 event; null when it is not one we can use. */
export function normalizeMessage(data: unknown): IncomingMessage | null {
  const r = messageEventSchema.safeParse(data);
  if (!r.success) return null;
  const { message, sender } = r.data;
  const file = fileOf(message.message_type, message.content);
  return {
    ...(file ? { file } : {}),
    eventId: r.data.event_id,
    messageId: message.message_id,
    chatId: message.chat_id,
    chatType: message.chat_type === 'p2p' ? 'p2p' : 'group',
    senderOpenId: sender.sender_id.open_id,
    senderType: sender.sender_type,
    messageType: message.message_type,
    text: textOf(message.message_type, message.content),
    mentions: (message.mentions ?? []).flatMap((m) => (m.id?.open_id ? [{ key: m.key, openId: m.id.open_id, name: m.name }] : [])),
  };
}

/** Reads a card.action.trigger callback; null when it is malformed. */
export function normalizeCardAction(data: unknown): IncomingCardAction | null {
  const r = cardActionSchema.safeParse(data);
  if (!r.success) return null;
  return {
    eventId: r.data.event_id,
    operatorOpenId: r.data.operator.open_id,
    messageId: r.data.context.open_message_id,
    chatId: r.data.context.open_chat_id ?? null,
    value: r.data.action.value,
    formValue: r.data.action.form_value ?? null,
    name: r.data.action.name ?? null,
    option: r.data.action.option ?? null,
  };
}
