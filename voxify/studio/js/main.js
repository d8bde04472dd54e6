// The studio's entry: signs in, switches views, and keeps the page in step with the session.

import * as api from "./api.js";
import * as clone from "./clone.js";
import * as history from "./history.js";
import * as keys from "./keys.js";
import * as speak from "./speak.js";
import * as voices from "./voices.js";
import { $, busy, clearNotice, notify } from "./ui.js";

const VIEWS = { speak, voices, clone, history, keys };

function showView(name) {
  for (const section of document.querySelectorAll("main > .view")) {
    section.hidden = section.id !== `view-${name}`;
  }
  for (const button of document.querySelectorAll("#nav button")) {
    if (button.dataset.view === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  document.body.dataset.view = name;
  clearNotice();
  if (VIEWS[name]) VIEWS[name].show();
}

function useVoice(voiceId) {
  speak.useVoice(voiceId);
  showView("speak");
  $("speak-text").focus();
}

function render(user) {
  const signedIn = Boolean(user);
  $("nav").hidden = !signedIn;
  $("account").hidden = !signedIn;
  if (signedIn) {
    $("who").textContent = `${user.first_name} ${user.last_name}`.trim() || user.email;
    showView(document.body.dataset.view && document.body.dataset.view !== "auth" ? document.body.dataset.view : "speak");
  } else {
    for (const section of document.querySelectorAll("main > .view")) section.hidden = section.id !== "view-auth";
    $("register-form").hidden = true;
    $("sign-in-form").hidden = false;
    $("auth-title").textContent = "Sign in";
    document.body.dataset.view = "auth";
  }
}

function initAuth() {
  $("show-register").addEventListener("click", () => {
    $("sign-in-form").hidden = true;
    $("register-form").hidden = false;
    $("auth-title").textContent = "Create an account";
    $("register-first").focus();
  });
  $("show-sign-in").addEventListener("click", () => {
    $("register-form").hidden = true;
    $("sign-in-form").hidden = false;
    $("auth-title").textContent = "Sign in";
    $("sign-in-email").focus();
  });
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(event.submitter, () => api.signIn($("sign-in-email").value, $("sign-in-password").value));
  });
  $("register-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy(event.submitter, async () => {
      const email = $("register-email").value;
      const password = $("register-password").value;
      await api.register({
        first_name: $("register-first").value,
        last_name: $("register-last").value,
        email,
        password,
      });
      await api.signIn(email, password);
    });
  });
  $("sign-out").addEventListener("click", () => {
    api.signOut();
    notify("Signed out.", "info");
  });
}

function init() {
  initAuth();
  for (const button of document.querySelectorAll("#nav button")) {
    button.addEventListener("click", () => showView(button.dataset.view));
  }
  $("notice-close").addEventListener("click", clearNotice);
  speak.init();
  voices.init(useVoice);
  clone.init(useVoice);
  history.init();
  keys.init();
  api.onSessionChange((session) => render(session ? session.user : null));
  render(api.currentUser());
  document.body.dataset.ready = "true";
}

init();
