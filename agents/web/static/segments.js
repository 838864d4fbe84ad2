// segments.js: how a reply travels as SMS, as the agent types. It mirrors
// channels/sms Count (segments.go), the one rule; a test holds the two to
// the same answers on a table of cases (agents/web segments_test.go).
// GSM-7: 160 septets in one segment, 153 per part of a longer message,
// the extension characters counting two; any other character makes the
// whole message UCS-2: 70 UTF-16 units, 67 per part. A part never splits
// an extension character nor a surrogate pair.

const gsm7Basic = new Set(Array.from("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"));
const gsm7Ext = new Set(Array.from("\f^{}\\[~]|€"));

export const GSM7 = "GSM-7";
export const UCS2 = "UCS-2";

// count returns {encoding, units, count} of body.
export function count(body) {
  if (body === "") return { encoding: GSM7, units: 0, count: 0 };
  const chars = Array.from(body); // code points
  let sizes = [];
  let gsm = true;
  for (const ch of chars) {
    if (gsm7Basic.has(ch)) sizes.push(1);
    else if (gsm7Ext.has(ch)) sizes.push(2);
    else { gsm = false; break; }
  }
  let single = 160, part = 153, encoding = GSM7;
  if (!gsm) {
    single = 70; part = 67; encoding = UCS2;
    sizes = chars.map((ch) => ch.length); // UTF-16 units: 1, or 2 for a surrogate pair
  }
  const units = sizes.reduce((a, b) => a + b, 0);
  if (units <= single) return { encoding, units, count: 1 };
  let n = 1, room = part;
  for (const s of sizes) {
    if (s > room) { n++; room = part; }
    room -= s;
  }
  return { encoding, units, count: n };
}

// describe is what the composer shows: "GSM-7 · 42 characters · 1 SMS".
export function describe(c) {
  const per = c.count > 1 ? (c.encoding === GSM7 ? 153 : 67) : (c.encoding === GSM7 ? 160 : 70);
  return `${c.encoding} · ${c.units}/${per * Math.max(c.count, 1)} · ${c.count} SMS`;
}
