// One pack's pipeline (GET /v1/packs/{name}/pipeline): champion, challenger, stage, canary
// share, shadow agreement and confusion, the decisions the two differ on (a platform
// principal only: a tenant's view omits other tenants' decisions), and the verdict changes
// between the versions (GET /v1/packs/{name}/diff, witnesses checked by the engine).
// Moves (promote, canary step, roll back) are offered to holders of packs:activate; the
// API asks a human for a TOTP code (the dialog) and refuses tenant principals.
import { get, post, say, showError } from "../lib/api.js";
import { h, replace, table, kv, json, params, badge } from "../lib/dom.js";

const name = params().name;
const can = (p) => (params().can ?? "").split(" ").includes(p);
const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)} %`);
const stage = (s) => h("span", { class: `badge s-${s ?? "none"}`, id: "stage" }, s ?? "none");
const NEXT = { draft: ["shadow", "retired"], shadow: ["canary", "active", "retired"], canary: ["active", "retired"] };

async function move(path, body, done) {
  try {
    const r = await post(`/v1/packs/${encodeURIComponent(name)}/${path}`, body);
    say(`${done}: ${r.challenger ? `challenger now ${r.challenger.stage}` : "challenger retired"} (sealed at seq ${r.receipt?.seq ?? "?"}).`);
    load();
  } catch (err) {
    say(`Refused: ${err.status ?? ""} ${err.message}`, false);
  }
}

function moves(c) {
  const to = h("select", { id: "m-to" }, (NEXT[c.stage] ?? []).map((s) => h("option", { value: s }, s)));
  const percent = h("input", { id: "m-percent", type: "number", min: 0.1, max: 100, step: 0.1, value: 10 });
  const step = h("input", { id: "m-step", type: "number", min: 0.1, max: 100, step: 0.1, value: c.canary_percent || 10 });
  const reason = h("input", { id: "m-reason", maxlength: 500, required: true });
  const gate = h("select", { id: "m-gate" }, [["bayes", "Bayesian (P(better) ≥ 0.95)"], ["z", "two-proportion z-test"]]
    .map(([v, label]) => h("option", { value: v }, label)));
  const sample = h("input", { id: "m-sample", type: "number", min: 1, max: 1000000, step: 1, value: 200 });
  const form = (label, submit, ...fields) => h("form", { class: "filters", "aria-label": label,
    onsubmit: (e) => { e.preventDefault(); submit(); } }, ...fields);
  const promote = () => {
    const body = { to: to.value };
    if (to.value === "canary") Object.assign(body, { percent: Number(percent.value), gate: gate.value, minimum_sample: Number(sample.value) });
    move("promote", body, `Promoted to ${to.value}`);
  };
  return h("section", { id: "moves", "aria-labelledby": "moves-h" }, h("h2", { id: "moves-h" }, "Move the challenger"),
    h("p", { class: "muted" }, "Each move is sealed (policy.stage) and needs a fresh code from your authenticator app."),
    form("Promote", promote,
      h("div", {}, h("label", { for: "m-to" }, "Promote to"), to),
      h("div", {}, h("label", { for: "m-percent" }, "Canary share (%)"), percent),
      h("div", {}, h("label", { for: "m-gate" }, "Gate (reviewed outcomes)"), gate),
      h("div", {}, h("label", { for: "m-sample" }, "Minimum reviewed sample"), sample),
      h("button", { type: "submit" }, "Promote")),
    c.stage === "canary" ? form("Canary share", () => move("canary", { percent: Number(step.value) }, `Canary at ${step.value} %`),
      h("div", {}, h("label", { for: "m-step" }, "New canary share (%)"), step),
      h("button", { type: "submit", class: "secondary" }, "Set share")) : null,
    form("Roll back", () => move("rollback", { reason: reason.value }, "Rolled back"),
      h("div", {}, h("label", { for: "m-reason" }, "Why roll back"), reason),
      h("button", { type: "submit", class: "danger" }, "Roll back")));
}

function confusion(shadow) {
  const verdicts = ["allow", "flag", "deny", "error"];
  const count = (a, b) => shadow.confusion.find((x) => x.champion === a && x.challenger === b)?.count ?? 0;
  return h("div", { class: "scroll" }, h("table", { id: "confusion" },
    h("caption", { class: "muted" }, "Rows: the champion's verdict; columns: the challenger's"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "champion \\ challenger"), verdicts.map((v) => h("th", { scope: "col", class: "num" }, v)))),
    h("tbody", {}, verdicts.map((a) => h("tr", {}, h("th", { scope: "row" }, a),
      verdicts.map((b) => h("td", { class: `num${a !== b && count(a, b) ? " differs" : ""}` }, String(count(a, b)))))))));
}

function challengerPart(c) {
  const s = c.shadow;
  return [
    kv([["version", c.version], ["digest", h("code", {}, c.digest)], ["stage", stage(c.stage)],
      ["canary share", c.stage === "canary" ? `${c.canary_percent} %` : "—"],
      ["shadow: compared", String(s.compared)], ["shadow: agreement", h("span", { id: "agreement" }, pct(s.agreement_rate))],
      ["shadow: extra time", s.mean_extra_ms === null ? "—" : `${s.mean_extra_ms} ms per decision`],
      ["reviewed outcomes", `${c.reviewed.count} (challenger right ${c.reviewed.challenger_right}, champion right ${c.reviewed.champion_right})`],
      ["canary arm", `${c.canary.canary.decisions} decisions, ${c.canary.canary.errors} errors, p95 ${c.canary.canary.p95_ms} ms`],
      ["champion arm", `${c.canary.champion.decisions} decisions, ${c.canary.champion.errors} errors, p95 ${c.canary.champion.p95_ms} ms`]]),
    can("packs:activate") ? moves(c) : null,
    h("h2", {}, "Shadow confusion"), confusion(s),
    h("h2", {}, "Decisions the two differ on"),
    s.differing === undefined
      ? h("p", { class: "muted", id: "differing" }, "Shown to platform principals only: they are other tenants' decisions too.")
      : h("div", { id: "differing" }, table(`${s.differing.length} most recent`, [
        { label: "Decision", cell: (d) => h("a", { href: `/console/decisions/${encodeURIComponent(d.decision_id)}` }, d.decision_id) },
        { label: "Champion", cell: (d) => [badge(d.champion.decision), " ", d.champion.rule ?? ""] },
        { label: "Challenger", cell: (d) => [badge(d.challenger.decision), " ", d.challenger.rule ?? ""] },
        { label: "Challenger's reason", cell: (d) => d.challenger.reason ?? "" },
      ], s.differing)),
  ];
}

async function diffPart(box) {
  try {
    const d = await get(`/v1/packs/${encodeURIComponent(name)}/diff`);
    const seen = d.changes.filter((c) => c.witness).length;
    replace(box, h("p", {}, `${d.before.version} → ${d.after.version}: `, d.changes.length
      ? `${d.changes.length} verdict change(s) some valid input makes; ${seen} with a witness input the engine confirmed`
      : "no input changes its verdict"),
      table(null, [
        { label: "Before", cell: (c) => badge(c.before) }, { label: "After", cell: (c) => badge(c.after) },
        { label: "Rules (before → after)", cell: (c) => `${c.rules.before ?? "—"} → ${c.rules.after ?? "—"}` },
        { label: "Witness", cell: (c) => (c.witness ? json(c.witness) : "—") },
      ], d.changes));
  } catch (err) {
    showError(box, err);
  }
}

async function load() {
  try {
    const row = await get(`/v1/packs/${encodeURIComponent(name)}/pipeline`);
    const diff = h("div", { id: "diff" }, h("p", { class: "muted" }, "Computing the verdict changes…"));
    replace("content",
      h("h2", {}, "Champion (active)"),
      row.champion ? kv([["pack", row.pack], ["version", h("span", { id: "champion-version" }, row.champion.version)], ["digest", h("code", {}, row.champion.digest)]]) : h("p", {}, "none"),
      h("h2", {}, "Challenger"),
      row.challenger ? challengerPart(row.challenger) : h("p", { class: "muted", id: "stage" }, "No challenger: the active version decides alone."),
      row.challenger ? [h("h2", {}, "Verdict changes between the versions"), diff] : null);
    if (row.challenger) diffPart(diff);
  } catch (err) {
    showError("content", err);
  }
}
load();
