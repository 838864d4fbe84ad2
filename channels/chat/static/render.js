// Rendering of message bodies: plain text only. Bodies are written with
// textContent; only http and https links become anchors, built with
// createElement. Markup in a body is shown as text and never runs.

const LINK = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

// renderBody appends text to el, with safe links.
export function renderBody(el, text) {
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    const raw = m[0].replace(TRAILING, '');
    if (!raw) continue;
    el.append(textSpan(text.slice(last, m.index)));
    el.append(link(raw));
    last = m.index + raw.length;
  }
  el.append(textSpan(text.slice(last)));
}

function textSpan(s) {
  const span = document.createElement('span');
  span.textContent = s;
  return span;
}

function link(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return textSpan(raw);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return textSpan(raw);
  const a = document.createElement('a');
  a.href = url.href;
  a.textContent = raw;
  a.rel = 'noopener noreferrer';
  a.target = '_blank';
  return a;
}

// waitText says how long the customer waits, honestly.
export function waitText(q) {
  if (q.position === 0) return 'Connecting you with an agent…';
  let s = q.position === 1 ? 'You are next in the queue.' : `You are number ${q.position} in the queue.`;
  const w = q.estimated_wait_seconds;
  if (w === null || w === undefined) return s + ' We cannot estimate the wait right now.';
  if (w < 60) return s + ' Estimated wait: under a minute.';
  const min = Math.round(w / 60);
  return s + ` Estimated wait: about ${min} minute${min === 1 ? '' : 's'}.`;
}
