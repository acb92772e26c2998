// Trainers off the main thread: each `RemoteTrainer` is one `WebTrainer` of the wasm core living
// in a dedicated Web Worker of its own (trainer-worker.js), with the WebTrainer's methods as
// promises of the worker's answers. The page's thread only draws and answers the user; a slow
// update, a full save or a shader compilation never blocks it, and several trainers (a race, two
// widgets) train on as many cores.
//
// The core is compiled once for every worker of the page (`compileCore`), and each worker
// instantiates that same WebAssembly.Module (the main thread's own instance, which only checks
// settings, comes from trunk's loader on the page and from this module in a widget). A trainer's worker ends with the
// trainer (`free()`): a stuck call (a lost GPU device) ends with it, and nothing it would still
// answer can reach the page.
import { heardLost } from "./device.js";

/** The message a worker's failed call rejects with: an Error, with `field` when the core named
 *  the refused setting (as `WebTrainer.create` throws it on the main thread). */
function errorFrom({ message, field }) {
  return Object.assign(new Error(message), field ? { field } : {});
}

const WORKER_URL = new URL("./trainer-worker.js", import.meta.url);
let shim = null;

/** A new training worker. A worker must be of the page's own origin: a course page that embeds
 *  the widget from another origin (its files served with CORS, as a static host such as GitHub
 *  Pages does) gets a one-line module of its own origin that imports ours. */
function spawnWorker() {
  const options = { type: "module", name: "alam-trainer" };
  if (WORKER_URL.origin === location.origin) return new Worker(WORKER_URL, options);
  shim ??= URL.createObjectURL(new Blob([`import ${JSON.stringify(WORKER_URL.href)};`], { type: "text/javascript" }));
  return new Worker(shim, options);
}

export class RemoteTrainer {
  /** A trainer made in a new worker by `method` ("create" or "load") with `args`; rejects (and
   *  ends the worker) if the core refuses. */
  static async start(module, method, args) {
    const t = new RemoteTrainer();
    try {
      await t.call("init", { module });
      t.about = await t.call(method, args);
    } catch (e) {
      t.free();
      throw e;
    }
    t.latestScene = t.about.scene;
    return t;
  }

  constructor() {
    this.worker = spawnWorker();
    /** Calls awaiting their answer, by id: { resolve, reject }. */
    this.pending = new Map();
    this.nextId = 0;
    /** Why no call can be made any more (freed, or the worker failed), or null. */
    this.ended = null;
    /** Takes each report `play` streams: `(report, error)`. */
    this.onReport = null;
    this.worker.onmessage = ({ data }) => {
      if (data.event === "lost") return heardLost(data.info);
      if (data.event === "report") return this.onReport?.(data.report ?? null, data.error ? errorFrom(data.error) : null);
      const call = this.pending.get(data.id);
      if (!call) return;
      this.pending.delete(data.id);
      if (data.ok) call.resolve(data.value);
      else call.reject(errorFrom(data.error));
    };
    this.worker.onerror = (e) => {
      e.preventDefault?.();
      this.end(new Error(`the training worker failed: ${e.message || "it could not start"}`));
    };
    this.worker.onmessageerror = () => this.end(new Error("the training worker sent an unreadable answer"));
  }

  /** Calls `method` in the worker; `transfer`: buffers moved there instead of copied. */
  call(method, args = {}, transfer = []) {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args }, transfer);
    });
  }

  /** No more calls: every pending one rejects with `why`. */
  end(why) {
    if (this.ended) return;
    this.ended = why;
    this.onReport = null;
    for (const call of this.pending.values()) call.reject(why);
    this.pending.clear();
  }

  // ---- WebTrainer's methods (src/web.rs) -------------------------------------------------------

  /** Ends the worker and the trainer in it (the wasm instance with it). */
  free() {
    this.worker.terminate();
    this.end(new Error("the trainer was freed"));
  }
  /** Which device trains, and why (the core's label). */
  backend() {
    return this.about.backend;
  }
  /** The full config in use. */
  config() {
    return this.about.config;
  }
  /** Seeds trained as one population (1 for a single run). */
  seeds() {
    return this.about.seeds;
  }
  /** The seed the scene, the heat map and `watch` show (0-based). */
  shownSeed() {
    return this.about.shownSeed;
  }
  /** Shows seed `i` of the population; resolves to its scene. */
  async showSeed(i) {
    const scene = await this.call("showSeed", { i });
    this.about.shownSeed = i;
    this.latestScene = scene;
    return scene;
  }
  /** The scene as of the latest answer (creation, or the last `run`). */
  scene() {
    return this.latestScene;
  }
  loaded_kind() {
    return this.about.loadedKind;
  }
  load_note() {
    return this.about.loadNote;
  }
  /** A slice of training: at most `maxSteps` steps or `budgetMs` ms (`WebTrainer.run`); the
   *  report carries the scene it left. */
  async run(maxSteps, budgetMs) {
    const report = await this.call("run", { maxSteps, budgetMs });
    this.latestScene = report.scene;
    return report;
  }
  watch(maxSteps, budgetMs) {
    return this.call("watch", { maxSteps, budgetMs });
  }
  /** Trains at full speed in the worker, slice after slice (`maxSteps` steps or `budgetMs` ms
   *  each), with no wait on this thread between slices, until `pause()` or the end of the run;
   *  `onReport(report, error)` takes each slice's report (as `run` answers it) as it comes, or
   *  the error of a slice that failed (training then stops). Calls made meanwhile run between
   *  two slices, and answer after the reports of the slices before them. */
  play(maxSteps, budgetMs, onReport) {
    this.onReport = onReport;
    return this.call("play", { maxSteps, budgetMs });
  }
  /** Stops `play` after the slice in flight; resolves once its report has been taken. */
  pause() {
    return this.call("pause");
  }
  /** The whole run as one file: `{ bytes, steps }` (a Uint8Array, and the step it holds). */
  save() {
    return this.call("save");
  }
  /** The small weights-only file: `{ bytes, steps }`. */
  save_weights_only() {
    return this.call("saveWeightsOnly");
  }
  /** Saves the run and writes it to this origin's IndexedDB as the saved run `runId`, in the
   *  worker: resolves to `{ bytes, steps, storeError, pruned }` (`storeError`: why only the
   *  write failed, or null; `pruned`: the saved runs dropped to make room). */
  autosave(settings, runId) {
    return this.call("autosave", { settings, runId });
  }
  heatmap(cells) {
    return this.call("heatmap", { cells });
  }
  /** The records kept so far, oldest first. */
  history() {
    return this.call("history");
  }
  /** Bytes of the worker's wasm memory. */
  memoryBytes() {
    return this.call("memoryBytes");
  }
}

let compiled = null;
/** The core's WebAssembly.Module (`alam_bg.wasm` at the build's root), compiled once per page
 *  for all its workers. */
export function compileCore() {
  compiled ??= (async () => {
    const url = new URL("../alam_bg.wasm", import.meta.url);
    try {
      return await WebAssembly.compileStreaming(fetch(url));
    } catch {
      // A host that does not serve .wasm as application/wasm: compiled from the bytes instead.
      const response = await fetch(url);
      if (!response.ok) throw new Error(`could not fetch the core (${response.status} ${url})`);
      return WebAssembly.compile(await response.arrayBuffer());
    }
  })();
  return compiled;
}

/**
 * The core as the views use it: `WebTrainer.create(settings, backend)` and
 * `WebTrainer.load(bytes, backend)` make trainers in workers; `checkSettings` (synchronous, no
 * training) runs on the main thread's instance `bindings`.
 */
export async function remoteCore(bindings) {
  const module = await compileCore();
  return {
    WebTrainer: {
      create: (settings, backend) => RemoteTrainer.start(module, "create", { settings, backend }),
      // Copied, not moved: the page keeps the bytes (the last save).
      load: (bytes, backend) => RemoteTrainer.start(module, "load", { bytes, backend }),
    },
    checkSettings: bindings.checkSettings,
  };
}
