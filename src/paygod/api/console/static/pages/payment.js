import { get, post, showError } from "../lib/api.js";
import { h, replace, table, badge, money, kv, json, params } from "../lib/dom.js";

const id = params().paymentId;

async function load() {
  try {
    const p = await get(`/v1/payments/${encodeURIComponent(id)}`);
    const quote = h("div", { id: "quote" });
    replace("content",
      kv([["payment", h("code", {}, p.payment_id)], ["state", p.status], ["amount", money(p.amount, p.currency)],
        ["payer account", p.payer_account], ["payee", h("code", {}, p.payee_ref)], ["purpose", p.purpose],
        ["rail", p.rail ?? `(preference ${p.rail_preference})`], ["fee", p.fee === null ? "—" : money(p.fee, p.currency)],
        ["requested by", h("code", {}, p.requested_by)],
        ["decision", p.decision ? [badge(p.decision.verdict), " ", p.decision.reason ?? "", " ",
          p.decision.decision_id ? h("a", { href: `/console/decisions/${encodeURIComponent(p.decision.decision_id)}` }, "decision →") : null] : "—"],
        ["approvals", (p.approvals ?? []).map((a) => `${a.by}: ${a.note ?? ""}`).join("; ") || "—"]]),
      h("h2", {}, "Timeline (from the ledger)"),
      table(null, [
        { label: "Seq", num: true, cell: (e) => h("a", { href: `/console/ledger/${e.seq}` }, String(e.seq)) },
        { label: "Transition", cell: (e) => e.transition ?? "" },
        { label: "State", cell: (e) => e.status },
        { label: "Recorded at", cell: (e) => e.recorded_at },
      ], p.history ?? []),
      h("h2", {}, "Rail alternatives"), quote,
      h("details", {}, h("summary", {}, "Payment (JSON)"), json(p)));
    try {
      const q = await post("/v1/payments/quote", { amount: p.amount, currency: p.currency, rail_preference: p.rail_preference });
      replace(quote, table(`selected: ${q.rail}`, [
        { label: "Rail", cell: (a) => a.rail }, { label: "Fee", num: true, cell: (a) => (a.fee === undefined ? "—" : money(a.fee, p.currency)) },
        { label: "Eligible", cell: (a) => (a.eligible === false ? "no" : "yes") }, { label: "Why", cell: (a) => a.reason ?? "" },
      ], [q.selected, ...(q.alternatives ?? [])].filter(Boolean)));
    } catch (err) {
      showError(quote, err);
    }
  } catch (err) {
    showError("content", err);
  }
}
load();
