// A trainer view's autosave and resume: a playing run is saved every few seconds and at every
// pause — to this browser's IndexedDB on the page (autosave.js keeps the saved runs, one per
// run, a tab holding its own), and in memory on WebGPU (where recovery.js goes on from it if the
// device is lost) — and a reload resumes this tab's saved run. Each function takes `v`, the
// view's parts (app.js `createTrainerView`; `v.options.autosave`: to IndexedDB, as `v.tab`'s run).
import { messageOf } from "./controls.js";
import { dropRun, findRun, MAX_SAVED_RUNS } from "./autosave.js";
import { guarded, handledElsewhere } from "./recovery.js";
import { adoptRun, loadOn } from "./runs.js";

/** Saves the run of trainer `t` (call inside `exclusive`). A failed save is said in the
 *  status line; training goes on. */
export async function autosave(v, t) {
  const { state, run, view, setStatus } = v;
  const toStore = v.options.autosave;
  if (!toStore && !state.onGpu) return;
  state.autosavedAt = performance.now();
  let bytes, steps, storeError, pruned;
  try {
    // The page's run is written to IndexedDB by its worker, in the same call as the save.
    ({ bytes, steps, storeError, pruned } = await guarded(v, toStore ? t.autosave(state.settings, v.tab.id) : t.save()));
  } catch (e) {
    if (await handledElsewhere(v, e, t)) return;
    console.warn("autosave failed:", e);
    setStatus(`autosave failed (${messageOf(e)}); the run goes on unsaved`, "error");
    return;
  }
  if (t !== state.trainer) return;
  state.lastSave = { bytes, steps };
  if (!toStore) return;
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
    setStatus(`autosaved at step ${steps}; this browser keeps at most ${MAX_SAVED_RUNS} saved runs: dropped the oldest (${runs})`, run.playing ? "training" : "paused");
  }
}

/** Resumes this tab's saved run of the URL's settings (`findRun`): its own after a reload, a
 *  run no open tab holds, or a copy of one another tab holds (said). Returns whether it did;
 *  why not, if something failed, is `state.startNote`. */
export async function resumeAutosave(v) {
  const { state } = v;
  let found;
  try {
    found = await findRun(state.settings);
  } catch (e) {
    console.warn("could not read this browser's saved runs:", e);
    state.startNote = `could not read this browser's saved runs (${messageOf(e)}): a new run`;
    return false;
  }
  if (!found) return false;
  let t, note;
  try {
    ({ t, note } = await loadOn(v, found.saved.bytes, state.settings));
  } catch (e) {
    found.release?.();
    console.warn("the saved run could not be read; starting afresh:", e);
    state.startNote = `the saved run at step ${found.from.steps} could not be read (${messageOf(e)}): a new run`;
    if (found.how !== "copy") await dropRun(found.id).catch((d) => console.warn("could not drop it either:", d));
    return false;
  }
  const describe =
    found.how === "copy"
      ? (steps) => `this run is open in another tab: this tab goes on from that tab's save at step ${steps} as a copy of its own, saved apart (Reset starts afresh)`
      : (steps) => `resumed from this browser's autosave at step ${steps} (Reset starts afresh)`;
  return adoptRun(v, t, found.saved.bytes, note, describe, "ready", { run: found });
}
