// A trainer view on a lost WebGPU device (a driver reset, a GPU process crash): its calls on the
// device are given up, and the run goes on on the CPU from its last save (kept in memory on
// WebGPU: resume.js), playing if it was, watched if it was the demo — or, before any save, as a
// fresh run on the CPU. The run's state (runstate.js) is `recovering` meanwhile. Each function
// takes `v`, the view's parts (app.js `createTrainerView`).
import { gpuLost, GpuLostError, unlessLost, whenGpuLost } from "./device.js";
import { demoGone, enterWatching } from "./demo.js";
import { play } from "./loop.js";
import { adoptRun, dropTrainer, replaceTrainer, showSeed } from "./runs.js";

/** How long a failed call on WebGPU waits to hear whether the device was lost. */
const LOSS_HEARD_MS = 2000;

/** A trainer call that is given up if the WebGPU device is lost meanwhile: a call on a lost
 *  device may never settle, and the page must not wait for it. */
export const guarded = (v, promise) => (v.state.onGpu ? unlessLost(promise) : promise);

/** After a failed call of trainer `t`: is it for someone else to say? Yes if the WebGPU device
 *  was lost (`recoverOnCpu` says so and takes over; the worker's message of the loss may come a
 *  while after the call that ran into it fails), or if `t` was replaced while it was asked. */
export async function handledElsewhere(v, e, t) {
  if (e instanceof GpuLostError || gpuLost()) return true;
  if (v.state.onGpu && (await Promise.race([whenGpuLost().then(() => true), new Promise((ok) => setTimeout(() => ok(false), LOSS_HEARD_MS))]))) return true;
  return t !== v.state.trainer;
}

/** The view recovers its run when the device is lost (once: the page has one device). */
export function recoverWhenLost(v) {
  whenGpuLost().then((info) => recoverOnCpu(v, info));
}

/** The device is lost (`info.message` says how): the run goes on on the CPU. Nothing if it was
 *  not on WebGPU, is recovering already, or the view is disposed (`lost` is refused). */
async function recoverOnCpu(v, info) {
  const { state, run, display } = v;
  const was = run.state;
  if (!state.onGpu || !run.send("lost")) return;
  // A run interrupted by a failure ran into the loss (heard after it): it was playing.
  const wasPlaying = ["playing", "watching", "resuming", "interrupted"].includes(was);
  const wasWatching = was === "demo" || was === "watching";
  const speed = state.page.speed;
  const shown = state.trainer?.shownSeed() ?? 0; // a population's seed on screen stays
  dropTrainer(v);
  if (wasWatching) demoGone(v);
  state.label = null;
  const why = `the WebGPU device was lost (${info.message})`;
  console.warn(`${why}; going on on the CPU`);
  v.setStatus(`${why}; going on on the CPU…`, "error");
  const ok = state.lastSave !== null && (await fromSave(v, state.lastSave.bytes, why, wasWatching, shown));
  if (!ok) {
    await replaceTrainer(v, state.settings, { stop: true }); // on the CPU: the device is lost
    if (state.trainer) v.setStatus(`${why}, before any save: a fresh run on the CPU`, "error");
  }
  if (!run.send(state.trainer ? "recovered" : "unrecovered")) return; // disposed meanwhile
  if (ok && wasWatching) enterWatching(v, display.status().text, speed);
  if (wasPlaying && state.trainer) {
    const message = display.status().text;
    play(v);
    v.setStatus(message, "error");
  }
}

/** The run goes on from its save `bytes` on the CPU, with seed `shown` on screen: whether it
 *  does. */
async function fromSave(v, bytes, why, wasWatching, shown) {
  try {
    const t = await v.core.WebTrainer.load(bytes, "cpu");
    const goesOn = (steps) => (wasWatching ? "watching the demo goes on on the CPU" : `training goes on on the CPU from the last save (step ${steps})`);
    const saved = v.tab ? { id: v.tab.id } : null; // the same run goes on
    if (!(await adoptRun(v, t, bytes, why, (steps) => `${why}: ${goesOn(steps)}`, "error", { watching: wasWatching, run: saved }))) return false;
    if (shown > 0) {
      await showSeed(v, shown);
      v.display.showShownSeed(shown);
    }
    return true;
  } catch (e) {
    console.warn("the last save could not be read on the CPU:", e);
    return false;
  }
}
