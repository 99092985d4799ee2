// The emulator's file surface proven against the real SDK: the bot uploads a file (im.file.create) and sends it, and
// downloads a file a user sent (im.messageResource.get), with Lark's refusals.

import * as lark from '@larksuiteoapi/node-sdk';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LARK_CODES } from '../support/lark/codes.ts';
import { startLarkEmulator, type LarkEmulator } from '../support/lark/emulator.ts';

const ZHANG = { openId: 'ou_zhangsan0000000000000000000001', name: '张三' };
const silent = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

function sdkFor(em: LarkEmulator): lark.Client {
  return new lark.Client({ appId: em.appId, appSecret: em.appSecret, domain: em.url, loggerLevel: lark.LoggerLevel.error, logger: silent, cache: new lark.DefaultCache() });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

async function larkCode(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { response?: { data?: { code?: number } } }).response?.data?.code;
  }
  throw new Error('expected a refusal');
}

describe('emulated Lark files', () => {
  let em: LarkEmulator;
  let sdk: lark.Client;
  beforeEach(async () => {
    em = await startLarkEmulator({ users: [ZHANG] });
    sdk = sdkFor(em);
  });
  afterEach(async () => {
    await (em as unknown as { close(): Promise<void> }).close();
  });

  it('takes an upload through the SDK, which hands back { file_key } without the envelope, and sends it as a file message', async () => {
    const bytes = Buffer.from('第一行\n第二行\n', 'utf8');
    const answer = await sdk.im.v1.file.create({ data: { file_type: 'xls', file_name: '2024年建议办理情况报告.xlsx', file: bytes } });
    expect(answer).toEqual({ file_key: expect.stringMatching(/^file_v3_/) });
    expect(em.uploads[0]?.bytes.equals(bytes)).toBe(true);
    expect(em.uploads[0]?.fileName).toBe('2024年建议办理情况报告.xlsx');

    const sent = await sdk.im.v1.message.create({
      params: { receive_id_type: 'open_id' },
      data: { receive_id: ZHANG.openId, msg_type: 'file', content: JSON.stringify({ file_key: answer?.file_key }), uuid: 'u-1' },
    });
    expect(sent.code).toBe(0);
    expect(em.fileOf(sent.data?.message_id ?? '')?.bytes.equals(bytes)).toBe(true);
  });

  it('refuses an empty upload and a file message with a key it never issued', async () => {
    expect(await larkCode(sdk.im.v1.file.create({ data: { file_type: 'stream', file_name: 'empty.md', file: Buffer.alloc(0) } }))).toBe(LARK_CODES.fileSizeInvalid.code);
    expect(
      await larkCode(
        sdk.im.v1.message.create({ params: { receive_id_type: 'open_id' }, data: { receive_id: ZHANG.openId, msg_type: 'file', content: JSON.stringify({ file_key: 'file_v3_forged' }) } }),
      ),
    ).toBe(LARK_CODES.fileKeyInvalid.code);
  });

  it('serves a file a user sent as a message resource, and only from the message that carries it', async () => {
    const bytes = Buffer.from('案号,类别\n20240562,建议\n', 'utf8');
    const fileKey = em.userFile(bytes);
    em.recordIncoming({ messageId: 'om_user_file', chatId: em.p2pChatId(ZHANG.openId), senderOpenId: ZHANG.openId, msgType: 'file', content: { file_key: fileKey, file_name: '案件.csv' } });
    const res = await sdk.im.v1.messageResource.get({ path: { message_id: 'om_user_file', file_key: fileKey }, params: { type: 'file' } });
    expect(Number((res.headers as Record<string, string>)['content-length'])).toBe(bytes.length);
    expect((await readAll(res.getReadableStream() as Readable)).equals(bytes)).toBe(true);

    em.recordIncoming({ messageId: 'om_other', chatId: em.p2pChatId(ZHANG.openId), senderOpenId: ZHANG.openId, msgType: 'text', content: { text: 'hi' } });
    // A download asks for a stream, so the SDK's error carries Lark's JSON answer as a stream too.
    const err = await sdk.im.v1.messageResource.get({ path: { message_id: 'om_other', file_key: fileKey }, params: { type: 'file' } }).then(
      () => null,
      (e: { response?: { status?: number; data?: Readable } }) => e,
    );
    expect(err?.response?.status).toBe(400);
    const body = JSON.parse((await readAll(err?.response?.data as Readable)).toString('utf8')) as { code: number };
    expect(body.code).toBe(LARK_CODES.resourceNotInMessage.code);
  });
});
