// The loaded policy packs (GET /v1/packs) beside their promotion pipeline
// (GET /v1/packs/pipeline, packs:read): the active version, and a challenger's stage,
// canary share and shadow agreement. Each pack's page has the detail and the moves.
import { get, showError } from "../lib/api.js";
import { h, replace, table } from "../lib/dom.js";

const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)} %`);
const short = (digest) => h("code", { title: digest }, (digest ?? "").replace("sha256:", "").slice(0, 12));
export const stage = (s) => h("span", { class: `badge s-${s ?? "none"}` }, s ?? "none");

async function load() {
  try {
    const [loaded, pipeline] = await Promise.all([get("/v1/packs"), get("/v1/packs/pipeline")]);
    const rows = new Map(pipeline.packs.map((r) => [r.pack, r]));
    replace("content",
      h("p", { class: "muted" }, `From ${loaded.bundled ? "the bundled packs" : loaded.directory}.`),
      table(`${loaded.packs.length} pack(s) loaded`, [
        { label: "Pack", cell: (p) => h("a", { href: `/console/packs/${encodeURIComponent(p.name)}` }, p.name) },
        { label: "Active version", cell: (p) => p.version },
        { label: "Digest", cell: (p) => short(p.digest) },
        { label: "Rules", num: true, cell: (p) => p.rules.length },
        { label: "Challenger", cell: (p) => rows.get(p.name)?.challenger?.version ?? "—" },
        { label: "Stage", cell: (p) => stage(rows.get(p.name)?.challenger?.stage) },
        { label: "Canary", num: true, cell: (p) => {
          const c = rows.get(p.name)?.challenger;
          return c?.stage === "canary" ? `${c.canary_percent} %` : "—";
        } },
        { label: "Shadow agreement", num: true, cell: (p) => {
          const s = rows.get(p.name)?.challenger?.shadow;
          return s ? `${pct(s.agreement_rate)} of ${s.compared}` : "—";
        } },
      ], loaded.packs),
      loaded.refused.length ? [h("h2", {}, "Refused new versions"),
        table(null, [{ label: "Path", cell: (r) => h("code", {}, r.path) }, { label: "Why", cell: (r) => r.detail }], loaded.refused)] : null);
  } catch (err) {
    showError("content", err);
  }
}
load();
