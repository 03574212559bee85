import { get, showError } from "../lib/api.js";
import { h, s, replace, kv, table } from "../lib/dom.js";

const VERDICTS = ["allow", "flag", "deny", "error"];
const COLOURS = { allow: "#1b6e20", flag: "#8a5a00", deny: "#a4161a", error: "#6b2c91" };
const POLL_MS = 5000;

// Stacked bars, one per minute of the window; the numbers are also in a table for
// screen readers (the SVG is decorative to them).
function minuteChart(data) {
  const end = new Date(data.now);
  const minutes = [];
  for (let i = data.window_minutes - 1; i >= 0; i--) {
    minutes.push(new Date(end.getTime() - i * 60000).toISOString().slice(0, 16));
  }
  const counts = Object.fromEntries(minutes.map((m) => [m, { allow: 0, flag: 0, deny: 0, error: 0 }]));
  for (const row of data.decisions_per_minute) {
    if (counts[row.minute]) counts[row.minute][row.verdict] = (counts[row.minute][row.verdict] || 0) + row.count;
  }
  const max = Math.max(1, ...minutes.map((m) => VERDICTS.reduce((n, v) => n + counts[m][v], 0)));
  const W = 600, H = 150, bw = W / minutes.length;
  const bars = [];
  minutes.forEach((m, i) => {
    let y = H - 14;
    for (const v of VERDICTS) {
      const n = counts[m][v];
      if (!n) continue;
      const bh = ((H - 24) * n) / max;
      y -= bh;
      bars.push(s("rect", { x: (i * bw + 1).toFixed(1), y: y.toFixed(1), width: (bw - 2).toFixed(1), height: bh.toFixed(1), fill: COLOURS[v] },
        s("title", {}, `${m}Z ${v}: ${n}`)));
    }
  });
  const total = minutes.reduce((n, m) => n + VERDICTS.reduce((k, v) => k + counts[m][v], 0), 0);
  return h("div", {},
    s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `decisions per minute, last ${data.window_minutes} minutes: ${total} in all` },
      s("line", { x1: 0, y1: H - 14, x2: W, y2: H - 14, stroke: "#888" }),
      s("text", { x: 0, y: 10 }, `max ${max}/min`),
      s("text", { x: 0, y: H - 2 }, minutes[0].slice(11) + "Z"),
      s("text", { x: W - 36, y: H - 2 }, minutes.at(-1).slice(11) + "Z"),
      bars),
    h("div", { class: "legend" }, VERDICTS.map((v) => h("span", {}, h("i", { class: `k-${v}` }), `${v} ${minutes.reduce((n, m) => n + counts[m][v], 0)}`))));
}

function barList(obj) {
  const entries = Object.entries(obj).sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const W = 300, row = 18;
  return s("svg", { class: "chart", viewBox: `0 0 ${W} ${Math.max(1, entries.length) * row}`, role: "img", "aria-label": entries.map(([k, n]) => `${k} ${n}`).join(", ") || "none" },
    entries.map(([k, n], i) => [
      s("text", { x: 0, y: i * row + 12 }, k),
      s("rect", { x: 90, y: i * row + 3, width: Math.max(1, ((W - 140) * n) / max).toFixed(1), height: 11, fill: "#0b57a4" }),
      s("text", { x: W - 40, y: i * row + 12 }, String(n)),
    ]));
}

function render(data) {
  const head = data.ledger.last_signed_head;
  const panic = data.panic;
  replace("content",
    (panic.frozen ?? panic.on) ? h("p", { class: "panic-on", role: "alert", id: "panic-banner" }, `PANIC SWITCH ON — side effects frozen: ${panic.reason ?? ""}`) : null,
    h("div", { class: "grid" },
      h("section", { class: "card", "aria-labelledby": "c-dpm" }, h("h2", { id: "c-dpm" }, `Decisions per minute (last ${data.window_minutes} min)`), minuteChart(data)),
      h("section", { class: "card", "aria-labelledby": "c-pay" }, h("h2", { id: "c-pay" }, "Payments by state"),
        Object.keys(data.payments_by_state).length ? barList(data.payments_by_state) : h("p", { class: "muted" }, "No payments yet.")),
      h("section", { class: "card", "aria-labelledby": "c-out" }, h("h2", { id: "c-out" }, "Outbox and dead letters"),
        kv([["pending", String(data.outbox?.pending ?? "—")], ["done", String(data.outbox?.done ?? "—")],
          ["dead (DLQ)", h("span", { id: "dlq-depth", class: data.outbox?.dead ? "error" : null }, String(data.outbox?.dead ?? "—"))],
          ["relay lag", data.relay_lag === null ? "n/a" : `${data.relay_lag} events`]])),
      h("section", { class: "card", "aria-labelledby": "c-panic" }, h("h2", { id: "c-panic" }, "Panic switch"),
        h("p", { class: "big", id: "panic-state" }, panic.on ? "ON" : "off"),
        panic.on ? h("p", {}, `by ${panic.actor ?? "?"}: ${panic.reason ?? ""}`) : h("p", { class: "muted" }, "Side effects are running.")),
      h("section", { class: "card", "aria-labelledby": "c-ledger" }, h("h2", { id: "c-ledger" }, "Ledger"),
        h("p", { class: "big", id: "ledger-size" }, data.ledger.size === null ? "—" : String(data.ledger.size)),
        h("p", { class: "muted" }, data.ledger.size === null ? "the shared tree's size is the platform's" : "entries"),
        head ? kv([["last signed head", `${head.tree_size} entries`], ["root", h("code", {}, head.root_hash.slice(0, 24) + "…")],
          ["signed at", head.timestamp], ["key", h("code", {}, head.key_id)]]) : h("p", { class: "muted" }, data.ledger.size === null ? "Each of your entries comes with the signed head that covers it (Ledger page)." : "No tree head signed yet."))),
    h("p", { class: "muted" }, `Updated ${data.now}; refreshes every ${POLL_MS / 1000} s.`));
}

async function poll() {
  try {
    render(await get("/v1/overview"));
  } catch (err) {
    showError("content", err);
    return; // a refusal does not change by asking again
  }
  setTimeout(poll, POLL_MS);
}
poll();
