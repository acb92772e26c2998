// This browser's autosave: the newest run of the page, kept in IndexedDB so that a reload
// resumes it (app.js decides when to save and whether a saved run is the one the URL asks for).

const DB = { name: "alam-playground", store: "runs", key: "autosave" };

/** One IndexedDB request on the autosave store, as a promise. */
function request(mode, make) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB.name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(DB.store);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(DB.store, mode);
      const req = make(tx.objectStore(DB.store));
      tx.oncomplete = () => {
        db.close();
        resolve(req.result);
      };
      tx.onerror = () => reject(tx.error);
      // A commit that fails (no room left: QuotaExceededError) may only abort the transaction.
      tx.onabort = () => {
        db.close();
        reject(tx.error ?? new Error("the IndexedDB transaction was aborted"));
      };
    };
  });
}

/** The autosaved run, `{ settings, bytes, steps, savedAt }`, or undefined. Rejects where the
 *  browser has no IndexedDB (private mode). */
export const readAutosave = () => request("readonly", (store) => store.get(DB.key));

/** Replaces the autosaved run with `{ settings, bytes, steps, savedAt }`. Rejects where there is
 *  no IndexedDB or no room left. */
export const writeAutosave = (run) => request("readwrite", (store) => store.put(run, DB.key));

/** Forgets the autosaved run (Reset, or a file that cannot be read); never rejects. */
export const dropAutosave = () => request("readwrite", (store) => store.delete(DB.key)).catch(() => {});

/** Same run? Settings compared field by field, whatever their order. */
export const sameSettings = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
