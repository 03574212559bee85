// One case (GET /v1/cases/{id}): its alerts, its steps as sealed in the ledger, its comments;
// `as_of` rebuilds it from the ledger at a past instant. An officer (cases:write) assigns,
// comments and closes with a disposition; the API refuses the case's opener closing it
// (maker-checker) and the page shows that refusal as the API worded it.
import { get, post, qs, say, showError } from "../lib/api.js";
import { h, replace, table, kv, json, params } from "../lib/dom.js";

const id = params().caseId;
const me = () => document.getElementById("who").dataset.principal;
const can = (p) => (params().can ?? "").split(" ").includes(p);
const DISPOSITIONS = [["false_positive", "False positive"], ["confirmed_fraud", "Confirmed fraud"], ["sar_filed", "SAR filed"]];

async function act(path, body, done) {
  try {
    const c = await post(`/v1/cases/${encodeURIComponent(id)}/${path}`, body);
    say(`${done} (sealed at seq ${c.receipt?.seq ?? "?"}). Case is now ${c.status}.`);
    load();
  } catch (err) {
    say(`Refused: ${err.status ?? ""} ${err.message}`, false);
  }
}

function actions(c) {
  const assignee = h("input", { id: "a-assignee", value: c.assignee ?? me(), maxlength: 200, required: true });
  const text = h("textarea", { id: "c-text", maxlength: 2000, rows: 2, required: true });
  const disposition = h("select", { id: "x-disposition", required: true },
    DISPOSITIONS.map(([v, label]) => h("option", { value: v }, label)));
  const note = h("input", { id: "x-note", maxlength: 2000, required: true });
  const form = (label, submit, ...fields) => h("form", { class: "filters", "aria-label": label,
    onsubmit: (e) => { e.preventDefault(); submit(); } }, ...fields);
  return h("section", { id: "case-actions", "aria-labelledby": "actions-h" }, h("h2", { id: "actions-h" }, "Work the case"),
    form("Assign", () => act("assign", { assignee: assignee.value }, `Assigned to ${assignee.value}`),
      h("div", {}, h("label", { for: "a-assignee" }, "Assign to (principal id)"), assignee),
      h("button", { type: "submit" }, "Assign")),
    form("Comment", () => act("comments", { text: text.value }, "Comment added"),
      h("div", {}, h("label", { for: "c-text" }, "Comment (no personal data)"), text),
      h("button", { type: "submit" }, "Comment")),
    form("Close", () => act("close", { disposition: disposition.value, note: note.value }, `Closed as ${disposition.value}`),
      h("div", {}, h("label", { for: "x-disposition" }, "Disposition"), disposition),
      h("div", {}, h("label", { for: "x-note" }, "Closing note"), note),
      h("button", { type: "submit", class: "danger" }, "Close case")),
    c.raised_by === me() ? h("p", { class: "muted", id: "maker-note" }, "You opened this case: another officer must close it (the API refuses you).") : null);
}

function asOfForm(asOf) {
  const input = h("input", { id: "f-as_of", name: "as_of", value: asOf ?? "", placeholder: "2026-12-07T15:00:00Z" });
  return h("form", { class: "filters", "aria-label": "View the case as of a past time" },
    h("div", {}, h("label", { for: "f-as_of" }, "As of (RFC 3339; rebuilt from the ledger)"), input),
    h("button", { type: "submit" }, "View"), asOf ? h("a", { href: location.pathname }, "now") : null);
}

async function load() {
  const asOf = new URLSearchParams(location.search).get("as_of");
  try {
    const c = await get(`/v1/cases/${encodeURIComponent(id)}${qs({ as_of: asOf })}`);
    replace("content",
      asOfForm(asOf),
      asOf ? h("p", { class: "notice", id: "as-of-note" }, `As it stood at ${asOf}.`) : null,
      kv([["case", h("code", {}, c.case_id)], ["status", h("span", { class: `badge c-${c.status}`, id: "case-status" }, c.status)],
        ["subject", c.subject], ["alert type", c.alert_type], ["opened at", c.opened_at],
        ["raised by", c.raised_by ? h("code", {}, c.raised_by) : "—"], ["assignee", c.assignee ? h("code", { id: "case-assignee" }, c.assignee) : "—"],
        ["risk score", c.risk_score ?? "—"], ["disposition", c.disposition ?? "—"],
        ["closed", c.closed_at ? `${c.closed_at} by ${c.closed_by}` : "—"]]),
      !asOf && c.status !== "closed" && can("cases:write") ? actions(c) : null,
      h("h2", {}, "Alerts"),
      table(`${c.alerts.length} alert(s)`, [
        { label: "Alert", cell: (a) => h("code", {}, a.alert_id ?? "—") },
        { label: "Type", cell: (a) => a.alert_type ?? "" },
        { label: "Source", cell: (a) => a.source ?? "" },
        { label: "Risk", num: true, cell: (a) => a.risk_score ?? "—" },
        { label: "Decision", cell: (a) => (a.decision_id ? h("a", { href: `/console/decisions/${encodeURIComponent(a.decision_id)}` }, a.decision_id) : "—") },
        { label: "Note / reasons", cell: (a) => a.note ?? (a.reasons ?? []).join("; ") },
      ], c.alerts),
      h("h2", {}, "Steps (sealed in the ledger)"),
      // The live case's steps carry no seq (its projection); a case rebuilt as of a time
      // does, and links each step to its ledger entry.
      table(null, [
        ...(c.history.some((s) => s.seq !== null && s.seq !== undefined) ? [{ label: "Seq", num: true,
          cell: (s) => (s.seq === null || s.seq === undefined ? "—" : h("a", { href: `/console/ledger/${s.seq}` }, String(s.seq))) }] : []),
        { label: "Step", cell: (s) => s.step },
        { label: "At", cell: (s) => s.at },
        { label: "By", cell: (s) => (s.actor ? h("code", {}, s.actor) : "—") },
      ], c.history),
      h("h2", {}, "Comments"),
      c.comments.length ? h("ul", { id: "comments" }, c.comments.map((m) => h("li", {}, h("code", {}, m.by ?? "?"), ` at ${m.at}: `, m.text)))
        : h("p", { class: "muted" }, "No comments."),
      h("details", {}, h("summary", {}, "Case (JSON)"), json(c)));
  } catch (err) {
    showError("content", err);
  }
}
load();
