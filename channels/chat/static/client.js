// The customer's socket: one WebSocket to /ws/chat, reconnecting with
// backoff (250 ms doubling to 5 s). Frames are {"type","seq","id","data"}.

const MIN_BACKOFF = 250;
const MAX_BACKOFF = 5000;

export class ChatClient extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ws = null;
    this.backoff = MIN_BACKOFF;
    this.nextID = 0;
    this.stopped = false;
    this.retry = 0; // the pending reconnect's timer
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.backoff = MIN_BACKOFF;
      this.dispatchEvent(new Event('open'));
    });
    ws.addEventListener('message', (e) => {
      if (this.ws !== ws) return; // a socket replaced (fresh) says nothing more
      let f;
      try {
        f = JSON.parse(e.data);
      } catch {
        return;
      }
      if (f && typeof f.type === 'string') {
        this.dispatchEvent(new CustomEvent('frame', { detail: f }));
      }
    });
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.dispatchEvent(new Event('close'));
      if (this.stopped) return;
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF);
      this.retry = setTimeout(() => { this.retry = 0; this.connect(); }, wait);
    });
  }

  // fresh replaces the socket with a new one at once: a socket carries
  // one conversation, so a new conversation after the end of one needs
  // a new socket. The old socket's close is not reported.
  fresh() {
    clearTimeout(this.retry); // a reconnect pending would open a second socket
    this.retry = 0;
    const old = this.ws;
    this.ws = null;
    if (old) old.close();
    this.backoff = MIN_BACKOFF;
    this.connect();
  }

  // send writes one request and returns its id, or null when offline.
  send(type, data) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return null;
    const id = 'r' + (++this.nextID);
    this.ws.send(JSON.stringify({ type, id, data: data || {} }));
    return id;
  }

  online() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }
}
