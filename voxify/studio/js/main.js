// The studio's entry: signs in, switches views, and keeps the page in step with the session.

import * as admin from "./admin.js";
import * as api from "./api.js";
import * as clone from "./clone.js";
import * as history from "./history.js";
import * as keys from "./keys.js";
import * as speak from "./speak.js";
import * as voices from "./voices.js";
import { $, busy, clearNotice, notify } from "./ui.js";

const VIEWS = { speak, voices, clone, history, keys, admin };
const FLASH = "voxify.notice"; // a message that survives the reload after signing out

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

let signedInAs = null;

function render(user) {
  if (!user && signedInAs) {
    // Signed out (or the session ended): start afresh, so nothing of that account stays.
    if (!sessionStorage.getItem(FLASH)) sessionStorage.setItem(FLASH, "Your session ended: please sign in again.");
    location.reload();
    return;
  }
  signedInAs = user ? user.user_id : null;
  const signedIn = Boolean(user);
  $("nav").hidden = !signedIn;
  // The server decides what an administrator may do; the page only hides what others can't.
  $("nav-admin").hidden = !(user && user.role === "admin");
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
    sessionStorage.setItem(FLASH, "Signed out.");
    api.signOut();
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
  admin.init();
  api.onSessionChange((session) => render(session ? session.user : null));
  render(api.currentUser());
  const flash = sessionStorage.getItem(FLASH);
  if (flash) {
    sessionStorage.removeItem(FLASH);
    notify(flash, "info");
  }
  document.body.dataset.ready = "true";
}

init();
