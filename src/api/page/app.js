// op25b status page: renders GET /api/events (server-sent events read with fetch, so the
// optional API token travels in an Authorization header, never in the URL).
'use strict';

const TOKEN_KEY = 'op25b-api-token';
const switches = new Map(); // dpid -> summary
let abort = null;
let retryTimer = null;

const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

function when(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

// [data-state, text] for one switch summary.
function stateOf(s) {
  if (!s.connected) return ['disconnected', 'disconnected'];
  if (s.drifting_since) return ['drifting', 'drifting'];
  switch (s.sync_state) {
    case 'in_sync': return ['in-sync', 'in sync'];
    case 'syncing': return ['syncing', 'syncing'];
    case 'retry_wait': return ['failing', 'sync failing'];
    default: return ['handshaking', 'handshaking'];
  }
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text == null ? '' : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function renderSwitch(s) {
  switches.set(s.dpid, s);
  const body = $('switches');
  let tr = body.querySelector(`tr[data-dpid="${CSS.escape(s.dpid)}"]`);
  const fresh = document.createElement('tr');
  const [state, label] = stateOf(s);
  fresh.dataset.dpid = s.dpid;
  fresh.dataset.state = state;
  const badge = cell(fresh, '', 'state-cell');
  const span = document.createElement('span');
  span.className = 'state';
  span.textContent = label;
  badge.appendChild(span);
  cell(fresh, s.dpid, 'dpid');
  cell(fresh, s.name || '', 'name');
  cell(fresh, `${s.flow_count} / ${s.desired_flow_count}`, 'flows');
  cell(fresh, when(s.last_sync), 'last-sync');
  cell(fresh, when(s.last_drift), 'last-drift');
  cell(fresh, s.failed_open ? `${s.failed_open.evidence} ${when(s.failed_open.detected_at)}` : '', 'failed-open');
  cell(fresh, s.peer || '', 'peer');
  if (s.last_error && state === 'failing') fresh.title = s.last_error;
  if (tr) {
    // Keep the row element (observers and selections stay): swap its cells and attributes.
    tr.replaceChildren(...fresh.childNodes);
    tr.dataset.state = state;
    tr.title = fresh.title;
  } else {
    const after = [...body.children].find((r) => r.dataset.dpid > s.dpid);
    body.insertBefore(fresh, after || null);
  }
  counts();
}

function counts() {
  const all = [...switches.values()];
  const n = (f) => String(all.filter(f).length);
  $('n-connected').textContent = n((s) => s.connected);
  $('n-in-sync').textContent = n((s) => stateOf(s)[0] === 'in-sync');
  $('n-drifting').textContent = n((s) => stateOf(s)[0] === 'drifting');
  $('n-failing').textContent = n((s) => stateOf(s)[0] === 'failing');
  $('n-failed-open').textContent = n((s) => s.failed_open);
  $('no-switches').hidden = all.length > 0;
}

function renderPolicy(p) {
  $('p-generation').textContent = String(p.generation);
  $('p-sha256').textContent = p.sha256 || '(no file)';
  $('p-loaded').textContent = when(p.loaded_at);
  $('p-trigger').textContent = p.trigger;
}

function addReload(r) {
  const li = document.createElement('li');
  li.className = r.result;
  let what = r.result;
  if (r.result === 'installed') what = `installed generation ${r.generation}`;
  if (r.result === 'unchanged') what = `unchanged (generation ${r.generation})`;
  if (r.result === 'rejected') what = `rejected: ${r.error}`;
  li.textContent = `${when(r.at)} ${r.trigger}: ${what}`;
  const list = $('reloads');
  list.insertBefore(li, list.firstChild);
  while (list.children.length > 32) list.lastChild.remove();
}

function renderOffenders(o) {
  $('offenders-note').textContent = `${o.tracked} subscribers tracked, ${o.flagged} flagged.`;
  const rows = $('offender-rows');
  rows.replaceChildren();
  for (const x of o.offenders) {
    const tr = document.createElement('tr');
    tr.dataset.source = x.source_ip;
    [x.source_ip, x.source_mac, x.switch, x.port, x.attempts, x.distinct_destinations,
      x.flagged ? 'yes' : 'no', when(x.last_seen)].forEach((v) => cell(tr, v));
    rows.appendChild(tr);
  }
  $('offenders-table').hidden = false;
}

function onEvent(name, data) {
  const v = JSON.parse(data);
  if (name === 'snapshot') {
    switches.clear();
    $('switches').replaceChildren();
    v.switches.switches.forEach(renderSwitch);
    counts();
    renderPolicy(v.policy);
    $('reloads').replaceChildren();
    v.reloads.forEach(addReload);
    $('offenders-table').hidden = true;
    $('offenders-note').textContent = v.offenders_visible
      ? 'Waiting for the offender table…'
      : 'Subscriber data needs the API token.';
  } else if (name === 'switch') {
    renderSwitch(v);
  } else if (name === 'reload') {
    addReload(v.reload);
    renderPolicy(v.policy);
  } else if (name === 'offenders') {
    renderOffenders(v);
  }
}

function live(state, text) {
  $('live').dataset.live = state;
  $('live').textContent = text;
}

// Reads one server-sent event stream until it ends; calls onEvent per event.
async function follow(signal) {
  const headers = { Accept: 'text/event-stream' };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const r = await fetch('/api/events', { headers, signal, cache: 'no-store' });
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('offenders-note').textContent = 'The API token was refused.';
    return;
  }
  if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
  live('live', 'live');
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent(name, data.join('\n'));
      else live('live', `live (heartbeat ${new Date().toLocaleTimeString()})`);
    }
  }
}

function connect() {
  clearTimeout(retryTimer);
  if (abort) abort.abort();
  const mine = new AbortController();
  abort = mine;
  follow(mine.signal)
    .catch(() => {})
    .finally(() => {
      if (abort !== mine) return;
      live('down', 'reconnecting…');
      retryTimer = setTimeout(connect, 1000);
    });
}

document.addEventListener('DOMContentLoaded', () => {
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token').value.trim();
    $('token').value = '';
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    connect();
  });
  $('token-forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    connect();
  });
  connect();
});
