// socket.js: the agent WebSocket (docs/protocol.md). It reconnects with
// backoff (250 ms doubling to 5 s), resumes from the last seq it saw, and
// turns requests into promises answered by the server's ack or error.

const minBackoff = 250; // ms, first retry after a drop
const maxBackoff = 5000; // ms, the longest wait between retries

// RequestError is a request the server answered with an `error` (code as
// in the HTTP API) or that the connection lost before an answer.
export class RequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// Socket talks to /ws/agent. Handlers:
//   onmessage(msg)   every server message but ack and error-with-id;
//   onstatus(status) "connecting", "open", "closed" (will retry), "stopped".
export class Socket {
  constructor(url, { onmessage, onstatus }) {
    this.url = url;
    this.onmessage = onmessage;
    this.onstatus = onstatus;
    this.lastSeq = 0; // the last seq received; 0 before the first snapshot
    this.backoff = minBackoff;
    this.nextID = 1;
    this.pending = new Map(); // request id → {resolve, reject}
    this.ws = null;
    this.timer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  // stop closes the socket for good (logout, session replaced).
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
    this.failPending("not connected");
    this.onstatus("stopped");
  }

  get connected() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  open() {
    const u = new URL(this.url, location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    if (this.lastSeq > 0) u.searchParams.set("resume", String(this.lastSeq));
    this.onstatus("connecting");
    const ws = new WebSocket(u);
    this.ws = ws;
    ws.onopen = () => {
      this.backoff = minBackoff;
      this.onstatus("open");
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failPending("connection lost before the server answered");
      if (this.stopped) return;
      this.onstatus("closed");
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, maxBackoff);
      this.timer = setTimeout(() => this.open(), wait);
    };
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg.seq === "number" && msg.seq > 0) this.lastSeq = msg.seq;
    if ((msg.type === "ack" || msg.type === "error") && msg.id && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.type === "ack") p.resolve(msg.data || {});
      else p.reject(new RequestError((msg.data && msg.data.code) || "error", (msg.data && msg.data.message) || "request failed"));
      return;
    }
    if (msg.type === "session_replaced") this.stopped = true;
    this.onmessage(msg);
  }

  // request sends {type, id, data} and resolves with the ack's data or
  // rejects with a RequestError.
  request(type, data) {
    if (!this.connected) {
      return Promise.reject(new RequestError("unavailable", "not connected; reconnecting…"));
    }
    const id = `r${this.nextID++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type, id, data }));
    });
  }

  // notify sends {type, data} without an id: nothing answers it unless it
  // fails (best effort, e.g. typing). It reports whether it was sent.
  notify(type, data) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify({ type, data }));
    return true;
  }

  failPending(why) {
    for (const p of this.pending.values()) p.reject(new RequestError("unavailable", why));
    this.pending.clear();
  }
}
