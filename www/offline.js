// Offline use: registers the build's service worker (sw.js, at the build's root) and, on the
// page, says what it did: this version is saved for offline use, a new version is ready (with a
// Reload button), or the page was updated to a new version.
//
// The page runs `announce` (www/offline-page.js, from index.html): it registers the worker and
// shows the notices in the page's header. widget.js runs `registerServiceWorker` only, so that a
// course page of the build's own origin caches the widget's files too, with no notice on the
// host's page.

const SW_URL = new URL("../sw.js", import.meta.url);
/** The build version this browser last ran, to say "updated" once after a change. */
const SEEN = "alam-playground:build";

/**
 * Registers sw.js with the build's root as its scope. Resolves to the registration, or null
 * where a service worker cannot be had: a browser without them, an insecure context (plain
 * http other than localhost), or a page of another origin than the build (a cross-origin
 * widget: a service worker must be of the page's origin).
 */
export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || SW_URL.origin !== location.origin) return null;
  return navigator.serviceWorker.register(SW_URL, { scope: new URL("./", SW_URL).href, updateViaCache: "none" });
}

/** The build version `worker` (a ServiceWorker) runs, as sw.js's BUILD.version. */
function versionOf(worker) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = ({ data }) => resolve(data);
    worker.postMessage({ type: "version" }, [channel.port2]);
  });
}

/** Resolves once `worker` reaches `state` ("installed", "activated"), false if it fails first. */
function reaches(worker, state) {
  const order = ["installing", "installed", "activating", "activated"];
  return new Promise((resolve) => {
    const check = () => {
      if (worker.state === "redundant") resolve(false);
      else if (order.indexOf(worker.state) >= order.indexOf(state)) resolve(true);
      else return;
      worker.removeEventListener("statechange", check);
    };
    worker.addEventListener("statechange", check);
    check();
  });
}

/** The notice in the page's header (created on first use): `text`, and a button when `action`
 *  is given as { label, run }. */
function say(text, action) {
  let notice = document.getElementById("offline");
  if (!notice) {
    notice = Object.assign(document.createElement("p"), { id: "offline", className: "notice" });
    notice.setAttribute("role", "status");
    (document.querySelector("header") ?? document.body).append(notice);
  }
  notice.replaceChildren(text);
  if (action) {
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: action.label });
    button.addEventListener("click", action.run, { once: true });
    notice.append(" ", button);
  }
}

/** Remembers `version` as the one this browser runs; says "updated" if it ran another before. */
function arrived(version) {
  let before = null;
  try {
    before = localStorage.getItem(SEEN);
    localStorage.setItem(SEEN, version);
  } catch {
    // Storage refused (private mode): nothing to compare with.
  }
  if (before && before !== version) say(`Updated to the new version (build ${version}).`);
}

/**
 * The page's side (www/offline-page.js runs it): registers, then says what happens to this build
 * and later ones. A first visit: "saved for offline use" once the worker has cached the build.
 * A later visit: "updated" if the build changed since the last one this browser ran; and when a
 * new build has been installed beside the running one, "a new version is ready" with Reload,
 * which lets it take over and reloads the page.
 */
export async function announce() {
  const sw = navigator.serviceWorker;
  const registration = await registerServiceWorker();
  if (!registration) return;
  if (!sw.controller) {
    const worker = registration.installing ?? registration.waiting ?? registration.active;
    if (!(await reaches(worker, "activated"))) {
      // Said on the page, not thrown: the page works online; only the offline copy is missing
      // (most often no room in this browser's storage).
      say("Not saved for offline use: this browser did not let the page store this version (is its storage full?). It works while online.");
      return;
    }
    arrived(await versionOf(worker));
    say("Saved for offline use: this page now opens and trains without a network.");
    return;
  }
  arrived(await versionOf(sw.controller));
  let takingOver = false;
  const offer = (worker) =>
    say("A new version is ready.", {
      label: "Reload",
      run: () => {
        takingOver = true;
        worker.postMessage({ type: "take-over" });
      },
    });
  // A new build: offered once its worker has installed it (and not if that fails).
  const watch = async (worker) => {
    if (worker && (await reaches(worker, "installed")) && registration.waiting === worker) offer(worker);
  };
  if (registration.waiting) offer(registration.waiting);
  else watch(registration.installing);
  registration.addEventListener("updatefound", () => watch(registration.installing));
  sw.addEventListener("controllerchange", () => {
    if (takingOver) location.reload();
    // Another tab let the new build take over: this page still runs the old one.
    else say("A new version took over in another tab.", { label: "Reload", run: () => location.reload() });
  });
}
