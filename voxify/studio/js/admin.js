// Administration (administrators only; the server refuses everyone else): the service at a
// glance, the runtime limits, accounts (disable, role, own quotas) and the audit log.

import * as api from "./api.js";
import { $, busy, el, pagedList, seconds, when } from "./ui.js";

const LIMITS = [
  ["requests_per_minute", "Requests per minute (per user)"],
  ["syntheses_per_day", "Syntheses per day (per user)"],
  ["uploads_per_day", "Uploads per day (per user)"],
  ["max_upload_bytes", "Largest upload (bytes)"],
  ["max_sync_text_chars", "Longest text spoken at once (characters)"],
  ["max_stream_text_chars", "Longest streamed text (characters)"],
  ["max_job_text_chars", "Longest job text (characters)"],
];
const QUOTAS = [
  ["requests_per_minute", "Requests / minute"],
  ["syntheses_per_day", "Syntheses / day"],
  ["uploads_per_day", "Uploads / day"],
];

let users;
let audit;
let defaults = {};
let current = {};

export function init() {
  $("admin-refresh").addEventListener("click", (event) => busy(event.currentTarget, loadStats));
  $("admin-limits").replaceChildren(
    ...LIMITS.map(([name, label]) =>
      el("div", {}, el("label", { for: `limit-${name}` }, label), el("input", { id: `limit-${name}`, name, type: "number", min: "0", required: true })),
    ),
  );
  $("admin-config").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(event.submitter, saveLimits);
  });
  $("admin-defaults").addEventListener("click", (event) =>
    busy(event.currentTarget, () => putLimits(Object.fromEntries(LIMITS.map(([name]) => [name, null])), "Defaults restored.")),
  );
  users = pagedList("admin-users", () => busy(null, loadUsers));
  audit = pagedList("admin-audit", () => busy(null, loadAudit));
}

export async function show() {
  await busy(null, async () => {
    await Promise.all([loadStats(), loadConfig(), loadUsers(), loadAudit()]);
  });
}

async function loadStats() {
  const { data } = await api.get("admin/stats");
  const u = data.users;
  const facts = [
    ["Users", `${u.total} (${u.active} active, ${u.disabled} disabled, ${u.admins} admins)`],
    ["Active today", u.active_today],
    ["Job queue", `${data.queue.pending} pending, ${data.queue.processing} running`],
    ["Audio stored", `${seconds(data.audio.seconds)} — ${data.audio.by_engine.map((e) => `${e.engine} ${seconds(e.seconds)}`).join(", ") || "none"}`],
    ["Storage", `${bytes(data.storage.total_bytes)} (outputs ${bytes(data.storage.output_bytes)}, uploads ${bytes(data.storage.upload_bytes)})`],
    ["Refused today", Object.entries(data.rejections_today).map(([limit, n]) => `${limit} ${n}`).join(", ")],
    ["Voices", `${data.voices.samples} samples, ${data.voices.clones} clones`],
  ];
  $("admin-stats").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, String(value))]));
  $("admin-pools").replaceChildren(
    ...data.pools.map((pool) =>
      el(
        "tr",
        { "data-pool": pool.name },
        el("td", {}, pool.name),
        el("td", {}, pool.engine),
        el("td", {}, String(pool.running)),
        el("td", {}, pool.status),
        el("td", {}, String(pool.in_flight_here)),
      ),
    ),
  );
  const jobs = data.jobs.map((row) => `${row.type} ${row.status}: ${row.count}`);
  $("admin-jobs").textContent = jobs.length ? jobs.join(" · ") : "No jobs yet.";
}

async function loadConfig() {
  const { data } = await api.get("admin/config");
  defaults = data.defaults;
  fillLimits(data.limits);
}

function fillLimits(limits) {
  current = limits;
  for (const [name] of LIMITS) {
    const input = $(`limit-${name}`);
    input.value = limits[name];
    input.title = `Default ${defaults[name]}`;
  }
  $("admin-config-note").textContent = "Every replica applies a change within a few seconds.";
}

async function saveLimits() {
  // Only what changed: a limit left alone keeps following its default.
  const changes = {};
  for (const [name] of LIMITS) {
    const value = Number($(`limit-${name}`).value);
    if (value !== current[name]) changes[name] = value;
  }
  if (!Object.keys(changes).length) {
    $("admin-config-note").textContent = "Nothing changed.";
    return;
  }
  await putLimits(changes, "Limits saved.");
}

async function putLimits(changes, said) {
  const { data } = await (await api.request("admin/config", { method: "PUT", json: changes })).json();
  defaults = data.defaults;
  fillLimits(data.limits);
  $("admin-config-note").textContent = said;
  await loadAudit();
}

async function loadUsers() {
  const params = new URLSearchParams({ page: users.page, page_size: 10 });
  const search = $("admin-users-search").value.trim();
  if (search) params.set("search", search);
  if ($("admin-users-role").value) params.set("role", $("admin-users-role").value);
  if ($("admin-users-status").value) params.set("status", $("admin-users-status").value);
  const body = await api.get(`admin/users?${params}`);
  $("admin-users-list").replaceChildren(...body.data.map(userRow));
  $("admin-users-empty").hidden = body.data.length > 0;
  users.paginate(body.meta.pagination);
}

function userRow(user) {
  const change = async (button, fields) => {
    await busy(button, async () => {
      await api.request(`admin/users/${user.user_id}`, { method: "PATCH", json: fields });
      await Promise.all([loadUsers(), loadAudit()]);
    });
  };
  const toggle = el("button", { type: "button" }, user.is_active ? "Disable" : "Enable");
  toggle.addEventListener("click", () => change(toggle, { is_active: !user.is_active }));
  const role = el("button", { type: "button" }, user.role === "admin" ? "Make user" : "Make admin");
  role.addEventListener("click", () => change(role, { role: user.role === "admin" ? "user" : "admin" }));
  const quota = el("form", { class: "quota", "aria-label": `Own limits of ${user.email}` });
  for (const [name, label] of QUOTAS) {
    const id = `quota-${user.user_id}-${name}`;
    quota.append(
      el("label", { for: id }, label),
      el("input", { id, name, type: "number", min: "0", placeholder: String(user.limits[name]), value: user.quota_overrides[name] ?? null }),
    );
  }
  const save = el("button", { type: "submit" }, "Save limits");
  quota.append(save);
  quota.addEventListener("submit", (event) => {
    event.preventDefault();
    const overrides = {};
    for (const [name] of QUOTAS) {
      const value = quota.elements[name].value;
      if (value !== "") overrides[name] = Number(value);
    }
    change(save, { quota_overrides: overrides });
  });
  const state = user.is_active ? "active" : "disabled";
  const facts = [user.role, state, `joined ${when(user.created_at)}`];
  return el(
    "li",
    { "data-user-id": user.user_id, "data-state": state },
    el("span", { class: "grow" }, user.email, el("span", { class: "meta" }, ` ${user.first_name} ${user.last_name}`)),
    el("span", { class: "meta" }, facts.join(" · ")),
    toggle,
    role,
    quota,
  );
}

async function loadAudit() {
  const params = new URLSearchParams({ page: audit.page, page_size: 10 });
  if ($("admin-audit-action").value) params.set("action", $("admin-audit-action").value);
  const body = await api.get(`admin/audit?${params}`);
  $("admin-audit-list").replaceChildren(...body.data.map(auditRow));
  $("admin-audit-empty").hidden = body.data.length > 0;
  audit.paginate(body.meta.pagination);
}

function auditRow(entry) {
  const changes = Object.entries(entry.changes).map(([field, change]) => `${field}: ${plain(change.before)} → ${plain(change.after)}`);
  return el(
    "li",
    { "data-audit-id": entry.id },
    el("span", { class: "grow" }, `${entry.action} ${entry.target_id || ""}`),
    el("span", { class: "meta" }, `${changes.join("; ")} · by ${entry.actor_id} · ${when(entry.created_at)}`),
  );
}

function plain(value) {
  if (value === null || value === undefined) return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n;
  let unit = "B";
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}
