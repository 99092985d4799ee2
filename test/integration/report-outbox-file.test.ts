import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { enqueueFile } from '../../src/lark/outbox.ts';
import { createTestDatabase, describeOnBackends, GROUP, startHarness, until, type Harness } from '../support/harness.ts';

// A report is a file, and a Lark outage must delay it, never lose it or deliver it twice: the bytes wait in the
// outbox row, the upload happens once (its file_key is kept), and the file message goes out under the row's uuid.

const FILES = /^\/open-apis\/im\/v1\/(files|messages)/;

describeOnBackends('outbox: a file reaches the chat once, whatever Lark does', (backend) => {
  let h: Harness;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase(backend);
    h = await startHarness({ database, today: '2024-12-20' });
  });
  beforeEach(() => h.lark.reset());
  afterAll(async () => {
    await h?.stop();
    await h?.lark.close();
    await database?.drop();
  });

  async function queue(name: string, bytes: Buffer): Promise<string> {
    const uuid = await h.service.database.db.transaction().execute((trx) => enqueueFile(trx, { chatId: GROUP }, { fileName: name, bytes }));
    h.service.sender.kick();
    return uuid;
  }

  async function sentRow(uuid: string) {
    return until(`outbox row ${uuid} sent`, () =>
      h.service.database.db.selectFrom('outbox').selectAll().where('uuid', '=', uuid).where('status', '=', 'sent').executeTakeFirst(),
    20_000);
  }

  it('Lark is down for 2.5 s: the report arrives afterwards, uploaded once and sent once, and the bytes are freed', async () => {
    const bytes = randomBytes(5000);
    h.lark.failFor(2500, { status: 503, paths: FILES });
    const uuid = await queue('2024年建议办理情况报告.xlsx', bytes);
    const row = await sentRow(uuid);
    expect(row.attempts).toBeGreaterThan(1);
    expect(row.file_bytes).toBeNull();
    const messages = h.lark.sent.filter((m) => m.uuid === uuid);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.msgType).toBe('file');
    expect(h.lark.fileOf(messages[0]!.messageId)?.bytes.equals(bytes)).toBe(true);
    expect(h.lark.fileOf(messages[0]!.messageId)?.fileName).toBe('2024年建议办理情况报告.xlsx');
    expect(h.lark.uploads.filter((u) => u.fileKey === row.file_key)).toHaveLength(1);
  });

  it('the upload went through but the send failed: the retry sends the same file without uploading it again', async () => {
    const before = h.lark.uploads.length;
    h.lark.failNext(2, { status: 500, paths: /^\/open-apis\/im\/v1\/messages/ });
    const uuid = await queue('报告.md', Buffer.from('# 报告\n', 'utf8'));
    const row = await sentRow(uuid);
    expect(h.lark.uploads.length - before).toBe(1);
    expect(h.lark.sent.filter((m) => m.uuid === uuid)).toHaveLength(1);
    expect(h.lark.fileOf(h.lark.sent.find((m) => m.uuid === uuid)!.messageId)?.fileKey).toBe(row.file_key);
  });

  it('the service restarts while Lark is down: the file waits in the database and is sent once after the restart', async () => {
    h.lark.failFor(60_000, { status: 503, paths: FILES });
    const bytes = randomBytes(2000);
    const uuid = await queue('重启后的报告.xlsx', bytes);
    await until('a failed attempt', () =>
      h.service.database.db.selectFrom('outbox').select('attempts').where('uuid', '=', uuid).where('attempts', '>', 0).where('locked_until', 'is', null).executeTakeFirst(),
    );
    await h.stop();
    h.lark.reset();
    h = await startHarness({ database, lark: h.lark, today: '2024-12-20' });
    await sentRow(uuid);
    const messages = h.lark.sent.filter((m) => m.uuid === uuid);
    expect(messages).toHaveLength(1);
    expect(h.lark.fileOf(messages[0]!.messageId)?.bytes.equals(bytes)).toBe(true);
  });

  it('refuses to queue an empty file (Lark would refuse it for good)', async () => {
    await expect(queue('空.md', Buffer.alloc(0))).rejects.toThrow(RangeError);
  });
});
