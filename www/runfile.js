// Run files on the person's side: reading one they picked, fetching one by URL, and handing
// one over as a download. What is inside is the core's business (src/checkpoint.rs).

/** The core refuses larger run files too (checkpoint::MAX_BYTES); this spares reading them. */
export const MAX_RUN_BYTES = 256 * 1024 * 1024;

/** The bytes of a picked `File`; throws, with a sentence to show, when it is too large. */
export async function readRunFile(file) {
  if (file.size > MAX_RUN_BYTES) throw new Error(`the file is ${(file.size / 2 ** 20).toFixed(0)} MiB; a run file is at most ${MAX_RUN_BYTES / 2 ** 20} MiB`);
  return new Uint8Array(await file.arrayBuffer());
}

/** The bytes of the run file at `href`; throws on an HTTP error. */
export async function fetchRunFile(href) {
  const response = await fetch(href);
  if (!response.ok) throw new Error(`${href}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** The file name a saved run gets: env, algorithm, (first) seed and step, a population's size
 *  when `seeds` > 1, and whether it holds the weights only
 *  (`alam-point-goal-alam-s0-step2000-4seeds-weights.alam`). */
export const runFileName = (config, steps, weightsOnly, seeds = 1) =>
  `alam-${config.env}-${config.algo}-s${config.seed}-step${steps}${seeds > 1 ? `-${seeds}seeds` : ""}${weightsOnly ? "-weights" : ""}.alam`;

/** Hands `bytes` to the browser as a download named `name`. */
export function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
