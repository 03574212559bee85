import { get, qs, showError } from "../lib/api.js";
import { h, replace, table } from "../lib/dom.js";

async function load() {
  const q = new URLSearchParams(location.search);
  const since = q.get("since") || new Date(Date.now() - 7 * 86400000).toISOString().slice(0, 19) + "Z";
  const results = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace("content",
    h("form", { class: "filters", role: "search", "aria-label": "Access log since" },
      h("div", {}, h("label", { for: "f-since" }, "Since (ISO 8601)"), h("input", { id: "f-since", name: "since", value: since })),
      h("button", { type: "submit" }, "Show")),
    results);
  try {
    const { records } = await get(`/v1/identity/access-log${qs({ since, limit: 500 })}`);
    replace(results, table(`${records.length} record(s): who read or did what, when and why`, [
      { label: "At", cell: (r) => r.occurred_at ?? "" },
      { label: "Event", cell: (r) => r.event_type },
      { label: "Principal", cell: (r) => h("code", {}, r.principal_id ?? "—") },
      { label: "Action", cell: (r) => r.action },
      { label: "Target", cell: (r) => h("code", {}, r.target) },
      { label: "Outcome", cell: (r) => r.outcome },
      { label: "Reason", cell: (r) => r.reason ?? "" },
    ], records));
  } catch (err) {
    showError(results, err);
  }
}
load();
