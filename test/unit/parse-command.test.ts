import { describe, expect, it } from 'vitest';
import {
  COMMAND_USAGE,
  parseCommand,
  type ChatCommand,
  type ParseOptions,
  type ParseResult,
} from '../../src/chat/parse-command.ts';

const TODAY = '2024-06-11';
const opts: ParseOptions = { today: TODAY };

function ok(text: string, options: ParseOptions = opts): ChatCommand {
  const result = parseCommand(text, options);
  if (!result.ok) throw new Error(`expected "${text}" to parse, got: ${result.message}`);
  return result.command;
}

function bad(text: string, options: ParseOptions = opts): Extract<ParseResult, { ok: false }> {
  const result = parseCommand(text, options);
  if (result.ok) throw new Error(`expected "${text}" to be rejected, got ${JSON.stringify(result.command)}`);
  return result;
}

const c562 = { digits: '562', raw: '562' };
const c20240562 = { digits: '20240562', raw: '20240562' };

describe('help, mine, todo', () => {
  it.each(['帮助', 'help', 'HELP', '/帮助', '/help', '?', '？', '', '   ', '　', '/', '帮助 面商'])('"%s" asks for help', (text) => {
    expect(ok(text)).toEqual({ type: 'help' });
  });

  it.each(['我的', 'mine', 'Mine', '/我的', '／我的'])('"%s" lists my cases', (text) => {
    expect(ok(text)).toEqual({ type: 'mine' });
  });

  it.each(['待办', 'todo', 'TODO', '/待办', '/todo'])('"%s" lists what is waiting', (text) => {
    expect(ok(text)).toEqual({ type: 'todo' });
  });

  it('rejects words after 我的 / 待办 and says what to delete', () => {
    const r = bad('我的 20240562');
    expect(r.message).toBe('“我的”后面不需要写其他内容，请删去“20240562”。\n用法：我的');
    expect(r.suggestion).toBe(COMMAND_USAGE.mine);
    expect(bad('todo list').message).toContain('“待办”后面不需要写其他内容，请删去“list”');
  });
});

describe('case numbers', () => {
  it.each([
    ['20240562', { digits: '20240562', raw: '20240562' }],
    ['第20240562号', { digits: '20240562', raw: '第20240562号' }],
    ['20240562号', { digits: '20240562', raw: '20240562号' }],
    ['第562号', { digits: '562', raw: '第562号' }],
    ['562', { digits: '562', raw: '562' }],
    ['2', { digits: '2', raw: '2' }],
    ['0562', { digits: '0562', raw: '0562' }],
    ['第562', { digits: '562', raw: '第562' }],
    ['第 562 号', { digits: '562', raw: '第562号' }],
    ['562 号', { digits: '562', raw: '562号' }],
    ['２０２４０５６２', { digits: '20240562', raw: '20240562' }],
    ['第２０２４０５６２号', { digits: '20240562', raw: '第20240562号' }],
  ])('认领 %s → %j', (caseText, expected) => {
    expect(ok(`认领 ${caseText}`)).toEqual({ type: 'claim', case: expected });
  });

  it('rejects a case number that is not digits, naming it', () => {
    const r = bad('认领 abc');
    expect(r.message).toBe(
      '“abc”不是案号。案号是数字，如 20240562、第20240562号，也可只写末几位如 562。\n用法：认领 <案号>',
    );
  });

  it('rejects a run of digits far too long for a case number', () => {
    expect(bad('认领 123456789012345678901').message).toContain('太长了，不像案号');
  });
});

describe('show', () => {
  it.each([
    ['20240562', c20240562],
    ['第20240562号', { digits: '20240562', raw: '第20240562号' }],
    ['562号', { digits: '562', raw: '562号' }],
    ['查询 562', c562],
    ['show 562', c562],
    ['/查询 562', c562],
    ['/show 562', c562],
    ['查看 第562号', { digits: '562', raw: '第562号' }],
    ['查询562', c562],
  ])('"%s" shows the case', (text, expected) => {
    expect(ok(text)).toEqual({ type: 'show', case: expected });
  });

  it('asks for the case number when 查询 comes alone', () => {
    expect(bad('查询').message).toBe('请写明案号，如 20240562、第20240562号，或末几位 562。\n用法：查询 <案号>');
  });

  it('tells the user to put the command first when they wrote it after the case number', () => {
    const r = bad('20240562 认领');
    expect(r.message).toBe('请把命令写在案号前面，如：认领 20240562\n用法：认领 <案号>');
    expect(r.suggestion).toBe(COMMAND_USAGE.claim);
  });
});

describe('claim and release', () => {
  it.each(['认领 20240562', '/认领 20240562', 'claim 20240562', 'CLAIM 20240562', '/claim 20240562', '认领20240562', '认领：20240562', '认领　２０２４０５６２', '／认领　２０２４０５６２', 'claim20240562'])(
    '"%s" claims 20240562',
    (text) => {
      expect(ok(text)).toEqual({ type: 'claim', case: c20240562 });
    },
  );

  it.each(['放弃 562', '/放弃 562', 'release 562', 'Release 562', '取消认领 562', '取消认领562'])('"%s" releases 562', (text) => {
    expect(ok(text)).toEqual({ type: 'release', case: c562 });
  });

  it('asks for the case number when it is missing', () => {
    const r = bad('认领');
    expect(r.message).toBe('请写明案号，如 20240562、第20240562号，或末几位 562。\n用法：认领 <案号>');
    expect(r.suggestion).toBe('认领 <案号>');
    expect(bad('release').message).toContain('请写明案号');
  });

  it('claims one case at a time', () => {
    expect(bad('认领 562 563').message).toBe('一次只能认领一件，请分开发送。\n用法：认领 <案号>');
  });

  it('names stray words after the case number', () => {
    expect(bad('放弃 562 不想办了').message).toBe('放弃只需写案号，请删去“不想办了”。\n用法：放弃 <案号>');
  });
});

describe('handover', () => {
  it.each([
    '转交 20240562 <at:ou_abc>',
    '/转交 20240562 <at:ou_abc>',
    'handover 20240562 <at:ou_abc>',
    '转交 20240562 给 <at:ou_abc>',
    '转交 20240562 给<at:ou_abc>',
    '转交 20240562<at:ou_abc>',
    '转交 <at:ou_abc> 20240562',
    '转交　２０２４０５６２　<at:ou_abc>',
    '转交 20240562 <at:ou_abc> <at:ou_abc>',
  ])('"%s" hands 20240562 to ou_abc', (text) => {
    expect(ok(text)).toEqual({ type: 'handover', case: c20240562, to: 'ou_abc' });
  });

  it('needs a person', () => {
    expect(bad('转交 20240562').message).toBe('请@要转交的同事，如：转交 20240562 @张三。\n用法：转交 <案号> @某人');
  });

  it('takes exactly one person', () => {
    expect(bad('转交 20240562 <at:ou_a> <at:ou_b>').message).toBe(
      '一次只能转交给一位同事，您@了 2 位。\n用法：转交 <案号> @某人',
    );
  });

  it('explains that a typed "@张三" is not a mention', () => {
    expect(bad('转交 20240562 @张三').message).toContain('“@张三”不是有效的@。请在输入框里输入 @ 并从列表中选择同事。');
  });

  it('needs the case number', () => {
    expect(bad('转交 <at:ou_a>').message).toContain('请写明案号');
    expect(bad('handover').message).toContain('请写明案号');
  });

  it('rejects stray words', () => {
    expect(bad('转交 562 <at:ou_a> 请跟进').message).toContain('请删去“请跟进”');
  });
});

describe('progress', () => {
  it('keeps the note as typed, with Chinese punctuation and line breaks, spaces collapsed', () => {
    expect(ok('进展 20240562 已与代表电话沟通，   代表表示理解。\n\n  下周实地查看')).toEqual({
      type: 'progress',
      case: c20240562,
      note: '已与代表电话沟通， 代表表示理解。\n下周实地查看',
    });
  });

  it.each(['/进展 562 已会商', 'progress 562 已会商', 'PROGRESS 562 已会商', '进展　５６２　已会商', '进展562 已会商'])(
    '"%s" posts progress',
    (text) => {
      expect(ok(text)).toEqual({ type: 'progress', case: c562, note: '已会商' });
    },
  );

  it('keeps full-width characters inside the note', () => {
    expect(ok('进展 562 （一）已完成；（二）推进中，２０２４年底前完工')).toEqual({
      type: 'progress',
      case: c562,
      note: '（一）已完成；（二）推进中，２０２４年底前完工',
    });
  });

  it('needs the content', () => {
    expect(bad('进展 562').message).toBe('请写明进展内容。\n用法：进展 <案号> <内容>');
    expect(bad('进展 562   ').message).toContain('请写明进展内容');
  });

  it('needs the case number', () => {
    expect(bad('进展').message).toContain('请写明案号');
    expect(bad('进展 已沟通').message).toContain('“已沟通”不是案号');
  });

  it('accepts 1000 characters and rejects 1001, saying how long it was', () => {
    expect(ok(`进展 562 ${'办'.repeat(1000)}`)).toMatchObject({ note: '办'.repeat(1000) });
    expect(bad(`进展 562 ${'办'.repeat(1001)}`).message).toBe(
      '进展内容太长了（1001 字），请控制在 1000 字以内。\n用法：进展 <案号> <内容>',
    );
  });
});

describe('contact', () => {
  it.each([
    ['电话', '电话'],
    ['上门', '上门'],
    ['座谈', '座谈'],
    ['线上', '线上'],
    ['当面', '当面'],
    ['phone', '电话'],
    ['visit', '上门'],
    ['meeting', '座谈'],
    ['online', '线上'],
    ['in-person', '当面'],
    ['face', '当面'],
    ['Phone', '电话'],
  ])('method "%s" → %s, date defaults to today, no note', (word, method) => {
    expect(ok(`面商 562 ${word}`)).toEqual({ type: 'contact', case: c562, method, date: TODAY, note: '' });
  });

  it('takes a date and a note', () => {
    expect(ok('面商 20240562 上门 2024-05-20 到代表单位当面听取意见，代表认可')).toEqual({
      type: 'contact',
      case: c20240562,
      method: '上门',
      date: '2024-05-20',
      note: '到代表单位当面听取意见，代表认可',
    });
  });

  it('takes the note without a date', () => {
    expect(ok('面商 562 电话 代表同意我们的方案')).toEqual({
      type: 'contact',
      case: c562,
      method: '电话',
      date: TODAY,
      note: '代表同意我们的方案',
    });
  });

  it('accepts the date before the method', () => {
    expect(ok('面商 562 5月20日 座谈 座谈会上交流')).toEqual({
      type: 'contact',
      case: c562,
      method: '座谈',
      date: '2024-05-20',
      note: '座谈会上交流',
    });
  });

  it.each(['/面商 562 phone 5/20', 'contact 562 phone 5/20', '沟通 562 电话 5-20', '面商　５６２　电话　５／２０'])('"%s" is a phone contact on 5-20', (text) => {
    expect(ok(text)).toEqual({ type: 'contact', case: c562, method: '电话', date: '2024-05-20', note: '' });
  });

  it('reads a method glued to the note and keeps the sentence whole', () => {
    expect(ok('面商 562 电话沟通，代表表示满意')).toEqual({
      type: 'contact',
      case: c562,
      method: '电话',
      date: TODAY,
      note: '电话沟通，代表表示满意',
    });
  });

  it('reads a date glued to the note and keeps the sentence whole', () => {
    expect(ok('面商 562 上门 昨天下午到代表家中走访')).toEqual({
      type: 'contact',
      case: c562,
      method: '上门',
      date: '2024-06-10',
      note: '昨天下午到代表家中走访',
    });
    expect(ok('面商 562 线上 5月3日视频会议')).toMatchObject({ date: '2024-05-03', note: '5月3日视频会议' });
  });

  it('does not take a fraction at the start of a note for a date', () => {
    expect(ok('面商 562 座谈 3/4的代表到场')).toMatchObject({ date: TODAY, note: '3/4的代表到场' });
  });

  it('asks for the method when it is missing', () => {
    const r = bad('面商 562');
    expect(r.message).toBe(
      '请写明沟通方式：电话、上门、座谈、线上或当面。\n用法：面商 <案号> <电话|上门|座谈|线上|当面> [日期] [说明]',
    );
    expect(r.suggestion).toBe(COMMAND_USAGE.contact);
  });

  it('names an unknown method', () => {
    expect(bad('面商 562 微信 聊了聊').message).toContain('“微信”不是可识别的沟通方式，请写：电话、上门、座谈、线上或当面。');
    expect(bad('contact 562 email').message).toContain('“email”不是可识别的沟通方式');
  });

  it('names a date that does not exist', () => {
    expect(bad('面商 562 电话 2024-02-30').message).toContain('“2024-02-30”不是有效日期');
    expect(bad('面商 562 电话 2月30日与代表沟通').message).toContain('“2月30日”不是有效日期');
  });

  it('needs the case number', () => {
    expect(bad('面商 电话').message).toContain('“电话”不是案号');
  });

  it('limits the note to 1000 characters', () => {
    expect(bad(`面商 562 电话 ${'谈'.repeat(1001)}`).message).toContain('说明太长了（1001 字）');
  });
});

describe('reply', () => {
  it('takes the class alone; date defaults to today, disclosure to none', () => {
    expect(ok('答复 20240562 A')).toEqual({
      type: 'reply',
      case: c20240562,
      resultClass: 'A',
      date: TODAY,
      disclosure: null,
    });
  });

  it.each(['a', 'A', 'A类', 'a类'])('class "%s" is A', (word) => {
    expect(ok(`答复 562 ${word}`)).toMatchObject({ resultClass: 'A' });
  });

  it.each([
    '答复 562 B 2024-06-01 依申请公开',
    '答复 562 B 依申请公开 2024-06-01',
    '答复 562 b 2024/6/1 依申请公开',
    'reply 562 B 2024.6.1 依申请公开',
    '/reply 562 B 6月1日 依申请公开',
    '答复　５６２　Ｂ　２０２４－０６－０１　依申请公开',
  ])('"%s" → B on 2024-06-01, on request', (text) => {
    expect(ok(text)).toEqual({
      type: 'reply',
      case: c562,
      resultClass: 'B',
      date: '2024-06-01',
      disclosure: '依申请公开',
    });
  });

  it.each([
    ['主动公开', '主动公开'],
    ['公开', '主动公开'],
    ['依申请公开', '依申请公开'],
    ['不予公开', '不予公开'],
    ['不公开', '不予公开'],
    ['依申请', '依申请公开'],
    ['public', '主动公开'],
    ['On-Request', '依申请公开'],
    ['not-public', '不予公开'],
    ['不予公开', '不予公开'],
  ])('disclosure "%s" → %s, date omitted', (word, disclosure) => {
    expect(ok(`答复 562 C ${word}`)).toEqual({ type: 'reply', case: c562, resultClass: 'C', date: TODAY, disclosure });
  });

  it('takes the date without a disclosure', () => {
    expect(ok('答复 562 A 昨天')).toEqual({
      type: 'reply',
      case: c562,
      resultClass: 'A',
      date: '2024-06-10',
      disclosure: null,
    });
  });

  it('rejects a class outside the default list, and accepts it when the list allows it', () => {
    expect(bad('答复 562 D').message).toBe(
      '“D”不是有效的结果类别，请写 A、B或C。\n用法：答复 <案号> <A|B|C> [日期] [主动公开|依申请公开|不予公开]',
    );
    const withD: ParseOptions = { today: TODAY, resultClasses: ['A', 'B', 'C', 'D'] };
    expect(ok('答复 562 d', withD)).toMatchObject({ resultClass: 'D' });
    const r = bad('答复 562 E', withD);
    expect(r.message).toContain('请写 A、B、C或D');
    expect(r.suggestion).toBe('答复 <案号> <A|B|C|D> [日期] [主动公开|依申请公开|不予公开]');
  });

  it('asks for the class when it is missing', () => {
    expect(bad('答复 562').message).toContain('请写明答复结果类别：A、B或C。');
    expect(bad('答复 562 2024-06-01 主动公开').message).toContain('请写明答复结果类别');
  });

  it('names a bad date', () => {
    expect(bad('答复 562 A 2024-02-30').message).toContain('“2024-02-30”不是有效日期');
  });

  it('rejects two of the same thing', () => {
    expect(bad('答复 562 A B').message).toContain('结果类别只能写一个，您写了“A”和“B”');
    expect(bad('答复 562 A 公开 不公开').message).toContain('公开情况只能写一个');
    expect(bad('答复 562 A 6月1日 6月2日').message).toContain('答复日期只能写一个，您写了 2024-06-01 和 2024-06-02');
  });

  it('names a word it does not understand', () => {
    expect(bad('答复 562 A 已寄出').message).toContain('看不懂“已寄出”');
  });

  it('needs the case number', () => {
    expect(bad('答复 A').message).toContain('“A”不是案号');
  });
});

describe('dates', () => {
  it.each([
    ['2024-05-01', '2024-05-01'],
    ['2024-5-1', '2024-05-01'],
    ['2024/5/1', '2024-05-01'],
    ['2024.5.1', '2024-05-01'],
    ['2024年5月1日', '2024-05-01'],
    ['2023年12月31日', '2023-12-31'],
    ['5月1日', '2024-05-01'],
    ['5月1号', '2024-05-01'],
    ['5月1', '2024-05-01'],
    ['5-1', '2024-05-01'],
    ['5/1', '2024-05-01'],
    ['05-01', '2024-05-01'],
    ['今天', '2024-06-11'],
    ['昨天', '2024-06-10'],
    ['明天', '2024-06-12'],
    ['today', '2024-06-11'],
    ['2024-02-29', '2024-02-29'],
    ['２０２４／５／１', '2024-05-01'],
  ])('"%s" → %s', (word, iso) => {
    expect(ok(`答复 562 A ${word}`)).toMatchObject({ date: iso });
  });


  it('crosses month and year boundaries for relative words', () => {
    expect(ok('答复 562 A 昨天', { today: '2024-03-01' })).toMatchObject({ date: '2024-02-29' });
    expect(ok('答复 562 A 明天', { today: '2024-12-31' })).toMatchObject({ date: '2025-01-01' });
  });

  it.each(['2024-02-30', '2023-02-29', '2024-13-01', '2024-00-10', '2月30日', '13-1', '4/31', '24-5-1', '1024-05-01', '2024年2月30日'])(
    '"%s" is named as not a valid date',
    (word) => {
      expect(bad(`答复 562 A ${word}`).message).toContain(`“${word}”不是有效日期`);
    },
  );

  it('rejects a nonsense today from the caller instead of inventing dates', () => {
    expect(bad('答复 562 A', { today: '2024-13-01' }).message).toBe('系统日期设置有误，请联系管理员。');
  });
});

describe('dates without a year', () => {
  const on = (today: string): ParseOptions => ({ today });

  describe('contact and reply dates are the latest such date on or before today', () => {
    it.each(['12月30日', '12月30号', '12-30', '12/30'])('"%s" typed on 2027-01-02 is 2026-12-30', (word) => {
      expect(ok(`面商 562 电话 ${word}`, on('2027-01-02'))).toMatchObject({ date: '2026-12-30' });
      expect(ok(`答复 562 A ${word}`, on('2027-01-02'))).toMatchObject({ date: '2026-12-30' });
    });

    it('counts today itself, and takes a day later in the year as last year', () => {
      expect(ok('答复 562 A 1月2日', on('2027-01-02'))).toMatchObject({ date: '2027-01-02' });
      expect(ok('答复 562 A 1月3日', on('2027-01-02'))).toMatchObject({ date: '2026-01-03' });
      expect(ok('面商 562 电话 12月31日', on('2026-12-31'))).toMatchObject({ date: '2026-12-31' });
      expect(ok('面商 562 电话 1/1', on('2026-12-31'))).toMatchObject({ date: '2026-01-01' });
    });

    it('applies to a date glued to the note', () => {
      expect(ok('面商 562 线上 12月30日视频会议', on('2027-01-02'))).toMatchObject({
        date: '2026-12-30',
        note: '12月30日视频会议',
      });
    });

    it('takes an explicit year as written, even after today', () => {
      expect(ok('答复 562 A 2027年12月30日', on('2027-01-02'))).toMatchObject({ date: '2027-12-30' });
      expect(ok('面商 562 电话 2025-12-30', on('2027-01-02'))).toMatchObject({ date: '2025-12-30' });
    });

    it('finds 2月29日 in this or last year when that year is a leap year', () => {
      expect(ok('答复 562 A 2月29日', on('2024-03-01'))).toMatchObject({ date: '2024-02-29' });
      expect(ok('答复 562 A 2月29日', on('2024-02-29'))).toMatchObject({ date: '2024-02-29' });
      expect(ok('面商 562 电话 2/29', on('2025-02-10'))).toMatchObject({ date: '2024-02-29' });
    });

    it('refuses 2月29日 when the year it falls in has none, naming the leap year to write', () => {
      expect(bad('答复 562 A 2月29日', on('2025-03-01')).message).toContain(
        '“2月29日”不是有效日期：2025年没有2月29日。如指2024年的这一天，请写明年份，如 2024年2月29日。',
      );
      // On 2024-02-28 the latest 2月29日 would fall in 2023.
      expect(bad('面商 562 电话 2-29', on('2024-02-28')).message).toContain('2023年没有2月29日。如指2020年的这一天');
    });
  });

  describe('extension dates are the next such date on or after today', () => {
    it.each(['1月15日', '1/15', '1-15', '至1月15日', '到1月15日', '1月15日前'])('"%s" typed on 2026-12-20 is 2027-01-15', (word) => {
      expect(ok(`延期 562 ${word} 需会同住建局现场勘查`, on('2026-12-20'))).toEqual({
        type: 'extend',
        case: c562,
        until: '2027-01-15',
        reason: '需会同住建局现场勘查',
      });
    });

    it('counts today itself, and takes a day earlier in the year as next year', () => {
      expect(ok('延期 562 12月20日 理由', on('2026-12-20'))).toMatchObject({ until: '2026-12-20' });
      expect(ok('延期 562 12月19日 理由', on('2026-12-20'))).toMatchObject({ until: '2027-12-19' });
      expect(ok('延期 562 12月31日 理由', on('2026-01-01'))).toMatchObject({ until: '2026-12-31' });
    });

    it('takes an explicit year as written, even before today', () => {
      expect(ok('延期 562 2026年1月15日 理由', on('2026-12-20'))).toMatchObject({ until: '2026-01-15' });
      expect(ok('延期 562 2026-01-15 理由', on('2026-12-20'))).toMatchObject({ until: '2026-01-15' });
    });

    it('finds 2月29日 in this or next year when that year is a leap year', () => {
      expect(ok('延期 562 2月29日 理由', on('2027-12-01'))).toMatchObject({ until: '2028-02-29' });
      expect(ok('延期 562 2月29日 理由', on('2028-02-29'))).toMatchObject({ until: '2028-02-29' });
      expect(ok('延期 562 2/29 理由', on('2028-01-10'))).toMatchObject({ until: '2028-02-29' });
    });

    it('refuses 2月29日 when the year it falls in has none, naming the leap year to write', () => {
      expect(bad('延期 562 2月29日 理由', on('2028-03-01')).message).toContain(
        '“2月29日”不是有效日期：2029年没有2月29日。如指2032年的这一天，请写明年份，如 2032年2月29日。',
      );
      expect(bad('延期 562 2月29日 理由', on('2025-03-01')).message).toContain('2026年没有2月29日。如指2028年的这一天');
    });
  });

  it.each(['2月30日', '4/31', '13-1', '0-10', '12月0日'])('"%s" never exists and is refused either way', (word) => {
    expect(bad(`答复 562 A ${word}`).message).toContain(`“${word}”不是有效日期，请写成`);
    expect(bad(`延期 562 ${word} 理由`).message).toContain(`“${word}”不是有效日期，请写成`);
  });
});

describe('opinion', () => {
  it.each(['意见 562 已函复主办单位，同意其方案', '/意见 562 已函复主办单位，同意其方案', 'opinion 562 已函复主办单位，同意其方案'])(
    '"%s" records the opinion',
    (text) => {
      expect(ok(text)).toEqual({ type: 'opinion', case: c562, note: '已函复主办单位，同意其方案' });
    },
  );

  it('takes no note as an empty note', () => {
    expect(ok('意见 562')).toEqual({ type: 'opinion', case: c562, note: '' });
  });

  it('needs the case number and limits the note', () => {
    expect(bad('意见').message).toContain('请写明案号');
    expect(bad(`意见 562 ${'见'.repeat(1001)}`).message).toContain('说明太长了（1001 字），请控制在 1000 字以内');
  });
});

describe('rate', () => {
  it.each([
    ['满意', '满意'],
    ['基本满意', '基本满意'],
    ['不满意', '不满意'],
    ['satisfied', '满意'],
    ['basically-satisfied', '基本满意'],
    ['dissatisfied', '不满意'],
  ])('评价 562 %s → %s', (word, rating) => {
    expect(ok(`评价 562 ${word}`)).toEqual({ type: 'rate', case: c562, rating });
    expect(ok(`/rate 562 ${word}`)).toEqual({ type: 'rate', case: c562, rating });
  });

  it('asks for the rating when it is missing', () => {
    expect(bad('评价 562').message).toBe('请写明评价：满意、基本满意或不满意。\n用法：评价 <案号> <满意|基本满意|不满意>');
  });

  it('names a rating it does not know', () => {
    expect(bad('评价 562 非常满意').message).toContain('“非常满意”不是可选的评价，请写：满意、基本满意或不满意。');
  });

  it('rejects words after the rating', () => {
    expect(bad('评价 562 满意 代表很认可').message).toContain('请删去“代表很认可”');
  });

  it('needs the case number', () => {
    expect(bad('评价 满意').message).toContain('“满意”不是案号');
  });
});

describe('extend', () => {
  it.each([
    ['延期 562 2024-08-31 需会同住建局现场勘查', '2024-08-31'],
    ['/延期 562 8月31日 需会同住建局现场勘查', '2024-08-31'],
    ['extend 562 8/31 需会同住建局现场勘查', '2024-08-31'],
    ['申请延期 562 2024年8月31日 需会同住建局现场勘查', '2024-08-31'],
    ['延期 562 至8月31日 需会同住建局现场勘查', '2024-08-31'],
    ['延期 562 8月31日前 需会同住建局现场勘查', '2024-08-31'],
  ])('"%s" asks to extend to %s', (text, until) => {
    expect(ok(text)).toEqual({ type: 'extend', case: c562, until, reason: '需会同住建局现场勘查' });
  });

  it('needs the reason', () => {
    expect(bad('延期 562 2024-08-31').message).toBe('请写明延期理由。\n用法：延期 <案号> <日期> <理由>');
  });

  it('needs the date, and says so when the reason came first', () => {
    expect(bad('延期 562').message).toContain('请写明延期到哪一天，如 2024-05-01、5月1日 或 今天。');
    expect(bad('延期 562 需要协调').message).toContain('“需要协调”不是日期，请写明延期到哪一天');
  });

  it('names a date that does not exist', () => {
    expect(bad('延期 562 2024-09-31 需要协调').message).toContain('“2024-09-31”不是有效日期');
  });

  it('needs the case number and limits the reason', () => {
    expect(bad('延期').message).toContain('请写明案号');
    expect(bad(`延期 562 8月31日 ${'因'.repeat(1001)}`).message).toContain('延期理由太长了');
  });
});

describe('adjust', () => {
  it.each(['调整 562 不属于我局职责，建议由住建局办理', 'adjust 562 不属于我局职责，建议由住建局办理', '申请调整 562 不属于我局职责，建议由住建局办理'])(
    '"%s" asks for an adjustment',
    (text) => {
      expect(ok(text)).toEqual({ type: 'adjust', case: c562, reason: '不属于我局职责，建议由住建局办理' });
    },
  );

  it('needs the reason', () => {
    expect(bad('调整 562').message).toContain('请写明申请调整的理由');
    expect(bad('调整 562').suggestion).toBe('调整 <案号> <理由>');
  });

  it('needs the case number and limits the reason', () => {
    expect(bad('调整').message).toContain('请写明案号');
    expect(bad(`调整 562 ${'因'.repeat(1001)}`).message).toContain('调整理由太长了');
  });
});

describe('bind', () => {
  it.each(['绑定 社会救助科', '/绑定 社会救助科', 'bind 社会救助科', '绑定社会救助科', '绑定　社会救助科'])('"%s" binds the chat', (text) => {
    expect(ok(text)).toEqual({ type: 'bind', unit: '社会救助科' });
  });

  it('keeps the unit name as typed, including full-width brackets and inner spaces', () => {
    expect(ok('绑定 民政局（社会救助科）  二组')).toEqual({ type: 'bind', unit: '民政局（社会救助科） 二组' });
  });

  it('needs the unit name', () => {
    expect(bad('绑定').message).toBe('请写明要绑定的单位名称，如：绑定 社会救助科。\n用法：绑定 <单位名称>');
  });

  it('accepts 50 characters and rejects 51', () => {
    expect(ok(`绑定 ${'科'.repeat(50)}`)).toEqual({ type: 'bind', unit: '科'.repeat(50) });
    expect(bad(`绑定 ${'科'.repeat(51)}`).message).toContain('单位名称太长了（51 字），请控制在 50 字以内');
  });

  it('refuses a person as a unit', () => {
    expect(bad('绑定 <at:ou_a>').message).toContain('单位名称不能是@某人');
  });
});

describe('grant and revoke', () => {
  it.each([
    ['设置 协调员 <at:ou_a>', 'coordinator'],
    ['/设置 协调员 <at:ou_a>', 'coordinator'],
    ['grant coordinator <at:ou_a>', 'coordinator'],
    ['设置 领导 <at:ou_a>', 'leader'],
    ['设置 分管领导 <at:ou_a>', 'leader'],
    ['grant Leader <at:ou_a>', 'leader'],
    ['设置 <at:ou_a> 为 协调员', 'coordinator'],
    ['设置 <at:ou_a> 为协调员', 'coordinator'],
    ['设置协调员<at:ou_a>', 'coordinator'],
  ])('"%s" grants %s to ou_a', (text, role) => {
    expect(ok(text)).toEqual({ type: 'grant', role, users: ['ou_a'] });
  });

  it('takes several people, once each, in order', () => {
    expect(ok('设置 领导 <at:ou_b> <at:ou_a> <at:ou_b>')).toEqual({ type: 'grant', role: 'leader', users: ['ou_b', 'ou_a'] });
  });

  it.each([
    ['取消 协调员 <at:ou_a>', 'coordinator'],
    ['/取消 领导 <at:ou_a>', 'leader'],
    ['revoke coordinator <at:ou_a>', 'coordinator'],
    ['revoke leader <at:ou_a>', 'leader'],
  ])('"%s" revokes %s from ou_a', (text, role) => {
    expect(ok(text)).toEqual({ type: 'revoke', role, users: ['ou_a'] });
  });

  it('needs the role', () => {
    expect(bad('设置 <at:ou_a>').message).toBe('请写明角色：协调员或领导。\n用法：设置 <协调员|领导> @某人');
    expect(bad('取消 <at:ou_a>').suggestion).toBe('取消 <协调员|领导> @某人');
  });

  it('needs at least one person', () => {
    expect(bad('设置 协调员').message).toContain('请@要设为协调员的同事。');
    expect(bad('取消 领导').message).toContain('请@要取消分管领导身份的同事。');
  });

  it('refuses two roles at once and unknown words', () => {
    expect(bad('设置 协调员 领导 <at:ou_a>').message).toContain('一次只能设置一种角色');
    expect(bad('设置 管理员 <at:ou_a>').message).toContain('请删去“管理员”');
    expect(bad('设置 协调员 @张三').message).toContain('“@张三”不是有效的@');
  });
});

describe('text that is not a command', () => {
  it('points a typo at the command meant, quoting the text', () => {
    const r = bad('认岭 20240562');
    expect(r.message).toBe('没有看懂“认岭 20240562”。您是不是想用：认领 <案号>？发送“帮助”查看全部命令。');
    expect(r.suggestion).toBe(COMMAND_USAGE.claim);
  });

  it.each([
    ['认岭20240562', 'claim'],
    ['relase 562', 'release'],
    ['clam 562', 'claim'],
    ['hadnover 562', 'handover'],
    ['progres 562 ok', 'progress'],
    ['面谈 562 电话', 'contact'],
    ['延迟 562 8月31日 理由', 'extend'],
    ['评分了 562', 'rate'],
    ['我想认领20240562', 'claim'],
    ['请帮我查询一下562', 'show'],
    ['我们', 'mine'],
  ] as const)('"%s" suggests %s', (text, type) => {
    expect(bad(text).suggestion).toBe(COMMAND_USAGE[type]);
  });

  it('still answers when nothing is close, pointing at 帮助', () => {
    const r = bad('hello there');
    expect(r.message).toBe('没有看懂“hello there”。发送“帮助”查看全部命令。');
    expect(r.suggestion).toBe('帮助');
  });

  it('shortens a long quote and shows mentions as @某人', () => {
    const r = bad(`<at:ou_a> ${'你'.repeat(40)}`);
    // 30 characters: "@某人 " and 26 of the 40 typed.
    expect(r.message).toBe(`没有看懂“@某人 ${'你'.repeat(26)}…”。发送“帮助”查看全部命令。`);
  });

  it('neutralises typed <at> markup when quoting it, so the answer cannot mention anyone', () => {
    const at = '<at user_id="all"></at>';
    const r = bad(at);
    expect(r.message).toBe('没有看懂“＜at user_id="all"＞＜/at＞”。发送“帮助”查看全部命令。');
    expect(bad(`<at:ou_a> ${at}`).message).toContain('“@某人 ＜at user_id="all"＞＜/at＞”');
  });

  it.each([
    ['<at user_id="all"></at>', '没有看懂“＜at'],
    ['＜at user_id="all"＞＜/at＞', '没有看懂“＜at'],
    ['562 <at user_id="all"></at>', '没有看懂“562 ＜at'],
    ['我的 <at user_id="all"></at>', '请删去“＜at”'],
    ['认领 <at user_id="all"></at>', '“＜at”不是案号'],
    ['认领 562 <at user_id="all"></at>', '请删去“＜at”'],
    ['转交 562 <at user_id="all"></at>', '请删去“＜at”'],
    ['面商 562 <at user_id="all"></at>', '“＜at”不是可识别的沟通方式'],
    ['答复 562 A <at user_id="all"></at>', '看不懂“＜at”'],
    ['评价 562 <at user_id="all"></at>', '“＜at”不是可选的评价'],
    ['延期 562 <at user_id="all"></at>', '“＜at”不是日期'],
    ['设置 协调员 <at user_id="all"></at>', '请删去“＜at”'],
    ['转交 562 @<at user_id="all"></at>', '“@＜at”不是有效的@'],
  ])('"%s" is answered without a live <at> tag', (text, quoted) => {
    const r = bad(text);
    expect(r.message).toContain(quoted);
    expect(r.message).not.toMatch(/<\s*\/?\s*at/i);
    expect(r.suggestion ?? '').not.toMatch(/<\s*\/?\s*at/i);
  });

  it('never throws, whatever it is given', () => {
    for (const text of ['<at:>', '<at:ou_a', '///', '第', '号', '\u200B', '认领 \u200B562', 'x'.repeat(100_000), '\n\n\n']) {
      const r = parseCommand(text, opts);
      expect(typeof r.ok).toBe('boolean');
      if (!r.ok) expect(r.message.length).toBeGreaterThan(0);
    }
    expect(parseCommand(undefined as unknown as string, opts)).toEqual({ ok: true, command: { type: 'help' } });
  });

  it('ignores zero-width characters pasted with the text', () => {
    expect(ok('认领\u200B 562')).toEqual({ type: 'claim', case: c562 });
  });
});

describe('COMMAND_USAGE', () => {
  it('has a Chinese usage line for every command that starts with its command word', () => {
    const types = ['help', 'mine', 'todo', 'show', 'claim', 'release', 'handover', 'progress', 'contact', 'reply', 'opinion', 'rate', 'follow_up', 'extend', 'adjust', 'bind', 'grant', 'revoke', 'remind', 'stats', 'export_report'] as const;
    expect(Object.keys(COMMAND_USAGE).sort()).toEqual([...types].sort());
    for (const type of types) {
      const word = COMMAND_USAGE[type].split(' ')[0]!;
      expect(word).toMatch(/^[\u4e00-\u9fff]+$/);
      // The usage line's own command word must parse to the same command type.
      const parsed = parseCommand(word, opts);
      if (parsed.ok) expect(parsed.command.type).toBe(type);
      else expect(parsed.suggestion).toBe(COMMAND_USAGE[type]);
    }
    expect(COMMAND_USAGE.contact).toBe('面商 <案号> <电话|上门|座谈|线上|当面> [日期] [说明]');
  });
});

describe('统计 and 导出报告', () => {
  const opts = { today: '2024-07-15', resultClasses: ['A', 'B', 'C'] };
  it('read a year and a kind in either order, each optional for 统计', () => {
    expect(parseCommand('统计', opts)).toMatchObject({ ok: true, command: { type: 'stats', year: null, kind: null } });
    expect(parseCommand('统计 提案 2024年', opts)).toMatchObject({ ok: true, command: { type: 'stats', year: 2024, kind: '提案' } });
    expect(parseCommand('/ｓｔａｔｓ ２０２３', opts)).toMatchObject({ ok: true, command: { type: 'stats', year: 2023, kind: null } });
    expect(parseCommand('导出报告 2024 人大建议', opts)).toMatchObject({ ok: true, command: { type: 'export_report', year: 2024, kind: '建议' } });
  });

  it('say what to fix: a missing year for the report, two years, a word that is neither', () => {
    const noYear = parseCommand('导出报告 建议', opts);
    expect(noYear.ok).toBe(false);
    if (!noYear.ok) expect(noYear.message).toContain('请写明年份，如：导出报告 2024 建议。');
    const two = parseCommand('统计 2023 2024', opts);
    if (two.ok) throw new Error('expected a refusal');
    expect(two.message).toContain('一次只能统计一个年份');
    const odd = parseCommand('统计 上半年', opts);
    if (odd.ok) throw new Error('expected a refusal');
    expect(odd.message).toContain('看不懂“上半年”');
    const both = parseCommand('统计 建议 提案', opts);
    if (both.ok) throw new Error('expected a refusal');
    expect(both.message).toContain('建议和提案只能选一个');
  });
});
