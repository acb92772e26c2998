// <alam-trainer>: the trainer as an embeddable element, for docs and course pages.
//
//   <script type="module" src="https://…/alam/widget.js"></script>
//   <alam-trainer env="double-integrator" algo="alam" autoplay></alam-trainer>
//
// This file is served from the static build's root (index.html copies it there), beside the
// core (alam.js, alam_bg.wasm) and www/. Each element renders into its own shadow root: the
// host page's CSS does not reach in, ours does not leak out, and element ids never clash, so
// two widgets on one page run independently (one trainer each, in a Web Worker of its own; the
// wasm core is downloaded and compiled once).
//
// Attributes:
//   env, algo, and any config field (rho, seed, batch_size or batch-size, …): the run — the
//   constraint's knobs too: cost-threshold (d), cost-budget, lambda-max, multiplier-every (m),
//   multiplier-steps (k); the network width is hidden-units (HTML's own `hidden` attribute
//   hides the element);
//   panels="controls,settings,scene,heatmap,charts": what shows (default controls,scene,charts);
//   seeds="4": a population of 4 seeds trained as one (1–16; a race's: seeds per algorithm, 1–8);
//   race="fac,alam": a race of 2–4 algorithms instead of one trainer; race-preset="stressed"
//   selects the race's stressed-multiplier preset (www/race.js PRESETS);
//   compact (one column, shorter charts), height="480px" (scrolls inside), autoplay,
//   speed="1|10|100|max", backend="auto|cpu|webgpu";
//   label="…": the trainer's heading (default: its algorithm and env, "SAC-ALaM on point-goal");
//   src="run.alam": starts from that run file (a URL, relative to the page) instead of afresh.
// If the trainer cannot load (its files on another origin without CORS, a wasm or worker that
// fails), the widget says so in its own box; text inside the element shows until the widget
// starts, so a host page whose module script is refused still shows something.
import init, * as core from "./alam.js";
import { createTrainerView } from "./www/app.js";
import { ALGO_NAMES } from "./www/display.js";
import { createRace } from "./www/race.js";
import { acceptedPage, DEFAULT_PAGE, DEFAULT_SETTINGS, messageOf, parseSetting, setOwn } from "./www/controls.js";
import { PANELS, trainerMarkup } from "./www/template.js";
import { compileCore, remoteCore } from "./www/remote.js";
import { registerServiceWorker } from "./www/offline.js";

const here = (path) => new URL(path, import.meta.url).href;

/** Attributes that configure the widget rather than the run. */
const OPTIONS = new Set(["panels", "race", "race-preset", "compact", "height", "autoplay", "speed", "backend", "label", "src"]);
/** Global HTML attributes: never settings. */
const GLOBAL = /^(id|class|style|title|hidden|lang|dir|slot|tabindex|part|role|data-.*|aria-.*)$/;
const DEFAULT_PANELS = "controls,scene,charts";

/** Where the widget's files come from (the static build's origin). */
const ORIGIN = new URL(import.meta.url).origin;

/** Why the trainer's files did not load, in words: from another origin, a failed fetch is
 *  almost always a host that does not send CORS headers. */
function loadFailure(e) {
  const cors = ORIGIN !== location.origin ? ": the host must send Access-Control-Allow-Origin for its files (see the browser console)" : "";
  return new Error(`could not load the trainer from ${ORIGIN}${cors} (${e?.message ?? e})`);
}

let loading = null;
/** The wasm core, compiled once for every widget on the page: its trainers train in workers of
 *  their own (www/remote.js), this thread's instance only checks settings. */
function loadCore() {
  loading ??= compileCore()
    .then(async (module) => {
      await init({ module_or_path: module });
      return remoteCore(core);
    })
    .catch((e) => {
      throw loadFailure(e);
    });
  return loading;
}

class AlamTrainer extends HTMLElement {
  connectedCallback() {
    if (this.shadowRoot && !this.ended) return; // moved in the DOM: keep the run
    // First time here, or back after a removal ended its run: a fresh start.
    this.ended = false;
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const compact = this.hasAttribute("compact");
    const height = this.getAttribute("height");
    if (height) this.style.setProperty("height", height);
    const sheets = ["uPlot.min.css", "www/style.css", "www/widget.css"]
      .map((href) => `<link rel="stylesheet" href="${here(href)}" />`).join("");
    const race = this.getAttribute("race");
    shadow.innerHTML = `${sheets}<div class="app${compact ? " compact" : ""}" part="app">${
      race ? '<section id="race" class="panel race" aria-labelledby="race-title"></section>' : ""
    }</div>`;
    this.start(shadow, race).catch((e) => this.showError(shadow, e));
  }

  /** A failure to start, said in the widget's own box (and the console). */
  showError(shadow, e) {
    const p = Object.assign(document.createElement("p"), { className: "widget-error", role: "alert" });
    p.textContent = `The ALaM trainer could not start: ${messageOf(e)}`;
    shadow.querySelector(".app").append(p);
    console.error("alam-trainer:", e);
  }

  /** The run's settings: every attribute that is not a widget option, `batch-size` → `batch_size`;
   *  the network width is `hidden-units` (`hidden` is HTML's own attribute: it hides the element).
   *  Each is an own property whatever its name (`__proto__`, `constructor`: the core refuses them
   *  as unknown, and the others stay). */
  settings() {
    const s = {};
    for (const { name, value } of this.attributes) {
      if (OPTIONS.has(name) || GLOBAL.test(name)) continue;
      const key = name === "hidden-units" ? "hidden" : name.replaceAll("-", "_");
      setOwn(s, key, parseSetting(key, value));
    }
    return s;
  }

  async start(shadow, race) {
    const mine = (this.starts = (this.starts ?? 0) + 1);
    const core = await loadCore();
    // Removed while the core loaded (or removed and put back: a newer start goes on instead).
    if (this.ended || mine !== this.starts) return;
    // As given: the view refuses a value that is not among the choices (`acceptedPage`).
    const page = {
      backend: this.getAttribute("backend") || DEFAULT_PAGE.backend,
      speed: this.getAttribute("speed") || DEFAULT_PAGE.speed,
      autoplay: this.hasAttribute("autoplay"),
    };
    const app = shadow.querySelector(".app");
    if (race) {
      const algos = race.split(",").map((a) => a.trim()).filter(Boolean);
      const settings = { ...DEFAULT_SETTINGS, ...this.settings() };
      // A race has no settings form: a refused backend is said in its status line.
      const { page: accepted, refused } = acceptedPage(page, null, "");
      // `seeds`: the race's seeds per algorithm (its own field checks it when the race starts).
      const seeds = this.getAttribute("seeds")?.trim() || undefined;
      this.alam = createRace(shadow.getElementById("race"), core, () => settings, { algos, backend: accepted.backend, preset: this.getAttribute("race-preset") ?? "default", seeds, refused });
      const names = algos.map((a) => ALGO_NAMES[a] ?? a).join(" vs ");
      shadow.getElementById("race-title").textContent = this.getAttribute("label") ?? `Race: ${names} on ${settings.env}`;
      if (page.autoplay) this.alam.start();
      return;
    }
    const show = new Set((this.getAttribute("panels") || DEFAULT_PANELS).split(",").map((p) => p.trim()).filter((p) => PANELS.includes(p)));
    app.insertAdjacentHTML("beforeend", trainerMarkup(show, { share: false }));
    const src = this.getAttribute("src");
    this.alam = createTrainerView(shadow, core, {
      settings: this.settings(),
      page,
      heading: this.getAttribute("label") ?? "auto",
      // Relative to the page the widget is on, as any URL in its markup.
      runFile: src ? new URL(src, document.baseURI).href : null,
    });
  }

  disconnectedCallback() {
    // Removed from the page (not just moved within it): its run ends, and its workers with it; put
    // back later, it starts afresh.
    queueMicrotask(() => {
      if (this.isConnected) return;
      this.ended = true;
      if (this.alam?.stop) this.alam.stop(); // a race: its agents' workers end
      else this.alam?.dispose(); // the trainer's worker ends
      this.alam = null;
    });
  }
}

if (!customElements.get("alam-trainer")) customElements.define("alam-trainer", AlamTrainer);

// On a page of the build's own origin the build's service worker caches the widget's files (the
// core, its workers, www/): within the build (examples/) the widget then works offline too. On
// another origin there is none to register (offline.js).
registerServiceWorker().catch((e) => console.warn("alam-trainer: no offline use:", e));
