// The REST API client: tokens, transparent refresh, errors, event streams.

// base is where the API lives: the app is served at <base>/app.
const base = location.pathname.replace(/\/app(\/.*)?$/, "");
const storeKey = "aimsg.session";

// ApiError carries the status and the API's "detail" in words.
export class ApiError extends Error {
  constructor(status, detail) {
    super(describe(detail) || `Request failed (${status})`);
    this.status = status;
  }
}

function describe(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
  }
  return "";
}

// session is the signed-in user's tokens and profile, kept across reloads.
export const session = {
  get() {
    try { return JSON.parse(localStorage.getItem(storeKey)); } catch { return null; }
  },
  set(s) { localStorage.setItem(storeKey, JSON.stringify(s)); },
  clear() { localStorage.removeItem(storeKey); },
  user() { return this.get()?.user || null; },
};

let refreshing = null;

// refresh swaps the refresh token for a new pair, once for all callers that
// found their access token expired at the same time (a refresh token is
// single-use: two refreshes with it would end the session).
function refresh() {
  refreshing ??= (async () => {
    const s = session.get();
    if (!s?.refresh_token) return false;
    const res = await fetch(base + "/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: s.refresh_token }),
    });
    if (!res.ok) {
      session.clear();
      return false;
    }
    session.set({ ...(await res.json()), permissions: s.permissions });
    return true;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

// authedFetch sends a request with the access token, refreshing it once
// on 401. When the session cannot be renewed the app goes to sign in.
export async function authedFetch(path, init = {}) {
  const send = () => {
    const headers = new Headers(init.headers);
    const token = session.get()?.access_token;
    if (token) headers.set("Authorization", "Bearer " + token);
    return fetch(base + path, { ...init, headers });
  };
  let res = await send();
  if (res.status === 401 && session.get()) {
    if (await refresh()) res = await send();
    else {
      session.clear();
      location.hash = "#/login";
    }
  }
  return res;
}

// api sends a JSON request and returns the decoded answer and, for lists,
// the total (X-Total-Count). Errors throw ApiError.
export async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await authedFetch(path, init);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.detail);
  const total = res.headers.get("X-Total-Count");
  return { data, total: total === null ? null : Number(total) };
}

// upload posts form data (files) as multipart/form-data and returns the
// decoded answer, like api. It uses XMLHttpRequest because fetch cannot
// tell how much of a request has been sent: onProgress(sent, total) is
// called as the upload goes, last with sent === total when it is all
// sent (the server may still be working on it).
export async function upload(path, formData, onProgress = () => {}) {
  const send = () => new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", base + path);
    const token = session.get()?.access_token;
    if (token) xhr.setRequestHeader("Authorization", "Bearer " + token);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); });
    xhr.upload.addEventListener("load", (e) => onProgress(e.total || 1, e.total || 1));
    xhr.addEventListener("load", () => resolve(xhr));
    xhr.addEventListener("error", () => reject(new ApiError(0, "The upload failed: the server could not be reached")));
    xhr.send(formData);
  });
  let xhr = await send();
  if (xhr.status === 401 && session.get()) {
    if (await refresh()) xhr = await send();
    else {
      session.clear();
      location.hash = "#/login";
    }
  }
  const data = xhr.response;
  if (xhr.status < 200 || xhr.status > 299) {
    const err = new ApiError(xhr.status, data?.detail || (xhr.status === 413 ? "The files are too large to import at once" : undefined));
    err.data = data; // what else the answer says (each file's reason)
    throw err;
  }
  return { data };
}

// login signs in and keeps the session.
export async function login(username, password) {
  const res = await fetch(base + "/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.detail);
  session.set(data);
  await loadPermissions();
  return data.user;
}

// loadPermissions asks what the user's roles let them do (the support
// inbox, report triage) and keeps it with the session.
export async function loadPermissions() {
  const { data } = await api("GET", "/auth/me/permissions");
  const s = session.get();
  if (s) session.set({ ...s, permissions: data.permissions });
  return data.permissions;
}

// can says whether the signed-in user holds a permission (as last loaded).
export function can(permission) {
  return (session.get()?.permissions || []).includes(permission);
}

// logout ends the session on the server, then here.
export async function logout() {
  try { await api("POST", "/auth/logout"); } catch { /* the session may be gone already */ }
  session.clear();
}

// follow reads the server-sent events at path (a conversation's, or the
// support inbox's) and calls onMessage for each new message, and onLive
// (when given) for the other events: typing, delta, reset and mode, as
// { event, data }. It reconnects after a drop from the last message seen.
// EventSource cannot send the bearer token, so this reads the stream with
// fetch. It starts after message id after (the newest one on screen) and
// stops when signal aborts.
export async function follow(path, after, onMessage, signal, onLive) {
  let lastId = after === null || after === undefined ? null : String(after);
  while (!signal.aborted) {
    try {
      const headers = { Accept: "text/event-stream" };
      if (lastId !== null) headers["Last-Event-ID"] = lastId;
      const res = await authedFetch(path, { headers, signal });
      if (res.status === 429) {
        // Too many streams open: wait as long as the server asks.
        const secs = Number(res.headers.get("Retry-After")) || 30;
        await new Promise((r) => setTimeout(r, secs * 1000));
        continue;
      }
      if (!res.ok) throw new ApiError(res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event.id) lastId = event.id;
          if (!event.data) continue;
          if (event.event === "message") onMessage(JSON.parse(event.data));
          else if (onLive) onLive({ event: event.event, data: JSON.parse(event.data) });
        }
      }
    } catch (e) {
      if (signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function parseEvent(block) {
  const event = { event: "message", data: "" };
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const i = line.indexOf(":");
    const key = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (key === "data") event.data += (event.data ? "\n" : "") + value;
    else if (key === "id" || key === "event") event[key] = value;
  }
  return event;
}
