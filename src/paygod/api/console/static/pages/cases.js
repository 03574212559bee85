// Cases of the tenant (GET /v1/cases, cases:read), filtered by status and assignee; an
// officer (cases:write) may open one by hand: its opener can never close it (maker-checker).
import { get, post, qs, say, showError } from "../lib/api.js";
import { h, replace, table, params } from "../lib/dom.js";

const me = () => document.getElementById("who").dataset.principal;
const can = (p) => (params().can ?? "").split(" ").includes(p);
const field = (name, label, control) => h("div", {}, h("label", { for: `f-${name}` }, label), control);

function filters(values) {
  const status = h("select", { id: "f-status", name: "status" },
    ["", "open", "assigned", "closed"].map((s) => h("option", { value: s, selected: (values.status ?? "") === s }, s || "any")));
  const assignee = h("select", { id: "f-assignee", name: "assignee" },
    [["", "anyone"], [me(), "me"], ["-", "nobody (unassigned)"]]
      .map(([v, label]) => h("option", { value: v, selected: (values.assignee ?? "") === v }, label)));
  return h("form", { class: "filters", role: "search", "aria-label": "Filter cases" },
    field("status", "Status", status), field("assignee", "Assigned to", assignee),
    h("button", { type: "submit" }, "Show"));
}

function openForm() {
  const subject = h("input", { id: "o-subject", required: true, maxlength: 256, placeholder: "agent-1" });
  const type = h("input", { id: "o-type", required: true, maxlength: 100, placeholder: "manual_review" });
  const note = h("input", { id: "o-note", required: true, maxlength: 2000 });
  const submit = async (e) => {
    e.preventDefault();
    try {
      const c = await post("/v1/cases", { subject: subject.value, alert_type: type.value, note: note.value });
      say(`Case ${c.case_id} opened (sealed at seq ${c.receipt?.seq ?? "?"}); another officer must close it.`);
      location.assign(`/console/cases/${encodeURIComponent(c.case_id)}`);
    } catch (err) {
      say(`Opening refused: ${err.status ?? ""} ${err.message}`, false);
    }
  };
  return h("details", { id: "open-case" }, h("summary", {}, "Open a case by hand"),
    h("form", { class: "filters", "aria-label": "Open a case", onsubmit: submit },
      h("div", {}, h("label", { for: "o-subject" }, "Subject"), subject),
      h("div", {}, h("label", { for: "o-type" }, "Alert type"), type),
      h("div", {}, h("label", { for: "o-note" }, "Why (no personal data)"), note),
      h("button", { type: "submit" }, "Open case")));
}

async function load() {
  const values = Object.fromEntries(new URLSearchParams(location.search));
  const results = h("div", { id: "results" }, h("p", { class: "muted" }, "Loading…"));
  replace("content", filters(values), can("cases:write") ? openForm() : null, results);
  try {
    const { cases } = await get(`/v1/cases${qs({ status: values.status, assignee: values.assignee })}`);
    cases.reverse(); // the API lists oldest first; the newest matter most here
    replace(results, table(`${cases.length} case(s), newest first`, [
      { label: "Case", cell: (c) => h("a", { href: `/console/cases/${encodeURIComponent(c.case_id)}` }, c.case_id) },
      { label: "Opened at", cell: (c) => c.opened_at },
      { label: "Subject", cell: (c) => c.subject },
      { label: "Alert type", cell: (c) => c.alert_type },
      { label: "Status", cell: (c) => h("span", { class: `badge c-${c.status}` }, c.status) },
      { label: "Assignee", cell: (c) => (c.assignee ? h("code", {}, c.assignee) : "—") },
      { label: "Alerts", num: true, cell: (c) => c.alerts.length },
      { label: "Risk", num: true, cell: (c) => (c.risk_score ?? "—") },
      { label: "Disposition", cell: (c) => c.disposition ?? "—" },
    ], cases));
  } catch (err) {
    showError(results, err);
  }
}
load();
