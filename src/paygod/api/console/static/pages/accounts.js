import { get, showError } from "../lib/api.js";
import { h, replace, table, money } from "../lib/dom.js";

const monthAgo = () => new Date(Date.now() - 30 * 86400000).toISOString().slice(0, 19) + "Z";
const now = () => new Date(Date.now() + 60000).toISOString().slice(0, 19) + "Z";

async function load() {
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const trial = h("section", { id: "trial" }, h("h2", {}, "Trial balance"), h("p", { class: "muted" }, "Loading…"));
  replace("content", box, trial);
  try {
    const { accounts } = await get("/v1/accounts?limit=200");
    replace(box, table(`${accounts.length} account(s)`, [
      { label: "Account", cell: (a) => h("code", {}, a.id ?? a.account_id) },
      { label: "Currency", cell: (a) => a.ledger },
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
