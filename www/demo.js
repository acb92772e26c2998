// A trainer view's pretrained demo, watched: a newcomer's first visit opens on a trained run
// whose policy acts (`WebTrainer.watch`) in an environment of its own at one step per frame,
// without learning, its training curves from the file's history. "Train on" continues its
// training, "Train from scratch" starts the same settings afresh. The run's state (runstate.js)
// is `demo` or `watching` while it is on screen. Each function takes `v`, the view's parts
// (app.js `createTrainerView`; `v.options.pretrained`: the demo's run file URL,
// `v.options.pretrainedFull`: the file "Train on" continues from, default `pretrained`).
import { runTitle } from "./display.js";
import { BUDGET_MS } from "./controls.js";
import { DEVICE_MS } from "./device.js";
import { fetchRunFile } from "./runfile.js";
import { fail, layoutChanged, pause, play, refreshHeatmap } from "./loop.js";
import { guarded, handledElsewhere } from "./recovery.js";
import { adoptRun, adoptSettings, fetchRun, remember, replaceTrainer, resolveBackend } from "./runs.js";

/** Watched episodes kept one by one (for tests and scripts: `watched().list`). */
const WATCHED_KEPT = 1000;

/** One slice of watching: the policy acts in an environment of its own; nothing learns, so
 *  there is nothing to autosave, and the heat map is drawn again only for a new layout of
 *  hazards and goal (the core draws it over the watched environment). */
export async function watchSlice(v, maxSteps) {
  const { state, display } = v;
  const t = state.trainer;
  if (!t) return;
  let report;
  try {
    report = await guarded(v, t.watch(maxSteps, BUDGET_MS));
  } catch (e) {
    if (t !== state.trainer || (await handledElsewhere(v, e, t))) return;
    fail(v, "watching failed", e);
    return;
  }
  if (t !== state.trainer || !v.run.watching) return;
  for (const e of report.episodes) {
    state.watched.episodes += 1;
    state.watched.violations += e.violations;
    state.watched.return += e.return;
    if (state.watched.list.length < WATCHED_KEPT) state.watched.list.push({ return: e.return, violations: e.violations });
  }
  display.showWatched(state.watched, report.current, report.seed);
  // The run's own counters, as the core reports them: watching leaves them as they are.
  display.showProgress(report.steps, report.updates);
  display.setScene(report.scene);
  if (layoutChanged(v)) await refreshHeatmap(v, t);
}

/** A first visit: the demo, watched at one step per frame, and its settings in the form.
 *  Watching trains nothing, so it does not wait for "auto" to measure the devices: the demo
 *  plays on the CPU meanwhile (a few seconds), and training uses the measured choice. False if
 *  there is no demo to show. */
export async function showPretrained(v) {
  const { state, display } = v;
  let bytes, t, choice;
  try {
    bytes = await fetchRunFile(v.options.pretrained);
    choice = await resolveBackend(v, state.settings, { wait: false });
    t = await v.core.WebTrainer.load(bytes, choice.backend);
  } catch (e) {
    console.warn("no pretrained demo; starting from scratch:", e);
    return false;
  }
  const config = t.config();
  adoptSettings(v, config);
  const describe = (steps) =>
    `watching the pretrained demo: ${runTitle(config)} after ${steps} steps (seed ${config.seed}), acting without learning — Train on continues its training, Train from scratch starts afresh`;
  if (!(await adoptRun(v, t, bytes, choice.note, describe, "ready", { watching: true }))) return false;
  enterWatching(v, display.status().text, "1");
  if (choice.measuring) {
    display.showBackend(state.label, `watching trains nothing; measuring meanwhile which device trains faster here, at most ${2 * DEVICE_MS / 1000} s…`);
    choice.measuring
      .then((c) => {
        if (state.trainer !== t) return;
        state.choice = c;
        display.showBackend(state.label, `watching trains nothing; for training: ${c.note ?? "WebGPU could not be measured"}`);
      })
      .catch((e) => console.warn("measuring the devices failed:", e));
  }
  play(v);
  return true;
}

/** The current trainer is watched (acting, not learning) at `speed` until a run replaces it. */
export function enterWatching(v, status, speed) {
  const { state, display } = v;
  if (!v.run.send("watch")) return;
  state.watchStatus = status;
  state.watched = { episodes: 0, violations: 0, return: 0, list: [] };
  state.page.speed = speed;
  v.controls.setSpeed(speed);
  display.showWatched(state.watched);
  display.showWatching(true);
  v.setStatus(status, "watching");
}

/** Leaves the demo (for whatever replaces it: a changed setting, Reset, a loaded run, Train
 *  on, Train from scratch); nothing if it is not on screen. */
export function leaveWatching(v) {
  if (v.run.send("leave")) demoGone(v);
}

/** The demo's rows and buttons go, and the speed is the page's own again. */
export function demoGone(v) {
  v.display.showWatching(false);
  v.display.hideScratch();
  v.state.page.speed = v.options.page.speed ?? "max";
  v.controls.setSpeed(v.state.page.speed);
  // The address bar stays bare while the demo is watched (a reload shows the demo again);
  // from here on it reproduces the run on screen.
  remember(v);
}

/** "Train on": the demo's run continues training from `pretrainedFull` (its whole training
 *  state: it goes on exactly where the demo's run stopped); "Train from scratch" stays. */
export async function trainOn(v) {
  pause(v); // while still watching: nothing to autosave
  leaveWatching(v);
  v.display.showScratch();
  v.controls.setState("none");
  v.setStatus("fetching the demo's run to train on…", "loading");
  let loaded;
  try {
    loaded = await fetchRun(v, v.options.pretrainedFull ?? v.options.pretrained);
  } catch (e) {
    fail(v, "could not fetch the demo's run to train on", e);
    return;
  }
  const describe = (steps) => `training on the pretrained demo from step ${steps}`;
  if (!(await adoptRun(v, loaded.t, loaded.bytes, loaded.note, describe))) return;
  const message = v.display.status().text;
  play(v);
  v.setStatus(message, "training");
}

export async function trainFromScratch(v) {
  leaveWatching(v);
  v.display.hideScratch();
  await replaceTrainer(v, v.state.settings, { stop: true });
  play(v);
}
