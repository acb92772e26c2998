// This browser's saved runs: every run the page trains is autosaved in IndexedDB under an id of
// its own, so that two tabs never write over each other's run and a reload resumes the tab's own.
// A tab keeps its run's id in sessionStorage (a reload of the tab keeps it; a new tab starts
// without one) and holds a Web Lock named after it while the run is on screen (`navigator.locks`,
// released when the tab closes or reloads), so another tab knows the run is open. app.js decides
// what to resume (`findRun`); the training worker writes (`writeRun`).
import { messageOf } from "./controls.js";

const DB = { name: "alam-playground", version: 2 };
/** Store "runs": id → { settings, bytes, steps, savedAt }; store "meta": id → the same without
 *  the bytes, and their size (`size`, bytes), so the list of runs is read without the runs. */
const RUNS = "runs";
const META = "meta";
/** At most this many saved runs, and this many bytes in all: past either, the oldest that no
 *  open tab holds are dropped (the run being saved is always kept). */
export const MAX_SAVED_RUNS = 8;
export const MAX_SAVED_BYTES = 512 * 2 ** 20;
const LOCK = "alam-playground:run:";
const TAB_KEY = "alam-playground:run";
/** How long a reloaded tab waits for its previous page to let go of its run's lock. */
const CLAIM_WAIT_MS = 2000;

/** The database, made or upgraded. Version 1 kept one run under the key "autosave": it becomes
 *  a saved run like any other. */
function openDb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB.name, DB.version);
    open.onupgradeneeded = (event) => {
      const db = open.result;
      if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS);
      const meta = db.createObjectStore(META);
      if (event.oldVersion === 1) {
        open.transaction.objectStore(RUNS).get("autosave").onsuccess = ({ target: { result: run } }) => {
          if (run) meta.put(metaOf("autosave", run), "autosave");
        };
      }
    };
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      open.result.onversionchange = () => open.result.close();
      resolve(open.result);
    };
  });
}

/** One transaction on `stores`: `body(tx, settle, fail)` makes its requests, `settle(value)`
 *  gives the value it resolves to once committed, `fail(error)` aborts it with that error.
 *  Rejects with the reason the transaction was aborted (a full disk: QuotaExceededError). */
async function transact(stores, mode, body) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    let value, failure;
    let tx;
    try {
      tx = db.transaction(stores, mode);
    } catch (e) {
      db.close();
      reject(e);
      return;
    }
    tx.oncomplete = () => {
      db.close();
      resolve(value);
    };
    tx.onabort = () => {
      db.close();
      reject(failure ?? tx.error ?? new DOMException("the IndexedDB transaction was aborted", "AbortError"));
    };
    body(
      tx,
      (v) => (value = v),
      (e) => {
        failure = e;
        tx.abort();
      },
    );
  });
}

const metaOf = (id, run) => ({ id, settings: run.settings, steps: run.steps, savedAt: run.savedAt, size: run.bytes.byteLength });

/** Every saved run's `{ id, settings, steps, savedAt, size }`, without their bytes. */
export const listRuns = () => transact([META], "readonly", (tx, settle) => (tx.objectStore(META).getAll().onsuccess = (e) => settle(e.target.result)));

/** The saved run `id`: `{ settings, bytes, steps, savedAt }`, or undefined. */
export const readRun = (id) => transact([RUNS], "readonly", (tx, settle) => (tx.objectStore(RUNS).get(id).onsuccess = (e) => settle(e.target.result)));

/** Forgets the saved run `id` (Reset, or a run that cannot be read). Rejects if it could not. */
export const dropRun = (id) =>
  transact([RUNS, META], "readwrite", (tx) => {
    tx.objectStore(RUNS).delete(id);
    tx.objectStore(META).delete(id);
  });

/** A save refused because the run's save in this browser is further on (another tab trained the
 *  same run further, or a late write): an older save never replaces a newer one. */
export class NewerSaveError extends Error {
  name = "NewerSaveError";
}

/**
 * Saves `run` ({ settings, bytes, steps }) as the run `id`, unless its save here is further on
 * (rejects with a NewerSaveError), then drops the oldest other runs past MAX_SAVED_RUNS or
 * MAX_SAVED_BYTES, except those in `held` (a Set of ids open in a tab). Resolves to the dropped
 * runs' `{ id, settings, steps, savedAt, size }`; rejects where there is no IndexedDB or no room.
 */
export function writeRun(id, run, held = new Set()) {
  const saved = { ...run, savedAt: Date.now() };
  return transact([RUNS, META], "readwrite", (tx, settle, fail) => {
    const meta = tx.objectStore(META);
    meta.getAll().onsuccess = ({ target: { result: all } }) => {
      const old = all.find((m) => m.id === id);
      if (old && old.steps > run.steps) {
        fail(new NewerSaveError(`this run's save in this browser is at step ${old.steps}, further on than step ${run.steps} (trained on in another tab?): not written over`));
        return;
      }
      tx.objectStore(RUNS).put(saved, id);
      meta.put(metaOf(id, saved), id);
      const others = all.filter((m) => m.id !== id).sort((a, b) => a.savedAt - b.savedAt);
      let count = others.length + 1;
      let bytes = others.reduce((sum, m) => sum + m.size, saved.bytes.byteLength);
      const dropped = [];
      for (const m of others) {
        if (count <= MAX_SAVED_RUNS && bytes <= MAX_SAVED_BYTES) break;
        if (held.has(m.id)) continue;
        tx.objectStore(RUNS).delete(m.id);
        meta.delete(m.id);
        dropped.push(m);
        count -= 1;
        bytes -= m.size;
      }
      settle(dropped);
    };
  });
}

/** "1.2 MB", "40 KB": a byte count for a person. */
export function formatBytes(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} KB`;
  return `${n} B`;
}

/** Why a save of `size` bytes could not be stored, for a person: the error's message or name;
 *  for a full disk (QuotaExceededError), how much room the run needs and how much this site has
 *  left (`navigator.storage.estimate()`). */
export async function whyNotStored(e, size) {
  if (e?.name !== "QuotaExceededError") return messageOf(e);
  let room = "";
  try {
    const { quota, usage } = await navigator.storage.estimate();
    room = `, this site has ${formatBytes(Math.max(0, quota - usage))} of its ${formatBytes(quota)} left`;
  } catch {
    room = ", and this browser does not say how much room is left";
  }
  const detail = e.message ? `: ${e.message}` : "";
  return `no room in this browser's storage (${e.name}${detail}): the run needs ${formatBytes(size)}${room}`;
}

// ---- which run a tab holds ----------------------------------------------------------------

/** A new run id. */
export const newRunId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

/** Takes the lock of run `id` for this tab: resolves to the function that lets it go, or null if
 *  another tab holds it (after waiting up to `waitMs`). Where the browser has no Web Locks (an
 *  insecure origin), every run reads as free. */
export function claimRun(id, waitMs = 0) {
  if (!globalThis.navigator?.locks) return Promise.resolve(() => {});
  return new Promise((resolve) => {
    const options = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
    navigator.locks
      .request(LOCK + id, options, (lock) => {
        if (!lock) return resolve(null);
        return new Promise((release) => resolve(release));
      })
      .catch(() => resolve(null)); // waited in vain (AbortError)
  });
}

/** The ids of the runs some tab holds now (none where the browser has no Web Locks). */
export async function heldRuns() {
  if (!globalThis.navigator?.locks) return new Set();
  const { held } = await navigator.locks.query();
  return new Set(held.map((l) => l.name).filter((n) => n.startsWith(LOCK)).map((n) => n.slice(LOCK.length)));
}

/** The run this tab shows: its id, kept in sessionStorage, and the lock held on it. */
export class TabRun {
  constructor() {
    this.id = null;
    this.release = null;
  }

  /** The id this tab kept (a reload keeps it), or null. */
  static kept() {
    try {
      return sessionStorage.getItem(TAB_KEY);
    } catch {
      return null; // storage off: a reload finds the run among the free ones instead
    }
  }

  /** The tab now shows run `id` (a new one when not given), holding its lock (`release`, when
   *  already claimed); the previous run's lock is let go. */
  async use(id = newRunId(), release = null) {
    if (id === this.id) return;
    this.release?.();
    this.id = id;
    this.release = release;
    try {
      sessionStorage.setItem(TAB_KEY, id);
    } catch {
      // storage off: as above
    }
    if (!release) {
      const claimed = await claimRun(id);
      if (this.id === id) this.release = claimed;
      else claimed?.();
    }
  }
}

/**
 * The saved run this tab resumes for `settings`, or null if none is saved:
 * - its own (the id it kept, same settings), once the page before the reload lets go of it:
 *   `{ how: "own" }`;
 * - else the most recently saved one of the same settings that no open tab holds:
 *   `{ how: "taken" }` (this tab takes it over);
 * - else the one another tab holds (its own, kept by a duplicated tab, or the most recent):
 *   `{ how: "copy" }`: this tab goes on from a copy of its save, under a new id.
 * Each answer has `{ id, release, saved, from }`: the id this tab's run has, the lock it holds
 * on it (null for a copy), the saved run ({ settings, bytes, steps, savedAt }) and which run it
 * came from. Rejects if IndexedDB cannot be read.
 */
export async function findRun(settings) {
  const kept = TabRun.kept();
  const runs = (await listRuns()).filter((r) => sameSettings(r.settings, settings)).sort((a, b) => b.savedAt - a.savedAt);
  const own = runs.find((r) => r.id === kept);
  const order = own ? [own, ...runs.filter((r) => r !== own)] : runs;
  for (const r of order) {
    const release = await claimRun(r.id, r === own ? CLAIM_WAIT_MS : 0);
    if (!release) continue;
    let saved;
    try {
      saved = await readRun(r.id);
    } catch (e) {
      release();
      throw e;
    }
    if (saved) return { id: r.id, release, saved, from: r, how: r === own ? "own" : "taken" };
    release();
  }
  if (order.length === 0) return null;
  const saved = await readRun(order[0].id);
  return saved ? { id: newRunId(), release: null, saved, from: order[0], how: "copy" } : null;
}

/** Same run? Settings compared field by field, whatever their order. */
export const sameSettings = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
