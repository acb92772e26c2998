// A trainer view's training loop: Play, Pause and Step; slices of training (streamed by the
// worker at full speed, else one per frame or per Step) and of watching (demo.js); each report
// on the display; the heat map and the autosave when due; a failure or the run's end said. The
// run's state (runstate.js) says whether slices are asked for; these functions keep it moving.
// Each takes `v`, the view's parts (app.js `createTrainerView`).
import { BUDGET_MS, messageOf, SPEEDS } from "./controls.js";
import { watchSlice } from "./demo.js";
import { guarded, handledElsewhere } from "./recovery.js";
import { autosave } from "./resume.js";

const HEATMAP_EVERY_MS = 3000;
/** A point-goal map is drawn again when the scene shows other hazards or another goal, at most
 *  this often (λ(s) depends on them: the robot sees them through its lidar). */
const HEATMAP_LAYOUT_MS = 500;
const HEATMAP_CELLS = 32;
/** How often a playing run is saved (resume.js), and at every pause. */
const AUTOSAVE_EVERY_MS = 15_000;

/** What a heat map depends on besides the networks: a point-goal scene's hazards and goal (the
 *  robot sees them through its lidar); null for the other envs, whose maps do not depend on the
 *  scene. */
const layoutOf = (scene) => (scene?.env === "point-goal" ? JSON.stringify([scene.hazards, scene.goal]) : null);

/** A real failure of the core: shown in #status and logged. A run that was playing is
 *  `interrupted` (a lost device may be heard after the failure it caused: recovery.js). */
export function fail(v, context, e) {
  console.error(`${context}:`, e);
  v.run.send("fail");
  cancelSlice(v);
  v.setStatus(`error: ${context}: ${messageOf(e)}`, "error");
  v.controls.setState(v.run.controls);
}

/** λ(s) of trainer `t` drawn again (if it is still the view's). */
export async function refreshHeatmap(v, t) {
  const { state, display, view } = v;
  state.heatmapAt = performance.now();
  let hm;
  try {
    hm = await guarded(v, t.heatmap(HEATMAP_CELLS));
  } catch (e) {
    if (await handledElsewhere(v, e, t)) return;
    console.error("heat map failed:", e);
    display.heatmapFailed(messageOf(e));
    return;
  }
  if (t !== state.trainer) return;
  state.heatmapLayout = layoutOf(hm?.scene);
  display.setHeatmap(hm);
  view.lastHeatmap = display.heatmap;
  view.heatmapVersion += 1;
}

/** A slice's report on screen: records, counters, scene, and the end of the run. */
function show(v, report) {
  report.records.forEach((r) => v.display.take(r));
  v.display.showCounters(report, v.state.config);
  const diverged = report.diverged ?? report.records.find((r) => r.kind === "diverged")?.message;
  if (diverged) {
    // A training outcome the core handled (last good weights kept), not a page failure.
    console.warn("training diverged:", diverged);
    finish(v, `diverged: ${diverged}`, "error");
  } else if (report.done) {
    finish(v, "done", "done");
  }
  v.display.setScene(report.scene);
}

function finish(v, text, kind) {
  if (!v.run.send("finish")) return;
  cancelSlice(v);
  v.setStatus(text, kind);
  v.controls.setState(v.run.controls);
}

/** One slice of training (a step, or a frame's steps at a steps-per-frame speed), then the
 *  autosave and the heat map when due; while the demo is watched, a slice of watching. */
async function runSlice(v, maxSteps) {
  if (v.run.watching) return watchSlice(v, maxSteps);
  const t = v.state.trainer;
  if (!t || v.run.is("finished")) return;
  let report;
  try {
    report = await guarded(v, t.run(maxSteps, BUDGET_MS));
  } catch (e) {
    await sliceFailed(v, t, e);
    return;
  }
  if (t !== v.state.trainer) return;
  show(v, report);
  await chores(v, t);
}

async function sliceFailed(v, t, e) {
  if (t !== v.state.trainer || (await handledElsewhere(v, e, t))) return;
  fail(v, "training failed", e);
}

/** The autosave and the heat map are due every few seconds, and once more when the run ends
 *  (so the final λ(s) stays on screen). */
const autosaveDue = (v) => (v.options.autosave || v.state.onGpu) && (v.run.is("finished") || performance.now() - v.state.autosavedAt >= AUTOSAVE_EVERY_MS);
const heatmapDue = (v) => v.run.is("finished") || performance.now() - v.state.heatmapAt >= HEATMAP_EVERY_MS || (followsScene(v) && layoutChanged(v));
/** Whether the map follows the scene's layouts: at a pace a person can follow (watching, or a
 *  steps-per-frame speed); at full speed the layouts flicker past and a map for each would
 *  slow training (a GPU read each on WebGPU). */
const followsScene = (v) => v.run.watching || v.state.page.speed !== "max";
/** Whether the scene on screen shows other hazards or another goal than the heat map. */
export const layoutChanged = ({ display, state }) =>
  display.heatmap !== null && layoutOf(display.scene) !== state.heatmapLayout && performance.now() - state.heatmapAt >= HEATMAP_LAYOUT_MS;
async function chores(v, t) {
  if (t !== v.state.trainer) return; // replaced meanwhile
  if (autosaveDue(v)) await autosave(v, t);
  if (heatmapDue(v)) await refreshHeatmap(v, t);
}

/** Training at full speed: the worker trains slice after slice on its own (`play`), and each
 *  report is shown as it comes; the autosave and the heat map, when due, are asked for in
 *  between (the worker runs them between two slices). Returns how to stop it. */
function stream(v, t) {
  const { run } = v;
  let choring = false;
  const take = (report, error) => {
    // A replaced run's, or one about to be (its display is cleared for the next).
    if (t !== v.state.trainer || run.replacing) return;
    if (error) {
      sliceFailed(v, t, error);
      return;
    }
    show(v, report);
    if (!choring && (run.playing || run.is("finished")) && (autosaveDue(v) || heatmapDue(v))) {
      choring = true;
      v.exclusive(() => chores(v, t)).finally(() => (choring = false));
    }
  };
  t.play(SPEEDS.get("max"), BUDGET_MS, take).catch((e) => sliceFailed(v, t, e));
  // Stopping answers once the worker has stopped (after its slice in flight, whose report
  // comes first).
  return { cancel: () => t.pause() };
}

/** Stops scheduled training; returns the promise of a stopped stream (else undefined). */
export function cancelSlice({ state }) {
  const stopped = state.timer?.cancel();
  state.timer = null;
  stopped?.catch(() => {}); // a freed trainer, or a lost device: said elsewhere
  return stopped;
}

/** Schedules training: "as fast as possible" streams (`stream`), or, while the demo is
 *  watched, asks for slice after slice; a steps-per-frame speed runs one slice per animation
 *  frame. */
export function schedule(v) {
  const { state, run } = v;
  if (!run.playing || state.timer) return;
  const tick = async () => {
    state.timer = null;
    if (!run.playing) return;
    await v.exclusive(() => (run.playing ? runSlice(v, SPEEDS.get(state.page.speed) ?? 1) : undefined));
    schedule(v);
  };
  if (state.page.speed === "max" && !run.watching) {
    state.timer = stream(v, state.trainer);
  } else if (state.page.speed === "max") {
    const id = setTimeout(tick, 0);
    state.timer = { cancel: () => clearTimeout(id) };
  } else {
    const id = requestAnimationFrame(tick);
    state.timer = { cancel: () => cancelAnimationFrame(id) };
  }
}

/** Play: refused (nothing happens) where the run's state has no `play` (no run, a finished
 *  one, one being made or recovered). */
export function play(v) {
  if (!v.state.trainer || !v.run.send("play")) return;
  playing(v);
}

/** The run has just entered a playing state (Play, or a new run that goes on playing). */
export function playing(v) {
  v.controls.setState(v.run.controls);
  if (v.run.watching) v.setStatus(v.state.watchStatus, "watching");
  else v.setStatus("training", "training");
  schedule(v);
}

export function pause(v) {
  const { state, run } = v;
  if (!run.send("pause")) return;
  const stopped = cancelSlice(v);
  v.controls.setState(run.controls);
  v.setStatus("paused", "paused");
  // Settled (`busy()` false again) once the worker has stopped after its slice in flight,
  // whose report comes first, and the run is saved (not a watched demo: nothing learnt).
  const t = state.trainer;
  const save = !run.watching;
  v.exclusive(async () => {
    if (!t || t !== state.trainer) return;
    try {
      if (stopped) await guarded(v, stopped);
    } catch {
      return; // a lost device: recovery.js takes over
    }
    if (save) await autosave(v, t);
  });
}

export async function step(v) {
  const { run } = v;
  if (!v.state.trainer || run.is("finished")) return;
  pause(v);
  await v.exclusive(() => runSlice(v, 1));
  // (Play pressed meanwhile: it trains, and says so.)
  if (!run.playing && !run.is("finished") && !v.display.status().kind.startsWith("error")) v.setStatus("paused", "paused");
}
