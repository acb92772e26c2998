// The training worker: one trainer of the wasm core (`WebTrainer`), in a dedicated Web Worker so
// that training never blocks the page's main thread. remote.js is its other end: it starts one
// worker per trainer (the page's run, each widget, each race agent), hands it the compiled
// WebAssembly.Module (compiled once per page, instantiated here), and calls it by messages.
//
// Protocol: the page posts `{ id, method, args }`; the worker answers `{ id, ok: true, value }`
// or `{ id, ok: false, error: { message, field } }`, one call at a time in the order they came
// (the core's trainer is borrowed while a call on it awaits). `play` starts training at full
// speed: slice after slice until `pause` (or the run ends), each slice's report posted as
// `{ event: "report", report }` (or `{ event: "report", error }` for a failed slice, which stops
// it); calls that come meanwhile run between two slices, so every answer comes after the reports
// of the slices before it. `{ event: "lost", info: { reason, message } }` says that the worker's
// WebGPU device is lost.
// The worker writes the autosave to this origin's IndexedDB itself (`autosave`); the page only
// keeps the bytes it answers (where a run on a lost WebGPU device goes on from, www/app.js).
import init, * as core from "../alam.js";
import { heldRuns, whyNotStored, writeRun } from "./autosave.js";
import { messageOf } from "./controls.js";

/** What tests and debugging read here (Playwright's `worker.evaluate`): the core's exports, the
 *  trainer, and every WebGPU device the core requested in this worker. */
const here = { bindings: core, trainer: null, devices: [] };
self.alamWorker = here;

/** Hears `device.lost` of every WebGPU device the core requests here (the page then goes on on
 *  the CPU, www/device.js). Installed before the core's first request. */
function watchDevices() {
  const Adapter = self.GPUAdapter;
  if (!Adapter) return;
  const request = Adapter.prototype.requestDevice;
  Adapter.prototype.requestDevice = async function (...args) {
    const device = await request.apply(this, args);
    here.devices.push(device);
    device.lost.then((info) => {
      const lost = { reason: info?.reason ?? "unknown", message: info?.message || "the WebGPU device was lost" };
      postMessage({ event: "lost", info: lost });
    });
    return device;
  };
}
watchDevices();

/** What the page keeps of a new trainer (none of it changes while it trains but the seed shown,
 *  which the page sets). */
function about(t) {
  return { backend: t.backend(), config: t.config(), scene: t.scene(), loadedKind: t.loaded_kind(), loadNote: t.load_note(), seeds: t.seeds(), shownSeed: t.shownSeed() };
}

function trainer() {
  if (!here.trainer) throw new Error("no trainer in this worker yet");
  return here.trainer;
}

/** While training at full speed (`play`): the slice's arguments; else null. */
let playing = null;
/** Whether a slice of `play` is queued or running: one loop at a time (a `pause` and a `play`
 *  arriving during one slice leave that loop going, not a second one beside it). */
let looping = false;

/** The calls the page makes, each answering a value (or a promise of one). */
const METHODS = {
  /** `module`: the compiled core. */
  init: ({ module }) => init({ module_or_path: module }).then(() => undefined),
  create: async ({ settings, backend }) => about((here.trainer = await core.WebTrainer.create(settings, backend))),
  load: async ({ bytes, backend }) => about((here.trainer = await core.WebTrainer.load(bytes, backend))),
  /** A slice of training (`WebTrainer.run`), with the scene it left and when it ran
   *  (`slice: { start, end }`, ms since the epoch: comparable across workers). */
  run: async ({ maxSteps, budgetMs }) => {
    const start = performance.timeOrigin + performance.now();
    const report = await trainer().run(maxSteps, budgetMs);
    report.scene = trainer().scene();
    report.slice = { start, end: performance.timeOrigin + performance.now() };
    return report;
  },
  watch: ({ maxSteps, budgetMs }) => trainer().watch(maxSteps, budgetMs),
  /** Trains slice after slice (`maxSteps`, `budgetMs` each), posting each report, until
   *  `pause`, a failed slice, or the end of the run. */
  play: ({ maxSteps, budgetMs }) => {
    trainer();
    playing = { maxSteps, budgetMs };
    if (!looping) {
      looping = true;
      nextSlice();
    }
  },
  /** Stops `play` after the slice in flight (whose report comes before this answer). */
  pause: () => {
    playing = null;
  },
  /** The whole run as one file, and the step it was saved at. */
  save: async () => ({ bytes: await trainer().save(), steps: trainer().steps() }),
  saveWeightsOnly: async () => ({ bytes: await trainer().save_weights_only(), steps: trainer().steps() }),
  /** Saves the whole run and writes it to this origin's IndexedDB as the saved run `runId`
   *  (`settings`: the page's, to know it again; www/autosave.js). Answers the bytes, the step,
   *  the saved runs dropped to make room (`pruned`), and `storeError`: null once written, else
   *  why only the write failed (no IndexedDB, no room: with the room needed and left, a newer
   *  save of the run kept). A failed save rejects. */
  autosave: async ({ settings, runId }) => {
    const bytes = await trainer().save();
    const steps = trainer().steps();
    let storeError = null;
    let pruned = [];
    try {
      pruned = await writeRun(runId, { settings, bytes, steps }, await heldRuns());
    } catch (e) {
      storeError = await whyNotStored(e, bytes.byteLength);
    }
    return { bytes, steps, storeError, pruned };
  },
  heatmap: ({ cells }) => trainer().heatmap(cells),
  /** Shows seed `i` of the population (the scene, the heat map, `watch`); answers its scene. */
  showSeed: ({ i }) => {
    trainer().showSeed(i);
    return trainer().scene();
  },
  history: () => trainer().history(),
  memoryBytes: () => core.wasmMemoryBytes(),
};

/** The buffers of an answer that move to the page instead of being copied (run files). */
const TRANSFER = {
  save: ({ bytes }) => [bytes.buffer],
  saveWeightsOnly: ({ bytes }) => [bytes.buffer],
  autosave: ({ bytes }) => [bytes.buffer],
};

/** `fn` in a task of its own, after the messages already here (a message to ourselves: no
 *  timer's 4 ms clamp), so a call the page made during a slice runs before the next slice. The
 *  HTML spec gives each port its own task source; Chromium (where the tests run) delivers both
 *  kinds of message in the order they were sent. An engine that did not would only make the
 *  page's calls wait longer, never run two at once. */
function afterMessages(fn) {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => {
    channel.port1.close();
    fn();
  };
  channel.port2.postMessage(null);
}

/** Queues the next slice of `play`, behind the calls already queued. */
function nextSlice() {
  calls = calls.then(async () => {
    if (!playing) {
      looping = false;
      return;
    }
    try {
      const report = await METHODS.run(playing);
      postMessage({ event: "report", report });
      if (report.done || report.diverged) playing = null;
    } catch (e) {
      playing = null;
      postMessage({ event: "report", error: { message: messageOf(e), field: null } });
    }
    if (playing) afterMessages(nextSlice);
    else looping = false;
  });
}

let calls = Promise.resolve();
self.onmessage = ({ data: { id, method, args } }) => {
  calls = calls.then(async () => {
    try {
      if (!Object.hasOwn(METHODS, method)) throw new Error(`the training worker has no method ${method}`);
      const value = await METHODS[method](args ?? {});
      postMessage({ id, ok: true, value }, Object.hasOwn(TRANSFER, method) ? TRANSFER[method](value) : []);
    } catch (e) {
      postMessage({ id, ok: false, error: { message: messageOf(e), field: e?.field ?? null } });
    }
  });
};
