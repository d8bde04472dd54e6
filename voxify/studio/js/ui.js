// Small DOM helpers shared by the views: elements, the notice bar, busy buttons, formatting.

export const $ = (id) => document.getElementById(id);

// el("li", {class: "row"}, "text", child) — attributes, then children (strings become text).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Show a message from the server (or the browser) at the top of the page.
export function notify(message, kind = "error") {
  const notice = $("notice");
  $("notice-text").textContent = message;
  notice.dataset.kind = kind;
  notice.hidden = false;
}

export function clearNotice() {
  $("notice").hidden = true;
}

export function errorMessage(error) {
  if (error && error.name === "AbortError") return null;
  if (error instanceof TypeError) return "The server could not be reached. Check your connection.";
  return (error && error.message) || "Something went wrong.";
}

// Run an action while its button is disabled; a failure is shown in the notice bar.
export async function busy(button, action) {
  if (button) button.disabled = true;
  clearNotice();
  try {
    return await action();
  } catch (error) {
    const message = errorMessage(error);
    if (message) notify(message);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function seconds(value) {
  return value === null || value === undefined ? "" : `${Number(value).toFixed(1)} s`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

export function percent(value) {
  return `${Math.round(value || 0)} %`;
}

export function downloadName(path, fallbackExtension) {
  const last = (path || "").split("/").pop() || "voxify";
  return last.includes(".") ? last : `${last}.${fallbackExtension || "wav"}`;
}

// A filtered, paged list (`<prefix>-filters`, `-prev`, `-next`, `-page`): a filter change goes
// back to page 1, Previous/Next move, and `paginate` shows where the API's answer is.
export function pagedList(prefix, show) {
  const list = { page: 1 };
  const form = $(`${prefix}-filters`);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("change", () => {
    list.page = 1;
    show();
  });
  for (const [id, step] of [["prev", -1], ["next", 1]]) {
    $(`${prefix}-${id}`).addEventListener("click", () => {
      list.page += step;
      show();
    });
  }
  list.paginate = (pagination) => {
    $(`${prefix}-page`).textContent = pagination.total_pages ? `Page ${pagination.page} of ${pagination.total_pages}` : "";
    $(`${prefix}-prev`).disabled = pagination.page <= 1;
    $(`${prefix}-next`).disabled = !pagination.has_next;
  };
  return list;
}
