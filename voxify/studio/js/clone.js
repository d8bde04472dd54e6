// Cloning: recordings in (file or microphone), each checked by the server with plain advice,
// then a clone trained in the background with live progress, cancellable, then spoken with.

import * as api from "./api.js";
import { recordWav } from "./record.js";
import { $, busy, el, notify, percent, seconds } from "./ui.js";

let onUse = () => {};
let training = null; // {clone_id, controller}
let recorder = null;
const watching = new Set(); // sample ids whose processing is being followed
const leftOut = new Set(); // ready samples the person unchecked: not used for the clone

export function init(useVoice) {
  onUse = useVoice;
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("upload-go"), uploadFile);
  });
  $("record-go").addEventListener("click", () => busy(null, toggleRecording));
  $("clone-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("clone-go"), createClone);
  });
  $("clone-cancel").addEventListener("click", () => busy($("clone-cancel"), cancelClone));
}

export async function show() {
  await busy(null, () => Promise.all([loadSamples(), loadClones()]));
}

async function uploadFile() {
  const input = $("upload-file");
  if (!input.files.length) throw new Error("Choose a recording first.");
  const file = input.files[0];
  await upload(file, file.name, $("upload-transcript").value);
  input.value = "";
  $("upload-transcript").value = "";
}

async function upload(blob, filename, transcript) {
  const form = new FormData();
  form.append("file", blob, filename);
  if (transcript) form.append("transcript", transcript);
  const response = await api.request("voice/samples", { method: "POST", form });
  const sample = (await response.json()).data;
  await api.post(`voice/samples/${sample.sample_id}/process`);
  await loadSamples();
  follow(sample.sample_id);
}

async function toggleRecording() {
  const button = $("record-go");
  const time = $("record-time");
  if (recorder) {
    const take = recorder;
    recorder = null;
    button.textContent = "Record with microphone";
    button.setAttribute("aria-pressed", "false");
    time.textContent = "Converting…";
    const wav = await take.stop();
    time.textContent = "";
    const stamp = new Date().toISOString().slice(0, 19).replace("T", " ");
    await upload(wav, `Recording ${stamp}.wav`, "");
    return;
  }
  recorder = await recordWav((elapsed) => (time.textContent = `Recording… ${elapsed.toFixed(0)} s`));
  button.textContent = "Stop recording";
  button.setAttribute("aria-pressed", "true");
}

// Follow a sample's processing job until its report is ready, updating its row as it goes.
async function follow(sampleId) {
  if (watching.has(sampleId)) return;
  watching.add(sampleId);
  try {
    const sample = (await api.get(`voice/samples/${sampleId}`)).data;
    if (sample.job_id && !["ready", "failed"].includes(sample.status)) {
      await api.watchJob(sample.job_id, (event) => {
        const row = document.querySelector(`[data-sample-id="${sampleId}"] .state`);
        if (row) row.textContent = `${event.status} ${percent(event.progress)}`;
      });
    }
    await loadSamples();
  } catch (error) {
    notify(error.message);
  } finally {
    watching.delete(sampleId);
  }
}

async function loadSamples() {
  const body = await api.get("voice/samples", { limit: 100 });
  const list = $("samples-list");
  list.replaceChildren(...body.data.map(sampleRow));
  $("samples-empty").hidden = body.data.length > 0;
  for (const sample of body.data) {
    if (sample.status === "processing" || (sample.status === "pending" && sample.job_id)) follow(sample.sample_id);
  }
}

function sampleRow(sample) {
  const ready = sample.status === "ready";
  const box = el("input", {
    type: "checkbox",
    id: `use-${sample.sample_id}`,
    value: sample.sample_id,
    disabled: !ready,
    checked: ready && !leftOut.has(sample.sample_id),
    "aria-label": `Use ${sample.name} for the clone`,
  });
  box.addEventListener("change", () => (box.checked ? leftOut.delete(box.value) : leftOut.add(box.value)));
  const report = sample.validation || {};
  const issues = report.issues || [];
  const advice = issues.length
    ? el("ul", { class: "advice" }, issues.map((issue) => el("li", {}, issue)))
    : ready
      ? el("p", { class: "good" }, "Sounds good for cloning.")
      : null;
  const remove = el("button", { type: "button", "aria-label": `Delete ${sample.name}` }, "Delete");
  remove.addEventListener("click", () =>
    busy(remove, async () => {
      await api.del(`voice/samples/${sample.sample_id}`);
      await loadSamples();
    }),
  );
  const score = sample.quality_score === null ? "" : `quality ${sample.quality_score.toFixed(1)} / 10`;
  return el(
    "li",
    { "data-sample-id": sample.sample_id, class: "sample" },
    el("div", { class: "check" }, box, el("label", { for: box.id }, sample.name)),
    el("span", { class: "meta" }, [seconds(sample.processed_duration || sample.duration), score].filter(Boolean).join(" · ")),
    el("span", { class: "state" }, sample.status),
    remove,
    sample.error_message ? el("p", { class: "bad wide" }, sample.error_message) : null,
    advice,
  );
}

async function createClone() {
  const ids = [...document.querySelectorAll("#samples-list input:checked")].map((box) => box.value);
  if (!ids.length) throw new Error("Add a recording and wait until it is ready, then check it.");
  const body = await api.post("voice/clones", { name: $("clone-name").value, sample_ids: ids });
  const clone = body.data;
  await loadClones();
  await watchTraining(clone);
}

async function watchTraining(clone) {
  const controller = new AbortController();
  training = { clone_id: clone.clone_id, controller };
  const progress = $("clone-progress");
  const status = $("clone-status");
  progress.hidden = false;
  progress.value = 0;
  $("clone-cancel").hidden = false;
  $("clone-go").disabled = true;
  status.textContent = "Training started…";
  try {
    const last = await api.watchJob(
      clone.job_id,
      (event) => {
        progress.value = (event.progress || 0) / 100;
        status.textContent = `${event.message || event.status} (${percent(event.progress)})`;
      },
      controller.signal,
    );
    const done = (await api.get(`voice/clones/${clone.clone_id}`)).data;
    if (done.status === "ready") {
      const likeness = done.speaker_similarity === null ? "" : `, likeness ${done.speaker_similarity.toFixed(2)}`;
      status.textContent = `“${done.name}” is ready (${done.engine}${likeness}).`;
    } else {
      status.textContent = `Training ${done.status}${done.error_message ? ": " + done.error_message : ""}.`;
      if (done.status === "failed") notify(done.error_message || (last && last.error_message) || "Training failed.");
    }
  } finally {
    training = null;
    progress.hidden = true;
    $("clone-cancel").hidden = true;
    $("clone-go").disabled = false;
    await loadClones();
  }
}

async function cancelClone() {
  if (!training) return;
  await api.post(`voice/clones/${training.clone_id}/cancel`);
}

async function loadClones() {
  const body = await api.get("voice/clones", { limit: 100 });
  $("clones-list").replaceChildren(...body.data.map(cloneRow));
  $("clones-empty").hidden = body.data.length > 0;
}

function cloneRow(clone) {
  const actions = [];
  if (clone.status === "ready") {
    const speak = el("button", { type: "button", class: "primary", "aria-label": `Speak with ${clone.name}` }, "Speak with it");
    speak.addEventListener("click", () => onUse(clone.voice_model_id));
    actions.push(speak);
  }
  const remove = el("button", { type: "button", "aria-label": `Delete clone ${clone.name}` }, "Delete");
  remove.addEventListener("click", () =>
    busy(remove, async () => {
      await api.del(`voice/clones/${clone.clone_id}`);
      await loadClones();
    }),
  );
  actions.push(remove);
  const facts = [clone.engine, clone.language, clone.speaker_similarity === null ? null : `likeness ${clone.speaker_similarity.toFixed(2)}`]
    .filter(Boolean)
    .join(" · ");
  return el(
    "li",
    { "data-clone-id": clone.clone_id, class: "clone" },
    el("span", { class: "grow" }, clone.name),
    el("span", { class: "meta" }, facts),
    el("span", { class: "state" }, clone.status === "training" ? `training ${percent(clone.progress)}` : clone.status),
    ...actions,
  );
}
