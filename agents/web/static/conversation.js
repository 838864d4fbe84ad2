// conversation.js: one active contact in its own tab: the messages, a
// reply box (Enter sends, Shift+Enter a new line), the screen pop, the
// wrap-up form and transfer. Message bodies are always text. It tells the
// server when the agent types and what the agent has seen, shows when the
// customer types, and marks the agent's messages delivered or read. On an
// email contact the agent may attach files (uploaded at once, sent with
// the reply) and take recipients off the reply's Cc. The message list
// keeps the element of each message that did not change, so an email's
// frame is never loaded again by a change around it.

import { h, fill, time } from "./dom.js";
import { renderScreenPop, customerName } from "./screenpop.js";
import { count as smsCount, describe as smsDescribe } from "./segments.js";

let clientSeq = 0;

const typingEvery = 2000; // ms: at most one typing request per contact this often
const customerTypingShown = 5000; // ms: how long "customer is typing…" stays after a typing message

// newClientID returns an id that makes a resend of the same reply safe.
function newClientID() {
  const rnd = crypto.getRandomValues(new Uint32Array(2));
  return `c${Date.now().toString(36)}-${rnd[0].toString(36)}${rnd[1].toString(36)}-${++clientSeq}`;
}

// Conversation renders one ActiveContact and sends its requests through
// desk: {request(type, data) → Promise, notify(type, data), looking() →
// whether the agent can see the page (visible and focused), dispositions(),
// outcome(contactID, offerID), recordOutcome(contactID, offerID, outcome),
// showError(text)}.
// reasonText says what the reasons of contact messages mean to the agent
// (docs/protocol.md); another reason is shown as it is.
const reasonText = {
  "verified": "Identity verified: the customer's profile is shown.",
  "claim_forgotten": "The customer this chat claimed to be was erased: their claim is gone.",
};

// shownByContact are the reasons of contact messages whose news the
// contact itself carries (renderNote says it from the contact).
const shownByContact = new Set(["taken_over"]);

export class Conversation {
  constructor(active, desk) {
    this.desk = desk;
    this.contact = active.contact || {};
    this.id = this.contact.id;
    this.pop = active.screen_pop || {};
    this.messages = []; // ordered by seq; unacknowledged replies last
    this.pending = new Map(); // client_id → {body, failed}
    this.unread = false;
    this.note = ""; // e.g. "The customer left."
    this.typedAt = 0; // when the last typing request went, ms
    this.readSent = 0; // the highest customer message seq reported read
    this.receipt = { delivered: 0, read: 0 }; // the customer's marks of our messages
    this.typingTimer = 0;
    // files are the files chosen for the next email reply, in order:
    // {key, name, size, type, sha256 (once uploaded), failed}.
    this.files = [];
    this.fileSeq = 0;
    // ccRemoved are the addresses (lower case) the agent took off the
    // next email reply's Cc.
    this.ccRemoved = new Set();
    // views are the message list's elements by message key
    // (renderMessages): {el, m (the message shown), meta (its element),
    // head, tail (its last nodes), tailKey}.
    this.views = new Map();
    // remoteImages are the seqs of the emails whose remote images the
    // agent chose to see, kept across new copies of the messages.
    this.remoteImages = new Set();
    const safe = String(this.id).replace(/[^A-Za-z0-9_-]/g, "_");
    this.domID = `contact-${safe}`;

    this.tab = h("button", {
      type: "button", role: "tab", id: `tab-${safe}`, class: "tab",
      "aria-controls": this.domID, "aria-selected": "false", tabindex: "-1",
      dataset: { contactId: this.id },
    });
    this.list = h("ol", { class: "messages", "aria-label": "Messages", "aria-live": "polite" });
    this.reply = h("textarea", {
      id: `reply-${safe}`, class: "reply", rows: "3", maxlength: "65536",
      placeholder: "Reply… (Enter sends, Shift+Enter new line)",
      oninput: () => { this.typed(); this.renderSegments(); this.renderCanned(); },
      onkeydown: (ev) => {
        if (this.cannedKeys(ev)) return;
        if (ev.key === "Enter" && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.isComposing) {
          ev.preventDefault();
          this.sendReply();
        }
      },
    });
    // cannedEl lists the canned responses matching "/letters" typed at
    // the start of the reply; cannedAt is the one chosen.
    this.cannedEl = h("ul", { class: "canned", id: `canned-${safe}`, role: "listbox", "aria-label": "Canned responses", hidden: true });
    this.cannedMatches = [];
    this.cannedAt = 0;
    // segmentsEl shows, on an SMS contact, how the reply travels.
    this.segmentsEl = h("p", { class: "segments muted", id: `segments-${safe}`, "aria-live": "polite", hidden: true });
    // An internal note goes to the conversation, never to the customer.
    this.noteBox = h("input", { type: "checkbox", id: `note-${safe}`, class: "note-box" });
    // Files for an email reply: a button opens the browser's picker
    // (the input itself stays hidden); each file is uploaded when chosen.
    this.fileInput = h("input", { type: "file", multiple: true, hidden: true, id: `files-${safe}`,
      onchange: () => { this.addFiles([...this.fileInput.files]); this.fileInput.value = ""; } });
    this.attachButton = h("button", { type: "button", class: "attach", "aria-describedby": `files-help-${safe}`,
      onclick: () => this.fileInput.click() }, "Attach files");
    this.filesEl = h("div", { class: "compose-files", hidden: true },
      h("ul", { class: "chips", "aria-label": "Files to send" }),
      h("p", { id: `files-help-${safe}`, class: "muted files-help" }));
    this.ccEl = h("div", { class: "reply-cc", hidden: true });
    this.replyForm = h("form", { class: "reply-form", onsubmit: (ev) => { ev.preventDefault(); this.sendReply(); } },
      h("label", { for: `reply-${safe}`, class: "visually-hidden" }, "Reply to the customer"),
      this.reply,
      this.cannedEl,
      h("div", { class: "send" },
        h("button", { type: "submit", class: "primary" }, "Send"),
        this.attachButton, this.fileInput,
        h("label", { for: `note-${safe}`, class: "note-label" }, this.noteBox, " Internal note")));
    this.noteEl = h("p", { class: "contact-note", role: "status" });
    this.threadEl = h("p", { class: "reply-thread muted", hidden: true });
    this.typingEl = h("p", { class: "typing-note muted", "aria-live": "polite", hidden: true });
    this.popEl = h("div", { class: "pop-side" });
    this.disposition = h("select", { id: `disposition-${safe}`, name: "disposition", required: true });
    this.notes = h("textarea", { id: `notes-${safe}`, name: "notes", rows: "1", maxlength: "4000" });
    this.wrapForm = h("form", { class: "wrapup", "aria-label": "Wrap-up", onsubmit: (ev) => { ev.preventDefault(); this.finish("wrapup"); } },
      h("h3", {}, "Wrap-up"),
      h("div", { class: "field" }, h("label", { for: `disposition-${safe}` }, "Disposition"), this.disposition),
      h("div", { class: "field" }, h("label", { for: `notes-${safe}` }, "Notes"), this.notes),
      h("div", { class: "buttons" },
        h("button", { type: "submit", class: "primary", dataset: { action: "wrapup" }, "aria-describedby": `wrap-help-${safe}` }, "Wrap up"),
        h("button", { type: "button", dataset: { action: "close" }, onclick: () => this.finish("close"), "aria-describedby": `wrap-help-${safe}` }, "Close")),
      h("p", { id: `wrap-help-${safe}`, class: "muted wrap-help" },
        "Wrap up ends the conversation and gives you the wrap-up time for your notes before new contacts; Close ends it now, with none."));
    // The transfer picker lists the queues and the agents not offline,
    // read from the server when the agent goes to it (transfer_targets).
    this.target = h("select", { id: `transfer-${safe}`, name: "target", required: true,
      onfocus: () => this.loadTargets(), onmousedown: () => this.loadTargets() },
    h("option", { value: "" }, "Choose…"));
    this.transferForm = h("form", { class: "transfer", "aria-label": "Transfer", onsubmit: (ev) => { ev.preventDefault(); this.transfer(); } },
      h("label", { for: `transfer-${safe}` }, "Transfer to"),
      h("div", { class: "inline" }, this.target, h("button", { type: "submit" }, "Transfer")));
    // Tags: the agents' and supervisors' labels of the contact, never
    // the customer's; one chip per tag with its remove button.
    this.tagList = h("ul", { class: "tags", "aria-label": "Tags" });
    this.tagInput = h("input", { type: "text", id: `tag-${safe}`, class: "tag-input", maxlength: "64",
      placeholder: "Add a tag", autocomplete: "off" });
    this.tagsForm = h("form", { class: "tags-form", "aria-label": "Tags", onsubmit: (ev) => { ev.preventDefault(); this.addTag(); } },
      h("label", { for: `tag-${safe}` }, "Tags"),
      h("div", { class: "inline" }, this.tagList, this.tagInput, h("button", { type: "submit" }, "Add")));
    this.panel = h("section", { id: this.domID, role: "tabpanel", class: "conversation", "aria-labelledby": `tab-${safe}`, hidden: true },
      h("div", { class: "talk" }, this.noteEl, this.list, this.typingEl, this.threadEl, this.ccEl, this.filesEl, this.replyForm, this.segmentsEl,
        h("div", { class: "finish" }, this.wrapForm, h("div", {}, this.transferForm, this.tagsForm))),
      h("aside", { class: "side", "aria-label": "Customer" }, this.popEl));

    this.fillDispositions();
    this.setMessages(active.messages || []);
    this.render();
  }

  fillDispositions() {
    const chosen = this.disposition.value;
    fill(this.disposition,
      h("option", { value: "" }, "Choose…"),
      this.desk.dispositions().map((d) => h("option", { value: d.code }, d.label || d.code)));
    this.disposition.value = chosen;
  }

  // update takes a new version of the ActiveContact or the Contact.
  update(contact, reason) {
    this.contact = contact || this.contact;
    if (reason && !shownByContact.has(reason)) this.note = reasonText[reason] || reason;
    this.render();
  }

  setMessages(list) {
    this.messages = [];
    for (const m of list) this.addMessage(m, true);
    this.renderMessages();
    this.renderCc();
    this.markRead();
  }

  // addMessage adds a message from the server (dedupe by seq; a reply of
  // ours, known by its client_id, replaces its pending copy).
  addMessage(m, quiet) {
    if (!m) return;
    if (m.client_id) this.pending.delete(m.client_id);
    if (m.seq && this.messages.some((x) => x.seq === m.seq)) return;
    this.messages.push(m);
    this.messages.sort((a, b) => (a.seq || 0) - (b.seq || 0));
    if (!quiet) {
      if (m.direction === "in") {
        if (this.panel.hidden) this.unread = true;
        this.showCustomerTyping(false);
      }
      this.renderMessages();
      this.renderCc();
      this.renderTab();
      this.markRead();
    }
  }

  // setDelivery shows where the delivery of our message seq stands.
  setDelivery(seq, delivery) {
    const m = this.messages.find((x) => x.seq === seq);
    if (!m || !delivery) return;
    m.delivery = delivery;
    this.renderMessages();
  }

  // typed tells the server, at most every typingEvery, that the agent is
  // typing a reply.
  typed() {
    const now = Date.now();
    if (!this.reply.value.trim() || now - this.typedAt < typingEvery) return;
    if (this.desk.notify("typing", { contact_id: this.id })) this.typedAt = now;
  }

  // markRead reports the highest customer message seq shown, when the
  // agent can see it: the tab is selected and the page visible and
  // focused.
  markRead() {
    if (this.panel.hidden || !this.desk.looking()) return;
    let seq = 0;
    for (const m of this.messages) if (m.direction === "in" && m.seq > seq) seq = m.seq;
    if (seq <= this.readSent) return;
    this.readSent = seq;
    this.desk.request("read", { contact_id: this.id, up_to_seq: seq })
      .catch(() => {
        // Best effort: try again with the next message or focus.
        if (this.readSent === seq) this.readSent = 0;
      });
  }

  // showCustomerTyping shows "customer is typing…" for a few seconds, or
  // hides it.
  showCustomerTyping(on) {
    clearTimeout(this.typingTimer);
    this.typingEl.textContent = on ? `${this.title} is typing…` : "";
    this.typingEl.hidden = !on;
    if (on) this.typingTimer = setTimeout(() => this.showCustomerTyping(false), customerTypingShown);
  }

  // setReceipt takes a receipt message; marks only grow.
  setReceipt(d) {
    const delivered = Math.max(this.receipt.delivered, Number(d.delivered_seq) || 0);
    const read = Math.max(this.receipt.read, Number(d.read_seq) || 0);
    if (delivered === this.receipt.delivered && read === this.receipt.read) return;
    this.receipt = { delivered, read };
    this.renderMessages();
  }

  // renderSegments shows the segment count and encoding of the reply
  // being typed on an SMS contact.
  renderSegments() {
    const sms = this.contact.channel === "sms";
    this.segmentsEl.hidden = !sms;
    if (!sms) return;
    const c = smsCount(this.reply.value.trim());
    const max = this.desk.smsMaxSegments();
    this.segmentsEl.textContent = smsDescribe(c) + (max && c.count > max ? ` (more than ${max}: you will be asked to confirm)` : "");
    this.segmentsEl.classList.toggle("warn", Boolean(max && c.count > max));
  }

  // renderCanned shows the canned responses of the contact's queue whose
  // id or title starts with what follows a "/" typed first in the reply.
  renderCanned() {
    const v = this.reply.value;
    const m = /^\/(\S*)$/.exec(v);
    this.cannedMatches = m ? this.desk.canned(this.contact.queue).filter((c) =>
      c.id.toLowerCase().startsWith(m[1].toLowerCase()) || c.title.toLowerCase().startsWith(m[1].toLowerCase())).slice(0, 8) : [];
    this.cannedAt = Math.min(this.cannedAt, Math.max(0, this.cannedMatches.length - 1));
    this.cannedEl.hidden = this.cannedMatches.length === 0;
    fill(this.cannedEl, this.cannedMatches.map((c, i) => h("li", {
      role: "option", id: `${this.cannedEl.id}-${i}`, "aria-selected": i === this.cannedAt ? "true" : "false",
      dataset: { canned: c.id }, onmousedown: (ev) => { ev.preventDefault(); this.insertCanned(i); },
    }, h("strong", {}, c.title), " ", h("span", { class: "muted" }, this.fillCanned(c.text)))));
    if (this.cannedMatches.length) this.reply.setAttribute("aria-activedescendant", `${this.cannedEl.id}-${this.cannedAt}`);
    else this.reply.removeAttribute("aria-activedescendant");
  }

  // cannedKeys moves through the open list (arrows), inserts (Enter,
  // Tab) or closes it (Escape); it reports whether it took the key.
  cannedKeys(ev) {
    if (this.cannedMatches.length === 0) return false;
    switch (ev.key) {
      case "ArrowDown": this.cannedAt = (this.cannedAt + 1) % this.cannedMatches.length; break;
      case "ArrowUp": this.cannedAt = (this.cannedAt + this.cannedMatches.length - 1) % this.cannedMatches.length; break;
      case "Enter": case "Tab": this.insertCanned(this.cannedAt); break;
      case "Escape": this.cannedMatches = []; this.cannedEl.hidden = true; ev.preventDefault(); return true;
      default: return false;
    }
    ev.preventDefault();
    if (this.cannedMatches.length) this.renderCanned();
    return true;
  }

  insertCanned(i) {
    const c = this.cannedMatches[i];
    if (!c) return;
    this.reply.value = this.fillCanned(c.text);
    this.cannedMatches = [];
    this.cannedEl.hidden = true;
    this.reply.removeAttribute("aria-activedescendant");
    this.reply.focus();
    this.renderSegments();
  }

  // fillCanned fills a canned text's placeholders from this contact.
  fillCanned(text) {
    const name = this.title === "Unknown customer" || /@|^\+/.test(this.title) ? "" : this.title.split(/\s+/)[0];
    return text.replaceAll("{first_name}", name).replaceAll("{agent}", this.desk.agentName()).replaceAll("{reference}", this.id);
  }

  sendReply() {
    const body = this.reply.value.trim();
    if (!body) return;
    const note = this.noteBox.checked;
    const email = this.contact.channel === "email" && !note; // a note carries text only
    if (email && this.files.some((f) => !f.sha256)) {
      this.desk.showError(this.files.some((f) => f.failed)
        ? "A file was not uploaded: remove it, or attach it again, before sending."
        : "Files are still uploading: send when they are done.");
      return;
    }
    if (this.contact.channel === "sms" && !this.noteBox.checked) {
      const c = smsCount(body), max = this.desk.smsMaxSegments();
      if (max && c.count > max && !this.desk.confirm(`This reply takes ${c.count} SMS segments (${c.encoding}), more than ${max}. Send it?`)) return;
    }
    const clientID = newClientID();
    const p = { body, failed: false, note };
    if (email && this.files.length) p.attachments = this.files.map((f) => ({ sha256: f.sha256, name: f.name, type: f.type }));
    if (email && this.ccRemoved.size) p.cc = this.replyCc().filter((c) => !this.ccRemoved.has(c.address)).map((c) => c.text);
    this.pending.set(clientID, p);
    this.noteBox.checked = false; // a note is chosen each time: a reply is the default
    this.reply.value = "";
    if (email) {
      // The next reply starts again with no files and the whole Cc.
      this.files = [];
      this.ccRemoved.clear();
      this.renderFiles();
      this.renderCc();
    }
    this.renderSegments();
    this.renderMessages();
    this.sendPending(clientID);
  }

  sendPending(clientID) {
    const p = this.pending.get(clientID);
    if (!p) return;
    p.failed = false;
    const req = { contact_id: this.id, body: p.body, client_id: clientID };
    if (p.note) req.note = true;
    if (p.attachments) req.attachments = p.attachments;
    if (p.cc) req.cc = p.cc;
    this.desk.request("send", req)
      .then((ack) => {
        this.pending.delete(clientID);
        if (ack && ack.message) this.addMessage({ client_id: clientID, ...ack.message }, true);
        this.renderMessages();
      })
      .catch((err) => {
        if (!this.pending.has(clientID)) return;
        p.failed = true;
        this.renderMessages();
        if (err.code !== "unavailable") this.desk.showError(`Reply not sent: ${err.message}`);
      });
  }

  // resendPending sends again, with the same client ids, the replies the
  // server did not acknowledge (after a reconnect).
  resendPending() {
    for (const [id, p] of this.pending) if (p.failed) this.sendPending(id);
  }

  finish(kind) {
    const disposition = this.disposition.value;
    if (!disposition) {
      this.desk.showError("Choose a disposition first.");
      this.disposition.focus();
      return;
    }
    this.desk.request(kind, { contact_id: this.id, disposition, notes: this.notes.value })
      .then((ack) => {
        if (ack && ack.contact) this.update(ack.contact);
      })
      .catch((err) => this.desk.showError(`${kind === "close" ? "Close" : "Wrap-up"} failed: ${err.message}`));
  }

  // loadTargets fills the transfer picker: queues (with their waiting
  // contacts), then agents (with their state), keeping the choice.
  loadTargets() {
    if (this.loadingTargets) return;
    this.loadingTargets = true;
    this.desk.request("transfer_targets", {})
      .then((d) => {
        const chosen = this.target.value;
        fill(this.target,
          h("option", { value: "" }, "Choose…"),
          h("optgroup", { label: "Queues" }, ((d && d.queues) || []).map((q) =>
            h("option", { value: `queue:${q.name}` }, `${q.name}${q.waiting ? ` (${q.waiting} waiting)` : ""}`))),
          h("optgroup", { label: "Agents" }, ((d && d.agents) || []).map((a) =>
            h("option", { value: `agent:${a.id}` }, `${a.name} (${a.state})`))));
        this.target.value = chosen;
        this.target.dataset.loaded = "true";
      })
      .catch((err) => this.desk.showError(`Transfer targets not loaded: ${err.message}`))
      .finally(() => { this.loadingTargets = false; });
  }

  transfer() {
    const v = this.target.value;
    if (!v) return;
    const [kind, name] = [v.slice(0, v.indexOf(":")), v.slice(v.indexOf(":") + 1)];
    const data = kind === "agent" ? { contact_id: this.id, to_agent: name } : { contact_id: this.id, queue: name };
    this.desk.request("transfer", data)
      .then(() => { this.target.value = ""; })
      .catch((err) => this.desk.showError(`Transfer failed: ${err.message}`));
  }

  // addTag adds the typed tag (the server normalizes it: lower case).
  addTag() {
    const tag = this.tagInput.value.trim();
    if (!tag) return;
    this.tagRequest({ add: [tag] }, () => { this.tagInput.value = ""; });
  }

  tagRequest(change, done) {
    this.desk.request("tag", { contact_id: this.id, ...change })
      .then((ack) => {
        if (done) done();
        if (ack && ack.contact) this.update(ack.contact);
      })
      .catch((err) => this.desk.showError(`Tags not changed: ${err.message}`));
  }

  renderTags() {
    const tags = this.contact.tags || [];
    fill(this.tagList, tags.map((t) =>
      h("li", { class: "tag" }, t,
        h("button", { type: "button", class: "link tag-remove", "aria-label": `Remove tag ${t}`, title: `Remove tag ${t}`,
          onclick: () => this.tagRequest({ remove: [t] }, () => this.tagInput.focus()) }, "×"))));
    const live = this.contact.state === "assigned" || this.contact.state === "wrapup";
    this.tagsForm.hidden = !live;
  }

  // author names who wrote m in the transcript: the customer by name,
  // the agent reading as "You", another agent (before a transfer) or a
  // supervisor by name, the system as such. A supervisor's message to
  // the customer (a take-over) is theirs, never "You".
  author(m) {
    if (m.direction === "in") return this.title;
    if (m.direction === "note") {
      if (m.author_kind === "supervisor") return `Whisper from ${m.author_name || m.author} (supervisor)`;
      return !m.author || m.author === this.desk.agentID() ? "Your note" : `Note by ${m.author_name || m.author}`;
    }
    if (m.author_kind === "supervisor") return `${m.author_name || m.author} (supervisor)`;
    if (m.author_kind === "system") return "Automatic message";
    if (!m.author || m.author === this.desk.agentID()) return "You";
    return m.author_name || m.author;
  }

  get title() {
    return customerName(this.pop);
  }

  render() {
    // A control that goes away (Wrap up, Send) must not drop the focus
    // to the page: it moves to the panel's next useful control.
    const had = this.panel.contains(document.activeElement) ? document.activeElement : null;
    this.renderTab();
    this.renderSegments();
    const state = this.contact.state;
    const live = state !== "wrapup" && state !== "closed" && state !== "abandoned";
    this.reply.disabled = !live;
    this.replyForm.querySelector("button").disabled = !live;
    this.renderNote();
    clearInterval(this.wrapTimer);
    this.wrapTimer = state === "wrapup" ? setInterval(() => this.renderNote(), 1000) : 0;
    this.wrapForm.querySelector('[data-action="wrapup"]').hidden = !live;
    this.transferForm.hidden = !live;
    this.renderTags();
    this.renderThread();
    this.renderCc();
    this.renderFiles();
    this.renderPop();
    const now = document.activeElement;
    const kept = now && now !== had && this.panel.contains(now); // moved by a redraw (renderPop)
    if (had && !kept && (had.disabled || had.closest("[hidden]") || !had.isConnected)) {
      const close = this.wrapForm.querySelector('[data-action="close"]');
      (close && !close.hidden && !close.disabled ? close : this.tab).focus();
    }
  }

  setPop(pop) {
    this.pop = pop || {};
    this.renderPop();
  }

  // renderThread says, for an email contact, how the reply goes out: by
  // email, answering the customer's last email in its thread, under the
  // contact's subject and reference token (the server sets the headers).
  renderThread() {
    const email = this.contact.channel === "email";
    this.threadEl.hidden = !email;
    if (!email) return;
    const subject = this.contact.subject || "Your request";
    const token = `[#${String(this.id).slice(-6)}]`;
    const re = /^(re|aw):/i.test(subject) ? subject : `Re: ${subject}`;
    this.threadEl.textContent = `Sent by email as "${re.includes(token) ? re : `${re} ${token}`}", in the thread of the customer's last email.`;
  }

  // replyCc is the Cc of the customer's last email, which the reply
  // answers and copies, less the customer and our own addresses (the
  // snapshot's own_email_addresses), as the server sends it:
  // [{text, address}], address in lower case.
  replyCc() {
    const last = [...this.messages].reverse().find((m) => m.direction === "in" && answeredEmail(m.external_id));
    const customer = String((this.contact.customer && this.contact.customer.email) || "").toLowerCase();
    const ours = this.desk.ownEmail();
    const out = [];
    for (const text of (last && last.cc) || []) {
      const address = addressOf(text);
      if (address && address !== customer && !ours.has(address) && !out.some((c) => c.address === address)) out.push({ text, address });
    }
    return out;
  }

  // renderCc shows, above an email reply, the Cc it goes to, each with
  // a control to take it off this reply (and, once one is off, one to
  // put them all back).
  renderCc() {
    const cc = this.contact.channel === "email" ? this.replyCc() : [];
    const live = this.contact.state === "assigned";
    this.ccEl.hidden = cc.length === 0 || !live;
    if (this.ccEl.hidden) {
      fill(this.ccEl);
      return;
    }
    const kept = cc.filter((c) => !this.ccRemoved.has(c.address));
    const removed = cc.length - kept.length;
    fill(this.ccEl,
      h("span", { class: "muted", id: `cc-label-${this.domID}` }, "Cc:"), " ",
      kept.length === 0 ? h("span", { class: "muted" }, "nobody (the customer alone)") : null,
      h("ul", { class: "chips", "aria-labelledby": `cc-label-${this.domID}` }, kept.map((c) =>
        h("li", { class: "chip" }, c.text,
          h("button", { type: "button", class: "chip-remove", dataset: { address: c.address },
            "aria-label": `Remove ${c.text} from the Cc of this reply`, title: `Remove ${c.text} from the Cc of this reply`,
            onclick: () => this.removeCc(c.address) }, "×")))),
      removed ? h("button", { type: "button", class: "link cc-restore", onclick: () => this.restoreCc() },
        `Put back ${removed} removed`) : null);
  }

  removeCc(address) {
    this.ccRemoved.add(address);
    this.renderCc();
    // The keyboard stays in the list: the next remove control, else
    // the one that puts them back.
    const next = this.ccEl.querySelector(".chip-remove") || this.ccEl.querySelector(".cc-restore") || this.reply;
    next.focus();
  }

  restoreCc() {
    this.ccRemoved.clear();
    this.renderCc();
    (this.ccEl.querySelector(".chip-remove") || this.reply).focus();
  }

  // addFiles uploads the files the agent chose, each checked against
  // the limits the snapshot told (when it did): one file, and the
  // reply's files together.
  addFiles(list) {
    const limits = this.desk.attachmentLimits();
    for (const file of list) {
      const total = this.files.reduce((n, f) => n + f.size, 0) + file.size;
      if (limits && limits.max_file_bytes && file.size > limits.max_file_bytes) {
        this.desk.showError(`${file.name} is ${sizeText(file.size)}: a file may hold at most ${sizeText(limits.max_file_bytes)}.`);
        continue;
      }
      if (limits && limits.max_message_bytes && total > limits.max_message_bytes) {
        this.desk.showError(`${file.name} not attached: a reply's files may hold at most ${sizeText(limits.max_message_bytes)} together.`);
        continue;
      }
      const f = { key: ++this.fileSeq, name: file.name, size: file.size, type: file.type || "application/octet-stream", sha256: "", failed: false };
      this.files.push(f);
      this.desk.upload(file)
        .then((up) => {
          if (!this.files.includes(f)) return; // removed meanwhile
          f.sha256 = up.sha256;
          f.type = up.type || f.type;
          this.renderFiles();
        })
        .catch((err) => {
          if (!this.files.includes(f)) return;
          f.failed = true;
          this.renderFiles();
          this.desk.showError(`${file.name} not uploaded: ${err.message}`);
        });
    }
    this.renderFiles();
  }

  removeFile(key) {
    const i = this.files.findIndex((f) => f.key === key);
    if (i < 0) return;
    this.files.splice(i, 1);
    this.renderFiles();
    const buttons = this.filesEl.querySelectorAll(".chip-remove");
    (buttons[Math.min(i, buttons.length - 1)] || this.attachButton).focus();
  }

  // renderFiles lists the files chosen for the next reply, each with
  // its size, whether it is uploaded, and a control to remove it; and
  // shows the attach control only on a live email contact.
  renderFiles() {
    const email = this.contact.channel === "email";
    const live = this.contact.state === "assigned";
    this.attachButton.hidden = !email;
    this.attachButton.disabled = !live;
    this.filesEl.hidden = !email || this.files.length === 0;
    const [list, help] = this.filesEl.children;
    fill(list, this.files.map((f) => h("li", { class: `chip${f.failed ? " failed" : ""}` },
      f.name, " ", h("span", { class: "muted" }, `${sizeText(f.size)}${f.failed ? " · not uploaded" : f.sha256 ? "" : " · uploading…"}`),
      h("button", { type: "button", class: "chip-remove", "aria-label": `Remove file ${f.name}`, title: `Remove file ${f.name}`,
        onclick: () => this.removeFile(f.key) }, "×"))));
    const limits = this.desk.attachmentLimits();
    const total = this.files.reduce((n, f) => n + f.size, 0);
    help.textContent = limits && limits.max_message_bytes
      ? `${sizeText(total)} of ${sizeText(limits.max_message_bytes)}; each file at most ${sizeText(limits.max_file_bytes)}.`
      : `${sizeText(total)}.`;
  }

  renderPop() {
    // A redraw (an outcome recorded, a new screen pop) keeps the keyboard
    // on the offer's outcome control it was on.
    const was = this.popEl.contains(document.activeElement) ? document.activeElement : null;
    const offerID = was && was.matches("select.outcome") ? was.dataset.offerId : "";
    fill(this.popEl,
      h("h2", { class: "customer-name" }, this.title),
      h("p", { class: "muted" }, [this.contact.channel, this.contact.queue, this.contact.subject].filter(Boolean).join(" · ")),
      renderScreenPop(this.pop, {
        outcome: (offerID) => this.desk.outcome(this.id, offerID),
        onOutcome: (offerID, outcome) => this.desk.recordOutcome(this.id, offerID, outcome).then(() => this.renderPop()),
        verifyMethods: this.contact.state === "assigned" ? this.desk.verificationMethods() : [],
        dispositionLabel: this.desk.dispositionLabel,
        segmentLabel: this.desk.segmentLabel,
        productLabel: this.desk.productLabel,
        onVerify: (method) => this.verify(method),
      }));
    const again = offerID ? [...this.popEl.querySelectorAll("select.outcome")].find((el) => el.dataset.offerId === offerID) : null;
    if (again) again.focus();
    else if (was && !was.isConnected) (this.reply.disabled ? this.tab : this.reply).focus(); // never to the page body
  }

  // verify records that the agent verified the customer's claim by
  // method; the ack's screen pop shows the profile.
  verify(method) {
    this.desk.request("verify", { contact_id: this.id, method })
      .then((d) => {
        if (d && d.contact) this.contact = d.contact;
        if (d && d.screen_pop) this.pop = d.screen_pop;
        this.render();
      })
      .catch((err) => this.desk.showError(`Not verified: ${err.message}`));
  }

  renderTab() {
    const state = this.contact.state === "wrapup" ? " (wrap-up)" : "";
    fill(this.tab,
      h("span", { class: "tab-channel" }, this.contact.channel || ""),
      " ",
      h("span", { class: "tab-name" }, this.title),
      state,
      this.unread ? h("span", { class: "unread", "aria-label": "new message" }, " ●") : null);
  }

  // renderMessages shows the messages, then the replies not acknowledged
  // yet, keyed by message: the element of a message whose content did
  // not change stays (an email's frame is not loaded again, what the
  // agent unfolded stays open, the keyboard stays on it), and only its
  // changed parts are drawn again (who and when, the mark, the
  // delivery); new messages go in in order, gone ones go away.
  renderMessages() {
    const rows = this.messages.map((m) => ({ key: messageKey(m), m, status: "", who: this.author(m), mark: this.mark(m) }));
    for (const [id, p] of this.pending) {
      rows.push({ key: `pending:${id}`, m: { direction: p.note ? "note" : "out", body: p.body }, status: p.failed ? "failed" : "sending",
        who: "You", mark: "", retry: p.failed ? () => this.sendPending(id) : null });
    }
    const atEnd = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 8;
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const keys = new Set(rows.map((r) => r.key));
    for (const [key, v] of this.views) {
      if (keys.has(key)) continue;
      v.el.remove();
      this.views.delete(key);
    }
    // The elements kept are in order already: only new ones are
    // inserted, as moving a frame would load it again.
    let at = this.list.firstChild;
    let added = false;
    for (const r of rows) {
      const el = this.messageView(r);
      if (el === at) {
        at = at.nextSibling;
        continue;
      }
      this.list.insertBefore(el, at);
      added = true;
    }
    // A new message scrolls to the end; a change of a mark or a delivery
    // leaves the agent reading where they were, unless at the end.
    if (added || atEnd) this.list.scrollTop = this.list.scrollHeight;
    if (focused && !focused.isConnected) (this.reply.disabled ? this.tab : this.reply).focus(); // never to the page body
  }

  // messageView returns the element of one row of renderMessages: the
  // one it has when the message's content is the same, brought up to
  // date, else a new one in its place.
  messageView(r) {
    let v = this.views.get(r.key);
    if (!v || (v.m !== r.m && contentOf(v.m) !== contentOf(r.m))) {
      const seq = r.m.seq;
      const images = { remote: this.remoteImages.has(seq), show: () => this.remoteImages.add(seq) };
      const meta = h("div", { class: "meta" });
      const el = h("li", {}, meta, renderEmail(r.m, this.id, images), renderBody(r.m), renderAttachments(r.m.attachments, this.id));
      if (v) v.el.replaceWith(el);
      v = { el, meta, head: "", tail: [], tailKey: "" };
      this.views.set(r.key, v);
    }
    v.m = r.m;
    v.el.className = `message ${messageKind(r.m)} ${r.status}`;
    const when = r.status || time(r.m.at);
    const head = JSON.stringify([r.who, when, r.mark]);
    if (head !== v.head) {
      v.head = head;
      fill(v.meta, renderMeta(r.who, when, r.mark));
    }
    const tailKey = JSON.stringify([r.m.delivery || null, Boolean(r.retry)]);
    if (tailKey !== v.tailKey) {
      v.tailKey = tailKey;
      for (const n of v.tail) n.remove();
      v.tail = [renderDelivery(r.m.delivery),
        r.retry ? h("button", { type: "button", class: "link", onclick: r.retry }, "Retry") : null].filter(Boolean);
      v.el.append(...v.tail);
    }
    return v.el;
  }

  // mark is the receipt mark of one of our messages: "Read",
  // "Delivered" or "".
  mark(m) {
    if (m.direction !== "out" || !m.seq) return "";
    if (m.seq <= this.receipt.read) return "Read";
    if (m.seq <= this.receipt.delivered) return "Delivered";
    return "";
  }

  select(on) {
    this.panel.hidden = !on;
    this.tab.setAttribute("aria-selected", on ? "true" : "false");
    this.tab.tabIndex = on ? 0 : -1;
    if (on && this.unread) {
      this.unread = false;
      this.renderTab();
    }
    if (on) this.markRead();
  }

  // dispose stops the timers of a conversation that leaves the page.
  dispose() {
    clearTimeout(this.typingTimer);
    clearInterval(this.wrapTimer);
  }

  // renderNote shows what the agent must know of the contact: the
  // supervisors who took it over, and in wrap-up how long is left of it
  // (the agent's wrapup_until).
  renderNote() {
    let text = this.note;
    const over = (this.contact.taken_over_by || []).map((t) => `${t.name || t.id} (supervisor)`);
    if (over.length > 0) {
      text = `${over.join(", ")} took this conversation over: they write to the customer too; it stays yours. ${text}`.trim();
    }
    if (this.contact.state === "wrapup") {
      const until = Date.parse(this.desk.wrapUpUntil() || "");
      const left = Number.isNaN(until) ? -1 : Math.max(0, Math.ceil((until - Date.now()) / 1000));
      text = `In wrap-up${left >= 0 ? `: ${left} s left` : ""}. Close when your notes are done. ${this.note}`.trim();
    }
    this.noteEl.textContent = text;
    this.noteEl.hidden = !text;
  }
}

// answeredEmail reports whether a message's external id names an email
// by its Message-ID ("email:<desk>:<Message-ID>"): the kind of mail a
// reply answers and whose Cc it copies (a synthetic key is none).
function answeredEmail(externalID) {
  const m = /^email:[^:]*:(.+)$/.exec(externalID || "");
  return Boolean(m) && !m[1].startsWith("synthetic:");
}

// addressOf is the address of a recipient as written ("Name <a@b>" or
// "a@b"), in lower case.
function addressOf(text) {
  const m = /<([^<>]+)>\s*$/.exec(text);
  return (m ? m[1] : text).trim().toLowerCase();
}

// sizeText says a number of bytes as people read it.
function sizeText(n) {
  const unit = (v, name) => `${Number(v.toFixed(v < 10 ? 1 : 0))} ${name}`;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return unit(n / 1024, "KB");
  return unit(n / 1024 / 1024, "MB");
}

// messageKey names a message in the list: by its seq; one without (none
// should come) by the object itself.
const unnumbered = new WeakMap();
let unnumberedSeq = 0;
function messageKey(m) {
  if (m.seq) return `seq:${m.seq}`;
  if (!unnumbered.has(m)) unnumbered.set(m, `local:${++unnumberedSeq}`);
  return unnumbered.get(m);
}

// contentOf is what a message's element shows that only another version
// of the message changes (its delivery and marks are drawn apart); the
// HTML is the same for the same seq.
function contentOf(m) {
  return JSON.stringify([m.seq, m.direction, m.author_kind, m.author, m.author_name, m.at,
    m.subject, m.to, m.cc, m.body, Boolean(m.html), m.attachments]);
}

// messageKind is the class that styles a message: in, out, note, or
// "out supervisor" (a supervisor's message to the customer).
function messageKind(m) {
  if (m.direction === "in") return "in";
  if (m.direction === "note") return "note";
  return m.author_kind === "supervisor" ? "out supervisor" : "out";
}

// renderMeta is the line above a message: who wrote it, when (or how
// its sending goes) and the customer's mark.
function renderMeta(who, when, mark) {
  return [h("span", { class: "who" }, who), " ", h("span", { class: "when" }, when),
    mark ? h("span", { class: `mark ${mark.toLowerCase()}`, title: mark === "Read" ? "Read by the customer" : "Delivered to the customer" },
      mark === "Read" ? " · ✓✓ Read" : " · ✓ Delivered") : null];
}

// renderEmail shows what an email message carries besides its text:
// its header (subject, from, to, cc, date) and, when it has HTML, the
// HTML (sanitized by the server) in a sandboxed frame that runs nothing
// and whose policy blocks remote images until the agent asks: images is
// {remote (the agent asked), show() (records that the agent asks)}.
function renderEmail(m, contactID, images) {
  const to = (m.to || []).join(", ");
  const cc = (m.cc || []).join(", ");
  if (!m.subject && !m.html && !to) return null;
  const from = m.direction === "in" ? [m.author_name, m.author ? `<${m.author}>` : ""].filter(Boolean).join(" ") : "";
  const rows = [["Subject", m.subject], ["From", from], ["To", to], ["Cc", cc],
    ["Date", m.at ? new Date(m.at).toLocaleString() : ""]].filter(([, v]) => v);
  const head = h("dl", { class: "email-head" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
  if (!m.html || !m.seq || !contactID) return h("div", { class: "email" }, head);
  const src = `/api/v1/contacts/${encodeURIComponent(contactID)}/messages/${encodeURIComponent(m.seq)}/html`;
  const frame = h("iframe", {
    class: "email-frame", src: images.remote ? `${src}?images=remote` : src,
    sandbox: "allow-popups allow-popups-to-escape-sandbox", referrerpolicy: "no-referrer",
    title: images.remote ? "The email as sent" : "The email as sent, remote images blocked",
  });
  const show = images.remote ? null : h("button", {
    type: "button", class: "link remote-images",
    onclick: () => {
      images.show();
      frame.src = `${src}?images=remote`;
      frame.title = "The email as sent";
      show.remove();
    },
  }, "Show remote images");
  return h("div", { class: "email" }, head, frame, show);
}

// renderBody is a message's text. An email's quoted history (lines that
// start with ">", and what follows "On … wrote:") is folded away, not
// removed; with HTML shown, the whole text is folded.
function renderBody(m) {
  const body = m.body || "";
  if (m.html && m.seq) {
    return h("details", { class: "text-version" }, h("summary", {}, "Text version"), h("p", { class: "body" }, body));
  }
  if (!m.subject) return h("p", { class: "body" }, body);
  const lines = body.split("\n");
  let cut = lines.findIndex((l, i) => l.startsWith(">") || /^On .+ wrote:$/.test(l) && (lines[i + 1] || "").startsWith(">"));
  if (cut <= 0) return h("p", { class: "body" }, body);
  return [h("p", { class: "body" }, lines.slice(0, cut).join("\n").trimEnd()),
    h("details", { class: "quoted" }, h("summary", {}, "Quoted text"), h("p", { class: "body" }, lines.slice(cut).join("\n")))];
}

// renderAttachments lists a message's files as links the server serves
// as downloads (images in place), with their sizes.
function renderAttachments(list, contactID) {
  if (!list || list.length === 0 || !contactID) return null;
  return h("ul", { class: "attachments", "aria-label": "Attachments" },
    list.map((a) => h("li", {},
      a.sha256
        ? h("a", { href: `/api/v1/contacts/${encodeURIComponent(contactID)}/attachments/${encodeURIComponent(a.sha256)}`, target: "_blank", rel: "noopener noreferrer" }, a.name || "file")
        : h("span", {}, a.name || "file"),
      h("span", { class: "muted" }, ` ${Math.max(1, Math.round((a.size || 0) / 1024))} KB`))));
}

// renderDelivery says what the agent must know of a message's delivery:
// that it failed, and why, or that it is being retried.
function renderDelivery(d) {
  if (!d) return null;
  if (d.status === "failed") {
    return h("p", { class: "delivery failed", role: "alert" }, `✗ Not delivered: ${d.reason || "the channel refused it"}`);
  }
  if (d.status === "queued" && d.attempts > 0) {
    return h("p", { class: "delivery retrying" }, `Retrying (${d.attempts} attempt${d.attempts === 1 ? "" : "s"}): ${d.reason || ""}`);
  }
  return null;
}
