// The voice library: filters as the API takes them, previews rendered once by the server,
// favorites per user, and "Use" to speak with a voice.

import * as api from "./api.js";
import { $, busy, pagedList, el } from "./ui.js";

const PAGE_SIZE = 24;
let list = null; // pagedList: the page shown and its controls
let filtersFilled = false;
let onUse = () => {};

export function init(useVoice) {
  onUse = useVoice;
  list = pagedList("voices", show);
}

export async function show() {
  await busy(null, load);
}

async function load() {
  const status = $("voices-status");
  status.textContent = "Loading voices…";
  const tags = $("filter-tags")
    .value.split(",")
    .map((tag) => tag.trim().toLowerCase())
    .filter(Boolean)
    .join(",");
  const body = await api.get("voice/models", {
    page: list.page,
    limit: PAGE_SIZE,
    sort: "name",
    language: $("filter-language").value,
    gender: $("filter-gender").value,
    engine: $("filter-engine").value,
    type: $("filter-type").value,
    tags,
    favorite: $("filter-favorite").checked ? "true" : "",
  });
  fillFilters(body.meta.filters);
  const pagination = body.meta.pagination;
  $("voices-list").replaceChildren(...body.data.map(card));
  status.textContent = `${pagination.total_count} voice(s)`;
  list.paginate(pagination);
}

// The choices come from what the deployment offers; filled once so a choice stays put.
function fillFilters(filters) {
  if (filtersFilled || !filters) return;
  filtersFilled = true;
  const add = (select, values) =>
    select.append(...values.map((value) => el("option", { value }, value)));
  add($("filter-language"), filters.available_languages || []);
  add($("filter-engine"), filters.available_engines || []);
  $("filter-tags-list").replaceChildren(
    ...(filters.available_tags || []).map((tag) => el("option", { value: tag })),
  );
}

function card(voice) {
  const favorite = el(
    "button",
    {
      type: "button",
      class: "favorite",
      "aria-pressed": voice.is_favorite ? "true" : "false",
      "aria-label": `Favorite ${voice.name}`,
    },
    voice.is_favorite ? "★ Favorite" : "☆ Favorite",
  );
  favorite.addEventListener("click", () => busy(favorite, () => toggleFavorite(voice, favorite)));
  const preview = el("button", { type: "button", "aria-label": `Play a preview of ${voice.name}` }, "▶ Preview");
  preview.addEventListener("click", () => busy(preview, () => playPreview(voice, preview)));
  const use = el("button", { type: "button", class: "primary", "aria-label": `Speak with ${voice.name}` }, "Use");
  use.addEventListener("click", () => onUse(voice.voice_model_id));
  const facts = [voice.language, voice.gender, voice.age_group, voice.engine, voice.type === "custom" ? "mine" : null]
    .filter(Boolean)
    .join(" · ");
  return el(
    "li",
    { class: "voice", "data-voice-id": voice.voice_model_id },
    el("h3", {}, voice.name),
    el("p", { class: "meta" }, facts),
    voice.description ? el("p", { class: "description" }, voice.description) : null,
    el("p", { class: "tags" }, (voice.tags || []).map((tag) => el("span", { class: "tag" }, tag))),
    el("div", { class: "actions" }, preview, favorite, use),
  );
}

async function toggleFavorite(voice, button) {
  const path = `voice/models/${encodeURIComponent(voice.voice_model_id)}/favorite`;
  if (voice.is_favorite) await api.del(path);
  else await api.post(path);
  voice.is_favorite = !voice.is_favorite;
  button.setAttribute("aria-pressed", voice.is_favorite ? "true" : "false");
  button.textContent = voice.is_favorite ? "★ Favorite" : "☆ Favorite";
}

async function playPreview(voice, button) {
  button.textContent = "Rendering…";
  try {
    const info = await api.get(`voice/models/${encodeURIComponent(voice.voice_model_id)}/preview`);
    const audio = $("preview-audio");
    if (audio.src) URL.revokeObjectURL(audio.src);
    audio.src = await api.blobUrl(info.data.preview_audio_url);
    await audio.play();
  } finally {
    button.textContent = "▶ Preview";
  }
}
