import { get, post, qs, say, showError } from "../lib/api.js";
import { h, replace, table, badge, money } from "../lib/dom.js";

async function review(p, action, note) {
  try {
    const r = await post(`/v1/payments/${encodeURIComponent(p.payment_id)}/${action}`, { note });
    say(`Payment ${p.payment_id} ${action === "approve" ? "approved" : "rejected"}: now ${r.status}.`);
    load();
  } catch (err) {
    say(`${action} refused: ${err.status ?? ""} ${err.message}`, false);
  }
}

function reviewCell(p) {
  const note = h("input", { "aria-label": `note for ${p.payment_id}`, placeholder: "note", maxlength: 1000 });
  return h("div", { class: "actions" }, note,
    h("button", { type: "button", onclick: () => review(p, "approve", note.value), "data-action": "approve" }, "Approve"),
    h("button", { type: "button", class: "danger", onclick: () => review(p, "reject", note.value), "data-action": "reject" }, "Reject"));
}

const paymentColumns = (extra) => [
  { label: "Payment", cell: (p) => h("a", { href: `/console/payments/${encodeURIComponent(p.payment_id)}` }, p.payment_id) },
  { label: "State", cell: (p) => p.status },
  { label: "Amount", num: true, cell: (p) => money(p.amount, p.currency) },
  { label: "Purpose", cell: (p) => p.purpose },
  { label: "Requested by", cell: (p) => h("code", {}, p.requested_by) },
  { label: "Decision", cell: (p) => badge(p.decision?.verdict) },
  ...extra,
];

async function section(id, title, render) {
  const box = h("section", { id, "aria-labelledby": `${id}-h` }, h("h2", { id: `${id}-h` }, title), h("p", { class: "muted" }, "Loading…"));
  render().then((nodes) => replace(box, h("h2", { id: `${id}-h` }, title), nodes)).catch((err) => {
    replace(box, h("h2", { id: `${id}-h` }, title), h("div", {}));
    showError(box.lastChild, err);
  });
  return box;
}

async function panicControl() {
  const state = await get("/v1/admin/panic");
  const reason = h("input", { id: "panic-reason", "aria-label": "reason for the panic switch", placeholder: "reason (required to turn on)", maxlength: 500 });
  const change = async (on) => {
    try {
      const r = await post("/v1/admin/panic", on ? { on, reason: reason.value } : { on });
      say(`Panic switch ${r.on ? "ON" : "off"}.`);
      load();
    } catch (err) {
      say(`Panic switch refused: ${err.status ?? ""} ${err.message}`, false);
    }
  };
  return [
    h("p", { id: "panic-state", class: state.on ? "panic-on" : null }, state.on ? `ON since ${state.since ?? ""} by ${state.actor ?? "?"}: ${state.reason ?? ""}` : "off — side effects are running"),
    h("div", { class: "actions" },
      state.on ? h("button", { type: "button", id: "panic-off", onclick: () => change(false) }, "Turn panic off")
        : [reason, h("button", { type: "button", class: "danger", id: "panic-on", onclick: () => change(true) }, "Turn panic ON")]),
  ];
}

async function deadLetters() {
  const { dead } = await get("/v1/executor/dead?limit=50");
  const act = async (m, action) => {
    try {
      await post(`/v1/executor/dead/${encodeURIComponent(m.event_id)}/${action}`);
      say(`Dead letter ${m.event_id}: ${action === "retry" ? "requeued" : "discarded"}.`);
      load();
    } catch (err) {
      say(`${action} refused: ${err.status ?? ""} ${err.message}`, false);
    }
  };
  return table(`${dead.length} dead letter(s)`, [
    { label: "Event", cell: (m) => h("code", {}, m.event_id) },
    { label: "Type", cell: (m) => m.event_type },
    { label: "Aggregate", cell: (m) => h("code", {}, m.aggregate_id) },
    { label: "Attempts", num: true, cell: (m) => m.attempts },
    { label: "Last error", cell: (m) => m.last_error ?? "" },
    { label: "Action", cell: (m) => h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => act(m, "retry") }, "Retry"),
      h("button", { type: "button", class: "secondary", onclick: () => act(m, "discard") }, "Discard")) },
  ], dead);
}

async function load() {
  const status = new URLSearchParams(location.search).get("status") ?? "";
  const filter = h("form", { class: "filters", "aria-label": "Filter payments" },
    h("div", {}, h("label", { for: "f-status" }, "State"),
      h("select", { id: "f-status", name: "status" }, ["", "requested", "decided", "held", "dispatching", "dispatched", "settled", "failed", "reversed", "denied", "rejected"]
        .map((s) => h("option", { value: s, selected: s === status }, s || "any")))),
    h("button", { type: "submit" }, "Show"));
  replace("content",
    await section("queue", "Review queue (maker-checker)", async () => {
      const { payments } = await get("/v1/payments?status=review&limit=100");
      return table(`${payments.length} payment(s) waiting for a checker`, paymentColumns([{ label: "Review", cell: reviewCell }]), payments);
    }),
    await section("panic", "Panic switch", panicControl),
    await section("dlq", "Dead-letter queue", deadLetters),
    await section("recent", "Payments", async () => {
      const { payments } = await get(`/v1/payments${qs({ status, limit: 100 })}`);
      return [filter, table(`${payments.length} payment(s), newest first`, paymentColumns([]), payments)];
    }));
}
load();
