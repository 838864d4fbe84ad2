// The customer's chat: pre-chat form, conversation, resumption. The
// conversation token lives in localStorage; a reload resumes with it.
// When the conversation ends the token is forgotten, so that the next
// person at a shared browser sees nothing of it.
import { ChatClient } from './client.js';
import { renderBody, waitText } from './render.js';

const KEY = 'switchboard.chat.v1';
const OUTBOX = 'switchboard.chat.outbox.v1';
const TYPING_EVERY = 3000;
const AGENT_TYPING_FOR = 5000;
const LEFT_TEXT = 'Your message is with us: we will answer by email or phone. You can close this window.';

const $ = (id) => document.getElementById(id);
const embedded = new URLSearchParams(location.search).get('embed') === '1';

let topics = [];
let maxBytes = 4096;
let saved = load(KEY);           // {conversation_id, token, expires_at}
let outbox = new Map(Object.entries(load(OUTBOX) || {})); // client_id -> body
const bubbles = new Map();       // client_id -> li, for messages not yet acked
const seen = new Map();          // seq -> li
const skipped = new Set();       // seqs of the agents' notes, never sent here
const requests = new Map();      // request id -> {kind, clientID}
let lastSeq = 0;
let maxOutSeq = 0;
let readSent = 0;
let lastTyping = 0;
let typingTimer = 0;
let state = '';                  // '', 'queued', 'assigned', 'closed'
let mode = 'live';
let addUntil = null;             // Date until which a left message takes more
let historyBefore = 0;           // seq before which the server has more messages

function load(k) {
  try {
    return JSON.parse(localStorage.getItem(k));
  } catch {
    return null;
  }
}

function store(k, v) {
  try {
    if (v === null) localStorage.removeItem(k);
    else localStorage.setItem(k, JSON.stringify(v));
  } catch {
    // Storage may be unavailable (private mode); the chat still works
    // until the page is closed.
  }
}

function saveOutbox() {
  store(OUTBOX, outbox.size ? Object.fromEntries(outbox) : null);
}

const wsURL = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/chat';
const client = new ChatClient(wsURL);

client.addEventListener('open', () => { $('conn').hidden = true; });
client.addEventListener('close', () => { $('conn').hidden = false; requests.clear(); });
client.addEventListener('frame', (e) => handle(e.detail));

function handle(f) {
  const d = f.data || {};
  const req = f.id ? requests.get(f.id) : null;
  if (f.id) requests.delete(f.id);
  switch (f.type) {
    case 'welcome':
      topics = d.topics || [];
      maxBytes = d.max_message_bytes || maxBytes;
      fillTopics();
      // The server judges expiry: the browser's clock may be wrong.
      if (saved && saved.token) {
        const id = client.send('resume', { conversation_id: saved.conversation_id, token: saved.token, last_seq: lastSeq });
        if (id) requests.set(id, { kind: 'resume' });
      } else if (!state) {
        showForm();
        $('f-submit').disabled = false; // a new socket: ready to start
      }
      break;
    case 'started':
    case 'resumed':
      if (d.token) {
        saved = { conversation_id: d.conversation_id, token: d.token, expires_at: d.expires_at };
        store(KEY, saved);
      }
      mode = d.mode;
      addUntil = d.add_until ? new Date(d.add_until) : null;
      for (const seq of d.skipped_seqs || []) skipped.add(seq);
      advance();
      // A long conversation resumes with its latest messages; the
      // earlier ones are read a page at a time.
      if (d.history_before && (!historyBefore || d.history_before < historyBefore)) setEarlier(d.history_before);
      if (d.state === 'closed') {
        if (state) {
          // It ended while this page, open on it, was reconnecting:
          // the same person is here; the end and its last messages,
          // which follow, are shown.
          ended('The conversation has ended.');
          break;
        }
        // It ended while no page was open on it: whoever is here now
        // may not be who wrote it, so it is not shown. The socket
        // carries it now: a new conversation needs a new one.
        forget();
        client.fresh();
        $('f-submit').disabled = true; // until the new socket's welcome
        showForm('Your previous conversation has ended. You can start a new one.');
        break;
      }
      showConversation();
      setState(d.state, d.agent_name);
      for (const [clientID, body] of outbox) sendMessage(clientID, body);
      break;
    case 'topics':
      // Agents came or went, or a queue opened or closed: the form says
      // whether a topic chats live or takes a message.
      topics = d.topics || [];
      fillTopics();
      break;
    case 'queue':
      if (state === 'queued' && mode === 'live') {
        $('queue').hidden = false;
        $('queue').textContent = waitText(d);
      }
      break;
    case 'assigned':
      setState('assigned', d.agent_name);
      break;
    case 'survey':
      showSurvey(d);
      break;
    case 'closed':
      if (d.state === 'left') ended(LEFT_TEXT);
      else ended(d.reason === 'you left the conversation' ? 'You left the conversation.' : 'The conversation has ended.');
      break;
    case 'message':
      if (!state) break; // none while the form is shown
      // The agent's message ends their typing.
      if (d.direction === 'out') agentTyping(false);
      addMessage(d);
      break;
    case 'typing':
      if (d.from === 'agent') agentTyping(true);
      break;
    case 'read':
      for (const [seq, li] of seen) {
        if (seq <= d.up_to_seq && li.classList.contains('in')) mark(li, 'Read');
      }
      break;
    case 'ack':
      if (req && req.kind === 'send' && d.message) addMessage(d.message);
      if (req && req.kind === 'history') {
        for (const m of d.messages || []) addMessage(m, true);
        setEarlier(d.history_before || 0);
      }
      if (req && req.kind === 'csat') {
        $('survey').hidden = true;
        $('survey-thanks').hidden = false;
      }
      if (req && req.kind === 'leave') ended(mode === 'message' ? LEFT_TEXT : 'You left the conversation.');
      break;
    case 'error':
      failed(req, d);
      break;
  }
}

// agentTyping shows "typing…" for AGENT_TYPING_FOR after the agent's
// last keystroke, or hides it at once.
function agentTyping(on) {
  clearTimeout(typingTimer);
  $('typing').hidden = !on;
  if (on) typingTimer = setTimeout(() => { $('typing').hidden = true; }, AGENT_TYPING_FOR);
}

function failed(req, d) {
  if (!req) return;
  switch (req.kind) {
    case 'resume':
      forget();
      showForm('Your previous conversation could not be resumed. You can start a new one.');
      break;
    case 'history':
      $('earlier').disabled = false;
      break;
    case 'csat':
      $('survey-send').disabled = false;
      if (d.code === 'conflict') $('survey').hidden = true;
      $('survey-error').hidden = false;
      $('survey-error').textContent = d.message || 'Your answer was not recorded.';
      break;
    case 'start':
      $('f-submit').disabled = false;
      if (d.code === 'unavailable') {
        for (const t of topics) if (t.id === $('f-topic').value) t.online = false;
        formMode();
      }
      formError(d.message);
      break;
    case 'send': {
      const li = bubbles.get(req.clientID);
      if (d.code === 'rate_limited') {
        if (li) mark(li, 'Waiting to send…');
        setTimeout(() => { if (outbox.has(req.clientID)) sendMessage(req.clientID, outbox.get(req.clientID)); }, 5000);
        return;
      }
      outbox.delete(req.clientID);
      saveOutbox();
      if (li) mark(li, 'Not sent: ' + d.message);
      break;
    }
  }
}

function fillTopics() {
  const sel = $('f-topic');
  const was = sel.value;
  sel.replaceChildren();
  for (const t of topics) {
    const o = document.createElement('option');
    o.value = t.id;
    o.textContent = t.label + (t.online ? '' : ' (leave a message)');
    sel.append(o);
  }
  if (was) sel.value = was;
  formMode();
}

function topicOnline() {
  const t = topics.find((t) => t.id === $('f-topic').value);
  return !!(t && t.online);
}

// formMode switches the form between live chat and leaving a message.
function formMode() {
  const live = topicOnline();
  $('offline-note').hidden = live;
  $('f-message-opt').hidden = !live;
  $('f-submit').textContent = live ? 'Start chat' : 'Leave a message';
}

function showForm(note) {
  state = '';
  $('prechat').hidden = false;
  $('conversation').hidden = true;
  $('end').hidden = true;
  $('status').textContent = 'We usually answer within minutes.';
  if (note) formError(note);
}

function formError(msg) {
  $('form-error').hidden = !msg;
  $('form-error').textContent = msg || '';
}

function showConversation() {
  $('prechat').hidden = true;
  $('conversation').hidden = false;
}

function setState(s, agentName) {
  state = s;
  $('end').hidden = s === 'closed';
  $('composer').hidden = s === 'closed';
  $('ended').hidden = s !== 'closed';
  if (s !== 'queued' || mode !== 'live') $('queue').hidden = true;
  $('end').textContent = mode === 'message' ? 'Close' : 'End chat';
  if (mode === 'message' && s !== 'assigned' && s !== 'closed') {
    const until = addUntil ? ' You can add to it until ' + addUntil.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) + ', or close this window.' : '';
    $('status').textContent = 'Message received: we will answer later, by email or phone.' + until;
  } else if (s === 'queued') {
    $('status').textContent = 'Waiting for an agent';
  } else if (s === 'assigned') {
    $('status').textContent = 'You are chatting with ' + (agentName || 'an agent');
  } else if (s === 'closed') {
    $('status').textContent = 'Conversation ended';
    $('typing').hidden = true;
  }
}

// The satisfaction survey: one question, a score on the server's scale
// (words for the usual 1 to 5), an optional comment; sent once.
const SCALE_WORDS = ['Very dissatisfied', 'Dissatisfied', 'Neither', 'Satisfied', 'Very satisfied'];

function showSurvey(d) {
  const min = d.min || 1, max = d.max || 5;
  $('survey-question').textContent = d.question || 'How did we do?';
  const scale = $('survey-scale');
  scale.replaceChildren();
  for (let v = min; v <= max; v++) {
    const id = 'survey-' + v;
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'score';
    input.id = id;
    input.value = String(v);
    input.required = true;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.append(input, ' ' + v + (min === 1 && max === 5 ? ' · ' + SCALE_WORDS[v - 1] : ''));
    scale.append(label);
  }
  if (d.max_comment_bytes) $('survey-comment').maxLength = d.max_comment_bytes;
  $('survey-error').hidden = true;
  $('survey-thanks').hidden = true;
  $('survey').hidden = false;
}

$('survey').addEventListener('submit', (e) => {
  e.preventDefault();
  const chosen = $('survey').querySelector('input[name=score]:checked');
  if (!chosen) return;
  const id = client.send('csat', { score: Number(chosen.value), comment: $('survey-comment').value.trim() });
  if (id) {
    requests.set(id, { kind: 'csat' });
    $('survey-send').disabled = true;
  }
});

function ended(text) {
  // What was still to send is not sent: said so, not dropped silently.
  for (const clientID of outbox.keys()) {
    const li = bubbles.get(clientID);
    if (li) mark(li, 'Not sent: the conversation has ended');
  }
  forget();
  setState('closed');
  $('ended-text').textContent = text;
}

function forget() {
  saved = null;
  store(KEY, null);
  outbox.clear();
  saveOutbox();
}

function bubble(direction, author, body) {
  const li = document.createElement('li');
  li.className = 'msg ' + (direction === 'in' ? 'in' : 'out');
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = direction === 'in' ? 'You' : author;
  const text = document.createElement('div');
  text.className = 'body';
  renderBody(text, body);
  li.append(who, text);
  return li;
}

function mark(li, text) {
  let m = li.querySelector('.mark');
  if (!m) {
    m = document.createElement('span');
    m.className = 'mark';
    li.append(m);
  }
  m.textContent = text;
}

// setEarlier shows the "Show earlier messages" button while the server
// has messages before seq (0: none).
function setEarlier(seq) {
  historyBefore = seq;
  $('earlier').hidden = !seq;
  $('earlier').disabled = false;
}

// has says whether the page has message seq, or knows it never will (an
// agent's note).
function has(seq) {
  return seen.has(seq) || skipped.has(seq);
}

// firstRun is the last seq of the run without gaps that starts at the
// smallest seq the page has (earlier pages are read on demand).
function firstRun() {
  if (seen.size === 0) return 0;
  let s = Math.min(...seen.keys());
  while (has(s + 1)) s++;
  return s;
}

// advance moves the resume point to the end of the run without gaps:
// an agent's message may come after a later one of the customer's, and
// a resume from the highest seq would never bring it.
function advance() {
  while (has(lastSeq + 1)) lastSeq++;
  if (lastSeq === 0 || !has(lastSeq)) lastSeq = firstRun();
}

function addMessage(m, earlier) {
  if (seen.has(m.seq)) return;
  let li = m.client_id ? bubbles.get(m.client_id) : null;
  if (li) {
    bubbles.delete(m.client_id);
    outbox.delete(m.client_id);
    saveOutbox();
  } else {
    li = bubble(m.direction, m.author, m.body);
    const list = $('messages');
    const after = [...list.children].find((x) => !x.dataset.seq || Number(x.dataset.seq) > m.seq);
    list.insertBefore(li, after || null);
  }
  li.dataset.seq = String(m.seq);
  if (m.direction === 'in') mark(li, 'Delivered');
  seen.set(m.seq, li);
  advance();
  if (m.direction === 'out') maxOutSeq = Math.max(maxOutSeq, m.seq);
  if (earlier) return;
  scrollDown();
  markRead();
}

function scrollDown() {
  const list = $('messages');
  list.scrollTop = list.scrollHeight;
}

function markRead() {
  if (document.visibilityState !== 'visible' || maxOutSeq <= readSent) return;
  if (client.send('read', { up_to_seq: maxOutSeq })) readSent = maxOutSeq;
}

function sendMessage(clientID, body) {
  const id = client.send('send', { body, client_id: clientID });
  if (id) requests.set(id, { kind: 'send', clientID });
}

function newClientID() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

$('f-topic').addEventListener('change', formMode);

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const live = topicOnline();
  const data = {
    name: $('f-name').value.trim(),
    email: $('f-email').value.trim(),
    phone: $('f-phone').value.trim(),
    topic: $('f-topic').value,
    message: $('f-message').value.trim(),
  };
  if (!live) data.leave_message = true;
  if (!data.name) return formError('Please tell us your name.');
  if (!live && !data.message) return formError('Please write your message.');
  if (!live && !data.email && !data.phone) return formError('Please give an email address or a phone number so that we can answer.');
  if (new TextEncoder().encode(data.message).length > maxBytes) return formError('Your message is too long.');
  formError('');
  const id = client.send('start', data);
  if (!id) return formError('Not connected; trying again…');
  requests.set(id, { kind: 'start' });
  $('f-submit').disabled = true;
  $('messages').replaceChildren();
  seen.clear();
  skipped.clear();
  setEarlier(0);
  lastSeq = maxOutSeq = readSent = 0;
});

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const body = $('input').value.trim();
  if (!body) return;
  if (new TextEncoder().encode(body).length > maxBytes) {
    $('input').setCustomValidity('This message is too long.');
    $('input').reportValidity();
    return;
  }
  $('input').setCustomValidity('');
  const clientID = newClientID();
  const li = bubble('in', '', body);
  mark(li, 'Sending…');
  $('messages').append(li);
  scrollDown();
  bubbles.set(clientID, li);
  outbox.set(clientID, body);
  saveOutbox();
  $('input').value = '';
  sendMessage(clientID, body);
});

$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});

$('input').addEventListener('input', () => {
  const now = Date.now();
  if (now - lastTyping >= TYPING_EVERY && client.send('typing', {})) lastTyping = now;
});

$('earlier').addEventListener('click', () => {
  if (!historyBefore) return;
  const id = client.send('history', { before_seq: historyBefore });
  if (id) {
    requests.set(id, { kind: 'history' });
    $('earlier').disabled = true;
  }
});

$('end').addEventListener('click', () => {
  const id = client.send('leave', {});
  if (id) requests.set(id, { kind: 'leave' });
});

$('again').addEventListener('click', () => {
  forget();
  client.fresh();
  $('messages').replaceChildren();
  seen.clear();
  skipped.clear();
  setEarlier(0);
  bubbles.clear();
  lastSeq = maxOutSeq = readSent = 0;
  $('f-submit').disabled = true; // until the new socket's welcome
  $('f-message').value = '';
  $('survey').hidden = true;
  $('survey-thanks').hidden = true;
  showForm();
});

document.addEventListener('visibilitychange', markRead);

if (embedded) {
  document.body.classList.add('embed');
  $('minimize').hidden = false;
  $('minimize').addEventListener('click', () => {
    window.parent.postMessage({ type: 'switchboard-chat:minimize' }, '*');
  });
}

// Messages written before a reload and never acknowledged are shown and
// sent again, with their client ids, once the conversation resumes.
for (const [clientID, body] of outbox) {
  const li = bubble('in', '', body);
  mark(li, 'Sending…');
  $('messages').append(li);
  bubbles.set(clientID, li);
}

client.connect();
