import { get, qs, showError } from "../lib/api.js";
import { h, replace, table } from "../lib/dom.js";

const field = (name, label, value, attrs = {}) => h("div", {}, h("label", { for: `f-${name}` }, label), h("input", { id: `f-${name}`, name, value: value ?? "", ...attrs }));
const entryRows = (entries) => table(`${entries.length} entr${entries.length === 1 ? "y" : "ies"}`, [
  { label: "Seq", num: true, cell: (e) => h("a", { href: `/console/ledger/${e.seq}` }, String(e.seq)) },
  { label: "Kind", cell: (e) => e.kind },
  { label: "Subject", cell: (e) => e.subject },
  { label: "Recorded at", cell: (e) => e.recorded_at },
  { label: "Valid from", cell: (e) => e.valid_from ?? "—" },
  { label: "Record hash", cell: (e) => h("code", {}, e.record_hash.slice(0, 16) + "…") },
], entries);

async function load() {
  const q = Object.fromEntries(new URLSearchParams(location.search));
  const results = h("div", { id: "results" }, h("p", { class: "muted" }, "Loading…"));
  replace("content",
    h("form", { class: "filters", role: "search", "aria-label": "Ledger entries by seq" },
      field("after", "Entries after seq", q.after, { inputmode: "numeric", pattern: "-?[0-9]*" }),
      h("input", { type: "hidden", name: "mode", value: "seq" }),
      h("button", { type: "submit" }, "Show")),
    h("form", { class: "filters", role: "search", "aria-label": "A subject as of a time" },
      field("subject", "Subject", q.subject, { required: true }),
      field("recorded_at", "As recorded at (transaction time)", q.recorded_at, { placeholder: "2026-01-01T00:00:00Z" }),
      field("valid_at", "About valid time", q.valid_at, { placeholder: "2026-01-01T00:00:00Z" }),
      h("button", { type: "submit" }, "As of")),
    results);
  try {
    if (q.subject) {
      const r = await get(`/v1/ledger/subjects/${encodeURIComponent(q.subject)}${qs({ recorded_at: q.recorded_at, valid_at: q.valid_at })}`);
      replace(results, h("p", {}, `Subject ${r.subject} as recorded at ${r.recorded_at ?? "now"}, about ${r.valid_at ?? "now"}:`), entryRows(r.entries));
    } else {
      const after = q.after === undefined || q.after === "" ? Math.max(-1, (await latestSeq()) - 50) : Number(q.after);
      const r = await get(`/v1/ledger/entries${qs({ after, limit: 50 })}`);
      replace(results, entryRows(r.entries),
        h("p", {}, after > -1 ? h("a", { href: `?after=${Math.max(-1, after - 50)}` }, "← earlier") : null, " ",
          r.next_after !== null ? h("a", { href: `?after=${r.next_after}` }, "later →") : null));
    }
  } catch (err) {
    showError(results, err);
  }
}

async function latestSeq() {
  try {
    return (await get("/v1/overview")).ledger.size - 1;
  } catch {
    return 49; // without the overview permission, start at the beginning
  }
}
load();
