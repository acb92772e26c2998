// A trainer view's runs: making a trainer (on the device "auto" picks), replacing the run on
// screen with a new, loaded or resumed one, and showing where a loaded run stands. The run's
// state (runstate.js) is `starting` or `resuming` while one is made. Each function takes `v`,
// the view's parts (app.js `createTrainerView`).
import { runTitle } from "./display.js";
import { committed, messageOf, writeQuery } from "./controls.js";
import { chooseBackend, DEVICE_MS, onWebGpu } from "./device.js";
import { dropRun } from "./autosave.js";
import { fetchRunFile } from "./runfile.js";
import { leaveWatching } from "./demo.js";
import { cancelSlice, fail, playing, refreshHeatmap } from "./loop.js";
import { guarded, handledElsewhere } from "./recovery.js";

/** The backend a trainer of `settings` is made on: the page's option, with "auto" resolved by
 *  measurement (device.js) — said in the notice while it measures. With `wait: false` a
 *  measurement is not waited for (device.js `chooseBackend`), and the caller says it. */
export function resolveBackend(v, settings, { wait = true } = {}) {
  return chooseBackend(v.core, settings, v.state.page.backend, {
    wait,
    onMeasure: () => {
      v.view.measurements += 1;
      if (!wait) return;
      v.display.showMeasuring(2 * DEVICE_MS / 1000);
      v.setStatus(`measuring which device trains faster here (at most ${2 * DEVICE_MS / 1000} s, once for these settings)…`, "loading");
    },
  });
}

/** Frees the current trainer and creates one for `settings` (after any call in flight), or
 *  adopts `made`, a trainer already made (a loaded run) with `note`, how its device was chosen.
 *  A run that was playing goes on playing with the new trainer unless `stop` (runstate.js:
 *  `start` / `restart`); `forget` drops the run's save too (Reset), after any autosave in flight
 *  has landed. The new trainer is a new saved run, unless `run` ({ id, release }: autosave.js
 *  `findRun`'s) names the one it goes on. Of replacements that overlap, the last one started
 *  says how it ended. */
export async function replaceTrainer(v, settings, { stop = false, made = null, note = null, forget = false, run: saved = null } = {}) {
  const { state, run } = v;
  leaveWatching(v);
  if (!run.send(stop ? "restart" : "start")) {
    made?.free(); // disposed
    return;
  }
  cancelSlice(v);
  const mine = ++state.starts;
  v.controls.setState(run.controls);
  v.setStatus("starting a new run…", "loading");
  let notDropped = null;
  await v.exclusive(async () => {
    dropTrainer(v);
    if (forget) notDropped = await forgetSave(v);
    await v.tab?.use(saved?.id, saved?.release);
    state.lastSave = null;
    v.display.clear();
    const t = await makeTrainer(v, settings, made, note);
    if (t) await refreshHeatmap(v, t);
  });
  if (mine !== state.starts || run.is("disposed")) return; // a newer replacement says it
  if (!state.trainer) {
    run.send("startFailed");
    v.controls.setState(run.controls);
    return;
  }
  run.send("ready");
  v.controls.setState("idle");
  if (notDropped !== null) v.setStatus(`ready; the reset run's save could not be dropped from this browser (${notDropped}): its link may resume it`, "error");
  else v.setStatus("ready", "ready");
  if (run.is("playing")) playing(v);
}

/** Drops this tab's saved run (Reset); null, or why it could not be. */
async function forgetSave(v) {
  v.view.autosaved = -1;
  if (!v.tab?.id) return null;
  try {
    await dropRun(v.tab.id);
    return null;
  } catch (e) {
    console.warn("could not drop the run's save:", e);
    return messageOf(e);
  }
}

/** The view's new trainer (`made`, or one made for `settings`) and the display set up for it;
 *  null if it could not be made (said) or the view was disposed meanwhile. */
async function makeTrainer(v, settings, made, note) {
  const { state, display } = v;
  let t;
  try {
    if (made) {
      t = made;
      state.choice = { note };
    } else {
      const choice = await resolveBackend(v, settings);
      t = await v.core.WebTrainer.create(settings, choice.backend);
      state.choice = choice;
    }
    if (v.run.is("disposed")) {
      t.free();
      return null;
    }
    state.trainer = t;
    state.label = t.backend();
    state.onGpu = onWebGpu(state.label);
    state.config = t.config();
    // A population's charts draw bands; its counters say what they count (before the records
    // of a loaded run's history come).
    display.setSeeds(t.seeds(), state.config.seed);
    display.showShownSeed(t.shownSeed());
    showHeading(v);
    display.showBackend(state.label, state.choice.note);
    display.showCounters(null, state.config);
    display.setScene(t.scene());
    return t;
  } catch (e) {
    display.showBackend(`no trainer (${messageOf(e)})`);
    display.renderHeatmap();
    fail(v, "could not start the trainer", e);
    return null;
  }
}

/** Stops training and ends the trainer's worker at once: its pending calls reject, so nothing
 *  queued waits on it (a call on a lost device may never return). */
export function dropTrainer(v) {
  const { state } = v;
  cancelSlice(v);
  state.trainer?.free();
  state.trainer = null;
  state.onGpu = false;
}

/** A trainer from a saved run of `settings`, on the device "auto" picks for them. */
export async function loadOn(v, bytes, settings) {
  const choice = await resolveBackend(v, settings);
  return { t: await v.core.WebTrainer.load(bytes, choice.backend), note: choice.note };
}

/** A trainer from the run file at `href`, on the device "auto" picks for its settings. */
export async function fetchRun(v, href) {
  const bytes = await fetchRunFile(href);
  return { bytes, ...(await loadOn(v, bytes, v.state.settings)) };
}

/** Makes `t`, a trainer from the saved run `bytes`, the current one and shows where it stands
 *  (its curves from the file, its counters; the status line says `describe(steps)` with `kind`);
 *  false if another run replaced it meanwhile (or it could not be read). `run`: the saved run
 *  it goes on (else it is a new one); `watching`: it is the demo (no word of a refill). */
export async function adoptRun(v, t, bytes, note, describe, kind = "ready", { watching = false, run = null } = {}) {
  const { state, display, view } = v;
  await replaceTrainer(v, state.settings, { stop: true, made: t, note, run });
  if (state.trainer !== t) return false;
  let report;
  try {
    // The curves so far, from the file, and the counters (a run of no step). A population's
    // history comes seed by seed: taken in step order (seeds in order at one step).
    const history = await v.exclusive(() => guarded(v, t.history()));
    history.sort((a, b) => a.step - b.step).forEach((r) => display.take(r));
    display.requestDraw();
    report = await v.exclusive(() => guarded(v, t.run(0, 0)));
  } catch (e) {
    if (state.trainer === t && !(await handledElsewhere(v, e, t))) fail(v, "could not show the loaded run", e);
    return false;
  }
  display.showCounters(report, state.config);
  state.lastSave = { bytes, steps: report.steps };
  // A full file goes on exactly; a weights-only one first refills its replay: said.
  view.loaded = { kind: t.loaded_kind(), note: t.load_note() };
  const refill = view.loaded.kind === "weights-only" && !watching ? ` (${view.loaded.note})` : "";
  v.setStatus(`${describe(report.steps)}${refill}`, kind);
  return true;
}

/** "Seed shown": the population's seed `i` is drawn in the scene and the heat map (its next
 *  episode steps, its λ(s)); training goes on for every seed. */
export async function showSeed(v, i) {
  const t = v.state.trainer;
  if (!t) return;
  try {
    v.display.setScene(await v.exclusive(() => guarded(v, t.showSeed(i))));
  } catch (e) {
    if (!(await handledElsewhere(v, e, t))) fail(v, "could not show that seed", e);
    return;
  }
  if (t === v.state.trainer) await v.exclusive(() => refreshHeatmap(v, t));
}

/** The form, the URL and the next fresh run take the settings of `config`, a loaded run's:
 *  every field agrees with the run on screen. */
export function adoptSettings(v, config) {
  v.state.settings = committed({ ...v.state.settings, env: config.env, algo: config.algo }, config);
  v.controls.clearAllErrors();
  v.controls.fill(v.state.settings, config);
}

/** Keeps the address bar in step with the run (page only: a widget has no URL of its own);
 *  bare while the demo is watched. */
export function remember(v) {
  if (v.options.url && !v.run.watching) writeQuery(v.state.settings, v.state.page);
}

/** The controls panel's heading: the `heading` option, or with "auto" the run's algorithm and
 *  env. */
function showHeading(v) {
  const el = v.root.getElementById("controls-title");
  if (v.options.heading === null || !el) return;
  el.textContent = v.options.heading === "auto" ? runTitle(v.state.config) : v.options.heading;
}
