// app.js: the agent desktop. It logs the agent in (POST /api/v1/login sets
// the HttpOnly session cookie), opens the agent WebSocket and keeps the
// page in step with it: state, the offer card with its screen pop, one
// tab per active contact. See docs/protocol.md.

import { h, fill, duration } from "./dom.js";
import { Socket } from "./socket.js";
import { renderScreenPop, customerName, waited } from "./screenpop.js";
import { Conversation } from "./conversation.js";

const $ = (id) => document.getElementById(id);

const ui = {
  login: $("login"), loginForm: $("login-form"), loginID: $("login-id"), loginPassword: $("login-password"), loginError: $("login-error"),
  desk: $("desk"), agentName: $("agent-name"), stateSelect: $("state-select"), conn: $("conn-status"), logout: $("logout"),
  errors: $("errors"), notice: $("notice"),
  offer: $("offer"), offerKind: $("offer-kind"), offerTitle: $("offer-title"), countdown: $("offer-countdown"),
  accept: $("accept"), decline: $("decline"), offerPop: $("offer-pop"),
  tabs: $("tabs"), panels: $("panels"), idle: $("idle"),
  replaced: $("replaced"), signInAgain: $("sign-in-again"),
  offline: $("offline"), offlineWhy: $("offline-why"), goAvailable: $("go-available"),
  announce: $("announce"), favicon: $("favicon"), alertSound: $("alert-sound"), alertNotify: $("alert-notify"),
};

const desk = {
  socket: null,
  agent: null,
  dispositions: [],
  awayReasons: [],
  offer: null, // the Offer ringing, or null
  announced: "", // the contact whose offer was announced (sound, notification)
  countdownTimer: 0,
  accepting: "", // contact id the agent pressed Accept for
  conversations: new Map(), // contact id → Conversation, in tab order
  selected: "",
  outcomes: new Map(), // contact id + "\n" + offer id → outcome
};

// ---- login and session ----

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  return { ok: res.ok, status: res.status, data };
}

function errorText(r, fallback) {
  return (r.data && r.data.error && r.data.error.message) || fallback;
}

// uploadFile keeps a file the agent attaches to a reply (POST
// /api/v1/attachments) and answers {sha256, size, name, type}, which
// the reply names.
async function uploadFile(file) {
  const res = await fetch(`/api/v1/attachments?name=${encodeURIComponent(file.name)}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": file.type || "application/octet-stream" },
    body: file,
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok || !data || !data.sha256) throw new Error(errorText({ data }, `HTTP ${res.status}`));
  return data;
}

function showLogin(message) {
  ui.desk.hidden = true;
  ui.replaced.hidden = true;
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
  if (!id || !password) {
    showLogin("Enter your agent ID and password.");
    return;
  }
  const button = ui.loginForm.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const r = await api("POST", "/api/v1/login", { id, password });
    if (!r.ok) {
      showLogin(r.status === 401 ? errorText(r, "Wrong agent ID or password.") : errorText(r, `Sign-in failed (HTTP ${r.status}).`));
      return;
    }
    const me = await api("GET", "/api/v1/me");
    if (supervisorGoesToDashboard(me.ok ? me.data : r.data)) return;
    startDesk(me.ok ? me.data : r.data, id);
  } catch {
    showLogin("Cannot reach the server. Check your connection and try again.");
  } finally {
    button.disabled = false;
  }
});

ui.logout.addEventListener("click", async () => {
  stopDesk();
  try {
    await api("POST", "/api/v1/logout");
  } catch {
    // The session ends on the server anyway when it expires.
  }
  showLogin("You signed out.");
});

ui.signInAgain.addEventListener("click", () => showLogin(""));

function agentOf(me) {
  if (!me) return null;
  return me.agent || me;
}

function startDesk(me, id) {
  const a = agentOf(me) || {};
  desk.agent = { id: a.id || id || "", name: a.name || a.id || id || "", state: a.state || "offline", reason: a.reason || "" };
  ui.login.hidden = true;
  ui.replaced.hidden = true;
  ui.desk.hidden = false;
  renderAgent();
  ui.stateSelect.focus(); // the keyboard starts where the day starts
  if (desk.socket) desk.socket.stop();
  desk.socket = new Socket("/ws/agent", { onmessage: receive, onstatus: connStatus });
  desk.socket.start();
  loadCanned();
}

function stopDesk() {
  if (desk.socket) desk.socket.stop();
  desk.socket = null;
  setOffer(null);
  for (const id of [...desk.conversations.keys()]) removeConversation(id);
  desk.outcomes.clear();
  fill(ui.errors);
  ui.errors.hidden = true;
}

async function connStatus(status) {
  ui.conn.dataset.status = status;
  ui.conn.textContent = { connecting: "Connecting…", open: "Connected", closed: "Reconnecting…", stopped: "Offline" }[status] || status;
  renderOffline();
  if (status === "open") {
    // The replies the drop left unanswered go again at once (the same
    // client ids: the server keeps one of each). A resume that replays
    // what was missed brings no snapshot, whose handler would send them.
    for (const c of desk.conversations.values()) c.resendPending();
    return;
  }
  if (status !== "closed") return;
  // A refused upgrade looks like any drop: ask whether the session lives.
  try {
    const r = await api("GET", "/api/v1/me");
    if (r.status === 401 && desk.socket) {
      stopDesk();
      showLogin("Your session ended. Sign in again.");
    }
  } catch {
    // The server is unreachable; the socket keeps retrying.
  }
}

// ---- the socket ----

function request(type, data) {
  if (!desk.socket) return Promise.reject(new Error("not connected"));
  return desk.socket.request(type, data);
}

function receive(msg) {
  const d = msg.data || {};
  switch (msg.type) {
    case "snapshot": return applySnapshot(d);
    case "offer": return setOffer(d);
    case "offer_withdrawn":
      if (desk.offer && desk.offer.contact_id === d.contact_id) {
        setOffer(null);
        notice(`Offer withdrawn${d.reason ? `: ${d.reason}` : ""}.`);
      }
      return;
    case "assigned": return assigned(d);
    case "screen_pop": {
      // Built again: a complaint typed meanwhile withholds the offers.
      if (desk.offer && desk.offer.contact_id === d.contact_id) setOffer({ ...desk.offer, screen_pop: d.screen_pop });
      const c = desk.conversations.get(d.contact_id);
      if (c) c.setPop(d.screen_pop);
      return;
    }
    case "message": {
      const c = desk.conversations.get(d.contact_id);
      if (c) c.addMessage(d.message);
      return;
    }
    case "delivery": {
      const c = desk.conversations.get(d.contact_id);
      if (c) c.setDelivery(d.seq, d.delivery);
      return;
    }
    case "contact": {
      const c = d.contact && desk.conversations.get(d.contact.id);
      if (c) c.update(d.contact, d.reason);
      return;
    }
    case "contact_closed": {
      const c = desk.conversations.get(d.contact_id);
      if (c) {
        notice(`${c.title}: ${d.state || "closed"}${d.reason ? ` (${d.reason})` : ""}.`);
        removeConversation(d.contact_id);
      }
      return;
    }
    case "state":
      if (d.agent) {
        desk.agent = { ...desk.agent, ...d.agent };
        renderAgent();
      }
      return;
    case "typing": {
      const c = desk.conversations.get(d.contact_id);
      if (c) c.showCustomerTyping(true);
      return;
    }
    case "receipt": {
      const c = desk.conversations.get(d.contact_id);
      if (c) c.setReceipt(d);
      return;
    }
    case "session_replaced":
      stopDesk();
      ui.desk.hidden = true;
      ui.replaced.hidden = false;
      ui.signInAgain.focus();
      return;
    case "error":
      showError(d.message || d.code || "The server reported an error.");
      return;
    default:
      return; // newer servers may send more; ignore what we do not know
  }
}

function applySnapshot(d) {
  if (d.agent) desk.agent = { ...desk.agent, ...d.agent };
  desk.dispositions = d.dispositions || [];
  desk.segments = d.segments || [];
  desk.products = d.products || [];
  desk.awayReasons = d.away_reasons || [];
  desk.verificationMethods = d.verification_methods || [];
  desk.smsMaxSegments = d.sms_max_segments || 0;
  desk.ownEmail = new Set((d.own_email_addresses || []).map((a) => String(a).toLowerCase()));
  desk.attachmentLimits = d.attachments || null;
  renderAgent();
  const seen = new Set();
  for (const ac of d.contacts || []) {
    const id = ac.contact && ac.contact.id;
    if (!id) continue;
    seen.add(id);
    const c = desk.conversations.get(id);
    if (c) {
      c.pop = ac.screen_pop || c.pop;
      c.fillDispositions();
      c.update(ac.contact);
      c.setMessages(ac.messages || []);
    } else {
      addConversation(ac);
    }
  }
  for (const id of [...desk.conversations.keys()]) if (!seen.has(id)) removeConversation(id);
  setOffer(d.offer || null);
  for (const c of desk.conversations.values()) c.resendPending();
}

// ---- agent state ----

function renderAgent() {
  const a = desk.agent || {};
  ui.agentName.textContent = a.name || a.id || "";
  const options = [h("option", { value: "available" }, "Available")];
  if (desk.awayReasons.length === 0) options.push(h("option", { value: "away:" }, "Away"));
  for (const r of desk.awayReasons) options.push(h("option", { value: `away:${r}` }, `Away · ${r}`));
  if (a.state === "away" && a.reason && !desk.awayReasons.includes(a.reason)) {
    options.push(h("option", { value: `away:${a.reason}` }, `Away · ${a.reason}`));
  }
  options.push(h("option", { value: "offline" }, "Offline"));
  if (a.state === "wrapup") options.unshift(h("option", { value: "wrapup", disabled: true }, "Wrap-up"));
  // A choice the agent is stepping to with the keyboard, not yet
  // applied, survives an update of the agent drawn meanwhile.
  const pending = ui.stateSelect.dataset.pending ? ui.stateSelect.value : null;
  fill(ui.stateSelect, options);
  let value = a.state || "offline";
  if (value === "away") value = desk.awayReasons.length === 0 && !a.reason ? "away:" : `away:${a.reason || desk.awayReasons[0] || ""}`;
  if (pending !== null && options.some((o) => o.value === pending && !o.disabled)) value = pending;
  ui.stateSelect.value = value;
  ui.stateSelect.dataset.state = a.state || "offline";
  renderOffline();
}

// An agent who is offline while the desktop is connected gets no
// contacts: say so plainly, with why, and offer one click back.
function renderOffline() {
  const a = desk.agent || {};
  const connected = ui.conn.dataset.status === "open";
  ui.offline.hidden = !(connected && a.state === "offline");
  if (ui.offline.hidden) return;
  ui.offlineWhy.textContent = {
    disconnected: "Your connection dropped and you were set offline: you get no contacts.",
    signed_out: "You signed in again, so you start offline: you get no contacts.",
  }[a.reason] || "You are offline: you get no contacts.";
}

function setState(data) {
  return request("set_state", data)
    .then((ack) => {
      if (ack && ack.agent) desk.agent = { ...desk.agent, ...ack.agent };
      renderAgent();
    })
    .catch((err) => {
      showError(`State not changed: ${err.message}`);
      renderAgent();
    });
}

ui.goAvailable.addEventListener("click", () => setState({ state: "available" }));

// The state menu: a choice with the mouse applies at once; stepping
// through it with the keyboard (arrows, letters) only moves the choice,
// which applies on Enter or when the focus leaves it (Escape undoes it),
// so that passing over "Offline" on the way to "Away" changes nothing.
let stateKeyed = false;
ui.stateSelect.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    if (stateKeyed) {
      e.preventDefault();
      applyState();
    }
    return;
  }
  if (e.key === "Escape") {
    stateKeyed = false;
    delete ui.stateSelect.dataset.pending;
    renderAgent();
    return;
  }
  if (!e.altKey && !e.ctrlKey && !e.metaKey && (e.key.startsWith("Arrow") || e.key.length === 1 || ["Home", "End", "PageUp", "PageDown"].includes(e.key))) stateKeyed = true;
});
ui.stateSelect.addEventListener("change", () => {
  if (stateKeyed) {
    ui.stateSelect.dataset.pending = "true";
    return;
  }
  applyState();
});
ui.stateSelect.addEventListener("blur", () => {
  if (ui.stateSelect.dataset.pending) applyState();
  stateKeyed = false;
});

function applyState() {
  stateKeyed = false;
  delete ui.stateSelect.dataset.pending;
  const v = ui.stateSelect.value;
  const data = v.startsWith("away:") ? { state: "away", reason: v.slice(5) } : { state: v };
  if (!data.reason) delete data.reason;
  setState(data);
}

// ---- the offer card ----

function setOffer(offer) {
  desk.offer = offer;
  clearInterval(desk.countdownTimer);
  desk.countdownTimer = 0;
  if (!offer) {
    desk.announced = "";
    ringing(false);
    ui.offer.hidden = true;
    fill(ui.offerPop);
    return;
  }
  const pop = offer.screen_pop || {};
  const contact = pop.contact || {};
  ui.offerKind.textContent = [contact.channel, contact.queue, waited(pop)].filter(Boolean).join(" · ");
  ui.offerTitle.textContent = customerName(pop);
  fill(ui.offerPop, renderScreenPop(pop, {
    firstMessages: true,
    dispositionLabel,
    segmentLabel,
    productLabel,
  }));
  ui.offer.dataset.contactId = offer.contact_id;
  ui.accept.disabled = false;
  ui.decline.disabled = false;
  ui.offer.hidden = false;
  tick();
  desk.countdownTimer = setInterval(tick, 250);
  // The card first: the tab's title and icon, the announcement and the
  // focus on Accept (each a few milliseconds of style and layout) wait
  // until the frame that shows it is painted.
  // A hidden tab paints nothing: then at once, so that the agent is
  // alerted (sound, notification) while looking elsewhere.
  const id = offer.contact_id;
  afterPaint(() => {
    if (!desk.offer || desk.offer.contact_id !== id) return; // withdrawn, or another rings
    ringing(true);
    if (desk.announced !== id) {
      desk.announced = id; // once per offer, whatever frames the offer's updates bring
      announce(desk.offer);
    }
  });
}

// afterPaint runs fn once the next frame is painted, or at once in a
// hidden tab (whose frames the browser holds back); a frame that does
// not come within 100 ms does not hold it either.
function afterPaint(fn) {
  if (document.hidden) {
    fn();
    return;
  }
  let done = false;
  const run = () => {
    if (!done) {
      done = true;
      fn();
    }
  };
  requestAnimationFrame(() => setTimeout(run, 0));
  setTimeout(run, 100);
}

// loadCanned reads the canned responses the composer offers ("/").
async function loadCanned() {
  try {
    const r = await api("GET", "/api/v1/canned-responses");
    if (r.ok) desk.canned = r.data.canned_responses || [];
  } catch {
    // None: the composer offers nothing.
  }
}

// labelOf names a code by its label in list (the snapshot's
// dispositions, segments or products); a code without one is shown as
// it is.
function labelOf(list, code) {
  const d = (list || []).find((x) => x.code === code);
  return (d && d.label) || code;
}

const dispositionLabel = (code) => labelOf(desk.dispositions, code);
const segmentLabel = (code) => labelOf(desk.segments, code);
const productLabel = (code) => labelOf(desk.products, code);

// ---- announcing an offer ----

const TITLE = document.title;
const ALERTS = "switchboard.desk.alerts.v1";

// ringing shows in the tab's title and icon that an offer rings, where
// an agent in another tab sees it.
function ringing(on) {
  const name = on ? customerName((desk.offer && desk.offer.screen_pop) || {}) : "";
  document.title = on ? `● Incoming: ${name} · Switchboard` : TITLE;
  ui.favicon.href = on ? "favicon-ring.svg" : "favicon.svg";
}

// announce tells the agent of a new offer: to screen readers (a live
// region), with the keyboard on Accept (unless the agent is typing), and,
// as the agent chose in Alerts, a short sound and a desktop notification
// while the page is hidden.
function announce(offer) {
  const pop = offer.screen_pop || {};
  const contact = pop.contact || {};
  const text = `Incoming ${contact.channel || "contact"} from ${customerName(pop)}${contact.queue ? `, ${contact.queue}` : ""}. Alt+A to accept.`;
  ui.announce.textContent = "";
  ui.announce.textContent = text;
  const typing = document.activeElement && document.activeElement.matches("textarea, input[type=text], input:not([type])");
  if (!typing) ui.accept.focus();
  const prefs = alertPrefs();
  if (prefs.sound) beep();
  if (prefs.notify && document.visibilityState !== "visible" && "Notification" in window && Notification.permission === "granted") {
    const n = new Notification("Switchboard: incoming contact", { body: text, tag: "switchboard-offer" });
    n.onclick = () => { window.focus(); ui.accept.focus(); n.close(); };
  }
}

function alertPrefs() {
  try {
    return JSON.parse(localStorage.getItem(ALERTS)) || {};
  } catch {
    return {};
  }
}

function saveAlertPrefs(p) {
  try {
    localStorage.setItem(ALERTS, JSON.stringify(p));
  } catch {
    // storage unavailable: the choice lasts until the page closes
  }
}

// beep plays a short two-tone chime, made here: no sound file to load.
let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const t = audio.currentTime;
    for (const [i, f] of [880, 1320].entries()) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t + i * 0.18);
      g.gain.exponentialRampToValueAtTime(0.2, t + i * 0.18 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16);
      o.connect(g).connect(audio.destination);
      o.start(t + i * 0.18);
      o.stop(t + i * 0.18 + 0.17);
    }
  } catch {
    // no audio: the other announcements stand
  }
}

{
  const prefs = alertPrefs();
  ui.alertSound.checked = !!prefs.sound;
  ui.alertNotify.checked = !!prefs.notify && "Notification" in window && Notification.permission === "granted";
  ui.alertSound.addEventListener("change", () => {
    saveAlertPrefs({ ...alertPrefs(), sound: ui.alertSound.checked });
    if (ui.alertSound.checked) beep(); // what it sounds like, and the browser's permission to play
  });
  ui.alertNotify.addEventListener("change", async () => {
    let on = ui.alertNotify.checked;
    if (on && "Notification" in window && Notification.permission !== "granted") {
      on = (await Notification.requestPermission()) === "granted";
    }
    if (on && !("Notification" in window)) on = false;
    ui.alertNotify.checked = on;
    saveAlertPrefs({ ...alertPrefs(), notify: on });
  });
}

function tick() {
  if (!desk.offer) return;
  const left = (Date.parse(desk.offer.expires_at) - Date.now()) / 1000;
  if (Number.isNaN(left)) {
    ui.countdown.textContent = "";
    return;
  }
  ui.countdown.textContent = left > 0 ? duration(Math.ceil(left)) : "0 s";
  ui.offer.classList.toggle("urgent", left <= 10);
}

function acceptOffer() {
  const offer = desk.offer;
  if (!offer || ui.accept.disabled) return;
  ui.accept.disabled = true;
  ui.decline.disabled = true;
  desk.accepting = offer.contact_id;
  request("accept", { contact_id: offer.contact_id })
    .then((ack) => {
      if (!desk.conversations.has(offer.contact_id) && ack && ack.contact) {
        const pop = offer.screen_pop || {};
        assigned({ contact: ack.contact, messages: (pop.contact && pop.contact.first_messages) || [], screen_pop: pop });
      }
      if (desk.offer && desk.offer.contact_id === offer.contact_id) setOffer(null);
    })
    .catch((err) => {
      desk.accepting = "";
      showError(`Accept failed: ${err.message}`);
      if (desk.offer === offer) {
        ui.accept.disabled = false;
        ui.decline.disabled = false;
      }
    });
}

function declineOffer() {
  const offer = desk.offer;
  if (!offer || ui.decline.disabled) return;
  ui.accept.disabled = true;
  ui.decline.disabled = true;
  request("decline", { contact_id: offer.contact_id, reason: "declined on the desktop" })
    .then(() => {
      if (desk.offer === offer) setOffer(null);
    })
    .catch((err) => {
      showError(`Decline failed: ${err.message}`);
      if (desk.offer === offer) {
        ui.accept.disabled = false;
        ui.decline.disabled = false;
      }
    });
}

ui.accept.addEventListener("click", acceptOffer);
ui.decline.addEventListener("click", declineOffer);

function outcome(contactID, offerID) {
  return desk.outcomes.get(`${contactID}\n${offerID}`) || "";
}

function recordOutcome(contactID, offerID, o) {
  return request("offer_outcome", { contact_id: contactID, offer_id: offerID, outcome: o })
    .then(() => {
      desk.outcomes.set(`${contactID}\n${offerID}`, o);
    })
    .catch((err) => showError(`Outcome not recorded: ${err.message}`));
}

// ---- conversations ----

const conversationDesk = {
  request,
  notify: (type, data) => (desk.socket ? desk.socket.notify(type, data) : false),
  looking,
  dispositions: () => desk.dispositions,
  agentID: () => (desk.agent && desk.agent.id) || "",
  agentName: () => (desk.agent && (desk.agent.name || desk.agent.id)) || "",
  canned: (queue) => (desk.canned || []).filter((c) => !c.queues || c.queues.length === 0 || c.queues.includes(queue)),
  dispositionLabel,
  segmentLabel,
  productLabel,
  wrapUpUntil: () => (desk.agent && desk.agent.wrapup_until) || "",
  verificationMethods: () => desk.verificationMethods || [],
  smsMaxSegments: () => desk.smsMaxSegments || 0,
  ownEmail: () => desk.ownEmail || new Set(),
  attachmentLimits: () => desk.attachmentLimits || null,
  upload: uploadFile,
  confirm: (text) => window.confirm(text),
  outcome,
  recordOutcome,
  showError,
};

// looking reports whether the agent can see the page: visible and focused.
function looking() {
  return document.visibilityState === "visible" && document.hasFocus();
}

// Coming back to the page reports what the selected tab shows as read.
function markSelectedRead() {
  const c = desk.conversations.get(desk.selected);
  if (c) c.markRead();
}
window.addEventListener("focus", markSelectedRead);
document.addEventListener("visibilitychange", markSelectedRead);

function assigned(ac) {
  const id = ac.contact && ac.contact.id;
  if (!id) return;
  if (desk.offer && desk.offer.contact_id === id) setOffer(null);
  const existing = desk.conversations.get(id);
  if (existing) {
    if (ac.screen_pop) existing.pop = ac.screen_pop;
    existing.update(ac.contact);
    if (ac.messages) existing.setMessages(ac.messages);
  } else {
    addConversation(ac);
  }
  const mine = desk.accepting === id;
  if (mine) desk.accepting = "";
  if (mine || !desk.selected) selectConversation(id, mine);
}

function addConversation(ac) {
  const c = new Conversation(ac, conversationDesk);
  desk.conversations.set(c.id, c);
  c.tab.addEventListener("click", () => selectConversation(c.id, false));
  c.tab.addEventListener("keydown", tabKeys);
  ui.tabs.appendChild(c.tab);
  ui.panels.appendChild(c.panel);
  if (!desk.selected) selectConversation(c.id, false);
  renderIdle();
}

function removeConversation(id) {
  const c = desk.conversations.get(id);
  if (!c) return;
  const hadFocus = c.panel.contains(document.activeElement) || c.tab === document.activeElement;
  c.dispose();
  c.tab.remove();
  c.panel.remove();
  desk.conversations.delete(id);
  if (desk.selected === id) {
    desk.selected = "";
    const next = desk.conversations.keys().next();
    if (!next.done) selectConversation(next.value, hadFocus);
    else if (hadFocus) ui.stateSelect.focus(); // never to the page body
  }
  renderIdle();
}

function selectConversation(id, focusReply) {
  const target = desk.conversations.get(id);
  if (!target) return;
  desk.selected = id;
  for (const c of desk.conversations.values()) c.select(c === target);
  if (focusReply) (target.reply.disabled ? target.tab : target.reply).focus();
}

function tabKeys(ev) {
  const ids = [...desk.conversations.keys()];
  const i = ids.indexOf(desk.selected);
  let j = -1;
  if (ev.key === "ArrowRight") j = (i + 1) % ids.length;
  else if (ev.key === "ArrowLeft") j = (i - 1 + ids.length) % ids.length;
  else if (ev.key === "Home") j = 0;
  else if (ev.key === "End") j = ids.length - 1;
  if (j < 0) return;
  ev.preventDefault();
  selectConversation(ids[j], false);
  desk.conversations.get(ids[j]).tab.focus();
}

function renderIdle() {
  ui.idle.hidden = desk.conversations.size > 0;
}

// ---- keyboard shortcuts ----

document.addEventListener("keydown", (ev) => {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey || ui.desk.hidden) return;
  if (ev.code === "KeyA" || ev.key === "a" || ev.key === "A") {
    if (desk.offer) {
      ev.preventDefault();
      acceptOffer();
    }
    return;
  }
  const n = /^Digit([1-9])$/.exec(ev.code);
  if (n) {
    const id = [...desk.conversations.keys()][Number(n[1]) - 1];
    if (id) {
      ev.preventDefault();
      selectConversation(id, true);
    }
  }
});

// ---- errors and notices ----

function showError(text) {
  const item = h("p", { class: "error-item" },
    h("span", {}, text),
    " ",
    h("button", { type: "button", class: "link", "aria-label": "Dismiss", onclick: () => { item.remove(); ui.errors.hidden = !ui.errors.firstChild; } }, "✕"));
  ui.errors.appendChild(item);
  while (ui.errors.childElementCount > 3) ui.errors.firstChild.remove();
  ui.errors.hidden = false;
}

let noticeTimer = 0;
function notice(text) {
  ui.notice.textContent = text;
  ui.notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { ui.notice.hidden = true; }, 8000);
}

// supervisorGoesToDashboard sends a supervisor or an admin, who has no
// agent desk, to the live dashboard.
function supervisorGoesToDashboard(me) {
  if (!me || (me.role !== "supervisor" && me.role !== "admin")) return false;
  location.assign("/dashboard/");
  return true;
}

// ---- start ----

(async () => {
  try {
    const r = await api("GET", "/api/v1/me");
    if (r.ok && supervisorGoesToDashboard(r.data)) return;
    if (r.ok) {
      startDesk(r.data);
      return;
    }
  } catch {
    showLogin("Cannot reach the server. Check your connection and reload.");
    return;
  }
  showLogin("");
})();
