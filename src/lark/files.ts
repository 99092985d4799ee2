import type * as lark from '@larksuiteoapi/node-sdk';
import type { Readable } from 'node:stream';

// Downloading a file a user sent to the bot. The message-resource API serves files from users' messages
// (im.file.get only serves files the bot uploaded itself).

/** The file is bigger than we accept; nothing more was read. */
export class FileTooLargeError extends Error {
  override name = 'FileTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`file is over ${maxBytes} bytes`);
  }
}

/**
 * The bytes of the file `fileKey` in message `messageId`, refusing (FileTooLargeError) anything over `maxBytes`
 * without reading it all: the declared length is checked first, and the stream is cut once it passes the limit.
 */
export async function downloadMessageFile(client: lark.Client, messageId: string, fileKey: string, maxBytes: number): Promise<Buffer> {
  const res = await client.im.v1.messageResource.get({ path: { message_id: messageId, file_key: fileKey }, params: { type: 'file' } });
  const stream = res.getReadableStream() as Readable;
  const declared = Number((res.headers as Record<string, unknown> | undefined)?.['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    stream.destroy();
    throw new FileTooLargeError(maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += b.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new FileTooLargeError(maxBytes);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
