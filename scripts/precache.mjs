// trunk post-build hook (after csp.mjs, which changes index.html): writes the build's file list
// and version into its service worker (sw.js at the build's root, copied from www/sw.js), so a
// visit caches the whole build and a new build is a new sw.js that the browser notices.
//
// `precache`: every file of the build, fetched when the worker installs; `lazy`: the demo's
// full-state run files (`*-full.alam`, 2.3 MB, fetched only when "Train on" is clicked), cached
// when first fetched. Not listed: sw.js itself, and www/'s copy of it. The version is the first
// 16 hex digits of a SHA-256 over every listed path and its contents: the same files give the
// same version, a changed byte gives another.
//
// Usage: node scripts/precache.mjs (TRUNK_STAGING_DIR, set by trunk, or dist/). Idempotent: it
// rewrites the list in place, so it can run again over a changed build.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR ?? "dist";
const SW = "sw.js";
const SKIP = new Set([SW, "www/sw.js"]);
const LAZY = /-full\.alam$/;

/** Every file under `root`, as paths relative to it with "/" separators, sorted. */
function files(root) {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)).split(sep).join("/"))
    .sort();
}

const listed = files(dir).filter((path) => !SKIP.has(path));
const hash = createHash("sha256");
for (const path of listed) hash.update(`${path}\0`).update(readFileSync(join(dir, path))).update("\0");
const build = {
  version: hash.digest("hex").slice(0, 16),
  precache: listed.filter((path) => !LAZY.test(path)),
  lazy: listed.filter((path) => LAZY.test(path)),
};

const file = join(dir, SW);
const source = readFileSync(file, "utf8");
const line = /^const BUILD = .*;$/m;
if (!line.test(source)) throw new Error(`no "const BUILD = …;" line in ${file} to write the build into`);
writeFileSync(file, source.replace(line, () => `const BUILD = ${JSON.stringify(build)};`));
console.log(`precache: build ${build.version}, ${build.precache.length} files precached, ${build.lazy.length} lazy`);
