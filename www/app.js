// One trainer view: a run of the wasm core, trained in a Web Worker of its own (remote.js: at
// full speed the worker streams slice after slice, else it runs a slice per frame or per Step),
// with its life around it — starting, replacing, saving, loading, autosaving, the pretrained
// demo, a lost WebGPU device. This thread only draws and answers the user. Data flows one way:
// the core's reports go to the display (display.js: charts, scene, heat map, counters); the
// settings form is controls.js; this browser's autosave store is autosave.js; run files in and
// out are runfile.js. The page (main.js) and each `<alam-trainer>` widget (widget.js) make one,
// in their own root.
import { Display, runTitle } from "./display.js";
import { acceptedPage, acceptedSettings, BUDGET_MS, changedSettings, checkWith, committed, Controls, messageOf, SPEEDS, writeQuery } from "./controls.js";
import { chooseBackend, DEVICE_MS, gpuLost, GpuLostError, onWebGpu, unlessLost, whenGpuLost } from "./device.js";
import { dropRun, findRun, MAX_SAVED_RUNS, TabRun } from "./autosave.js";
import { download, fetchRunFile, readRunFile, runFileName } from "./runfile.js";
import { wireExports } from "./export.js";

const HEATMAP_EVERY_MS = 3000;
/** A point-goal map is drawn again when the scene shows other hazards or another goal, at most
 *  this often (λ(s) depends on them: the robot sees them through its lidar). */
const HEATMAP_LAYOUT_MS = 500;
const HEATMAP_CELLS = 32;
/** How often a playing run is saved to this browser's IndexedDB (and at every pause). */
const AUTOSAVE_EVERY_MS = 15_000;
/** How long a failed call on WebGPU waits to hear whether the device was lost. */
const LOSS_HEARD_MS = 2000;
/** Watched episodes kept one by one (for tests and scripts: `watched().list`). */
const WATCHED_KEPT = 1000;

/** What a heat map depends on besides the networks: a point-goal scene's hazards and goal (the
 *  robot sees them through its lidar); null for the other envs, whose maps do not depend on the
 *  scene. */
const layoutOf = (scene) => (scene?.env === "point-goal" ? JSON.stringify([scene.hazards, scene.goal]) : null);

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
export function createTrainerView(root, core, { settings, page: pageOptions, url = false, autosave: useAutosave = false, pretrained = null, pretrainedFull = null, runFile = null, heading = null }) {
  const state = {
    trainer: null,
    settings: {}, // what the URL says and the trainer runs (partial: the core fills in the rest)
    config: null, // the trainer's full config
    page: null, // { backend, autoplay, speed }
    playing: false,
    done: false,
    label: null, // the trainer's device, as the core says it ("WebGPU", "CPU — why")
    choice: {}, // how "auto" chose it ({ backend, note, measured }, www/device.js)
    heatmapAt: 0,
    /** The hazards and goal the heat map on screen was drawn for (`layoutOf`). */
    heatmapLayout: null,
    timer: null, // { cancel } of the scheduled slice
    pendingResets: 0,
    resume: false,
    autosavedAt: 0,
    /** Given settings the core refused at the start (the run uses the defaults instead). */
    refused: [],
    /** Whether the trainer runs on the WebGPU device (its calls are given up if it is lost). */
    onGpu: false,
    /** The newest save of this run ({ bytes, steps }): where it goes on after a lost device. */
    lastSave: null,
    recovering: false,
    // The run was playing when a failure stopped it (a lost device may be heard only after).
    failedWhilePlaying: false,
    /** Watching the pretrained demo: its policy acts (`WebTrainer.watch`), nothing learns. */
    watching: false,
    /** What the status line says while watching (Play comes back to it). */
    watchStatus: "",
    /** Finished watched episodes: { episodes, violations, return } summed, and the first
     *  WATCHED_KEPT of them one by one (`list`: { return, violations }). */
    watched: { episodes: 0, violations: 0, return: 0, list: [] },
  };

  /** What scripts and tests read (`window.alamPage`, a widget's `element.alam`). */
  const view = {
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
    play: () => play(),
    pause: () => pause(),
    /** The device that trains ("WebGPU", "CPU …", the core's label) and how it was chosen. */
    device: () => ({ label: state.label, onGpu: state.onGpu, ...state.choice }),
    /** How many times "auto" measured WebGPU against the CPU in this view. */
    measurements: 0,
    /** What each chart draws (uPlot's data), `{return: [[steps…], [series…]…], …}`. */
    plotted: () => display.charts.plotted(),
    /** Each chart's value axes as drawn, `{lambda: {y: [min, max]}, …}`. */
    ranges: () => display.charts.ranges(),
    /** Whether the pretrained demo is being watched (acting, not learning). */
    watching: () => state.watching,
    /** Finished watched episodes: { episodes, violations, return } summed, and `list`. */
    watched: () => ({ ...state.watched, list: state.watched.list.slice() }),
    /** Ends this view's run for good (a widget removed from its page): training stops and the
     *  trainer's worker ends, one still being made too. */
    dispose: () => dispose(),
    /** Seeds the run trains as one population (`WebTrainer.seeds`; null with no trainer). */
    seeds: () => state.trainer?.seeds() ?? null,
    /** The seed the scene and the heat map show (0-based; null with no trainer). */
    shownSeed: () => (state.trainer ? state.trainer.shownSeed() : null),
    /** Bytes of the wasm memory of the trainer's worker (null with no trainer). */
    wasmMemoryBytes: async () => (state.trainer ? state.trainer.memoryBytes() : null),
  };

  const display = new Display(root);
  wireExports(root, display, () => state.config);
  const setStatus = (text, kind) => display.setStatus(text, kind);
  let controls = null;
  /** The core's settings check behind the page's own (a seed beyond 2^53 − 1). */
  const check = checkWith(core.checkSettings);
  /** The saved run this tab shows (the page only: a widget does not autosave). */
  const tab = useAutosave ? new TabRun() : null;

  // One trainer call in flight at a time: every call that touches the trainer queues here, so
  // the page knows what the run has done when it replaces, saves or shows it (the worker too
  // answers its calls one at a time, in order).
  let queue = Promise.resolve();
  let busy = false;
  function exclusive(fn) {
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
  }
  view.busy = () => busy;

  /** A trainer call that is given up if the WebGPU device is lost meanwhile: a call on a lost
   *  device may never settle, and the page must not wait for it. */
  const guarded = (promise) => (state.onGpu ? unlessLost(promise) : promise);

  /** After a failed call of trainer `t`: is it for someone else to say? Yes if the WebGPU
   *  device was lost (recoverOnCpu says so and takes over; the worker's message of the loss may
   *  come a while after the call that ran into it fails, and a run said to have failed meanwhile
   *  would not go on playing after the recovery), or if `t` was replaced while it was asked. */
  async function handledElsewhere(e, t) {
    if (e instanceof GpuLostError || gpuLost()) return true;
    if (state.onGpu && (await Promise.race([whenGpuLost().then(() => true), new Promise((ok) => setTimeout(() => ok(false), LOSS_HEARD_MS))]))) return true;
    return t !== state.trainer;
  }

  /** A real failure of the core: shown in #status and logged. */
  function fail(context, e) {
    console.error(`${context}:`, e);
    // A lost device can be heard after the failure it caused (LOSS_HEARD_MS on a loaded
    // machine): the recovery then still knows the run was playing.
    state.failedWhilePlaying = state.playing;
    state.playing = false;
    cancelSlice();
    setStatus(`error: ${context}: ${messageOf(e)}`, "error");
    controls.setState(state.trainer ? (state.done ? "done" : "idle") : "none");
  }

  async function refreshHeatmap(trainer) {
    state.heatmapAt = performance.now();
    let hm;
    try {
      hm = await guarded(trainer.heatmap(HEATMAP_CELLS));
    } catch (e) {
      if (await handledElsewhere(e, trainer)) return;
      console.error("heat map failed:", e);
      display.heatmapFailed(messageOf(e));
      return;
    }
    if (trainer !== state.trainer) return;
    state.heatmapLayout = layoutOf(hm?.scene);
    display.setHeatmap(hm);
    view.lastHeatmap = display.heatmap;
    view.heatmapVersion += 1;
  }

  /** "Seed shown": the population's seed `i` is drawn in the scene and the heat map (its next
   *  episode steps, its λ(s)); training goes on for every seed. */
  async function showSeed(i) {
    const t = state.trainer;
    if (!t) return;
    try {
      display.setScene(await exclusive(() => guarded(t.showSeed(i))));
    } catch (e) {
      if (!(await handledElsewhere(e, t))) fail("could not show that seed", e);
      return;
    }
    if (t === state.trainer) await exclusive(() => refreshHeatmap(t));
  }
  const seedShown = root.getElementById("seed-shown");
  seedShown.addEventListener("change", () => showSeed(Number(seedShown.value)));

  // ---- the core's reports ------------------------------------------------------------------

  function handleReport(report) {
    report.records.forEach((r) => display.take(r));
    display.showCounters(report, state.config);
    const diverged = report.diverged ?? report.records.find((r) => r.kind === "diverged")?.message;
    if (diverged) {
      // A training outcome the core handled (last good weights kept), not a page failure.
      console.warn("training diverged:", diverged);
      finish(`diverged: ${diverged}`, "error");
    } else if (report.done) {
      finish("done", "done");
    }
  }

  function finish(text, kind) {
    state.done = true;
    state.playing = false;
    cancelSlice();
    setStatus(text, kind);
    controls.setState("done");
  }

  // ---- the training loop ------------------------------------------------------------------

  /** One slice of training (a step, or a frame's steps at a steps-per-frame speed), then the
   *  autosave and the heat map when due. */
  async function runSlice(maxSteps) {
    if (state.watching) return watchSlice(maxSteps);
    const t = state.trainer;
    if (!t || state.done) return;
    let report;
    try {
      report = await guarded(t.run(maxSteps, BUDGET_MS));
    } catch (e) {
      await sliceFailed(t, e);
      return;
    }
    if (t !== state.trainer) return;
    show(report);
    await chores(t);
  }

  /** A slice's report on screen: records, counters, scene (and the end of the run). */
  function show(report) {
    handleReport(report);
    display.setScene(report.scene);
  }

  async function sliceFailed(t, e) {
    if (t !== state.trainer || (await handledElsewhere(e, t))) return;
    fail("training failed", e);
  }

  /** The autosave and the heat map are due every few seconds, and once more when the run ends
   *  (so the final λ(s) stays on screen). */
  const autosaveDue = () => (useAutosave || state.onGpu) && (state.done || performance.now() - state.autosavedAt >= AUTOSAVE_EVERY_MS);
  const heatmapDue = () => state.done || performance.now() - state.heatmapAt >= HEATMAP_EVERY_MS || (followsScene() && layoutChanged());
  /** Whether the map follows the scene's layouts: at a pace a person can follow (watching, or a
   *  steps-per-frame speed); at full speed the layouts flicker past and a map for each would
   *  slow training (a GPU read each on WebGPU). */
  const followsScene = () => state.watching || state.page.speed !== "max";
  /** Whether the scene on screen shows other hazards or another goal than the heat map. */
  const layoutChanged = () =>
    display.heatmap !== null && layoutOf(display.scene) !== state.heatmapLayout && performance.now() - state.heatmapAt >= HEATMAP_LAYOUT_MS;
  async function chores(t) {
    if (t !== state.trainer) return; // replaced meanwhile
    if (autosaveDue()) await autosave(t);
    if (heatmapDue()) await refreshHeatmap(t);
  }

  /** Training at full speed: the worker trains slice after slice on its own (`play`), and each
   *  report is shown as it comes; the autosave and the heat map, when due, are asked for in
   *  between (the worker runs them between two slices). Returns how to stop it. */
  function stream(t) {
    let choring = false;
    const take = (report, error) => {
      // A replaced run's, or one about to be (its display is cleared for the next).
      if (t !== state.trainer || state.pendingResets > 0) return;
      if (error) {
        sliceFailed(t, error);
        return;
      }
      show(report);
      if (!choring && (state.playing || state.done) && (autosaveDue() || heatmapDue())) {
        choring = true;
        exclusive(() => chores(t)).finally(() => (choring = false));
      }
    };
    t.play(SPEEDS.get("max"), BUDGET_MS, take).catch((e) => sliceFailed(t, e));
    // Stopping answers once the worker has stopped (after its slice in flight, whose report
    // comes first).
    return { cancel: () => t.pause() };
  }

  /** One slice of watching: the policy acts in an environment of its own; nothing learns, so
   *  there is nothing to autosave, and the heat map is drawn again only for a new layout of
   *  hazards and goal (the core draws it over the watched environment). */
  async function watchSlice(maxSteps) {
    const t = state.trainer;
    if (!t) return;
    let report;
    try {
      report = await guarded(t.watch(maxSteps, BUDGET_MS));
    } catch (e) {
      if (t !== state.trainer || (await handledElsewhere(e, t))) return;
      fail("watching failed", e);
      return;
    }
    if (t !== state.trainer || !state.watching) return;
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
    if (layoutChanged()) await refreshHeatmap(t);
  }

  /** Stops scheduled training; returns the promise of a stopped stream (else undefined). */
  function cancelSlice() {
    const stopped = state.timer?.cancel();
    state.timer = null;
    stopped?.catch(() => {}); // a freed trainer, or a lost device: said elsewhere
    return stopped;
  }

  /** Schedules training: "as fast as possible" streams (`stream`), or, while the demo is
   *  watched, asks for slice after slice; a steps-per-frame speed runs one slice per animation
   *  frame. */
  function schedule() {
    if (!state.playing || state.timer) return;
    if (state.page.speed === "max" && !state.watching) {
      state.timer = stream(state.trainer);
    } else if (state.page.speed === "max") {
      const id = setTimeout(tick, 0);
      state.timer = { cancel: () => clearTimeout(id) };
    } else {
      const id = requestAnimationFrame(tick);
      state.timer = { cancel: () => cancelAnimationFrame(id) };
    }
  }

  async function tick() {
    state.timer = null;
    if (!state.playing) return;
    await exclusive(() => (state.playing ? runSlice(SPEEDS.get(state.page.speed) ?? 1) : undefined));
    schedule();
  }

  function play() {
    if (!state.trainer || state.done || state.playing) return;
    state.playing = true;
    state.failedWhilePlaying = false;
    controls.setState("playing");
    if (state.watching) setStatus(state.watchStatus, "watching");
    else setStatus("training", "training");
    schedule();
  }

  function pause() {
    if (!state.playing) return;
    state.playing = false;
    const stopped = cancelSlice();
    controls.setState("idle");
    setStatus("paused", "paused");
    // Settled (`busy()` false again) once the worker has stopped after its slice in flight,
    // whose report comes first, and the run is saved (not a watched demo: nothing learnt).
    const t = state.trainer;
    const save = !state.watching;
    exclusive(async () => {
      if (!t || t !== state.trainer) return;
      try {
        if (stopped) await guarded(stopped);
      } catch {
        return; // a lost device: recoverOnCpu takes over
      }
      if (save) await autosave(t);
    });
  }

  /** Stops training and ends the trainer's worker at once: its pending calls reject, so
   *  nothing queued waits on it (a call on a lost device may never return). */
  function dropTrainer() {
    state.playing = false;
    cancelSlice();
    state.trainer?.free();
    state.trainer = null;
    state.onGpu = false;
  }

  function dispose() {
    state.disposed = true;
    dropTrainer();
    state.lastSave = null;
  }

  async function step() {
    if (!state.trainer || state.done) return;
    pause();
    await exclusive(() => runSlice(1));
    // (Play pressed meanwhile: it trains, and says so.)
    if (!state.playing && !state.done && !display.status().kind.startsWith("error")) setStatus("paused", "paused");
  }

  // ---- trainers and settings ----------------------------------------------------------------

  /** The backend a trainer of `settings` is made on: the page's option, with "auto" resolved
   *  by measurement (device.js) — said in the notice while it measures. With `wait: false` a
   *  measurement is not waited for (device.js `chooseBackend`), and the caller says it. */
  function resolveBackend(settings, { wait = true } = {}) {
    return chooseBackend(core, settings, state.page.backend, {
      wait,
      onMeasure: () => {
        view.measurements += 1;
        if (!wait) return;
        display.showMeasuring(2 * DEVICE_MS / 1000);
        setStatus(`measuring which device trains faster here (at most ${2 * DEVICE_MS / 1000} s, once for these settings)…`, "loading");
      },
    });
  }

  /** Frees the current trainer and creates one for `settings` (after any call in flight), or
   *  adopts `made`, a trainer already made (a loaded run) with `note`, how its device was chosen.
   *  A run that was playing goes on playing with the new trainer unless `stop`; `forget` drops
   *  the run's save too (Reset), after any autosave in flight has landed. The new trainer is a
   *  new saved run, unless `run` ({ id, release }: `findRun`'s) names the one it goes on. */
  async function replaceTrainer(settings, { stop = false, made = null, note = null, forget = false, run = null } = {}) {
    if (state.disposed) {
      made?.free();
      return;
    }
    state.resume = !stop && (state.resume || state.playing);
    state.playing = false;
    cancelSlice();
    state.pendingResets += 1;
    leaveWatching();
    controls.setState("none");
    setStatus("starting a new run…", "loading");
    let notDropped = null;
    await exclusive(async () => {
      dropTrainer();
      if (forget && tab?.id) {
        try {
          await dropRun(tab.id);
        } catch (e) {
          console.warn("could not drop the run's save:", e);
          notDropped = messageOf(e);
        }
      }
      if (forget) view.autosaved = -1;
      await tab?.use(run?.id, run?.release);
      state.lastSave = null;
      state.done = false;
      display.clear();
      let t;
      try {
        if (made) {
          t = made;
          state.choice = { note };
        } else {
          const choice = await resolveBackend(settings);
          t = await core.WebTrainer.create(settings, choice.backend);
          state.choice = choice;
        }
        if (state.disposed) {
          t.free();
          return;
        }
        state.trainer = t;
        state.label = t.backend();
        state.onGpu = onWebGpu(state.label);
        state.config = t.config();
        // A population's charts draw bands; its counters say what they count (before the
        // records of a loaded run's history come).
        display.setSeeds(t.seeds(), state.config.seed);
        display.showShownSeed(t.shownSeed());
        showHeading();
        display.showBackend(state.label, state.choice.note);
        display.showCounters(null, state.config);
        display.setScene(t.scene());
      } catch (e) {
        display.showBackend(`no trainer (${messageOf(e)})`);
        display.renderHeatmap();
        fail("could not start the trainer", e);
        return;
      }
      await refreshHeatmap(t);
    });
    state.pendingResets -= 1;
    if (state.pendingResets > 0) return;
    if (!state.trainer) {
      controls.setState("none");
      state.resume = false;
      return;
    }
    controls.setState("idle");
    if (notDropped !== null) setStatus(`ready; the reset run's save could not be dropped from this browser (${notDropped}): its link may resume it`, "error");
    else setStatus("ready", "ready");
    const resume = state.resume;
    state.resume = false;
    if (resume) play();
  }

  // ---- autosave: a reload resumes the run -----------------------------------------------------

  /** Saves the run (call inside `exclusive`): to this browser's IndexedDB (the page: as this
   *  tab's run, `tab.id`), and in memory on WebGPU (where the run goes on on the CPU if the
   *  device is lost). A failed save is said in the status line; training goes on. */
  async function autosave(t) {
    if (!useAutosave && !state.onGpu) return;
    state.autosavedAt = performance.now();
    let bytes, steps, storeError, pruned;
    try {
      // The page's run is written to IndexedDB by its worker, in the same call as the save.
      ({ bytes, steps, storeError, pruned } = await guarded(useAutosave ? t.autosave(state.settings, tab.id) : t.save()));
    } catch (e) {
      if (await handledElsewhere(e, t)) return;
      console.warn("autosave failed:", e);
      setStatus(`autosave failed (${messageOf(e)}); the run goes on unsaved`, "error");
      return;
    }
    if (t !== state.trainer) return;
    state.lastSave = { bytes, steps };
    if (!useAutosave) return;
    if (storeError !== null) {
      // No IndexedDB, no room, or a newer save of this run: the run goes on, a reload will not
      // resume this step.
      console.warn("autosave to IndexedDB failed:", storeError);
      setStatus(`could not autosave to this browser (${storeError}); the run goes on unsaved`, "error");
      return;
    }
    view.autosaved = steps;
    if (pruned.length > 0) {
      const runs = pruned.map((r) => `${r.settings.env} ${r.settings.algo} seed ${r.settings.seed ?? 0} at step ${r.steps}`).join("; ");
      setStatus(`autosaved at step ${steps}; this browser keeps at most ${MAX_SAVED_RUNS} saved runs: dropped the oldest (${runs})`, state.playing ? "training" : "paused");
    }
  }

  /** Resumes this tab's saved run of the URL's settings (`findRun`): its own after a reload, a
   *  run no open tab holds, or a copy of one another tab holds (said). Returns whether it did;
   *  why not, if something failed, is `startNote`. */
  async function resumeAutosave() {
    let found;
    try {
      found = await findRun(state.settings);
    } catch (e) {
      console.warn("could not read this browser's saved runs:", e);
      startNote = `could not read this browser's saved runs (${messageOf(e)}): a new run`;
      return false;
    }
    if (!found) return false;
    let t, note;
    try {
      ({ t, note } = await loadOn(found.saved.bytes, state.settings));
    } catch (e) {
      found.release?.();
      console.warn("the saved run could not be read; starting afresh:", e);
      startNote = `the saved run at step ${found.from.steps} could not be read (${messageOf(e)}): a new run`;
      if (found.how !== "copy") await dropRun(found.id).catch((d) => console.warn("could not drop it either:", d));
      return false;
    }
    const describe =
      found.how === "copy"
        ? (steps) => `this run is open in another tab: this tab goes on from that tab's save at step ${steps} as a copy of its own, saved apart (Reset starts afresh)`
        : (steps) => `resumed from this browser's autosave at step ${steps} (Reset starts afresh)`;
    return adoptRun(t, found.saved.bytes, note, describe, "ready", { run: found });
  }

  /** A trainer from a saved run of `settings`, on the device "auto" picks for them. */
  async function loadOn(bytes, settings) {
    const choice = await resolveBackend(settings);
    return { t: await core.WebTrainer.load(bytes, choice.backend), note: choice.note };
  }

  /** Makes `t`, a trainer from the saved run `bytes`, the current one and shows where it
   *  stands; false if another run replaced it meanwhile (or it could not be read). `run`: the
   *  saved run it goes on (else it is a new one). */
  async function adoptRun(t, bytes, note, describe, kind = "ready", { watching = false, run = null } = {}) {
    await replaceTrainer(state.settings, { stop: true, made: t, note, run });
    if (state.trainer !== t) return false;
    let report;
    try {
      // The curves so far, from the file, and the counters (a run of no step). A population's
      // history comes seed by seed: taken in step order (seeds in order at one step).
      const history = await exclusive(() => guarded(t.history()));
      history.sort((a, b) => a.step - b.step).forEach((r) => display.take(r));
      display.requestDraw();
      report = await exclusive(() => guarded(t.run(0, 0)));
    } catch (e) {
      if (state.trainer === t && !(await handledElsewhere(e, t))) fail("could not show the loaded run", e);
      return false;
    }
    display.showCounters(report, state.config);
    state.lastSave = { bytes, steps: report.steps };
    // A full file goes on exactly; a weights-only one first refills its replay: said.
    view.loaded = { kind: t.loaded_kind(), note: t.load_note() };
    const refill = view.loaded.kind === "weights-only" && !watching ? ` (${view.loaded.note})` : "";
    setStatus(`${describe(report.steps)}${refill}`, kind);
    return true;
  }

  // ---- a lost WebGPU device: the run goes on on the CPU from its last save -------------------

  async function recoverOnCpu(info) {
    if (state.recovering || !state.onGpu || state.disposed) return;
    state.recovering = true;
    const wasPlaying = state.playing || state.resume || state.failedWhilePlaying;
    state.failedWhilePlaying = false;
    const wasWatching = state.watching;
    const speed = state.page.speed;
    const shown = state.trainer?.shownSeed() ?? 0; // a population's seed on screen stays
    dropTrainer();
    state.label = null;
    const why = `the WebGPU device was lost (${info.message})`;
    console.warn(`${why}; going on on the CPU`);
    setStatus(`${why}; going on on the CPU…`, "error");
    const save = state.lastSave;
    let ok = false;
    if (save) {
      try {
        const t = await core.WebTrainer.load(save.bytes, "cpu");
        const goesOn = (steps) => (wasWatching ? "watching the demo goes on on the CPU" : `training goes on on the CPU from the last save (step ${steps})`);
        const run = tab ? { id: tab.id } : null; // the same run goes on
        ok = await adoptRun(t, save.bytes, why, (steps) => `${why}: ${goesOn(steps)}`, "error", { watching: wasWatching, run });
        if (ok && wasWatching) enterWatching(display.status().text, speed);
        if (ok && shown > 0) {
          await showSeed(shown);
          display.showShownSeed(shown);
        }
      } catch (e) {
        console.warn("the last save could not be read on the CPU:", e);
      }
    }
    if (!ok) {
      await replaceTrainer(state.settings, { stop: true }); // on the CPU: the device is lost
      if (state.trainer) setStatus(`${why}, before any save: a fresh run on the CPU`, "error");
    }
    state.recovering = false;
    if (wasPlaying && state.trainer) {
      const message = display.status().text;
      play();
      setStatus(message, "error");
    }
  }
  whenGpuLost().then((info) => recoverOnCpu(info));

  // ---- save, load, share ------------------------------------------------------------------

  /** Downloads the run as one file: its whole training state ("Save run": "Load run" and
   *  `alam train --resume` go on exactly where it stopped), or with `weightsOnly` a small file
   *  of its networks and curves (which `alam eval --weights` and "Load run" read too). */
  async function saveRun(weightsOnly = false) {
    const t = state.trainer;
    if (!t) return;
    let bytes, steps;
    try {
      ({ bytes, steps } = await exclusive(() => guarded(weightsOnly ? t.save_weights_only() : t.save())));
    } catch (e) {
      if (await handledElsewhere(e, t)) return;
      // Said, and nothing else changes: a playing run goes on playing.
      console.error("could not save the run:", e);
      setStatus(`error: could not save the run: ${messageOf(e)}`, "error");
      return;
    }
    if (t === state.trainer && !weightsOnly) state.lastSave = { bytes, steps };
    const name = runFileName(state.config, steps, weightsOnly);
    try {
      download(bytes, name);
    } catch (e) {
      console.error("could not hand over the run file:", e);
      setStatus(`error: could not download ${name}: ${messageOf(e)}`, "error");
      return;
    }
    setStatus(`saved ${name}`, state.playing ? "playing" : "paused");
  }

  /** Loads a saved run. The core checks the file first (on the CPU); a refused file changes
   *  nothing. Then it is loaded on the device "auto" picks for its settings. */
  async function loadRun(file) {
    let t, bytes, config;
    try {
      bytes = await readRunFile(file);
      t = await core.WebTrainer.load(bytes, "cpu");
      config = t.config();
    } catch (e) {
      setStatus(`refused ${file.name}: ${messageOf(e)}`, "error");
      return;
    }
    const settings = committed({ ...state.settings, env: config.env, algo: config.algo }, config);
    let note = null;
    if (state.page.backend !== "cpu") {
      t.free();
      pause(); // the run on screen is being replaced: it lends the device to a measurement
      try {
        ({ t, note } = await loadOn(bytes, settings));
      } catch (e) {
        fail(`could not load ${file.name}`, e);
        return;
      }
    }
    state.settings = settings;
    remember();
    controls.clearAllErrors();
    controls.fill(state.settings, config);
    await adoptRun(t, bytes, note, (steps) => `loaded ${file.name}: step ${steps}, press Play to watch it and train on`);
  }

  async function copyLink() {
    try {
      await navigator.clipboard.writeText(location.href);
      setStatus("link copied: it reproduces this run's settings", state.playing ? "playing" : "ready");
    } catch (e) {
      setStatus(`could not copy the link (${messageOf(e)}); it is the address in the address bar`, "error");
    }
  }

  /** A field changed: check it with the core; refuse it beside the field, or start a run with it. */
  async function onSetting(field, value) {
    // A new env or algorithm brings its own defaults for the fields still at the old ones
    // (the multiplier's schedule, the threshold d); values set by hand stay.
    const candidate = changedSettings(state.settings, field, value, check);
    let config;
    try {
      config = check(candidate);
    } catch (e) {
      controls.showError(messageOf(e), field, e?.field); // refused: the current run goes on untouched
      return;
    }
    // Accepted: the form shows exactly the run that starts now (pending refusals are dropped).
    controls.clearAllErrors();
    state.settings = committed(candidate, config);
    remember();
    controls.fill(state.settings, config);
    await replaceTrainer(state.settings);
  }

  /** Keeps the address bar in step with the run (page only: a widget has no URL of its own);
   *  bare while the demo is watched. */
  function remember() {
    if (url && !state.watching) writeQuery(state.settings, state.page);
  }

  /** A trainer from the run file at `url`, on the device "auto" picks for its settings. */
  async function fetchRun(href) {
    const bytes = await fetchRunFile(href);
    return { bytes, ...(await loadOn(bytes, state.settings)) };
  }

  /** The form, the URL and the next fresh run take the settings of `config`, a loaded run's:
   *  every field agrees with the run on screen. */
  function adoptSettings(config) {
    state.settings = committed({ ...state.settings, env: config.env, algo: config.algo }, config);
    controls.clearAllErrors();
    controls.fill(state.settings, config);
  }

  /** The controls panel's heading: the `heading` option, or with "auto" the run's algorithm
   *  and env. */
  function showHeading() {
    const el = root.getElementById("controls-title");
    if (heading === null || !el) return;
    el.textContent = heading === "auto" ? runTitle(state.config) : heading;
  }

  /** A first visit: the pretrained demo, watched at one step per frame — its policy acts in an
   *  environment of its own and nothing learns — with its training curves from the file's
   *  history, and its settings in the form. "Train on" continues its training; "Train from
   *  scratch" starts afresh. Watching trains nothing, so it does not wait for "auto" to measure
   *  the devices: the demo plays on the CPU meanwhile (a few seconds), and training uses the
   *  measured choice. */
  async function showPretrained() {
    let bytes, t, choice;
    try {
      bytes = await fetchRunFile(pretrained);
      choice = await resolveBackend(state.settings, { wait: false });
      t = await core.WebTrainer.load(bytes, choice.backend);
    } catch (e) {
      console.warn("no pretrained demo; starting from scratch:", e);
      return false;
    }
    const config = t.config();
    adoptSettings(config);
    const describe = (steps) =>
      `watching the pretrained demo: ${runTitle(config)} after ${steps} steps (seed ${config.seed}), acting without learning — Train on continues its training, Train from scratch starts afresh`;
    if (!(await adoptRun(t, bytes, choice.note, describe, "ready", { watching: true }))) return false;
    enterWatching(display.status().text, "1");
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
    play();
    return true;
  }

  /** A widget's `src`: starts from the run file at `runFile`, as "Load run" would; null if it
   *  did, else why not. */
  async function startFromFile() {
    let run;
    try {
      run = await fetchRun(runFile);
    } catch (e) {
      return messageOf(e);
    }
    adoptSettings(run.t.config());
    const name = runFile.split("/").pop();
    const ok = await adoptRun(run.t, run.bytes, run.note, (steps) => `loaded ${name}: step ${steps}, press Play to train on`);
    return ok ? null : "it could not be shown";
  }

  /** The current trainer is watched (acting, not learning) at `speed` until a run replaces it. */
  function enterWatching(status, speed) {
    state.watching = true;
    state.watchStatus = status;
    state.watched = { episodes: 0, violations: 0, return: 0, list: [] };
    state.page.speed = speed;
    controls.setSpeed(speed);
    display.showWatched(state.watched);
    display.showWatching(true);
    setStatus(status, "watching");
  }

  /** Leaves the demo (for whatever replaces it: a changed setting, Reset, a loaded run, Train
   *  on, Train from scratch): the demo's rows and buttons go, and the speed is the page's own
   *  again. */
  function leaveWatching() {
    if (!state.watching) return;
    state.watching = false;
    display.showWatching(false);
    display.hideScratch();
    state.page.speed = pageOptions.speed ?? "max";
    controls.setSpeed(state.page.speed);
    // The address bar stays bare while the demo is watched (a reload shows the demo again);
    // from here on it reproduces the run on screen.
    remember();
  }


  /** "Train on": the demo's run continues training from `pretrainedFull` (its whole training
   *  state: it goes on exactly where the demo's run stopped); "Train from scratch" stays. */
  async function trainOn() {
    pause(); // while still watching: nothing to autosave
    leaveWatching();
    display.showScratch();
    controls.setState("none");
    setStatus("fetching the demo's run to train on…", "loading");
    let run;
    try {
      run = await fetchRun(pretrainedFull ?? pretrained);
    } catch (e) {
      fail("could not fetch the demo's run to train on", e);
      return;
    }
    const describe = (steps) => `training on the pretrained demo from step ${steps}`;
    if (!(await adoptRun(run.t, run.bytes, run.note, describe))) return;
    const message = display.status().text;
    play();
    setStatus(message, "training");
  }

  async function trainFromScratch() {
    leaveWatching();
    display.hideScratch();
    await replaceTrainer(state.settings, { stop: true });
    play();
  }

  controls = new Controls(root, {
    onPlay: play,
    onPause: pause,
    onStep: step,
    onReset: async () => {
      display.hideScratch();
      leaveWatching();
      controls.clearAllErrors();
      controls.fill(state.settings, state.config);
      replaceTrainer(state.settings, { stop: true, forget: true });
    },
    onScratch: trainFromScratch,
    onTrainOn: trainOn,
    onSetting,
    onSave: () => saveRun(false),
    onSaveWeights: () => saveRun(true),
    onLoad: loadRun,
    onCopyLink: copyLink,
    onSpeed: (speed) => {
      state.page.speed = speed;
      if (!state.watching) remember();
      if (state.playing) {
        // From streaming to a slice per frame, or back.
        cancelSlice();
        schedule();
      }
    },
  });
  const source = url ? "From the URL" : "From the element's attributes";
  const acceptedOptions = acceptedPage(pageOptions, controls, source);
  state.page = { ...acceptedOptions.page };
  controls.setSpeed(state.page.speed);
  const accepted = acceptedSettings(settings, check, controls, source);
  state.settings = accepted.settings;
  state.refused = [...acceptedOptions.refused, ...accepted.refused];
  /** What went wrong before the first run (reading this browser's saved runs), said once it
   *  starts. */
  let startNote = null;
  // A first visit keeps its bare address while the demo is watched (a reload shows it again).
  if (!pretrained) remember();
  controls.fill(state.settings, null);

  (async () => {
    if (useAutosave && (await resumeAutosave())) {
      // resumed where this browser left it
    } else if (runFile) {
      const why = await startFromFile();
      if (why) {
        remember();
        await replaceTrainer(state.settings, { stop: true });
        if (state.trainer) setStatus(`could not load the run file ${runFile} (${why}): a fresh run instead`, "error");
      }
    } else if (!(pretrained && (await showPretrained()))) {
      remember();
      await replaceTrainer(state.settings, { stop: true });
    }
    if (state.page.autoplay) play();
    // Said where it is always seen (a widget may hide its settings form), after Play's word.
    const now = state.playing ? "training" : "ready";
    if (state.refused.length > 0 && state.trainer) setStatus(`${now}, with defaults for what was refused: ${state.refused.join("; ")}`, "error");
    else if (startNote !== null && state.trainer) setStatus(`${now}; ${startNote}`, "error");
  })();

  return view;
}
