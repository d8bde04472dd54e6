// The REST API as the studio uses it: tokens kept in this tab's storage, refreshed silently,
// every refusal turned into an ApiError carrying the envelope's message.

const STORE = "voxify.session";
const API = "/api/v1";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || `Request failed (${status})`);
    this.status = status;
    this.code = code || "ERROR";
    this.details = details || null;
  }
}

let session = load();
const listeners = new Set();

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE)) || null;
  } catch {
    return null;
  }
}

function save(value) {
  session = value;
  if (value) sessionStorage.setItem(STORE, JSON.stringify(value));
  else sessionStorage.removeItem(STORE);
  for (const listener of listeners) listener(value);
}

export function currentUser() {
  return session ? session.user : null;
}

export function onSessionChange(listener) {
  listeners.add(listener);
}

export function signOut() {
  // End the session on the server too: a copy of its refresh token is then worthless.
  if (session && session.refresh_token) {
    fetch(`${API}/auth/logout`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
      keepalive: true,
    }).catch(() => {});
  }
  save(null);
}

async function envelopeError(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's page or an empty body
  }
  const error = body && body.error;
  if (error) return new ApiError(response.status, error.code, error.message, error.details);
  return new ApiError(response.status, "HTTP_" + response.status, `The server answered ${response.status}`);
}

export async function signIn(email, password) {
  const response = await fetch(`${API}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw await envelopeError(response);
  const { data } = await response.json();
  save(data);
  return data.user;
}

export async function register(fields) {
  const response = await fetch(`${API}/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(fields),
  });
  if (!response.ok) throw await envelopeError(response);
  return (await response.json()).data;
}

let refreshing = null;

async function refresh() {
  // One refresh at a time: parallel requests that all saw an expired token share it.
  if (!refreshing) {
    const token = session && session.refresh_token;
    refreshing = (async () => {
      if (!token) return false;
      const response = await fetch(`${API}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: token }),
      });
      if (!response.ok) return false;
      save((await response.json()).data);
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// fetch with the access token; on 401 refresh once and retry; a refusal throws ApiError.
export async function request(path, options = {}) {
  const send = () => {
    const headers = new Headers(options.headers || {});
    if (session) headers.set("Authorization", `Bearer ${session.access_token}`);
    if (options.json !== undefined) headers.set("Content-Type", "application/json");
    return fetch(path.startsWith("/") ? path : `${API}/${path}`, {
      method: options.method || (options.json !== undefined || options.form ? "POST" : "GET"),
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.form,
      signal: options.signal,
    });
  };
  let response = await send();
  if (response.status === 401 && session && (await refresh())) response = await send();
  if (response.status === 401) {
    const error = await envelopeError(response);
    save(null); // the refresh token is gone or revoked: back to the sign-in form
    throw error;
  }
  if (!response.ok) throw await envelopeError(response);
  return response;
}

export async function get(path, params) {
  const query = params ? "?" + new URLSearchParams(clean(params)) : "";
  return (await request(path + query)).json();
}

export async function post(path, json) {
  return (await request(path, { json: json === undefined ? {} : json })).json();
}

export async function del(path) {
  return (await request(path, { method: "DELETE" })).json();
}

function clean(params) {
  const out = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined && value !== false) out[key] = value;
  }
  return out;
}

// A file the API serves behind the token, as an object URL the page can play or download.
export async function blobUrl(path) {
  const response = await request(path);
  return URL.createObjectURL(await response.blob());
}

// Server-Sent Events read with fetch (so the token travels in a header, not the URL).
export async function* events(path, options = {}) {
  const headers = { Accept: "text/event-stream", ...(options.headers || {}) };
  const response = await request(path, { ...options, headers });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}

// Progress of a job until it ends: calls onEvent for each update, resolves with the last one.
export async function watchJob(jobId, onEvent, signal) {
  let last = null;
  for await (const event of events(`jobs/${jobId}/progress`, { signal })) {
    if (!event.status) continue; // the closing {"event": "complete"}
    last = event;
    onEvent(event);
  }
  return last;
}
