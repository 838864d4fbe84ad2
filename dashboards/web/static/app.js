// The supervisors' live page: sign in (a supervisor's or an admin's
// login), then the board of /ws/dashboard, rendered as text, with the
// waits and times in state counted on from the board's time, and the
// last hour's trends drawn with uPlot (vendored: uPlot.esm.js, MIT).
// The socket sends the whole board (a snapshot, with its version), then
// the changes (board_delta: the rows changed, the keys removed); the
// page applies them to its board and redraws only the rows that changed.
import uPlot from "./uPlot.esm.js";
const $ = (id) => document.getElementById(id);
const ui = {
  login: $("login"), loginForm: $("login-form"), loginID: $("login-id"), loginPassword: $("login-password"), loginError: $("login-error"),
  board: $("board"), who: $("who"), conn: $("conn-status"), asOf: $("as-of"), logout: $("logout"),
  alerts: $("alerts"), queues: document.querySelector("#queues tbody"), agents: document.querySelector("#agents tbody"),
  windowNote: $("window-note"), notSupervisor: $("not-supervisor"),
  monitor: $("monitor"), monitorMeta: $("monitor-meta"), monitorMessages: $("monitor-messages"),
  whisperForm: $("whisper-form"), whisper: $("whisper"), whisperError: $("whisper-error"), monitorStop: $("monitor-stop"),
  takeover: $("takeover"), takeoverStart: $("takeover-start"), takeoverForm: $("takeover-form"),
  takeoverText: $("takeover-text"), takeoverError: $("takeover-error"),
};
let monitored = ""; // the contact monitored, or ""
const agentRows = new Map(); // agent id → {tr, cells, a, inState}: the agents' rows, kept
const queueRows = new Map(); // queue name → {tr, cells, q, adv, alarm}: the queues' rows, kept
let monitoredAgent = ""; // the agent holding it, as the conversation said
let monitoredContact = null; // the monitored contact, as the conversation (or the take-over) said
let login = ""; // who signed in (GET /api/v1/me)
let pendingSay = null; // {body, id}: the message to the customer not known sent, and its client_id
let transcript = new Map(); // seq → message of the monitored contact

let socket = null;
let board = null;
let version = 0; // the board's version: a delta applies from it
let receivedAt = 0; // Date.now() when the board came
let retry = 0;

async function api(method, path, body) {
  const r = await fetch(path, {
    method, credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try { data = await r.json(); } catch { /* no body */ }
  return { status: r.status, ok: r.ok, data };
}

function showLogin(message) {
  ui.board.hidden = true;
  ui.notSupervisor.hidden = true;
  ui.login.hidden = false;
  ui.loginError.textContent = message || "";
  ui.loginError.hidden = !message;
  ui.loginPassword.value = "";
  (ui.loginID.value ? ui.loginPassword : ui.loginID).focus();
}

ui.loginForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const id = ui.loginID.value.trim();
  const password = ui.loginPassword.value;
  if (!id || !password) return showLogin("Enter your login and password.");
  const r = await api("POST", "/api/v1/login", { id, password });
  if (!r.ok) return showLogin((r.data && r.data.error && r.data.error.message) || "Sign-in failed.");
  start();
});

ui.logout.addEventListener("click", async () => {
  stop();
  await api("POST", "/api/v1/logout").catch(() => {});
  showLogin("You signed out.");
});

async function start() {
  const me = await api("GET", "/api/v1/me");
  if (me.status === 401) return showLogin("");
  if (!me.ok) return showLogin("The server could not be reached.");
  if (me.data.role === "agent") {
    ui.login.hidden = true;
    ui.notSupervisor.hidden = false;
    return;
  }
  ui.login.hidden = true;
  ui.board.hidden = false;
  ui.who.textContent = me.data.name || "";
  login = me.data.name || "";
  connect();
}

function stop() {
  if (socket) {
    socket.onclose = null;
    socket.close();
  }
  socket = null;
}

function connStatus(s) {
  ui.conn.dataset.status = s;
  ui.conn.textContent = { connecting: "Connecting…", open: "Live", closed: "Reconnecting…" }[s] || s;
}

function connect() {
  stop();
  connStatus("connecting");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/dashboard");
  socket = ws;
  ws.onopen = () => {
    retry = 0;
    connStatus("open");
    if (monitored) monitor(monitored); // again after a reconnect
  };
  ws.onmessage = (ev) => {
    let f;
    try { f = JSON.parse(ev.data); } catch { return; }
    if (f.type === "board" && f.data) {
      board = f.data;
      version = f.data.version || 0;
      receivedAt = Date.now();
      count("snapshots");
      render();
      renderTrends();
    } else if (f.type === "board_delta" && f.data) {
      if (!board || f.data.from !== version) {
        // A gap (a delta from another version): a new socket brings the
        // whole board.
        ws.close();
        return;
      }
      applyDelta(f.data);
      receivedAt = Date.now();
      count("deltas");
      render();
      renderTrends();
    } else if (f.type === "conversation" && f.data && f.data.contact && f.data.contact.id === monitored) {
      transcript = new Map((f.data.messages || []).map((m) => [m.seq, m]));
      const c = f.data.contact;
      monitoredAgent = c.agent_id || "";
      monitoredContact = c;
      renderTakeover();
      ui.monitorMeta.textContent = [c.channel, c.queue, c.state, c.agent_id ? `with ${c.agent_id}` : "", c.subject].filter(Boolean).join(" · ");
      renderTranscript();
    } else if (f.type === "message" && f.data && f.data.contact_id === monitored) {
      transcript.set(f.data.message.seq, f.data.message);
      renderTranscript();
    }
  };
  ws.onclose = async () => {
    connStatus("closed");
    const me = await api("GET", "/api/v1/me").catch(() => null);
    if (me && me.status === 401) {
      stop();
      return showLogin("Your session ended. Sign in again.");
    }
    retry = Math.min(retry + 1, 5);
    setTimeout(() => { if (socket === ws) connect(); }, 500 * 2 ** retry);
  };
}

// ---- rendering: every value as text ----

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (v !== null && v !== undefined) e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// since is how many seconds passed since the board's time.
const since = () => (receivedAt ? (Date.now() - receivedAt) / 1000 : 0);

function dur(s) {
  if (s === null || s === undefined) return "—";
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} m`;
}

// estimatorNames are the wait estimators in words (docs/metrics.md).
const estimatorNames = {
  pace: "pace of answers",
  queue_length: "queue length × handle time",
  last_to_enter_service: "last answered wait",
  head_of_line: "head of line",
};

// estimateCell is the estimated wait and how far off the estimates of
// the queue's last answered contacts were: the chosen estimator's median
// and 90th percentile error; every estimator's in the tooltip.
function estimateCell(q) {
  const we = q.wait_estimate;
  const chosen = we && (we.estimators || []).find((e) => e.name === we.estimator);
  if (!chosen || !chosen.samples) return el("td", {}, dur(q.estimated_wait_seconds));
  const all = we.estimators.filter((e) => e.samples)
    .map((e) => `${estimatorNames[e.name] || e.name}: median error ${dur(e.median_error_seconds)}, 90 % within ${dur(e.p90_error_seconds)} (${e.samples} answered)`)
    .join("\n");
  return el("td", { title: all },
    dur(q.estimated_wait_seconds),
    el("span", { class: "muted estimate-error" }, ` ±${dur(chosen.median_error_seconds)} (${estimatorNames[chosen.name] || chosen.name})`));
}

const pct = (f) => (f === null || f === undefined ? "—" : `${Math.round(f * 100)} %`);

// count counts the board's frames on the page (data-snapshots,
// data-deltas), with its version (data-version): for tests and the
// curious.
function count(kind) {
  ui.board.dataset[kind] = String(Number(ui.board.dataset[kind] || 0) + 1);
  ui.board.dataset.version = String(version);
}

// applyDelta applies the changes from one version of the board to the
// next: each section's rows changed (by key), the keys removed, and the
// order when it changed. A row not sent is the same object as before,
// which is how render knows not to redraw it.
function applyDelta(d) {
  board.at = d.at;
  board.queues = applyRows(board.queues, d.queues, (q) => q.name);
  board.agents = applyRows(board.agents, d.agents, (a) => a.id);
  board.staffing = applyMap(board.staffing, d.staffing);
  board.trends = applyMap(board.trends, d.trends);
  version = d.to;
}

function applyRows(rows, s, key) {
  if (!s) return rows;
  const by = new Map((rows || []).map((r) => [key(r), r]));
  for (const k of s.removed || []) by.delete(k);
  for (const r of s.changed || []) by.set(key(r), r);
  return (s.order || (rows || []).map(key)).filter((k) => by.has(k)).map((k) => by.get(k));
}

function applyMap(m, s) {
  if (!s) return m;
  const out = Object.create(null); // a queue named "__proto__" is a key like any
  for (const [k, v] of Object.entries(m || {})) out[k] = v;
  for (const k of s.removed || []) delete out[k];
  for (const [k, v] of Object.entries(s.changed || {})) out[k] = v;
  return out;
}

// render draws the board: a row whose data changed (a new object, from
// a snapshot or a delta) is drawn again; the others only have their
// counting times (waits, times in state) moved on. It runs on each frame
// and each second.
function render() {
  if (!board) return;
  const extra = since();
  const at = new Date(Date.parse(board.at) + extra * 1000);
  ui.asOf.textContent = `as of ${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}`;
  renderQueues(extra);
  renderAgents(extra);
}

let alertsKey = "";
let queuesShown = null; // board.queues as last laid out
let agentsShown = null; // board.agents as last laid out

// layout puts trs in tbody in their order, if they are not already.
function layout(tbody, trs) {
  if (trs.length !== tbody.children.length || trs.some((tr, i) => tbody.children[i] !== tr)) tbody.replaceChildren(...trs);
}

function renderQueues(extra) {
  const alerts = [];
  const queues = board.queues || [];
  for (const q of queues) {
    const adv = board.staffing && Object.hasOwn(board.staffing, q.name) ? board.staffing[q.name] : undefined;
    let r = queueRows.get(q.name);
    if (!r) {
      const cells = Array.from({ length: 12 }, (_, i) => el(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : {}));
      r = { tr: el("tr", { "data-queue": q.name }, cells), cells };
      queueRows.set(q.name, r);
    }
    if (r.q !== q || r.adv !== adv) fillQueue(r, q, adv);
    const oldest = q.oldest_wait_seconds === null || q.oldest_wait_seconds === undefined ? null : q.oldest_wait_seconds + extra;
    const sl = q.service_level || {};
    const slBad = sl.achieved !== null && sl.achieved !== undefined && sl.achieved < sl.target;
    const maxWait = parseSeconds(q.definition && q.definition.max_wait);
    const waitBad = oldest !== null && maxWait > 0 && oldest > maxWait;
    if (slBad) alerts.push(`${q.name}: service level ${pct(sl.achieved)} is below its target of ${pct(sl.target)}`);
    if (waitBad) alerts.push(`${q.name}: a contact has waited ${dur(oldest)}, past the queue's limit of ${dur(maxWait)}`);
    setText(r.cells[2], dur(oldest));
    const alarm = slBad || waitBad ? "alarm" : "";
    if (r.tr.className !== alarm) r.tr.className = alarm;
  }
  if (queuesShown !== queues) {
    const names = new Set(queues.map((q) => q.name));
    for (const name of [...queueRows.keys()]) if (!names.has(name)) queueRows.delete(name);
    layout(ui.queues, queues.map((q) => queueRows.get(q.name).tr));
    queuesShown = queues;
    const first = queues[0];
    ui.windowNote.textContent = first ? `Service level, ASA, answered and abandoned: the last ${dur(first.service_level.window_seconds)}.` : "No queues.";
  }
  const key = alerts.join("\n");
  if (key !== alertsKey) {
    ui.alerts.replaceChildren(...alerts.map((t) => el("p", { class: "alert", role: "alert" }, t)));
    alertsKey = key;
  }
}

// awayReasons says what the away agents are away for: " (2 break, 1
// meeting)", or nothing.
function awayReasons(reasons) {
  const parts = Object.entries(reasons || {}).sort(([x], [y]) => x.localeCompare(y)).map(([why, n]) => `${n} ${why || "no reason"}`);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

// todayText is a queue's day so far (docs/metrics.md, "Today").
function todayText(t) {
  if (!t) return "—";
  const short = t.short_abandoned ? `, ${t.short_abandoned} short` : "";
  return `${pct(t.service_level)} · ${dur(t.asa_seconds)} · ${dur(t.aht_seconds)} · ${t.offered} · ${t.answered} · ${t.abandoned}${short} (${pct(t.abandonment)}) · ${t.transferred}`;
}

// setText sets a node's text if it differs.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// fillQueue draws the queue row r's cells but the oldest wait's (which
// counts on each second).
function fillQueue(r, q, adv) {
  const sl = q.service_level || {};
  const slBad = sl.achieved !== null && sl.achieved !== undefined && sl.achieved < sl.target;
  const a = q.agents || {};
  const c = r.cells;
  setText(c[0], q.name);
  setText(c[1], String(q.waiting));
  setText(c[3], String(q.offered));
  setText(c[4], `${a.available} · ${a.busy} · ${a.wrapup} · ${a.away}${awayReasons(a.away_reasons)} · ${a.offline}`);
  c[5].replaceChildren(el("span", { class: sl.achieved === null || sl.achieved === undefined ? "" : slBad ? "sl-bad" : "sl-ok" }, pct(sl.achieved)),
    el("span", { class: "muted" }, ` (${pct(sl.target)} in ${dur(sl.within_seconds)})`));
  setText(c[6], dur(q.asa_seconds));
  setText(c[7], String(q.answered));
  setText(c[8], String(q.abandoned));
  const est = estimateCell(q);
  c[9].title = est.title;
  c[9].replaceChildren(...est.childNodes);
  c[10].replaceChildren(staffingCell(adv, a));
  setText(c[11], todayText(q.today));
  r.q = q;
  r.adv = adv;
}

// Rows are kept per agent and drawn again only when the agent's row
// changed, so that a menu or button the supervisor is using is never
// swapped under them; the time in state counts on each second.
function renderAgents(extra) {
  const agents = board.agents || [];
  for (const a of agents) {
    let r = agentRows.get(a.id);
    if (!r) {
      const cells = Array.from({ length: 8 }, (_, i) => el(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : {}));
      const menu = stateMenu(a);
      r = { tr: el("tr", { "data-agent": a.id }, cells, el("td", {}, menu)), cells, menu };
      agentRows.set(a.id, r);
    }
    if (r.a !== a) fillAgent(r, a);
    const inState = (Date.parse(board.at) - Date.parse(a.state_since)) / 1000 + extra;
    setText(r.cells[2], dur(inState));
  }
  if (agentsShown !== agents) {
    const ids = new Set(agents.map((a) => a.id));
    for (const id of [...agentRows.keys()]) if (!ids.has(id)) agentRows.delete(id);
    layout(ui.agents, agents.map((a) => agentRows.get(a.id).tr));
    agentsShown = agents;
  }
}

// fillAgent draws the agent row r's cells but the time in state's.
function fillAgent(r, a) {
  const c = r.cells;
  const label = a.state === "available" && a.ringing ? "available · ringing" : a.state;
  setText(c[0], a.name || a.id);
  c[1].replaceChildren(el("span", { class: `state ${a.state}` }, label), ...(a.reason ? [el("span", { class: "muted" }, ` (${a.reason})`)] : []));
  setText(c[3], a.connected ? "open" : "closed");
  setText(c[4], Object.entries(a.load || {}).map(([ch, l]) => `${ch} ${l.used}/${l.capacity}`).join(" · ") || "—");
  const contacts = a.contacts || [];
  if (!r.a || JSON.stringify(r.a.contacts || []) !== JSON.stringify(contacts) || (r.a.name || r.a.id) !== (a.name || a.id)) {
    c[5].replaceChildren(...(contacts.length === 0 ? ["0"] : contacts.map((id) =>
      el("button", { type: "button", class: "link", "data-contact": id, "aria-label": `Monitor ${a.name || a.id}'s contact ${id}` }, "monitor"))));
  }
  setText(c[6], (a.queues || []).join(", ") || "—");
  setText(c[7], a.today ? `${a.today.handled} · ${dur(a.today.aht_seconds)} · ${a.today.missed} · ${pct(a.today.occupancy)}` : "—");
  r.menu.setAttribute("aria-label", `Set ${a.name || a.id}'s state`);
  r.a = a;
}

// ---- monitoring a conversation and whispering to its agent ----

ui.agents.addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-contact]");
  if (b) monitor(b.dataset.contact);
});

function monitor(id) {
  if (id !== monitored) {
    ui.takeoverText.value = "";
    ui.takeoverError.hidden = true;
    pendingSay = null;
  }
  monitored = id;
  ui.monitor.dataset.contact = id;
  monitoredContact = null;
  transcript = new Map();
  renderTakeover();
  ui.monitor.hidden = !id;
  ui.monitorMeta.textContent = id ? "Loading…" : "";
  renderTranscript();
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "monitor", data: { contact_id: id } }));
  if (id) {
    fillReassign();
    ui.whisper.focus();
  }
}

ui.monitorStop.addEventListener("click", () => monitor(""));

ui.whisperForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = ui.whisper.value.trim();
  if (!body || !monitored) return;
  const r = await api("POST", `/api/v1/contacts/${encodeURIComponent(monitored)}/messages`, { direction: "note", body });
  ui.whisperError.hidden = r.ok;
  ui.whisperError.textContent = r.ok ? "" : (r.data && r.data.error && r.data.error.message) || `Not sent (HTTP ${r.status}).`;
  if (r.ok) ui.whisper.value = "";
});

function renderTranscript() {
  const items = [...transcript.values()].sort((a, b) => a.seq - b.seq).map((m) => {
    const supervisor = m.author_kind === "supervisor";
    const who = m.direction === "in" ? (m.author_name || "Customer")
      : m.direction === "note" ? `${supervisor ? "Whisper" : "Note"} · ${m.author_name || m.author || ""}`
      : supervisor ? `${m.author_name || m.author} (supervisor)`
      : (m.author_name || m.author || "Agent");
    const cls = m.direction === "out" && supervisor ? "out supervisor" : m.direction;
    return el("li", { class: cls }, el("span", { class: "who" }, who), el("span", { class: "body" }, m.body || ""));
  });
  ui.monitorMessages.replaceChildren(...items);
  ui.monitorMessages.scrollTop = ui.monitorMessages.scrollHeight;
}

// ---- taking the monitored conversation over: writing to the customer ----

// open says whether a supervisor may take c over and write to its
// customer: while its conversation is open (docs/api.md).
const open = (c) => !!c && ["queued", "offered", "assigned"].includes(c.state);

// renderTakeover offers "Take over" on an open conversation, and once
// this supervisor took it over the box that writes to the customer.
function renderTakeover() {
  const mine = !!monitoredContact && (monitoredContact.taken_over_by || []).some((t) => t.id === login);
  ui.takeover.hidden = !open(monitoredContact) || mine;
  ui.takeoverForm.hidden = !open(monitoredContact) || !mine;
}

ui.takeoverStart.addEventListener("click", async () => {
  if (!monitored) return;
  const id = monitored;
  const r = await api("POST", `/api/v1/contacts/${encodeURIComponent(id)}/takeover`);
  ui.takeoverError.hidden = r.ok;
  ui.takeoverError.textContent = r.ok ? "" : (r.data && r.data.error && r.data.error.message) || `Not taken over (HTTP ${r.status}).`;
  if (!r.ok || id !== monitored) return;
  monitoredContact = r.data;
  renderTakeover();
  ui.takeoverText.focus();
});

ui.takeoverForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = ui.takeoverText.value.trim();
  if (!body || !monitored) return;
  // The same text keeps its client_id until it is sent: sending it
  // again after a failure (a lost answer) never sends it twice.
  if (!pendingSay || pendingSay.body !== body) {
    pendingSay = { body, id: `d${Date.now().toString(36)}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}` };
  }
  const r = await api("POST", `/api/v1/contacts/${encodeURIComponent(monitored)}/takeover/messages`, { body, client_id: pendingSay.id });
  ui.takeoverError.hidden = r.ok;
  ui.takeoverError.textContent = r.ok ? "" : (r.data && r.data.error && r.data.error.message) || `Not sent (HTTP ${r.status}).`;
  if (r.ok) {
    ui.takeoverText.value = "";
    pendingSay = null;
  }
});

// ---- supervisor actions: an agent's state, reassigning a contact ----

// stateMenu sets an agent's state; the reasons are those seen on the
// board, and any the supervisor types.
function stateMenu(a) {
  const sel = el("select", { class: "set-state", "data-agent": a.id, "aria-label": `Set ${a.name || a.id}'s state` },
    el("option", { value: "" }, "Set…"),
    el("option", { value: "available" }, "Available"),
    el("option", { value: "away:meeting" }, "Away · meeting"),
    el("option", { value: "away:" }, "Away · other…"),
    el("option", { value: "offline" }, "Offline"));
  return sel;
}

ui.agents.addEventListener("change", async (ev) => {
  const sel = ev.target.closest("select.set-state");
  if (!sel || !sel.value) return;
  let [state, reason] = sel.value.split(":");
  if (state === "away" && !reason) reason = (prompt("Away reason (one word, such as coaching):") || "").trim();
  const body = { state };
  if (reason) body.reason = reason;
  const r = await api("PUT", `/api/v1/agents/${encodeURIComponent(sel.dataset.agent)}/state`, body);
  sel.value = "";
  sel.blur();
  if (!r.ok) alertOnce((r.data && r.data.error && r.data.error.message) || `State not set (HTTP ${r.status}).`);
});

function alertOnce(text) {
  ui.alerts.prepend(el("p", { class: "alert", role: "alert" }, text));
  alertsKey = null; // the next render shows the queues' alerts alone again
}

// The reassign picker offers the queues and the agents of the board.
function fillReassign() {
  const sel = $("reassign");
  const chosen = sel.value;
  sel.replaceChildren(el("option", { value: "" }, "Choose…"),
    el("optgroup", { label: "Queues" }, ((board && board.queues) || []).map((q) => el("option", { value: `queue:${q.name}` }, q.name))),
    el("optgroup", { label: "Agents" }, ((board && board.agents) || []).filter((a) => a.state !== "offline").map((a) => el("option", { value: `agent:${a.id}` }, `${a.name || a.id} (${a.state})`))));
  sel.value = chosen;
}

$("reassign").addEventListener("focus", fillReassign);
$("reassign-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const v = $("reassign").value;
  if (!v || !monitored) return;
  const i = v.indexOf(":");
  // On behalf of the agent who holds it (the API asks who).
  const body = v.slice(0, i) === "agent" ? { to_agent: v.slice(i + 1) } : { queue: v.slice(i + 1) };
  if (monitoredAgent) body.agent_id = monitoredAgent;
  const r = await api("POST", `/api/v1/contacts/${encodeURIComponent(monitored)}/transfer`, body);
  ui.whisperError.hidden = r.ok;
  ui.whisperError.textContent = r.ok ? "" : (r.data && r.data.error && r.data.error.message) || `Not reassigned (HTTP ${r.status}).`;
  if (r.ok) monitor(monitored); // the conversation as it is now
});

// ---- the routing log: every decision about a contact, with its reason ----

$("log-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const id = $("log-id").value.trim();
  if (id) await showLog(id);
});

$("log").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-log]");
  if (b) showLog(b.dataset.log);
});

// showLog shows the contact id's timeline, and for a waiting contact
// where each agent stands; for a customer id, their contacts to choose.
async function showLog(id) {
  const err = $("log-error");
  err.hidden = true;
  const c = await api("GET", `/api/v1/contacts/${encodeURIComponent(id)}`);
  if (c.ok) return $("log").replaceChildren(...contactLog(c.data));
  const cu = await api("GET", `/api/v1/customers/${encodeURIComponent(id)}/timeline?limit=20`);
  if (cu.ok) {
    const rows = (cu.data.timeline || []).map((t) => el("tr", {},
      el("td", {}, el("button", { type: "button", class: "link", "data-log": t.id }, t.id)),
      el("td", {}, when(t.created_at)), el("td", {}, t.channel), el("td", {}, t.queue), el("td", {}, t.state), el("td", {}, t.agent_id || "—")));
    return $("log").replaceChildren(el("h3", {}, `Contacts of customer ${id}`),
      rows.length ? el("table", { class: "grid" }, el("thead", {}, el("tr", {}, ["Contact", "Created", "Channel", "Queue", "State", "Agent"].map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, rows))
        : el("p", { class: "muted" }, "No contacts."));
  }
  err.textContent = `No contact or customer ${id}.`;
  err.hidden = false;
  $("log").replaceChildren();
}

function contactLog(c) {
  const out = [el("h3", {}, `Contact ${c.id}`),
    el("p", { class: "muted" }, [c.channel, c.queue, c.state, c.agent_id ? `with ${c.agent_id}` : "", c.subject].filter(Boolean).join(" · "))];
  const events = (c.timeline || []).map((e) => el("tr", {},
    el("td", {}, when(e.at)), el("td", {}, e.event), el("td", {}, e.agent_id || "—"), el("td", {}, e.queue || "—"),
    el("td", {}, e.by || "the router"), el("td", {}, e.reason || "")));
  out.push(el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ["When", "Event", "Agent", "Queue", "By", "Why"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, events)));
  if (c.state === "queued" && !(c.explain || []).length) {
    out.push(el("p", { class: "alert" }, "It waits: no agent is at work (every agent is offline)."));
  }
  if ((c.explain || []).length) {
    out.push(el("h3", {}, "Where each agent stands (it waits)"),
      el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, ["Agent", "Could take it?"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, c.explain.map((x) => el("tr", {}, el("td", {}, x.agent_id), el("td", {}, x.why || "yes, now"))))));
  }
  return out;
}

function when(t) {
  if (!t) return "—";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// ---- trends: one chart per figure, one series per queue ----

const charts = {};
const palette = ["#0b5fff", "#d93025", "#188038", "#f9ab00", "#9334e6", "#12b5cb", "#e8710a", "#5f6368"];
let trendsShown = null; // board.trends as last drawn: a snapshot or a delta replaces it

function renderTrends() {
  if (!board || board.trends === trendsShown) return; // the trends change once a minute
  trendsShown = board.trends;
  const trends = board.trends || {};
  const queues = Object.keys(trends).sort();
  if (queues.length === 0) return;
  const minutes = trends[queues[0]].minutes.map((m) => Date.parse(m) / 1000);
  const figures = [
    ["trend-waiting", (t) => t.waiting, (v) => v],
    ["trend-sl", (t) => t.service_level.map((v) => (v === null ? null : Math.round(v * 100))), (v) => `${v} %`],
    ["trend-arrivals", (t) => t.arrivals, (v) => v],
    ["trend-abandoned", (t) => t.abandoned, (v) => v],
  ];
  for (const [id, values, fmt] of figures) {
    const target = $(id);
    const data = [minutes, ...queues.map((q) => values(trends[q]))];
    const opts = {
      width: Math.max(300, target.clientWidth || 340), height: 160,
      series: [{}, ...queues.map((q, i) => ({ label: q, stroke: palette[i % palette.length], width: 2, spanGaps: false, value: (u, v) => (v === null || v === undefined ? "—" : fmt(v)) }))],
      axes: [{}, { size: 40 }],
      legend: { live: false },
    };
    if (charts[id] && charts[id].series.length === data.length) {
      charts[id].setData(data);
    } else {
      if (charts[id]) charts[id].destroy();
      charts[id] = new uPlot(opts, data, target);
      // The figure is named by its container (role=img, aria-label) and
      // its numbers are in the table; the canvas itself says nothing.
      target.querySelectorAll("canvas").forEach((c) => c.setAttribute("aria-hidden", "true"));
    }
  }
}

// staffingCell says how many agents the next hour needs (Erlang C or A
// on the last hour's load) beside those working now.
function staffingCell(adv, agents) {
  const staffed = (agents.available || 0) + (agents.busy || 0) + (agents.wrapup || 0);
  if (!adv) return el("span", { class: "muted" }, `— · ${staffed}`);
  const short = adv.needed > staffed;
  return el("span", { class: short ? "sl-bad" : "", title: `${adv.arrivals_last_hour} contacts last hour, ${dur(adv.aht_seconds)} handle time, ${adv.model === "erlang_a" ? "Erlang A" : "Erlang C"}; ${pct(adv.service_level)} expected with ${adv.needed}` },
    `${adv.met ? "" : "≥ "}${adv.needed} · ${staffed}`);
}

// parseSeconds reads a Go duration as the API writes it ("45s", "2m0s").
function parseSeconds(d) {
  if (!d || typeof d !== "string") return 0;
  let total = 0;
  for (const m of d.matchAll(/([\d.]+)(h|ms|m|s)/g)) {
    total += parseFloat(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2]];
  }
  return total;
}

setInterval(render, 1000);
start();
