// Speak: text in, speech out as it renders. The SSE stream carries each piece as a small file;
// each is decoded and scheduled back to back on a Web Audio clock, so the first sentence plays
// while the rest is still rendering. The stored whole file then becomes the player's source.

import * as api from "./api.js";
import { $, busy, downloadName, el, errorMessage, notify, seconds } from "./ui.js";

let voices = [];
let preferred = null; // the voice "Use" / "Speak with it" asked for, kept across reloads
let running = null; // {controller, context}
const player = { context: null, next: 0, sources: [] };

export function init() {
  const text = $("speak-text");
  text.addEventListener("input", () => ($("speak-count").textContent = text.value.length));
  for (const name of ["speed", "pitch", "volume"]) {
    const input = $(`speak-${name}`);
    input.addEventListener("input", () => ($(`speak-${name}-value`).textContent = Number(input.value).toFixed(2)));
  }
  $("speak-form").addEventListener("submit", (event) => {
    event.preventDefault();
    speak();
  });
  $("speak-stop").addEventListener("click", stop);
  $("speak-job").addEventListener("click", () => busy($("speak-job"), renderAsJob));
  $("speak-voice").addEventListener("change", () => (preferred = $("speak-voice").value));
}

export async function show() {
  await busy(null, loadVoices);
}

// Fill the voice picker: the caller's own voices first, then presets by engine.
async function loadVoices() {
  const select = $("speak-voice");
  const chosen = preferred || select.value;
  const all = [];
  for (let page = 1; ; page++) {
    const body = await api.get("voice/models", { page, limit: 100, sort: "name" });
    all.push(...body.data);
    const pagination = body.meta && body.meta.pagination;
    if (!pagination || page >= pagination.total_pages) break;
  }
  voices = all;
  const groups = new Map();
  for (const voice of voices) {
    const label = voice.type === "custom" ? "My voices" : `Presets: ${voice.engine}`;
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(voice);
  }
  const order = [...groups.keys()].sort((a, b) => (a === "My voices" ? -1 : b === "My voices" ? 1 : a.localeCompare(b)));
  select.replaceChildren(
    ...order.map((label) =>
      el(
        "optgroup",
        { label },
        groups.get(label).map((voice) => el("option", { value: voice.voice_model_id }, describe(voice))),
      ),
    ),
  );
  if (chosen && voices.some((voice) => voice.voice_model_id === chosen)) select.value = chosen;
}

function describe(voice) {
  const parts = [voice.name, voice.language, voice.gender].filter(Boolean);
  return parts.join(" · ");
}

// Speak with this voice: chosen now if it is listed, and kept when the list is reloaded.
export function useVoice(voiceId) {
  preferred = voiceId;
  $("speak-voice").value = voiceId;
}

function options() {
  return {
    text: $("speak-text").value,
    voice_id: $("speak-voice").value || null,
    config: {
      speed: Number($("speak-speed").value),
      pitch: Number($("speak-pitch").value),
      volume: Number($("speak-volume").value),
    },
  };
}

async function speak() {
  stop();
  const controller = new AbortController();
  const format = $("speak-format").value;
  const status = $("speak-status");
  const progress = $("speak-progress");
  const started = performance.now();
  const context = new AudioContext();
  await context.resume();
  player.context = context;
  player.next = context.currentTime + 0.05;
  player.sources = [];
  running = { controller, context };
  $("speak-go").disabled = true;
  $("speak-stop").disabled = false;
  $("speak-result").hidden = true;
  progress.hidden = false;
  progress.value = 0;
  status.textContent = "Rendering…";
  const form = $("speak-form");
  delete form.dataset.firstAudioMs;
  delete form.dataset.completedMs;
  let chunks = 0;
  let pending = Promise.resolve();
  try {
    for await (const event of api.events("tts/stream", {
      method: "POST",
      json: { ...options(), format },
      signal: controller.signal,
    })) {
      if (event.type === "audio_chunk") {
        chunks += 1;
        if (chunks === 1) {
          form.dataset.firstAudioMs = String(Math.round(performance.now() - started));
          status.textContent = `Playing (first audio after ${form.dataset.firstAudioMs} ms)…`;
        }
        const url = event.audio_url;
        pending = pending.then(() => schedule(url));
      } else if (event.type === "progress") {
        progress.value = event.progress;
      } else if (event.type === "error") {
        throw new api.ApiError(500, event.code, event.message);
      } else if (event.type === "completed") {
        form.dataset.completedMs = String(Math.round(performance.now() - started));
        progress.value = 1;
        await pending;
        await showResult(event, format);
        status.textContent = `Done: ${seconds(event.duration)} of speech in ${chunks} piece(s).`;
      }
    }
  } catch (error) {
    const message = errorMessage(error);
    if (message) notify(message);
    status.textContent = message ? "" : "Stopped.";
  } finally {
    progress.hidden = true;
    $("speak-go").disabled = false;
    $("speak-stop").disabled = true;
    running = null;
  }
}

// Decode one piece (a complete small file in a data: URL) and queue it after the last one.
async function schedule(dataUrl) {
  const context = player.context;
  if (!context || context.state === "closed") return;
  const base64 = dataUrl.slice(dataUrl.indexOf(",") + 1);
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const buffer = await context.decodeAudioData(bytes.buffer);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  const at = Math.max(player.next, context.currentTime + 0.02);
  source.start(at);
  player.next = at + buffer.duration;
  player.sources.push(source);
}

function stop() {
  if (running) running.controller.abort();
  if (player.context) player.context.close();
  player.context = null;
  player.sources = [];
}

async function showResult(event, format) {
  const url = await api.blobUrl(event.audio_path);
  const audio = $("speak-audio");
  audio.src = url;
  const link = $("speak-download");
  link.href = url;
  link.download = downloadName(event.audio_path, format);
  $("speak-result").hidden = false;
  const voice = voices.find((item) => item.voice_model_id === $("speak-voice").value);
  const text = $("speak-text").value;
  const item = el(
    "li",
    {},
    el("span", { class: "grow" }, `${text.slice(0, 80)}${text.length > 80 ? "…" : ""}`),
    el("span", { class: "meta" }, [voice ? voice.name : "", seconds(event.duration)].join(" · ")),
    el("button", { type: "button", onclick: () => ((audio.src = url), audio.play()) }, "Replay"),
    el("a", { class: "button", href: url, download: link.download }, "Download"),
  );
  $("speak-session-list").prepend(item);
  $("speak-session").hidden = false;
}

async function renderAsJob() {
  const { text, voice_id, config } = options();
  const body = await api.post("job", {
    text_content: text,
    voice_model_id: voice_id,
    ...config,
    output_format: $("speak-format").value,
  });
  notify(`Job started: it appears in History when it is done (${body.data.job_id}).`, "info");
}

export { errorMessage };
