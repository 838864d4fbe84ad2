// screenpop.js: renders the screen pop of docs/protocol.md: who the
// customer is, why the contact came to this agent, their recent contacts
// and the offers worth making. Every value is shown as text.

import { h, time, duration } from "./dom.js";

// The outcomes an agent can record for an offer, in button order.
export const outcomes = [
  ["presented", "Presented"],
  ["accepted", "Accepted"],
  ["declined", "Declined"],
  ["not_relevant", "Not relevant"],
];

// customerName is the best name the screen pop has for the customer.
export function customerName(pop) {
  const c = (pop && pop.customer) || {};
  if (c.name) return c.name;
  const first = (c.identities || [])[0];
  return first && first.value ? first.value : "Unknown customer";
}

// renderScreenPop returns the screen pop of one contact.
//   opts.firstMessages: also show the contact's first messages (offer card);
//   opts.outcome(offerID): the outcome recorded so far, or "";
//   opts.onOutcome(offerID, outcome): the agent pressed an outcome button;
//   opts.verifyMethods: the ways to verify a claim (snapshot's
//     verification_methods), and opts.onVerify(method): the agent verified
//     the customer by method; without both, no verify button;
//   opts.dispositionLabel(code), opts.segmentLabel(code),
//     opts.productLabel(code): the configured labels of those codes.
export function renderScreenPop(pop, opts = {}) {
  pop = pop || {};
  const contact = pop.contact || {};
  const customer = pop.customer || {};
  return h("div", { class: "screenpop" },
    renderNotice(customer, opts),
    renderCustomer(customer, opts),
    renderWhyYou(contact),
    opts.firstMessages ? renderFirstMessages(contact) : null,
    renderOffers(pop.offers || [], pop.offers_withheld || "", opts),
    renderHistory(pop.history || [], opts),
  );
}

// renderWhyYou says in words why the contact is the agent's, with the
// router's exact reason one click away.
function renderWhyYou(contact) {
  const words = contact.why_you || contact.routed_because;
  if (!words) return null;
  return h("div", { class: "routed" },
    h("p", {}, h("span", { class: "label" }, "Why you: "), words),
    contact.why_you && contact.routed_because
      ? h("details", { class: "routed-exact" }, h("summary", {}, "Router's reason"), h("p", { class: "muted" }, contact.routed_because))
      : null);
}

// renderNotice warns that the customer is not identified: a claim of a
// known customer is to be verified (one button per method) before their
// account is discussed.
function renderNotice(c, opts) {
  if (!c.notice) return null;
  const canVerify = c.claims_known_customer && !c.identified && opts.onVerify && (opts.verifyMethods || []).length > 0;
  return h("div", { class: c.claims_known_customer ? "notice claim" : "notice", role: "note" },
    h("p", {}, c.notice),
    canVerify
      ? h("div", { class: "verify", role: "group", "aria-label": "Verify the customer" },
        opts.verifyMethods.map((m) =>
          h("button", { type: "button", class: "verify-button", dataset: { method: m }, onclick: () => opts.onVerify(m) },
            `Verified: ${m}`)))
      : null);
}

function renderCustomer(c, opts) {
  const segment = opts.segmentLabel || String;
  const product = opts.productLabel || String;
  const facts = [];
  if (c.segment) facts.push(h("span", { class: "fact" }, h("span", { class: "label" }, "Segment "), segment(String(c.segment))));
  if (c.value !== null && c.value !== undefined && c.value !== 0) {
    facts.push(h("span", { class: "fact" }, h("span", { class: "label" }, "Value "), Number(c.value).toLocaleString()));
  }
  if (c.language) facts.push(h("span", { class: "fact" }, h("span", { class: "label" }, "Language "), String(c.language)));
  const products = (c.products || []).map((p) => product(String(p))).filter(Boolean);
  if (products.length) facts.push(h("span", { class: "fact" }, h("span", { class: "label" }, "Products "), products.join(", ")));
  return h("div", { class: "customer" },
    h("ul", { class: "identities", "aria-label": "Identities" },
      (c.identities || []).map((id) =>
        h("li", { class: "identity" },
          h("span", { class: "label" }, `${id.type || "id"} `),
          h("span", { class: "identity-value" }, id.value || ""),
          " ",
          id.verified
            ? h("span", { class: "badge verified", title: "Proven by the channel" }, "verified")
            : h("span", { class: "badge claimed", title: "Typed in, not proven" }, "claimed"),
        ))),
    facts.length ? h("p", { class: "facts" }, facts) : null,
  );
}

function renderFirstMessages(contact) {
  const msgs = (contact.first_messages || []).slice(0, 3);
  if (!contact.subject && msgs.length === 0) return null;
  return h("div", { class: "first" },
    contact.subject ? h("p", { class: "subject" }, contact.subject) : null,
    msgs.map((m) => h("p", { class: "first-message" }, m.body || "")),
  );
}

// withheldText says why no offer may be made, for the reasons of
// docs/protocol.md; an unknown reason is shown as it is.
const withheldText = {
  "complaint": "No offers: the customer is complaining. Help first.",
  "recent complaint": "No offers: a recent contact of theirs ended in a complaint.",
  "no marketing consent": "No offers: no consent to marketing.",
  "profiling refused": "No offers: the customer refused profiling.",
  "sms opt-out": "No offers: opted out of marketing by SMS.",
  "no profile": "No offers: no customer profile.",
  "not verified": "No offers until the customer is identified.",
  "contact ended": "No offers: the contact ended.",
};

function renderOffers(offers, withheld, opts) {
  if (offers.length === 0) {
    if (!withheld) return null;
    return h("section", { class: "offers withheld", "aria-label": "Offers" },
      h("p", { class: "muted offers-withheld" }, withheldText[withheld] || `No offers: ${withheld}.`));
  }
  return h("section", { class: "offers", "aria-label": "Offers" },
    h("h3", {}, "Offers"),
    h("ol", {}, offers.slice(0, 3).map((o) => {
      const title = o.title || o.id;
      const points = o.talking_points || [];
      return h("li", { class: "offer-item", dataset: { offerId: o.id } },
        h("p", { class: "offer-title" }, title),
        o.reason ? h("p", { class: "offer-reason" }, o.reason) : null,
        points.length ? h("ul", { class: "talking-points", "aria-label": `What to say of ${title}` }, points.map((p) => h("li", {}, p))) : null,
        opts.onOutcome ? renderOutcome(o.id, title, opts) : null,
      );
    })),
  );
}

// renderOutcome is the one compact control recording what became of an
// offer, shown once the agent holds the contact (not on the ringing card).
function renderOutcome(offerID, title, opts) {
  const chosen = opts.outcome ? opts.outcome(offerID) : "";
  const id = `outcome-${Math.random().toString(36).slice(2, 10)}`;
  const sel = h("select", { id, class: "outcome", dataset: { offerId: offerID, recorded: chosen } },
    h("option", { value: "" }, "Outcome…"),
    outcomes.map(([code, label]) => h("option", { value: code }, label)));
  sel.value = chosen;
  sel.addEventListener("change", () => { if (sel.value) opts.onOutcome(offerID, sel.value); });
  return h("div", { class: "outcomes" }, h("label", { for: id, class: "visually-hidden" }, `Outcome of ${title}`), sel);
}

// renderHistory lists the customer's earlier contacts, folded away
// (one click opens it): the screen must fit without scrolling.
// opts.dispositionLabel(code) names a disposition as the configuration
// labels it.
function renderHistory(history, opts) {
  if (history.length === 0) {
    return h("section", { class: "history", "aria-label": "History" }, h("p", { class: "muted" }, "No earlier contacts."));
  }
  const label = opts.dispositionLabel || ((code) => code);
  const n = history.length >= 10 ? "10 or more" : String(history.length);
  return h("details", { class: "history", "aria-label": "History" },
    h("summary", {}, `History: ${n} earlier contact${history.length === 1 ? "" : "s"}`),
    h("ul", {}, history.slice(0, 10).map((c) => {
      const outcome = c.disposition ? `${c.state || ""} · ${label(c.disposition)}` : c.state || "";
      return h("li", {},
        h("span", { class: "channel" }, c.channel || ""),
        " ",
        h("span", { class: "when" }, time(c.created_at)),
        c.queue ? h("span", { class: "muted" }, ` ${c.queue}`) : null,
        c.agent_id ? h("span", { class: "muted" }, ` · ${c.agent_id}`) : null,
        " ",
        h("span", { class: "outcome-text" }, outcome),
      );
    })),
  );
}

// waited describes how long the contact waited ("waited 45 s").
export function waited(pop) {
  const s = pop && pop.contact && pop.contact.waited_seconds;
  return s === undefined || s === null ? "" : `waited ${duration(s)}`;
}
