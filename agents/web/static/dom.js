// dom.js: build elements without ever parsing markup. Strings become text
// nodes, so customer text is shown as text and never runs.

// h("button", {class: "big", onclick: fn}, "Accept") → <button class="big">Accept</button>.
// Attributes whose name starts with "on" must be functions (listeners);
// children are nodes, strings (text), or arrays of them; null is skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) {
      if (typeof v !== "function") throw new TypeError(`dom: ${k} must be a function`);
      el.addEventListener(k.slice(2), v);
    } else if (k === "text") {
      el.textContent = String(v);
    } else if (k === "value") {
      el.value = v;
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// clear removes every child of el.
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// fill replaces el's children.
export function fill(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// The formatters of time, built once: toLocaleTimeString with options
// builds a new Intl.DateTimeFormat at every call (about 3 ms per screen
// pop's history, 17 ms the first time).
const clockFormat = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat([], { day: "numeric", month: "short", year: "numeric" });

// time formats an RFC 3339 time as a short local time ("14:03"), or the
// date when it is not today.
export function time(s) {
  if (!s) return "";
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  if (d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate()) {
    return clockFormat.format(d);
  }
  return dateFormat.format(d);
}

// duration formats seconds as "45 s", "3 min", "2 h 5 min".
export function duration(sec) {
  sec = Math.max(0, Math.round(Number(sec) || 0));
  if (sec < 60) return `${sec} s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
