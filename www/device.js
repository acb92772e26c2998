// Which device trains. "auto" measures: on the first run of an env/width/batch/seeds in this
// browser it trains a few seconds on WebGPU and on the CPU (at most DEVICE_MS each, cut short there),
// keeps the faster and remembers the figures (localStorage), so later visits start at once.
// `?backend=cpu|webgpu` forces one.
// It also keeps whether a WebGPU device was lost (driver reset, tab in the background too long,
// `device.destroy()`; the training workers hear it), so the page can go on on the CPU.

const STORE = "alam-playground:device:";
/** Each device's whole share of the measurement: starting its trainer, the warm-up to its first
 *  updates (shader compilation on WebGPU), then the timed updates. A device still warming up
 *  when it runs out is judged on what it did: no timed update, 0 updates/s. */
export const DEVICE_MS = 3_000;

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

// ---- auto: measured once per env/width/batch/seeds, remembered ------------------------------

/** Seeds of a population trained as one (1: a single run). */
const seedsOf = (s) => s.seeds ?? 1;
/** The measurement's key: env, width, batch and, for a population, its seeds (a GPU pays where
 *  one launch serves many agents: the faster device depends on them). A single run's key is
 *  "env/width/batch", as before populations. */
const keyOf = (s) => `${STORE}${s.env}/${s.hidden}/${s.batch_size}${seedsOf(s) > 1 ? `/${seedsOf(s)}` : ""}`;

/** The remembered measurement for these settings ({ backend, webgpu, cpu, at }: agent-updates/s,
 *  updates/s × seeds), or null. */
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

/** "WebGPU 412 agent-updates/s vs CPU 181: using WebGPU" (an agent-update: one seed's update;
 *  a population of N makes N per update), for a population with its seeds, and which device was
 *  still warming up when its time ran out, if one was. */
export const describe = (r) => {
  const cut = [r.webgpuCut && "WebGPU", r.cpuCut && "the CPU"].filter(Boolean).join(" and ");
  const seeds = (r.seeds ?? 1) > 1 ? ` (${r.seeds} seeds)` : "";
  return `WebGPU ${fmt(r.webgpu)} agent-updates/s vs CPU ${fmt(r.cpu)}${seeds}: using ${NAME[r.backend]}${cut ? `; ${cut} still warming up after ${DEVICE_MS / 1000} s` : ""}`;
};

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

const TIMEOUT = Symbol("timeout");
/** `promise`'s value, or TIMEOUT once `ms` have passed (its own failure then goes unheard). */
function within(promise, ms) {
  promise.catch(() => {});
  let timer;
  const late = new Promise((ok) => (timer = setTimeout(() => ok(TIMEOUT), Math.max(0, ms))));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Updates per second of a throwaway trainer for `settings` on `backend`, all within DEVICE_MS:
 *  a warm-up to the first updates, then 40 ms slices
 *  asked for one after another (the same for both devices), ended by a read that waits for
 *  every queued GPU command (so queued work is not counted as done). A call still running when
 *  the time is up is not waited for: the trainer's worker ends. Returns `{ rate, cut }`: `cut`
 *  when the time ran out before the warm-up ended (`rate` 0). Throws if the trainer cannot be
 *  made on `backend`. */
async function updatesPerSecond(core, settings, backend) {
  const deadline = performance.now() + DEVICE_MS;
  const left = () => deadline - performance.now();
  const made = core.WebTrainer.create(settings, backend);
  const t = await within(made, left());
  if (t === TIMEOUT) {
    made.then((late) => late.free(), () => {});
    return { rate: 0, cut: true };
  }
  try {
    let report = await within(t.run(1_000_000, 40), left());
    while (report !== TIMEOUT && report.updates < 2) report = await within(t.run(1_000_000, 40), left());
    if (report === TIMEOUT) return { rate: 0, cut: true };
    const u0 = report.updates;
    const t0 = performance.now();
    for (;;) {
      const next = await within(t.run(1_000_000, 40), left());
      if (next === TIMEOUT) break;
      report = next;
    }
    // A GPU read: it returns once the commands before it have run (or the time is up: the
    // updates are then counted over all of it).
    await within(t.heatmap(2), left());
    return { rate: (report.updates - u0) / ((performance.now() - t0) / 1000), cut: false };
  } finally {
    t.free();
  }
}

/**
 * The backend to create a trainer with, for `settings` (env, hidden, batch_size, seeds) and the page's
 * `backend` option: { backend: "cpu" | "webgpu" | "auto", note, measured }.
 * - forced ("cpu", "webgpu"): as asked (the CPU once the WebGPU device is lost);
 * - "auto" without navigator.gpu: "auto" (the core falls back to the CPU and says why);
 * - "auto", measured before in this browser: the remembered choice, at once;
 * - "auto", first time: measures both (`onMeasure()` is called first, to say so; a few seconds,
 *   DEVICE_MS each at most), remembers. With `wait: false` it does not wait for the measurement:
 *   { backend: "cpu", note: null, measured: false, measuring } at once, `measuring` the promise
 *   of the choice.
 */
export async function chooseBackend(core, settings, backend, { onMeasure = () => {}, wait = true } = {}) {
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
  if (!wait) return { backend: "cpu", note: null, measured: false, measuring: measuring.get(key) };
  return measuring.get(key);
}

/** Measurements in flight, by key. */
const measuring = new Map();

async function measure(core, settings) {
  // The measuring runs start learning at once (learning_starts = batch) and never evaluate.
  const probe = { ...settings, learning_starts: settings.batch_size, eval_every: 0, total_steps: 100_000_000 };
  // The CPU first: a GPU emulated on the CPU (SwiftShader) goes on with its queued work for a
  // while after its trainer ends, and would slow the CPU's measurement after it.
  const start = performance.now();
  const cpu = await updatesPerSecond(core, probe, "cpu");
  let webgpu;
  try {
    webgpu = await updatesPerSecond(core, probe, "webgpu");
  } catch (e) {
    // No usable WebGPU here: the core's "auto" says why; nothing is remembered (it may be passing).
    console.warn("WebGPU could not be measured:", e);
    return { backend: "auto", note: null, measured: false };
  }
  if (lost) return { backend: "cpu", note: `the WebGPU device was lost (${lost.message})`, measured: false };
  // In agent-updates/s: each update of a population updates each of its seeds.
  const seeds = seedsOf(settings);
  const result = { backend: webgpu.rate > cpu.rate ? "webgpu" : "cpu", webgpu: webgpu.rate * seeds, webgpuCut: webgpu.cut, cpu: cpu.rate * seeds, cpuCut: cpu.cut, seeds, at: Date.now() };
  // WebGPU still warming up after its time is a measurement (slower here, for a first run);
  // the CPU still warming up says the machine was busy: that is not remembered, and the next
  // visit measures again.
  if (!cpu.cut) remember(settings, result);
  // `seconds`: how long it took, by this page's clock.
  return { backend: result.backend, note: describe(result), measured: true, seconds: (performance.now() - start) / 1000 };
}
