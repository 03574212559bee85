import { get, showError } from "../lib/api.js";
import { h, replace, json, kv, params } from "../lib/dom.js";
import { verifyEntry } from "../lib/verify.js";

const seq = Number(params().seq);
const PIN = "paygod.pinnedKeyId";

async function verify(out) {
  replace(out, h("p", { class: "muted" }, "Fetching the entry, a signed head, its proof and the public key; verifying with WebCrypto…"));
  try {
    const [entry, covering, publicKey] = await Promise.all([
      get(`/v1/ledger/entries/${seq}`), get(`/v1/ledger/proofs/inclusion/${seq}`), get("/v1/ledger/public-key"),
    ]);
    // A tenant's proof comes with the signed head that covers the entry (the global head is
    // the platform's); a platform admin's is at the live size, against the live head.
    let head = covering.tree_head;
    let proof = covering;
    if (!head) {
      head = await get("/v1/ledger/head");
      proof = await get(`/v1/ledger/proofs/inclusion/${seq}?tree_size=${head.tree_size}`);
    }
    const steps = await verifyEntry({ line: entry.interchange, proof, head, publicKey, pinnedKeyId: localStorage.getItem(PIN) || "" });
    const ok = steps.length === 7 && steps.every((s) => s.ok);
    replace(out, h("div", { class: `result ${ok ? "pass" : "fail"}`, id: "verify-result", role: "status", "data-verdict": ok ? "valid" : "invalid" },
      h("strong", {}, ok ? `VERIFIED in this browser: entry ${seq} is in the signed tree of ${head.tree_size} entries.`
        : `VERIFICATION FAILED for entry ${seq}: ${steps.find((s) => !s.ok)?.detail ?? "incomplete"}`),
      h("ol", {}, steps.map((s) => h("li", { class: s.ok ? "ok" : "error" }, `${s.ok ? "✓" : "✗"} ${s.label}`, s.detail ? h("div", { class: "mono muted" }, s.detail) : null))),
      h("p", { class: "help" }, "Computed with crypto.subtle (SHA-256, Ed25519); the server was not asked whether the proof holds.")));
  } catch (err) {
    showError(out, err);
  }
}

function pinForm() {
  const input = h("input", { id: "pin", name: "pin", value: localStorage.getItem(PIN) || "", pattern: "[0-9a-f]{16}", placeholder: "16 hex digits" });
  return h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); if (input.reportValidity()) { localStorage.setItem(PIN, input.value); } } },
    h("div", {}, h("label", { for: "pin" }, "Pinned ledger key id (kept in this browser)"), input),
    h("button", { type: "submit", class: "secondary" }, "Pin"));
}

async function load() {
  try {
    const e = await get(`/v1/ledger/entries/${seq}`);
    const out = h("div", { id: "verify" });
    replace("content",
      kv([["seq", String(e.seq)], ["kind", e.kind], ["subject", e.subject], ["tenant", e.tenant_id],
        ["recorded at", e.recorded_at], ["valid", `${e.valid_from ?? "—"} → ${e.valid_to ?? "open"}`],
        ["supersedes", e.supersedes ?? "—"], ["previous hash", h("code", {}, e.previous_hash)], ["record hash", h("code", {}, e.record_hash)]]),
      h("div", { class: "actions" }, h("button", { type: "button", id: "verify-button", onclick: () => verify(out) }, "Verify in the browser")),
      out, pinForm(),
      h("h2", {}, "Payload"), json(e.payload),
      h("details", {}, h("summary", {}, "Interchange line (ledger.jsonl)"), json(e.interchange)),
      h("p", {}, h("a", { href: `/console/ledger?subject=${encodeURIComponent(e.subject)}` }, `All entries of ${e.subject} →`)));
  } catch (err) {
    showError("content", err);
  }
}
load();
