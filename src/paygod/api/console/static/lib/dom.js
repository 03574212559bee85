// Building DOM nodes without innerHTML: every value from the API is text, never markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

export function replace(target, ...children) {
  const el = typeof target === "string" ? document.getElementById(target) : target;
  el.replaceChildren();
  append(el, children);
  return el;
}

export function table(caption, columns, rows) {
  return h("div", { class: "scroll" },
    h("table", {},
      caption ? h("caption", { class: "muted" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
      h("tbody", {}, rows.length
        ? rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(r)))))
        : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "Nothing to show.")))));
}

export const badge = (verdict) => h("span", { class: `badge v-${verdict}` }, verdict ?? "—");
export const money = (minor, currency) =>
  minor === null || minor === undefined ? "—" : `${(Number(minor) / 100).toFixed(2)} ${currency ?? ""}`.trim();
// Focusable: a long value scrolls, and a keyboard user must be able to scroll it too.
export const json = (value) => h("pre", { tabindex: 0 }, JSON.stringify(value, null, 2));
export const params = () => document.getElementById("main").dataset;
export function kv(pairs) {
  return h("dl", { class: "kv" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}
