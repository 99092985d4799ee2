// The sandbox's chat window: who you are, your chats, the messages of the open chat (live, over server-sent
// events), the input box, and the cards you can click. Everything goes through the sandbox API, which hands it
// to Banli as Lark would.

import { markdownToHtml, renderCard } from './card.js';

const AVATAR_COLOURS = ['#3370ff', '#14c0ff', '#2ea121', '#ff8800', '#7f3bf5', '#f54a45', '#04b49c'];
const $ = (id) => document.getElementById(id);

const state = {
  bot: null,
  people: [],
  chats: [],
  p2p: {},
  today: '',
  me: localStorage.getItem('banli-sandbox-me') || '',
  chatId: localStorage.getItem('banli-sandbox-chat') || '',
  messages: new Map(), // chatId -> entries
  unread: new Map(),
};

async function api(path, body) {
  const res = await fetch(`/sandbox/api${path}`, body === undefined ? {} : {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function nameOf(openId) {
  if (state.bot && openId === state.bot.openId) return state.bot.name;
  return state.people.find((p) => p.openId === openId)?.name;
}

function colourOf(key) {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return AVATAR_COLOURS[h % AVATAR_COLOURS.length];
}

function avatar(kind, key, label, small) {
  const node = document.createElement('span');
  node.className = `avatar${small ? ' small' : ''}${kind === 'bot' ? ' bot' : ''}${kind === 'group' ? ' group' : ''}`;
  if (kind === 'bot') node.textContent = '办';
  else {
    node.style.background = colourOf(key);
    node.textContent = Array.from(label || '?').slice(-2).join('');
  }
  return node;
}

let toastSeq = 0;

function toast(type, content) {
  const node = document.createElement('div');
  node.className = `toast ${type || 'info'}`;
  node.dataset.testid = 'toast';
  // Numbered, so a test can tell a new toast from the one still fading out.
  node.dataset.seq = String(++toastSeq);
  document.body.dataset.toastSeq = String(toastSeq);
  const icon = document.createElement('span');
  icon.className = 'ticon';
  icon.textContent = { success: '✓', error: '✕', warning: '!', info: 'i' }[type] || 'i';
  const text = document.createElement('span');
  text.textContent = content;
  node.append(icon, text);
  $('toasts').append(node);
  setTimeout(() => node.remove(), 4000);
}

function confirmDialog(title, text) {
  return new Promise((resolve) => {
    $('modal-title').textContent = title;
    $('modal-text').textContent = text;
    $('modal').hidden = false;
    const done = (ok) => {
      $('modal').hidden = true;
      $('modal-ok').onclick = null;
      $('modal-cancel').onclick = null;
      resolve(ok);
    };
    $('modal-ok').onclick = () => done(true);
    $('modal-cancel').onclick = () => done(false);
  });
}

// ── who am I ─────────────────────────────────────────────────────────────────

function me() {
  return state.people.find((p) => p.openId === state.me) || state.people[0];
}

function myChats() {
  const mine = me();
  const groups = state.chats.filter((c) => c.chatType === 'group' && c.members.includes(mine.openId));
  const p2p = state.chats.find((c) => c.chatId === state.p2p[mine.openId]);
  return p2p ? [...groups, p2p] : groups;
}

function renderMe() {
  const mine = me();
  $('me-avatar').replaceWith(Object.assign(avatar('person', mine.openId, mine.name, true), { id: 'me-avatar' }));
  $('me-name').textContent = `${mine.name} · ${mine.title.split(' · ')[0]}`;
  const menu = $('me-menu');
  menu.replaceChildren();
  for (const person of state.people) {
    const row = document.createElement('div');
    row.className = `person${person.openId === mine.openId ? ' current' : ''}`;
    row.dataset.openId = person.openId;
    const who = document.createElement('div');
    who.className = 'who';
    who.innerHTML = `<div>${escape(person.name)}</div><div class="title">${escape(person.title)}</div>`;
    const rename = document.createElement('button');
    rename.className = 'rename';
    rename.textContent = '改名';
    rename.addEventListener('click', async (e) => {
      e.stopPropagation();
      const name = prompt(`把「${person.name}」改名为：`, person.name);
      if (name === null) return;
      try {
        await api(`/people/${encodeURIComponent(person.openId)}`, { name });
      } catch (err) {
        toast('error', err.message);
      }
    });
    row.append(avatar('person', person.openId, person.name, true), who, rename);
    row.addEventListener('click', () => {
      switchTo(person.openId);
      menu.hidden = true;
    });
    menu.append(row);
  }
  const note = document.createElement('div');
  note.className = 'menu-note';
  note.textContent = '切换身份：以此人的身份发消息、点卡片。';
  menu.append(note);
}

function switchTo(openId) {
  state.me = openId;
  localStorage.setItem('banli-sandbox-me', openId);
  renderMe();
  const chats = myChats();
  if (!chats.some((c) => c.chatId === state.chatId)) state.chatId = chats[0]?.chatId || '';
  renderChatList();
  openChat(state.chatId);
}

// ── chats ────────────────────────────────────────────────────────────────────

function chatName(chat) {
  return chat.chatType === 'p2p' ? state.bot.name : chat.name;
}

function previewOf(entry) {
  if (!entry) return '';
  const who = entry.senderOpenId ? `${nameOf(entry.senderOpenId) || ''}：` : '';
  if (entry.msgType === 'interactive') return `${who}[卡片] ${entry.content?.header?.title?.content || ''}`;
  if (entry.msgType === 'file') return `${who}[文件] ${entry.file?.name || entry.content?.file_name || ''}`;
  const text = entry.typed ?? entry.content?.text ?? '';
  return who + text.replace(/<at[^>]*>([^<]*)<\/at>/g, '@$1').replace(/@_user_\d+\s*/g, '');
}

function renderChatList() {
  const list = $('chats');
  list.replaceChildren();
  for (const chat of myChats()) {
    const li = document.createElement('li');
    li.className = `chat-item${chat.chatId === state.chatId ? ' active' : ''}`;
    li.dataset.chatId = chat.chatId;
    const meta = document.createElement('div');
    meta.className = 'meta';
    const name = document.createElement('div');
    name.className = 'name';
    name.textContent = chatName(chat);
    if (chat.chatType === 'p2p') name.append(Object.assign(document.createElement('span'), { className: 'tag-bot', textContent: '机器人' }));
    const preview = document.createElement('div');
    preview.className = 'preview';
    const log = state.messages.get(chat.chatId) || [];
    preview.textContent = previewOf(log[log.length - 1]);
    meta.append(name, preview);
    li.append(chat.chatType === 'p2p' ? avatar('bot') : avatar('group', chat.chatId, chat.name.slice(0, 2)), meta);
    const unread = state.unread.get(chat.chatId) || 0;
    if (unread > 0 && chat.chatId !== state.chatId) li.append(Object.assign(document.createElement('span'), { className: 'badge', textContent: String(unread) }));
    li.addEventListener('click', () => openChat(chat.chatId));
    list.append(li);
  }
}

async function loadChat(chatId) {
  const { messages } = await api(`/chats/${encodeURIComponent(chatId)}/messages`);
  state.messages.set(chatId, messages);
}

async function openChat(chatId) {
  if (!chatId) return;
  state.chatId = chatId;
  localStorage.setItem('banli-sandbox-chat', chatId);
  state.unread.set(chatId, 0);
  const chat = state.chats.find((c) => c.chatId === chatId);
  $('chat-title').textContent = chatName(chat);
  $('chat-sub').textContent = chat.chatType === 'p2p' ? '与机器人的单聊' : `${chat.members.length + 1} 位成员 · 群聊中发给机器人的消息会自动 @${state.bot.name}`;
  $('input').placeholder = chat.chatType === 'p2p' ? `发送给 ${state.bot.name}` : `发送给 ${chat.name}（@${state.bot.name}）`;
  $('hint').textContent = chat.chatType === 'p2p' ? '可直接输入命令，如：帮助、我的、认领 562；也可以把文件拖进来' : '试试：帮助、待办、认领 562、查询 562；@张三 这样写可以提到同事';
  $('attach').classList.toggle('disabled', chat.chatType !== 'p2p');
  await loadChat(chatId);
  renderChatList();
  renderMessages();
}

// ── messages ─────────────────────────────────────────────────────────────────

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

function timeOf(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function cardCtx(entry) {
  const chat = state.chats.find((c) => c.chatId === entry.chatId);
  return {
    meOpenId: state.me,
    nameOf,
    members: (chat?.members || []).map((openId) => ({ openId, name: nameOf(openId) || openId })),
    confirm: confirmDialog,
    onAction: async ({ value, formValue, name, tag }) => {
      try {
        const answer = await api('/click', { messageId: entry.messageId, operator: state.me, value, formValue, name, tag });
        if (answer.toast) toast(answer.toast.type, answer.toast.content);
      } catch (err) {
        toast('error', `点击没有送达：${err.message}`);
      }
    },
  };
}

function contentNode(entry) {
  const wrap = document.createElement('div');
  wrap.className = 'content';
  if (entry.msgType === 'interactive') {
    wrap.append(renderCard(entry.content || {}, cardCtx(entry)));
  } else if (entry.msgType === 'file') {
    const file = entry.content || {};
    const box = document.createElement('div');
    box.className = 'file-msg';
    const ext = (entry.file?.name || file.file_name || '').split('.').pop().toLowerCase();
    const icon = document.createElement('div');
    icon.className = `file-icon${['xlsx', 'xls', 'csv'].includes(ext) ? '' : ' other'}`;
    icon.textContent = ext.toUpperCase().slice(0, 4) || 'FILE';
    const info = document.createElement('div');
    const name = entry.file?.name || file.file_name || '文件';
    const size = entry.file ? (entry.file.size >= 1024 * 1024 ? `${(entry.file.size / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(entry.file.size / 1024))} KB`) : '';
    info.innerHTML = `<div class="fname">${escape(name)}</div><div class="fsize">${size}</div>`;
    const link = document.createElement('a');
    link.href = `/sandbox/api/files/${encodeURIComponent(entry.messageId)}`;
    link.textContent = '下载';
    link.setAttribute('download', entry.file?.name || file.file_name || 'file');
    info.append(link);
    box.append(icon, info);
    wrap.append(box);
  } else {
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    const text = entry.typed ?? entry.content?.text ?? (entry.msgType === 'post' ? '[富文本消息]' : `[${entry.msgType}]`);
    // People's messages are shown as typed; the bot's text may carry <at user_id> mentions.
    bubble.innerHTML = entry.senderOpenId ? escape(text).replace(/@(\S+)/g, (m, n) => (state.people.some((p) => p.name === n) || n === state.bot.name ? `<span class="at">${m}</span>` : m)) : markdownToHtml(text, { nameOf, meOpenId: state.me });
    wrap.append(bubble);
  }
  return wrap;
}

function messageNode(entry) {
  const node = document.createElement('div');
  const mine = entry.senderOpenId === state.me;
  node.className = `msg${mine ? ' mine' : ''}`;
  node.dataset.messageId = entry.messageId;
  node.dataset.msgType = entry.msgType;
  const isBot = !entry.senderOpenId;
  const name = isBot ? state.bot.name : nameOf(entry.senderOpenId) || entry.senderOpenId;
  const body = document.createElement('div');
  body.className = 'body';
  const who = document.createElement('div');
  who.className = 'who';
  who.innerHTML = `<span class="nm">${escape(name)}</span>${isBot ? '<span class="tag-bot">机器人</span>' : ''}<span>${timeOf(entry.createTime)}</span>`;
  body.append(who);
  if (entry.replyTo) {
    const parent = (state.messages.get(entry.chatId) || []).find((m) => m.messageId === entry.replyTo);
    if (parent) {
      const quote = document.createElement('div');
      quote.className = 'reply-quote';
      quote.textContent = `回复 ${parent.senderOpenId ? nameOf(parent.senderOpenId) : state.bot.name}：${previewOf({ ...parent, senderOpenId: undefined })}`;
      body.append(quote);
    }
  }
  body.append(contentNode(entry));
  node.append(isBot ? avatar('bot') : avatar('person', entry.senderOpenId, name), body);
  return node;
}

function renderMessages() {
  const box = $('messages');
  box.replaceChildren();
  const sep = document.createElement('div');
  sep.className = 'day-sep';
  sep.textContent = `沙盒日期 ${state.today}`;
  box.append(sep);
  for (const entry of state.messages.get(state.chatId) || []) box.append(messageNode(entry));
  box.scrollTop = box.scrollHeight;
}

function onMessage(entry) {
  const log = state.messages.get(entry.chatId);
  if (log && !log.some((m) => m.messageId === entry.messageId)) log.push(entry);
  if (entry.chatId === state.chatId) {
    const box = $('messages');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    box.append(messageNode(entry));
    if (atBottom || entry.senderOpenId === state.me) box.scrollTop = box.scrollHeight;
  } else {
    state.unread.set(entry.chatId, (state.unread.get(entry.chatId) || 0) + 1);
  }
  renderChatList();
}

function onUpdate(entry) {
  const log = state.messages.get(entry.chatId);
  if (log) {
    const i = log.findIndex((m) => m.messageId === entry.messageId);
    if (i >= 0) log[i] = { ...log[i], ...entry };
  }
  const node = document.querySelector(`.msg[data-message-id="${entry.messageId}"]`);
  if (node) node.querySelector('.content').replaceWith(contentNode(entry));
}

// ── typing, files, days ──────────────────────────────────────────────────────

async function send() {
  const text = $('input').value;
  if (!text.trim()) return;
  $('send').disabled = true;
  try {
    await api('/say', { chatId: state.chatId, from: state.me, text });
    $('input').value = '';
  } catch (err) {
    toast('error', err.message);
  } finally {
    $('send').disabled = false;
    $('input').focus();
  }
}

async function sendFile(file) {
  const chat = state.chats.find((c) => c.chatId === state.chatId);
  if (!chat || chat.chatType !== 'p2p') {
    toast('warning', '文件请发到与办理助手的单聊');
    return;
  }
  const res = await fetch(`/sandbox/api/files?chatId=${encodeURIComponent(state.chatId)}&from=${encodeURIComponent(state.me)}&name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: file,
  });
  if (!res.ok) toast('error', (await res.json().catch(() => ({}))).error || `文件没有发出（HTTP ${res.status}）`);
}

function setupComposer() {
  $('send').addEventListener('click', send);
  $('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
  $('file-input').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (file) sendFile(file);
    e.target.value = '';
  });
  const chatPane = document.querySelector('.chat');
  chatPane.addEventListener('dragover', (e) => {
    e.preventDefault();
    $('drop-hint').hidden = false;
  });
  chatPane.addEventListener('dragleave', (e) => {
    if (!chatPane.contains(e.relatedTarget)) $('drop-hint').hidden = true;
  });
  chatPane.addEventListener('drop', (e) => {
    e.preventDefault();
    $('drop-hint').hidden = true;
    const file = e.dataTransfer.files[0];
    if (file) sendFile(file);
  });
}

function nextWorkday(iso) {
  const d = new Date(`${iso}T00:00:00Z`);
  do d.setUTCDate(d.getUTCDate() + 1);
  while (d.getUTCDay() === 0 || d.getUTCDay() === 6);
  return d.toISOString().slice(0, 10);
}

function setupControls() {
  $('me').addEventListener('click', (e) => {
    if (e.target.closest('.me-menu')) return;
    $('me-menu').hidden = !$('me-menu').hidden;
  });
  document.addEventListener('click', (e) => {
    if (!e.target.closest('#me')) $('me-menu').hidden = true;
  });
  $('new-day').addEventListener('click', async () => {
    const date = $('day-input').value;
    $('new-day').disabled = true;
    try {
      const result = await api('/new-day', { date });
      const s = result.summary || {};
      if (s.status === 'rest_day') toast('info', `已进入 ${result.date}：休息日，不发提醒`);
      else if (s.status === 'already_ran') toast('info', `已进入 ${result.date}：当天的提醒已经发过`);
      else if (!s.cards) toast('success', `已进入 ${result.date}：当天没有需要提醒的事项`);
      else toast('success', `已进入 ${result.date}：09:00 的提醒已发出（${s.cards} 张卡片，${s.reminders ?? 0} 项提醒）`);
    } catch (err) {
      toast('error', err.message);
    } finally {
      $('new-day').disabled = false;
    }
  });
  $('reset').addEventListener('click', async () => {
    if (!(await confirmDialog('重置沙盒', '清空全部案件、消息和记录，重新载入示例案件，日期回到第一天。'))) return;
    try {
      await api('/reset', {});
      toast('success', '沙盒已重置');
    } catch (err) {
      toast('error', err.message);
    }
  });
}

function setDay(today) {
  state.today = today;
  $('day-input').value = nextWorkday(today);
  $('day-input').min = today;
  const sep = document.querySelector('.day-sep');
  if (sep) sep.textContent = `沙盒日期 ${today}`;
}

function listen() {
  const stream = new EventSource('/sandbox/api/stream');
  stream.addEventListener('message', (e) => onMessage(JSON.parse(e.data)));
  stream.addEventListener('update', (e) => onUpdate(JSON.parse(e.data)));
  stream.addEventListener('people', (e) => {
    state.people = JSON.parse(e.data);
    renderMe();
    renderChatList();
    renderMessages();
  });
  stream.addEventListener('day', (e) => setDay(JSON.parse(e.data).today));
  stream.addEventListener('reset', async (e) => {
    Object.assign(state, JSON.parse(e.data));
    state.messages.clear();
    state.unread.clear();
    setDay(state.today);
    await Promise.all(state.chats.map((c) => loadChat(c.chatId)));
    renderChatList();
    renderMessages();
  });
  stream.addEventListener('open', () => document.body.dataset.live = '1');
}

async function main() {
  Object.assign(state, await api('/state'));
  if (!state.people.some((p) => p.openId === state.me)) state.me = state.people.find((p) => p.role === 'handler')?.openId || state.people[0].openId;
  setDay(state.today);
  setupComposer();
  setupControls();
  renderMe();
  await Promise.all(state.chats.map((c) => loadChat(c.chatId)));
  const chats = myChats();
  if (!chats.some((c) => c.chatId === state.chatId)) state.chatId = chats[0]?.chatId || '';
  listen();
  await openChat(state.chatId);
  document.body.dataset.ready = '1';
}

main().catch((err) => {
  document.body.textContent = `沙盒没有启动：${err.message}`;
});
