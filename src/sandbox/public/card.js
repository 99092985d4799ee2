// Renders Card JSON 2.0 the way the Feishu client shows it: header with its template colour and tags, markdown
// (bold, links, <at> mentions, <font> colours, &#NN; entities), columns, dividers, collapsible panels, buttons,
// forms with inputs, selects, date and person pickers, tables, and charts (a plain SVG bar chart of the spec's data).

const FONT_COLOURS = new Set(['red', 'orange', 'green', 'grey', 'blue']);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function plainOf(textObject) {
  return textObject && typeof textObject.content === 'string' ? textObject.content : '';
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/**
 * Lark markdown to HTML. Markup is recognised first and everything else is escaped, so &#NN; entities (how the
 * builders escape users' text) end up as the literal character and never as markup.
 */
export function markdownToHtml(source, ctx) {
  const pattern =
    /<at\s+(?:id|user_id|open_id)=["']?([^"'\s>]+)["']?\s*>([^<]*)<\/at>|<font\s+color=["']?(\w+)["']?\s*>|<\/font>|\*\*|~~|\[([^\]\n]+)\]\(([^)\s]+)\)|&#(\d+);|\n/g;
  let html = '';
  let last = 0;
  let bold = false;
  let strike = false;
  const fonts = [];
  for (const m of source.matchAll(pattern)) {
    html += escapeHtml(source.slice(last, m.index));
    last = m.index + m[0].length;
    const token = m[0];
    if (token.startsWith('<at')) {
      const id = m[1];
      const name = id === 'all' ? '所有人' : m[2] || ctx.nameOf(id) || id;
      html += `<span class="at${id === ctx.meOpenId ? ' me-at' : ''}">@${escapeHtml(name)}</span>`;
    } else if (token.startsWith('<font')) {
      const colour = FONT_COLOURS.has(m[3]) ? m[3] : 'grey';
      fonts.push(colour);
      html += `<span class="fc-${colour}">`;
    } else if (token === '</font>') {
      if (fonts.pop()) html += '</span>';
    } else if (token === '**') {
      html += bold ? '</b>' : '<b>';
      bold = !bold;
    } else if (token === '~~') {
      html += strike ? '</s>' : '<s>';
      strike = !strike;
    } else if (token.startsWith('[')) {
      const href = m[5];
      html += /^https?:\/\//.test(href)
        ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener">${escapeHtml(m[4])}</a>`
        : escapeHtml(token);
    } else if (token.startsWith('&#')) {
      html += escapeHtml(String.fromCodePoint(Number(m[6])));
    } else if (token === '\n') {
      html += '<br>';
    }
  }
  html += escapeHtml(source.slice(last));
  if (strike) html += '</s>';
  if (bold) html += '</b>';
  while (fonts.pop()) html += '</span>';
  return html;
}

function markdownNode(element, ctx) {
  const node = el('div', `md ${element.text_size || ''}`);
  node.innerHTML = markdownToHtml(String(element.content ?? ''), ctx);
  if (element.text_align) node.style.textAlign = element.text_align;
  return node;
}

function header(card) {
  const h = card.header;
  const node = el('div', `card-header tpl-${h.template || 'default'}`);
  const title = el('div', 'ttl');
  title.append(el('span', '', plainOf(h.title)));
  for (const tag of h.text_tag_list || []) title.append(el('span', `text-tag tc-${tag.color || 'neutral'}`, plainOf(tag.text)));
  node.append(title);
  if (h.subtitle && plainOf(h.subtitle)) node.append(el('div', 'sub', plainOf(h.subtitle)));
  return node;
}

function callbackValue(element) {
  const behavior = (element.behaviors || []).find((b) => b.type === 'callback');
  return behavior ? behavior.value : element.value;
}

function button(element, ctx, form) {
  const node = el('button', `btn ${element.type || 'default'}${element.width === 'fill' ? ' fill' : ''}`, plainOf(element.text));
  node.type = 'button';
  node.disabled = element.disabled === true;
  node.addEventListener('click', async () => {
    let formValue;
    if (form && element.form_action_type === 'reset') {
      form.reset();
      return;
    }
    if (form && element.form_action_type === 'submit') {
      formValue = form.collect();
      if (formValue === null) return;
    }
    if (element.confirm && !(await ctx.confirm(plainOf(element.confirm.title), plainOf(element.confirm.text)))) return;
    node.classList.add('busy');
    try {
      await ctx.onAction({ value: callbackValue(element), formValue, name: element.name, tag: 'button' });
    } finally {
      node.classList.remove('busy');
    }
  });
  return node;
}

function field(element, control, ctx) {
  const wrap = el('div', 'field');
  if (element.label) {
    const label = el('label');
    if (element.required) label.append(el('span', 'req', '*'));
    label.append(plainOf(element.label));
    wrap.append(label);
  }
  wrap.append(control);
  // A hint about a missing value goes once the person fills it in.
  const clear = () => {
    wrap.classList.remove('invalid');
    wrap.querySelector('.field-error')?.remove();
  };
  control.addEventListener('input', clear);
  control.addEventListener('change', clear);
  control.dataset.fieldName = element.name;
  control.dataset.required = element.required ? '1' : '';
  control.dataset.placeholder = plainOf(element.placeholder);
  if (element.width === 'fill' || !element.width) control.style.width = '100%';
  return wrap;
}

function input(element, ctx) {
  const multiline = element.input_type === 'multiline_text';
  const control = document.createElement(multiline ? 'textarea' : 'input');
  if (multiline) control.rows = element.rows || 3;
  if (element.input_type === 'password') control.type = 'password';
  control.placeholder = plainOf(element.placeholder);
  if (element.max_length) control.maxLength = element.max_length;
  if (element.default_value) control.value = element.default_value;
  control.dataset.kind = 'input';
  return field(element, control, ctx);
}

function datePicker(element, ctx) {
  const control = document.createElement('input');
  control.type = 'date';
  if (element.initial_date) control.value = element.initial_date;
  control.dataset.kind = 'date';
  control.title = plainOf(element.placeholder);
  return field(element, control, ctx);
}

function selectOf(element, options, ctx, kind) {
  const control = document.createElement('select');
  const placeholder = el('option', '', plainOf(element.placeholder) || '请选择');
  placeholder.value = '';
  control.append(placeholder);
  for (const option of options) {
    const o = el('option', '', option.label);
    o.value = option.value;
    control.append(o);
  }
  const initial = element.initial_option ?? (element.initial_index !== undefined ? options[element.initial_index]?.value : undefined);
  if (initial !== undefined) control.value = initial;
  control.dataset.kind = kind;
  return field(element, control, ctx);
}

function chart(element) {
  const spec = element.chart_spec || {};
  const values = Array.isArray(spec.data) ? spec.data.flatMap((d) => d.values || []) : spec.data?.values || [];
  const xField = Array.isArray(spec.xField) ? spec.xField[0] : spec.xField || spec.categoryField || 'x';
  const yField = Array.isArray(spec.yField) ? spec.yField[0] : spec.yField || spec.valueField || 'y';
  const series = spec.seriesField;
  const categories = [...new Set(values.map((v) => String(v[xField])))];
  const seriesNames = series ? [...new Set(values.map((v) => String(v[series])))] : [''];
  const colours = ['#3370ff', '#34c724', '#ff8800', '#7f3bf5', '#f54a45', '#14c0ff'];
  const W = 520, H = 240, left = 36, bottom = 36, top = spec.title?.text ? 28 : 12, right = 10;
  const top0 = Math.max(1, ...values.map((v) => Number(v[yField]) || 0));
  // Whole-number counts get whole-number ticks: the axis top is rounded up to a multiple of 4.
  const max = values.every((v) => Number.isInteger(Number(v[yField]))) ? Math.ceil(top0 / 4) * 4 : top0;
  const plotH = H - top - bottom, plotW = W - left - right;
  const slot = plotW / Math.max(1, categories.length);
  const barW = Math.max(4, Math.min(36, (slot * 0.7) / seriesNames.length));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H + (series ? 18 : 0)}`);
  svg.setAttribute('class', 'chart');
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  if (spec.title?.text) add('text', { x: left, y: 16, 'font-weight': 600 }, spec.title.text);
  for (let i = 0; i <= 4; i++) {
    const y = top + plotH - (plotH * i) / 4;
    add('line', { x1: left, x2: W - right, y1: y, y2: y, stroke: '#eff0f1' });
    add('text', { x: left - 6, y: y + 4, 'text-anchor': 'end' }, String(Math.round((max * i) / 4 * 10) / 10));
  }
  categories.forEach((category, ci) => {
    const x0 = left + slot * ci + (slot - barW * seriesNames.length) / 2;
    seriesNames.forEach((name, si) => {
      const v = values.find((d) => String(d[xField]) === category && (!series || String(d[series]) === name));
      const n = v ? Number(v[yField]) || 0 : 0;
      const h = (plotH * n) / max;
      const rect = add('rect', { x: x0 + si * barW, y: top + plotH - h, width: barW - 2, height: h, rx: 2, fill: colours[si % colours.length] });
      rect.append(Object.assign(document.createElementNS(ns, 'title'), { textContent: `${category}${name ? ` ${name}` : ''}: ${n}` }));
      if (n > 0) add('text', { x: x0 + si * barW + (barW - 2) / 2, y: top + plotH - h - 3, 'text-anchor': 'middle' }, String(n));
    });
    add('text', { x: left + slot * ci + slot / 2, y: top + plotH + 16, 'text-anchor': 'middle' }, category);
  });
  if (series) {
    seriesNames.forEach((name, si) => {
      add('rect', { x: left + si * 90, y: H + 4, width: 10, height: 10, rx: 2, fill: colours[si % colours.length] });
      add('text', { x: left + si * 90 + 14, y: H + 13 }, name);
    });
  }
  const wrap = el('div', 'chart-wrap');
  wrap.append(svg);
  return wrap;
}

function table(element) {
  const wrap = el('div', 'table-wrap');
  const t = el('table');
  const columns = element.columns || [];
  const head = el('tr');
  for (const c of columns) head.append(el('th', '', c.display_name ?? c.name));
  t.append(head);
  for (const row of element.rows || []) {
    const tr = el('tr');
    for (const c of columns) {
      const v = row[c.name];
      const text = Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? x.text ?? '' : x)).join('、') : v ?? '';
      tr.append(el('td', '', String(text)));
    }
    t.append(tr);
  }
  wrap.append(t);
  return wrap;
}

/** A form container: knows its fields, checks the required ones, and collects form_value as Lark sends it. */
function formNode(element, ctx) {
  const node = el('div', 'form');
  node.dataset.formName = element.name;
  const form = {
    collect() {
      let ok = true;
      const value = {};
      for (const control of node.querySelectorAll('[data-field-name]')) {
        const wrap = control.closest('.field');
        wrap.classList.remove('invalid');
        wrap.querySelector('.field-error')?.remove();
        let v = control.value.trim();
        if (v === '') {
          if (control.dataset.required) {
            ok = false;
            wrap.classList.add('invalid');
            wrap.append(el('div', 'field-error', `请填写${control.dataset.placeholder || '此项'}`));
          }
          continue;
        }
        // Lark sends a picked date with the picker's time zone.
        if (control.dataset.kind === 'date') v = `${v} +0800`;
        value[control.dataset.fieldName] = v;
      }
      return ok ? value : null;
    },
    reset() {
      for (const control of node.querySelectorAll('[data-field-name]')) control.value = '';
    },
  };
  for (const child of element.elements || []) node.append(render(child, ctx, form));
  return node;
}

function render(element, ctx, form) {
  switch (element.tag) {
    case 'markdown':
      return markdownNode(element, ctx);
    case 'div': {
      const node = markdownNode({ content: plainOf(element.text), text_size: element.text?.text_size }, ctx);
      if (element.text?.tag === 'plain_text') node.textContent = plainOf(element.text);
      return node;
    }
    case 'hr':
      return el('hr');
    case 'column_set': {
      const node = el('div', `cols${element.flex_mode === 'flow' ? ' flow' : ''}`);
      for (const column of element.columns || []) {
        const col = el('div', `col${column.width === 'weighted' || !column.width ? ' weighted' : ''}`);
        if (column.weight) col.style.flex = String(column.weight);
        if (column.vertical_align === 'center') col.style.justifyContent = 'center';
        for (const child of column.elements || []) col.append(render(child, ctx, form));
        node.append(col);
      }
      return node;
    }
    case 'collapsible_panel': {
      const node = el('div', `panel${element.expanded ? ' open' : ''}`);
      const head = el('div', 'panel-head');
      head.append(el('span', 'arrow', '▶'), el('span', '', plainOf(element.header?.title)));
      head.addEventListener('click', () => node.classList.toggle('open'));
      const body = el('div', 'panel-body');
      for (const child of element.elements || []) body.append(render(child, ctx, form));
      node.append(head, body);
      return node;
    }
    case 'form':
      return formNode(element, ctx);
    case 'button':
      return button(element, ctx, form);
    case 'input':
      return input(element, ctx);
    case 'date_picker':
      return datePicker(element, ctx);
    case 'select_static':
      return selectOf(element, (element.options || []).map((o) => ({ label: plainOf(o.text), value: o.value })), ctx, 'select');
    case 'select_person': {
      // Without options, Feishu offers the people of the chat.
      const options = element.options?.length
        ? element.options.map((o) => ({ label: ctx.nameOf(o.value) || o.value, value: o.value }))
        : ctx.members.map((m) => ({ label: m.name, value: m.openId }));
      return selectOf(element, options, ctx, 'person');
    }
    case 'chart':
      return chart(element);
    case 'table':
      return table(element);
    default:
      return el('div', 'unknown-el', `［此版本的沙盒不显示 ${element.tag} 组件］`);
  }
}

/** The card as a DOM node; clicks go to ctx.onAction({ value, formValue, name, tag }). */
export function renderCard(card, ctx) {
  const node = el('div', 'card');
  if (card.header) node.append(header(card));
  const body = el('div', 'card-body');
  const elements = card.body?.elements || card.elements || [];
  for (const element of elements) body.append(render(element, ctx, null));
  node.append(body);
  return node;
}
