import { get, qs, showError } from "../lib/api.js";
import { h, replace, table, badge } from "../lib/dom.js";

const field = (name, label, attrs = {}) => h("div", {}, h("label", { for: `f-${name}` }, label), h("input", { id: `f-${name}`, name, ...attrs }));

function form(values) {
  const verdict = h("select", { id: "f-verdict", name: "verdict" },
    ["", "allow", "flag", "deny", "error"].map((v) => h("option", { value: v, selected: values.verdict === v }, v || "any")));
  return h("form", { class: "filters", role: "search", "aria-label": "Search decisions" },
    field("subject", "Subject", { value: values.subject ?? "" }),
    h("div", {}, h("label", { for: "f-verdict" }, "Verdict"), verdict),
    field("pack", "Pack", { value: values.pack ?? "" }),
    field("since", "Since (ISO 8601)", { value: values.since ?? "", placeholder: "2026-01-01T00:00:00Z" }),
    field("until", "Until (ISO 8601)", { value: values.until ?? "" }),
    h("button", { type: "submit" }, "Search"));
}

async function load() {
  const values = Object.fromEntries(new URLSearchParams(location.search));
  const results = h("div", { id: "results" }, h("p", { class: "muted" }, "Searching…"));
  replace("content", form(values), results);
  try {
    const { decisions } = await get(`/v1/decisions${qs({ ...values, limit: 100 })}`);
    replace(results, table(`${decisions.length} decision(s), newest first`, [
      { label: "Decided at", cell: (d) => d.decided_at },
      { label: "Decision", cell: (d) => h("a", { href: `/console/decisions/${encodeURIComponent(d.decision_id)}` }, d.decision_id) },
      { label: "Subject", cell: (d) => d.subject },
      { label: "Verdict", cell: (d) => badge(d.verdict) },
      { label: "Pack", cell: (d) => d.pack ?? "—" },
      { label: "Seq", num: true, cell: (d) => d.seq ?? "—" },
    ], decisions));
  } catch (err) {
    showError(results, err);
  }
}
load();
