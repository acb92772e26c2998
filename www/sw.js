// The service worker: the page works offline after one online visit. Copied to the build's root
// (index.html), so its scope is the whole build: the page, widget.js, www/, examples/.
//
// It keeps one build at a time in the Cache Storage, under a name with the build's version:
// `BUILD` below is written by scripts/precache.mjs after each build (the build's files and a hash
// of their contents), so a new build is a new sw.js, which the browser notices on the next
// online visit. Then the new worker fetches the new build whole (install) and waits; the page
// (www/offline.js) says "a new version is ready" and, on Reload, tells it to take over (the old
// build's files are never mixed with the new one's in one page). Once no page runs the old build,
// the new one takes over by itself and deletes the old cache.
//
// Requests for the build's files are answered from the cache, falling back to the network
// (cache-first); `precache` files are fetched at install, `lazy` ones (large, fetched only on a
// click) when first asked for. Anything else (another origin, a path outside the build) goes to
// the network untouched.

/** The build: `version` (a hash of its files), `precache` and `lazy` (paths relative to the
 *  build's root). Written by scripts/precache.mjs; the source's empty lists cache nothing. */
const BUILD = { version: "source", precache: [], lazy: [] };

const SCOPE = new URL(self.registration.scope);
/** Caches of this build's scope: several builds on one origin (two sites under one github.io
 *  host) keep theirs apart. */
const PREFIX = `alam-playground ${SCOPE.pathname} `;
const CACHE = PREFIX + BUILD.version;
const FILES = new Set([...BUILD.precache, ...BUILD.lazy]);

self.addEventListener("install", (event) => {
  // `reload`: past the HTTP cache, so a stale file of the previous build cannot get in.
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(BUILD.precache.map((path) => new Request(new URL(path, SCOPE), { cache: "reload" })))),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "version") event.ports[0]?.postMessage(BUILD.version);
  // The page's Reload: the waiting new build takes over now (offline.js then reloads the page).
  if (event.data?.type === "take-over") self.skipWaiting();
});

/** The build's path of `url` ("" and "dir/" name their index.html), or null outside the build. */
function buildPath(url) {
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(SCOPE.pathname)) return null;
  let path = decodeURIComponent(url.pathname.slice(SCOPE.pathname.length));
  if (path === "" || path.endsWith("/")) path += "index.html";
  return FILES.has(path) ? path : null;
}

self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const path = buildPath(new URL(event.request.url));
  if (path) event.respondWith(cacheFirst(path));
});

/** The build's file at `path` from the cache (whatever the query: the page's settings live in
 *  it), else from the network, kept for next time. */
async function cacheFirst(path) {
  const url = new URL(path, SCOPE).href;
  const cache = await caches.open(CACHE);
  const hit = await cache.match(url, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(url);
  if (response.ok) await cache.put(url, response.clone());
  return response;
}
