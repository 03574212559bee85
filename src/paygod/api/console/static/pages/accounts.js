import { get, qs, showError } from "../lib/api.js";
import { h, replace, table, money } from "../lib/dom.js";

const monthAgo = () => new Date(Date.now() - 30 * 86400000).toISOString().slice(0, 19) + "Z";
const now = () => new Date(Date.now() + 60000).toISOString().slice(0, 19) + "Z";

// As of a past instant: each balance replayed from its transfer history by the API
// (GET /v1/accounts/{id}/balance?at=), beside today's.
function asOfForm(at) {
  return h("form", { class: "filters", "aria-label": "Balances as of a past time" },
    h("div", {}, h("label", { for: "f-at" }, "Balances as of (RFC 3339)"),
      h("input", { id: "f-at", name: "at", value: at ?? "", placeholder: "2026-12-01T00:00:00Z" })),
    h("button", { type: "submit" }, "Show"), at ? h("a", { href: location.pathname }, "now") : null);
}

async function pastBalances(accounts, at) {
  const past = new Map();
  await Promise.all(accounts.slice(0, 50).map(async (a) => {
    const id = a.id ?? a.account_id;
    past.set(id, await get(`/v1/accounts/${encodeURIComponent(id)}/balance${qs({ at })}`));
  }));
  return past;
}

async function load() {
  const at = new URLSearchParams(location.search).get("at");
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const trial = h("section", { id: "trial" }, h("h2", {}, "Trial balance"), h("p", { class: "muted" }, "Loading…"));
  replace("content", asOfForm(at), box, trial);
  try {
    const { accounts } = await get("/v1/accounts?limit=200");
    const past = at ? await pastBalances(accounts, at) : null;
    const then = past ? [{ label: `Balance at ${at}`, num: true, cell: (a) => {
      const b = past.get(a.id ?? a.account_id);
      return b ? h("span", { class: "as-of" }, money(b.balance, b.ledger)) : "—";
    } }] : [];
    replace(box, table(`${accounts.length} account(s)`, [
      { label: "Account", cell: (a) => h("code", {}, a.id ?? a.account_id) },
      { label: "Currency", cell: (a) => a.ledger },
      ...then,
      { label: "Posted balance", num: true, cell: (a) => money(a.balance?.posted ?? a.posted_balance ?? a.balance, a.ledger) },
      { label: "Held (pending)", num: true, cell: (a) => money(a.balance?.pending ?? a.pending_balance ?? 0, a.ledger) },
      { label: "Statement", cell: (a) => h("a", {
        href: `/v1/accounts/${encodeURIComponent(a.id ?? a.account_id)}/statement?format=csv&from=${monthAgo()}&to=${now()}`,
        download: `statement-${a.id ?? a.account_id}.csv`,
      }, "CSV (30 days)") },
    ], accounts));
  } catch (err) {
    showError(box, err);
  }
  try {
    const tb = await get("/v1/reports/trial-balance");
    replace(trial, h("h2", {}, "Trial balance"),
      h("p", { id: "trial-state", class: tb.balanced ? "ok" : "error" }, tb.balanced ? "Balanced: debits equal credits in every currency." : "NOT balanced"),
      table(null, [
        { label: "Currency", cell: (r) => r.ledger ?? r.currency ?? "" },
        { label: "Debits", num: true, cell: (r) => money(r.debits ?? r.total_debits, r.ledger) },
        { label: "Credits", num: true, cell: (r) => money(r.credits ?? r.total_credits, r.ledger) },
        { label: "Accounts", num: true, cell: (r) => (r.accounts ?? []).length },
      ], tb.ledgers ?? []),
      h("details", {}, h("summary", {}, "Trial balance (JSON)"), h("pre", { tabindex: 0 }, JSON.stringify(tb, null, 2))));
  } catch (err) {
    replace(trial, h("h2", {}, "Trial balance"), h("div", {}));
    showError(trial.lastChild, err);
  }
}
load();
