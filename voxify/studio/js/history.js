// History: the caller's synthesis jobs, searched by text, replayed, downloaded and deleted.

import * as api from "./api.js";
import { $, busy, downloadName, el, pagedList, percent, seconds, when } from "./ui.js";

const PAGE_SIZE = 20;
let list = null; // pagedList: the page shown and its controls
let typing = null;
let refresh = null; // while a listed job is still running, the list reloads itself

export function init() {
  list = pagedList("history", show);
  $("history-search").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      list.page = 1;
      show();
    }, 300);
  });
}

export async function show() {
  await busy(null, load);
}

async function load() {
  clearTimeout(refresh);
  const body = await api.get("job", {
    type: "synthesis",
    page: list.page,
    limit: PAGE_SIZE,
    text_search: $("history-search").value.trim(),
    status: $("history-status").value,
  });
  const pagination = body.meta.pagination;
  $("history-list").replaceChildren(...body.data.map(row));
  $("history-empty").hidden = body.data.length > 0;
  list.paginate(pagination);
  const running = body.data.some((job) => job.status === "pending" || job.status === "processing");
  if (running) refresh = setTimeout(() => document.body.dataset.view === "history" && busy(null, load), 2000);
}

function row(job) {
  const text = job.text_content || "";
  const actions = [];
  if (job.status === "completed" && job.output_file_path) {
    const play = el("button", { type: "button", "aria-label": `Play: ${text.slice(0, 40)}` }, "▶ Play");
    play.addEventListener("click", () =>
      busy(play, async () => {
        const audio = $("history-audio");
        audio.hidden = false;
        audio.src = await api.blobUrl(job.output_file_path);
        await audio.play();
      }),
    );
    const download = el("button", { type: "button" }, "Download");
    download.addEventListener("click", () =>
      busy(download, async () => {
        const link = el("a", { href: await api.blobUrl(job.output_file_path), download: downloadName(job.output_file_path, job.output_format) });
        document.body.append(link);
        link.click();
        link.remove();
      }),
    );
    actions.push(play, download);
  }
  if (job.status !== "processing") {
    const remove = el("button", { type: "button", "aria-label": `Delete: ${text.slice(0, 40)}` }, "Delete");
    remove.addEventListener("click", () =>
      busy(remove, async () => {
        await api.del(`job/${job.job_id}`);
        await load();
      }),
    );
    actions.push(remove);
  }
  const state = job.status === "processing" ? `processing ${percent(job.progress)}` : job.status;
  return el(
    "li",
    { "data-job-id": job.job_id },
    el("span", { class: "grow" }, `${text.slice(0, 120)}${text.length > 120 ? "…" : ""}`),
    el("span", { class: "meta" }, [job.voice_model_id, job.output_format, seconds(job.duration), when(job.created_at)].filter(Boolean).join(" · ")),
    el("span", { class: "state" }, state),
    job.error_message ? el("p", { class: "bad" }, job.error_message) : null,
    ...actions,
  );
}
