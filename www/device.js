// Which device trains. "auto" measures: on the first run of an env/width/batch in this browser
// it trains a few seconds on WebGPU and on the CPU, keeps the faster and remembers the figures
// (localStorage), so later visits start at once. `?backend=cpu|webgpu` forces one.
// It also keeps whether a WebGPU device was lost (driver reset, tab in the background too long,
// `device.destroy()`; the training workers hear it), so the page can go on on the CPU.

const STORE = "alam-playground:device:";
/** Longest warm-up per device (shader compilation and the first updates), then the timed part. */
const WARM_MS = 8_000;
const MEASURE_MS = 2_500;

// ---- the WebGPU device: lost or not ---------------------------------------------------------

let lost = null; // { reason, message } once the device is lost
let announceLost;
const lostPromise = new Promise((resolve) => (announceLost = resolve));
/** Calls in flight on the WebGPU device, given up when it is lost (see `unlessLost`). */
const inFlight = new Set();
lostPromise.then((info) => {
  for (const giveUp of inFlight) giveUp(info);
  inFlight.clear();
});

/** A call given up because the WebGPU device was lost. */
export class GpuLostError extends Error {}

/** `promise` (a trainer call on the WebGPU device), or a GpuLostError as soon as the device is
 *  lost: a call on a lost device may never settle, and the page must not wait for it. */
export function unlessLost(promise) {
  return new Promise((resolve, reject) => {
    const giveUp = (info) => reject(new GpuLostError(`the WebGPU device was lost (${info.message})`));
    if (lost) {
      promise.catch(() => {});
      giveUp(lost);
      return;
    }
    inFlight.add(giveUp);
    promise.then(resolve, reject).finally(() => inFlight.delete(giveUp));
  });
}

/** Called when a training worker's WebGPU device is lost (remote.js hears it from the worker,
 *  trainer-worker.js): every trainer on WebGPU gives up its calls, the page goes on on the CPU. */
export function heardLost(info) {
  if (lost) return;
  lost = info;
  console.warn("WebGPU device lost:", lost.reason, lost.message);
  announceLost(lost);
}

/** The loss, if the page's WebGPU device is lost ({ reason, message }); else null. */
export const gpuLost = () => lost;
/** Resolves when the WebGPU device is lost (never, if it is not). */
export const whenGpuLost = () => lostPromise;

/** Whether `label` (a trainer's `backend()`) is the WebGPU device. */
export const onWebGpu = (label) => /^webgpu/i.test(String(label));

// ---- auto: measured once per env/width/batch, remembered -------------------------------------

const keyOf = (s) => `${STORE}${s.env}/${s.hidden}/${s.batch_size}`;

/** The remembered measurement for these settings ({ backend, webgpu, cpu, at }), or null. */
export function remembered(settings) {
  try {
    const r = JSON.parse(localStorage.getItem(keyOf(settings)) ?? "null");
    return r && (r.backend === "cpu" || r.backend === "webgpu") ? r : null;
  } catch {
    return null; // storage off (private mode, sandboxed frame) or a broken entry
  }
}

function remember(settings, result) {
  try {
    localStorage.setItem(keyOf(settings), JSON.stringify(result));
  } catch {
    // no storage: the next visit measures again
  }
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const NAME = { webgpu: "WebGPU", cpu: "CPU" };

/** "WebGPU 412 updates/s vs CPU 181: using WebGPU". */
export const describe = (r) => `WebGPU ${fmt(r.webgpu)} updates/s vs CPU ${fmt(r.cpu)}: using ${NAME[r.backend]}`;

let adapter = null;
/** Whether this browser offers a WebGPU adapter at all (asked once per page). */
function hasAdapter() {
  adapter ??= (async () => {
    try {
      return Boolean(await globalThis.navigator?.gpu?.requestAdapter());
    } catch {
      return false;
    }
  })();
  return adapter;
}

/** Updates per second of a throwaway trainer for `settings` on `backend`: a warm-up to the
 *  first updates, then MEASURE_MS of 40 ms slices asked for one after another (the same for
 *  both devices), ended by a read that waits for every queued GPU command (so queued work is
 *  not counted as done). */
async function updatesPerSecond(core, settings, backend) {
  const t = await core.WebTrainer.create(settings, backend);
  try {
    const warmUntil = performance.now() + WARM_MS;
    let report = await t.run(1_000_000, 40);
    while (report.updates < 2 && performance.now() < warmUntil) {
      report = await t.run(1_000_000, 40);
    }
    const u0 = report.updates;
    const t0 = performance.now();
    while (performance.now() - t0 < MEASURE_MS) {
      report = await t.run(1_000_000, 40);
    }
    await t.heatmap(2); // a GPU read: it returns once the commands before it have run
    return (report.updates - u0) / ((performance.now() - t0) / 1000);
  } finally {
    t.free();
  }
}

/**
 * The backend to create a trainer with, for `settings` (env, hidden, batch_size) and the page's
 * `backend` option: { backend: "cpu" | "webgpu" | "auto", note, measured }.
 * - forced ("cpu", "webgpu"): as asked (the CPU once the WebGPU device is lost);
 * - "auto" without navigator.gpu: "auto" (the core falls back to the CPU and says why);
 * - "auto", measured before in this browser: the remembered choice, at once;
 * - "auto", first time: measures both (`onMeasure()` is called first, to say so), remembers.
 */
export async function chooseBackend(core, settings, backend, { onMeasure = () => {} } = {}) {
  if (lost) return { backend: "cpu", note: `the WebGPU device was lost (${lost.message})`, measured: false };
  if (backend !== "auto") return { backend, note: null, measured: false };
  if (!(await hasAdapter())) return { backend: "auto", note: null, measured: false };
  const known = remembered(settings);
  if (known) return { backend: known.backend, note: `${describe(known)} (measured earlier in this browser)`, measured: false };
  // Several views on one page (widgets) asking for the same settings share one measurement.
  const key = keyOf(settings);
  if (!measuring.has(key)) {
    onMeasure();
    measuring.set(key, measure(core, settings).finally(() => measuring.delete(key)));
  }
  return measuring.get(key);
}

/** Measurements in flight, by key. */
const measuring = new Map();

async function measure(core, settings) {
  // The measuring runs start learning at once (learning_starts = batch) and never evaluate.
  const probe = { ...settings, learning_starts: settings.batch_size, eval_every: 0, total_steps: 100_000_000 };
  let webgpu;
  try {
    webgpu = await updatesPerSecond(core, probe, "webgpu");
  } catch (e) {
    // No usable WebGPU here: the core's "auto" says why; nothing is remembered (it may be passing).
    console.warn("WebGPU could not be measured:", e);
    return { backend: "auto", note: null, measured: false };
  }
  if (lost) return { backend: "cpu", note: `the WebGPU device was lost (${lost.message})`, measured: false };
  const cpu = await updatesPerSecond(core, probe, "cpu");
  const result = { backend: webgpu > cpu ? "webgpu" : "cpu", webgpu, cpu, at: Date.now() };
  remember(settings, result);
  return { backend: result.backend, note: describe(result), measured: true };
}
