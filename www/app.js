// One trainer view: a run of the wasm core, trained in a Web Worker of its own (remote.js: at
// full speed the worker streams slice after slice, else it runs a slice per frame or per Step),
// with its life around it. This thread only draws and answers the user. Data flows one way: the
// core's reports go to the display (display.js: charts, scene, heat map, counters); the
// settings form is controls.js. The run's life is a state machine (runstate.js: its states and
// the transitions allowed, in one table), and its parts are modules of their own: the training
// loop (loop.js), making and replacing runs (runs.js), the pretrained demo (demo.js), the
// autosave and resume (resume.js, over autosave.js's store), a lost WebGPU device
// (recovery.js); run files in and out are runfile.js. This file ties them together: the view's
// parts, the buttons, Save, Load and a changed setting, and the first run. The page (main.js)
// and each `<alam-trainer>` widget (widget.js) make one, in their own root.
import { Display } from "./display.js";
import { acceptedPage, acceptedSettings, changedSettings, checkWith, committed, Controls, messageOf } from "./controls.js";
import { TabRun } from "./autosave.js";
import { download, readRunFile, runFileName } from "./runfile.js";
import { wireExports } from "./export.js";
import { RunState } from "./runstate.js";
import { cancelSlice, fail, pause, play, schedule, step } from "./loop.js";
import { adoptRun, adoptSettings, dropTrainer, fetchRun, loadOn, remember, replaceTrainer, showSeed } from "./runs.js";
import { leaveWatching, showPretrained, trainFromScratch, trainOn } from "./demo.js";
import { resumeAutosave } from "./resume.js";
import { guarded, handledElsewhere, recoverWhenLost } from "./recovery.js";

/**
 * Starts a trainer view in `root` (a Document or a ShadowRoot holding `trainerMarkup`).
 * - `core`: the wasm core, its trainers in workers of their own (remote.js `remoteCore`);
 * - `settings`: partial config (from the URL or the widget's attributes); `page`: {backend,
 *   autoplay, speed};
 * - `url`: keep the settings in the address bar; `autosave`: save the run to IndexedDB and
 *   resume this tab's run (www/autosave.js: one saved run per run, a tab holds its own);
 * - `pretrained`: a run file's URL to show first (a newcomer's first visit), watched: its policy
 *   acts without learning, its curves come from the file's history;
 * - `pretrainedFull`: the file "Train on" continues that run from (default: `pretrained`);
 * - `runFile`: a run file's URL to start from instead of a fresh run (a widget's `src`): loaded as
 *   "Load run" loads a file; if it cannot be, a fresh run of `settings` starts and says why;
 * - `heading`: the text of the controls panel's heading (a widget's `label`), or "auto" for the
 *   run's algorithm and env ("SAC-ALaM on point-goal"); null leaves it as it is.
 * Returns what scripts and tests read (`window.alamPage` on the page, `element.alam` on a widget).
 */
export function createTrainerView(root, core, options) {
  const { url = false, autosave = false, pretrained = null, pretrainedFull = null, runFile = null, heading = null } = options;
  const display = new Display(root);
  /** The view's parts, which every module's functions take: what they share. */
  const v = {
    root,
    core,
    options: { ...options, url, autosave, pretrained, pretrainedFull, runFile, heading },
    display,
    /** The run's life: its state and the transitions allowed (runstate.js). */
    run: new RunState(),
    state: {
      trainer: null,
      settings: {}, // what the URL says and the trainer runs (partial: the core fills in the rest)
      config: null, // the trainer's full config
      page: null, // { backend, autoplay, speed }
      label: null, // the trainer's device, as the core says it ("WebGPU", "CPU — why")
      choice: {}, // how "auto" chose it ({ backend, note, measured }, www/device.js)
      heatmapAt: 0,
      /** The hazards and goal the heat map on screen was drawn for (loop.js `layoutOf`). */
      heatmapLayout: null,
      timer: null, // { cancel } of the scheduled slice
      /** Runs started so far (runs.js `replaceTrainer`: the last one started says how it ended). */
      starts: 0,
      autosavedAt: 0,
      /** Given settings the core refused at the start (the run uses the defaults instead). */
      refused: [],
      /** What went wrong before the first run (reading this browser's saved runs), said once it
       *  starts. */
      startNote: null,
      /** Whether the trainer runs on the WebGPU device (its calls are given up if it is lost). */
      onGpu: false,
      /** The newest save of this run ({ bytes, steps }): where it goes on after a lost device. */
      lastSave: null,
      /** What the status line says while watching the demo (Play comes back to it). */
      watchStatus: "",
      /** Finished watched episodes: { episodes, violations, return } summed, and the first
       *  WATCHED_KEPT (demo.js) of them one by one (`list`: { return, violations }). */
      watched: { episodes: 0, violations: 0, return: 0, list: [] },
    },
    setStatus: (text, kind) => display.setStatus(text, kind),
    /** The core's settings check behind the page's own (a seed beyond 2^53 − 1). */
    check: checkWith(core.checkSettings),
    /** The saved run this tab shows (the page only: a widget does not autosave). */
    tab: autosave ? new TabRun() : null,
    controls: null,
  };
  v.view = publicView(v);
  v.exclusive = oneAtATime(v.view);
  wireExports(root, display, () => v.state.config);
  const seedShown = root.getElementById("seed-shown");
  seedShown.addEventListener("change", () => showSeed(v, Number(seedShown.value)));
  v.controls = wireControls(v);
  recoverWhenLost(v);
  startFirstRun(v);
  return v.view;
}

/** What scripts and tests read (`window.alamPage`, a widget's `element.alam`). */
function publicView(v) {
  const { state, display } = v;
  return {
    points: () => display.charts.points(),
    heatmapVersion: 0,
    lastHeatmap: null,
    /** The scene on screen (`WebTrainer.scene`, or the watched one). */
    scene: () => display.scene,
    /** Step of the last autosave (-1: none yet). */
    autosaved: -1,
    /** The last run loaded from a file: { kind: "full" | "weights-only", note }, or null. */
    loaded: null,
    config: () => state.config,
    play: () => play(v),
    pause: () => pause(v),
    /** The run's state (runstate.js: "playing", "paused", "watching", …). */
    runState: () => v.run.state,
    /** The device that trains ("WebGPU", "CPU …", the core's label) and how it was chosen. */
    device: () => ({ label: state.label, onGpu: state.onGpu, ...state.choice }),
    /** How many times "auto" measured WebGPU against the CPU in this view. */
    measurements: 0,
    /** What each chart draws (uPlot's data), `{return: [[steps…], [series…]…], …}`. */
    plotted: () => display.charts.plotted(),
    /** Each chart's value axes as drawn, `{lambda: {y: [min, max]}, …}`. */
    ranges: () => display.charts.ranges(),
    /** Whether the pretrained demo is being watched (acting, not learning). */
    watching: () => v.run.watching,
    /** Finished watched episodes: { episodes, violations, return } summed, and `list`. */
    watched: () => ({ ...state.watched, list: state.watched.list.slice() }),
    /** Ends this view's run for good (a widget removed from its page): training stops and the
     *  trainer's worker ends, one still being made too. */
    dispose: () => {
      v.run.send("dispose");
      dropTrainer(v);
      state.lastSave = null;
    },
    /** Seeds the run trains as one population (`WebTrainer.seeds`; null with no trainer). */
    seeds: () => state.trainer?.seeds() ?? null,
    /** The seed the scene and the heat map show (0-based; null with no trainer). */
    shownSeed: () => (state.trainer ? state.trainer.shownSeed() : null),
    /** Bytes of the wasm memory of the trainer's worker (null with no trainer). */
    wasmMemoryBytes: async () => (state.trainer ? state.trainer.memoryBytes() : null),
  };
}

/** One trainer call in flight at a time: every call that touches the trainer queues through
 *  the returned `exclusive(fn)`, so the page knows what the run has done when it replaces,
 *  saves or shows it (the worker too answers its calls one at a time, in order). Sets
 *  `view.busy()`. */
function oneAtATime(view) {
  let queue = Promise.resolve();
  let busy = false;
  view.busy = () => busy;
  return (fn) => {
    const next = queue.then(async () => {
      busy = true;
      try {
        return await fn();
      } finally {
        busy = false;
      }
    });
    queue = next.catch(() => {});
    return next;
  };
}

/** The settings form and the buttons, wired to the view; the accepted options in `v.state`. */
function wireControls(v) {
  const { state, display, options } = v;
  const controls = new Controls(v.root, {
    onPlay: () => play(v),
    onPause: () => pause(v),
    onStep: () => step(v),
    onReset: async () => {
      display.hideScratch();
      leaveWatching(v);
      controls.clearAllErrors();
      controls.fill(state.settings, state.config);
      replaceTrainer(v, state.settings, { stop: true, forget: true });
    },
    onScratch: () => trainFromScratch(v),
    onTrainOn: () => trainOn(v),
    onSetting: (field, value) => onSetting(v, field, value),
    onSave: () => saveRun(v, false),
    onSaveWeights: () => saveRun(v, true),
    onLoad: (file) => loadRun(v, file),
    onCopyLink: () => copyLink(v),
    onSpeed: (speed) => {
      state.page.speed = speed;
      if (!v.run.watching) remember(v);
      if (v.run.playing) {
        // From streaming to a slice per frame, or back.
        cancelSlice(v);
        schedule(v);
      }
    },
  });
  v.controls = controls;
  const source = options.url ? "From the URL" : "From the element's attributes";
  const acceptedOptions = acceptedPage(options.page, controls, source);
  state.page = { ...acceptedOptions.page };
  controls.setSpeed(state.page.speed);
  const accepted = acceptedSettings(options.settings, v.check, controls, source);
  state.settings = accepted.settings;
  state.refused = [...acceptedOptions.refused, ...accepted.refused];
  // A first visit keeps its bare address while the demo is watched (a reload shows it again).
  if (!options.pretrained) remember(v);
  controls.fill(state.settings, null);
  return controls;
}

/** The first run: this tab's autosaved run, else the `runFile`, else the demo, else a fresh
 *  run of the settings; then Play if asked, and what was refused or went wrong said. */
async function startFirstRun(v) {
  const { state, options } = v;
  if (options.autosave && (await resumeAutosave(v))) {
    // resumed where this browser left it
  } else if (options.runFile) {
    const why = await startFromFile(v);
    if (why) {
      remember(v);
      await replaceTrainer(v, state.settings, { stop: true });
      if (state.trainer) v.setStatus(`could not load the run file ${options.runFile} (${why}): a fresh run instead`, "error");
    }
  } else if (!(options.pretrained && (await showPretrained(v)))) {
    remember(v);
    await replaceTrainer(v, state.settings, { stop: true });
  }
  if (state.page.autoplay) play(v);
  // Said where it is always seen (a widget may hide its settings form), after Play's word.
  const now = v.run.playing ? "training" : "ready";
  if (state.refused.length > 0 && state.trainer) v.setStatus(`${now}, with defaults for what was refused: ${state.refused.join("; ")}`, "error");
  else if (state.startNote !== null && state.trainer) v.setStatus(`${now}; ${state.startNote}`, "error");
}

/** A widget's `src`: starts from the run file at `runFile`, as "Load run" would; null if it
 *  did, else why not. */
async function startFromFile(v) {
  const { runFile } = v.options;
  let run;
  try {
    run = await fetchRun(v, runFile);
  } catch (e) {
    return messageOf(e);
  }
  adoptSettings(v, run.t.config());
  const name = runFile.split("/").pop();
  const ok = await adoptRun(v, run.t, run.bytes, run.note, (steps) => `loaded ${name}: step ${steps}, press Play to train on`);
  return ok ? null : "it could not be shown";
}

/** Downloads the run as one file: its whole training state ("Save run": "Load run" and `alam
 *  train --resume` go on exactly where it stopped), or with `weightsOnly` a small file of its
 *  networks and curves (which `alam eval --weights` and "Load run" read too). */
async function saveRun(v, weightsOnly) {
  const { state } = v;
  const t = state.trainer;
  if (!t) return;
  let bytes, steps;
  try {
    ({ bytes, steps } = await v.exclusive(() => guarded(v, weightsOnly ? t.save_weights_only() : t.save())));
  } catch (e) {
    if (await handledElsewhere(v, e, t)) return;
    // Said, and nothing else changes: a playing run goes on playing.
    console.error("could not save the run:", e);
    v.setStatus(`error: could not save the run: ${messageOf(e)}`, "error");
    return;
  }
  if (t === state.trainer && !weightsOnly) state.lastSave = { bytes, steps };
  const name = runFileName(state.config, steps, weightsOnly, t.seeds());
  try {
    download(bytes, name);
  } catch (e) {
    console.error("could not hand over the run file:", e);
    v.setStatus(`error: could not download ${name}: ${messageOf(e)}`, "error");
    return;
  }
  v.setStatus(`saved ${name}`, v.run.playing ? "playing" : "paused");
}

/** Loads a saved run. The core checks the file first (on the CPU); a refused file changes
 *  nothing. Then it is loaded on the device "auto" picks for its settings. */
async function loadRun(v, file) {
  const { state } = v;
  let t, bytes, config;
  try {
    bytes = await readRunFile(file);
    t = await v.core.WebTrainer.load(bytes, "cpu");
    config = t.config();
  } catch (e) {
    v.setStatus(`refused ${file.name}: ${messageOf(e)}`, "error");
    return;
  }
  const settings = committed({ ...state.settings, env: config.env, algo: config.algo }, config);
  let note = null;
  if (state.page.backend !== "cpu") {
    t.free();
    pause(v); // the run on screen is being replaced: it lends the device to a measurement
    try {
      ({ t, note } = await loadOn(v, bytes, settings));
    } catch (e) {
      fail(v, `could not load ${file.name}`, e);
      return;
    }
  }
  state.settings = settings;
  remember(v);
  v.controls.clearAllErrors();
  v.controls.fill(state.settings, config);
  await adoptRun(v, t, bytes, note, (steps) => `loaded ${file.name}: step ${steps}, press Play to watch it and train on`);
}

async function copyLink(v) {
  try {
    await navigator.clipboard.writeText(location.href);
    v.setStatus("link copied: it reproduces this run's settings", v.run.playing ? "playing" : "ready");
  } catch (e) {
    v.setStatus(`could not copy the link (${messageOf(e)}); it is the address in the address bar`, "error");
  }
}

/** A field changed: check it with the core; refuse it beside the field, or start a run with it. */
async function onSetting(v, field, value) {
  // A new env or algorithm brings its own defaults for the fields still at the old ones (the
  // multiplier's schedule, the threshold d); values set by hand stay.
  const candidate = changedSettings(v.state.settings, field, value, v.check);
  let config;
  try {
    config = v.check(candidate);
  } catch (e) {
    v.controls.showError(messageOf(e), field, e?.field); // refused: the current run goes on untouched
    return;
  }
  // Accepted: the form shows exactly the run that starts now (pending refusals are dropped).
  v.controls.clearAllErrors();
  v.state.settings = committed(candidate, config);
  remember(v);
  v.controls.fill(v.state.settings, config);
  await replaceTrainer(v, v.state.settings);
}
