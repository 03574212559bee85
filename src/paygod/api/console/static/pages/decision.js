import { get, post, showError } from "../lib/api.js";
import { h, replace, table, badge, json, kv, params } from "../lib/dom.js";

const id = params().decisionId;

function outcomes(explanation) {
  const packs = explanation?.packs ?? [];
  return packs.map((p) => h("section", { "aria-label": `rules of ${p.name ?? p.pack}` },
    h("h3", {}, `${p.name ?? p.pack ?? "pack"} ${p.version ?? ""} → `, badge(p.decision)),
    table(null, [
      { label: "#", num: true, cell: (o) => o.index },
      { label: "Rule", cell: (o) => o.rule },
      { label: "Outcome", cell: (o) => h("span", { class: o.status === "matched" ? "ok" : "muted" }, o.status) },
      { label: "Values read", cell: (o) => h("code", {}, Object.entries(o.values ?? {}).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("; ")) },
    ], p.outcomes ?? [])));
}

async function replay(target) {
  replace(target, h("p", { class: "muted" }, "Replaying…"));
  try {
    const r = await post(`/v1/decisions/${encodeURIComponent(id)}/replay`);
    replace(target, h("div", { class: `result ${r.identical ? "pass" : "fail"}`, id: "replay-result", role: "status" },
      h("strong", {}, r.identical ? "Same decision: the recorded packs decide the same today." : "Different: replay does not match the record."),
      kv([["recorded", `${r.recorded.decision} by ${r.recorded.pack}/${r.recorded.rule}`],
        ["today (recorded packs)", `${r.today.decision} by ${r.today.pack}/${r.today.rule}`]]),
      r.current_packs.length ? table("Packs loaded now", [
        { label: "Pack", cell: (p) => `${p.name} ${p.version}` },
        { label: "Decision", cell: (p) => badge(p.decision) },
        { label: "Changed?", cell: (p) => (p.changed_outcome ? "yes" : "no") },
      ], r.current_packs) : h("p", { class: "muted" }, "Today's packs are the recorded ones."),
      r.notes.map((n) => h("p", {}, n))));
  } catch (err) {
    showError(target, err);
  }
}

async function load() {
  try {
    const d = await get(`/v1/decisions/${encodeURIComponent(id)}`);
    const replayOut = h("div", { id: "replay" });
    replace("content",
      h("div", { class: "grid" },
        h("section", { class: "card" }, h("h2", {}, "Verdict"),
          h("p", { class: "big" }, badge(d.decision)),
          kv([["decision id", h("code", {}, d.decision_id)], ["subject", d.subject], ["pack / rule", `${d.pack} / ${d.rule}`],
            ["reason", d.reason], ["decided at", d.decided_at], ["tenant", d.tenant_id]]),
          h("div", { class: "actions" }, h("button", { type: "button", id: "replay-button", onclick: () => replay(replayOut) }, "Replay: would today's packs decide the same?")),
          replayOut),
        h("section", { class: "card" }, h("h2", {}, "Receipt"),
          kv([["ledger seq", h("a", { href: `/console/ledger/${d.ledger.seq}` }, String(d.ledger.seq))],
            ["record hash", h("code", {}, d.ledger.record_hash)],
            ["input hash", h("code", {}, d.input_hash)],
            ["signed head", d.ledger.tree_head ? `${d.ledger.tree_head.tree_size} entries, key ${d.ledger.tree_head.key_id}` : "—"],
            ["root", d.ledger.tree_head ? h("code", {}, d.ledger.tree_head.root_hash) : "—"]]),
          h("p", {}, h("a", { href: `/console/ledger/${d.ledger.seq}` }, "Verify this entry in the browser →")))),
      h("h2", {}, "Input (personal data by reference only)"), json(d.input),
      d.context && Object.keys(d.context).length ? [h("h2", {}, "Context"), json(d.context)] : null,
      h("h2", {}, "Rule outcomes and the values they read"), outcomes(d.explanation),
      h("h2", {}, "Measurements"),
      table(null, [
        { label: "Name", cell: (m) => m.name }, { label: "Value", num: true, cell: (m) => JSON.stringify(m.value) },
        { label: "Unit", cell: (m) => m.unit ?? "" }, { label: "Provider", cell: (m) => m.provider ?? "" },
        { label: "Window", cell: (m) => (m.window ? `${m.window.from} → ${m.window.to}` : "") },
      ], d.measurements ?? []),
      h("h2", {}, "Evidence"), json(d.evidence),
      h("details", {}, h("summary", {}, "Receipt: inclusion proof and signed tree head (JSON)"), json({ inclusion_proof: d.ledger.inclusion_proof, tree_head: d.ledger.tree_head })));
  } catch (err) {
    showError("content", err);
  }
}
load();
