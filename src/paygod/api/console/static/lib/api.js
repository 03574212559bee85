// Every data call goes to the /v1 API with the session cookie; the API authenticates,
// authorises and scopes it. State-changing calls carry the session's CSRF token.
import { h, replace } from "./dom.js";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
  get code() {
    return String(this.problem.type || "").split("/").pop();
  }
}

async function send(method, path, body, extra) {
  const headers = { Accept: "application/json", ...extra };
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : { detail: data });
  return data;
}

// A 401 "step-up-required" asks the person for a TOTP code and sends the call again.
export async function api(method, path, body) {
  try {
    return await send(method, path, body, {});
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    if (err.code === "step-up-required" || err.code === "step-up-failed") {
      const code = await askTotp(err.message);
      if (code === null) throw new ApiError(401, { detail: "cancelled: no second factor given" });
      return await send(method, path, body, { "X-Paygod-TOTP": code });
    }
    location.assign(`/console/sign-in?expired=1&next=${encodeURIComponent(location.pathname)}`);
    throw err;
  }
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body ?? {});

function askTotp(why) {
  const dialog = document.getElementById("totp-dialog");
  const input = document.getElementById("totp-code");
  replace("totp-why", why);
  input.value = "";
  return new Promise((resolve) => {
    const form = document.getElementById("totp-form");
    const done = (value) => { form.onsubmit = null; dialog.close(); resolve(value); };
    form.onsubmit = (e) => { e.preventDefault(); if (input.reportValidity()) done(input.value); };
    document.getElementById("totp-cancel").onclick = () => done(null);
    dialog.oncancel = () => resolve(null);
    dialog.showModal();
    input.focus();
  });
}

// A refusal shown where the data would have been: status, the problem's words, and
// for 403 the fact that the API (not the page) refused.
export function showError(target, err) {
  const status = err instanceof ApiError ? err.status : "";
  const text = err instanceof ApiError ? err.message : String(err);
  const why = status === 403 ? "The API refused this for your role." : status === 404 ? "Not found (or not yours)." : "";
  return replace(target, h("p", { class: "error", role: "alert" }, `${status ? status + ": " : ""}${text}`), why ? h("p", { class: "muted" }, why) : null);
}

export function say(text, ok = true) {
  replace("status", h("p", { class: ok ? "ok" : "error" }, text));
}

export const qs = (obj) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
  const text = p.toString();
  return text ? `?${text}` : "";
};
