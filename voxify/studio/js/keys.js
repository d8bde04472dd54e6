// API keys: create (the key is shown once), list, revoke.

import * as api from "./api.js";
import { $, busy, el, when } from "./ui.js";

export function init() {
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(event.submitter, create);
  });
  $("key-copy").addEventListener("click", () => {
    const value = $("key-value");
    value.select();
    navigator.clipboard.writeText(value.value).catch(() => document.execCommand("copy"));
  });
}

export async function show() {
  $("key-created").hidden = true;
  $("key-value").value = "";
  await busy(null, load);
}

async function create() {
  const scopes = [...document.querySelectorAll("#key-form input[type=checkbox]:checked")].map((box) => box.value);
  if (!scopes.length) throw new Error("Choose at least one thing the key may do.");
  const days = $("key-days").value;
  const body = await api.post("auth/api-keys", {
    name: $("key-name").value,
    scopes,
    expires_in_days: days ? Number(days) : null,
  });
  $("key-value").value = body.data.key;
  $("key-created").hidden = false;
  $("key-value").focus();
  $("key-name").value = "";
  await load();
}

async function load() {
  const body = await api.get("auth/api-keys");
  $("keys-list").replaceChildren(...body.data.map(row));
  $("keys-empty").hidden = body.data.length > 0;
}

function row(key) {
  const revoke = el("button", { type: "button", "aria-label": `Revoke ${key.name}` }, "Revoke");
  revoke.addEventListener("click", () =>
    busy(revoke, async () => {
      await api.del(`auth/api-keys/${key.key_id}`);
      await load();
    }),
  );
  const facts = [
    `${key.prefix}_…`,
    key.scopes.join(", "),
    `created ${when(key.created_at)}`,
    key.expires_at ? `expires ${when(key.expires_at)}` : "never expires",
    key.last_used_at ? `last used ${when(key.last_used_at)}` : "never used",
  ];
  return el("li", { "data-key-id": key.key_id }, el("span", { class: "grow" }, key.name), el("span", { class: "meta" }, facts.join(" · ")), revoke);
}
