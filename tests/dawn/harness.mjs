// The page's own trainer under Node, without a browser: the trunk build's wasm (`alam.js` +
// `alam_bg.wasm`) on the CPU path, and on WebGPU through Dawn — Chrome's WebGPU implementation,
// npm's `webgpu` package — on whatever Vulkan driver the Vulkan loader finds (VK_ICD_FILENAMES
// or VK_DRIVER_FILES name one: SwiftShader here, the NVIDIA driver on a GPU machine). Shared by
// bench/dawn.mjs and tests/dawn/dawn.test.mjs. NOTES.md ("The page's WebGPU outside a browser")
// tells how this was found to work.
import { webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = new URL("../../", import.meta.url).pathname;
/** The static build to run (ALAM_DIST runs another). */
export const DIST = process.env.ALAM_DIST ?? join(ROOT, "dist");
/** Debian chromium's SwiftShader Vulkan driver (a CPU emulation of a GPU): the ICD file. */
export const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/**
 * Loads the page's wasm into this process with Dawn as `navigator.gpu`; resolves to
 * `{ core, adapter }`: `core` the wasm bindings (`WebTrainer`, `checkSettings`, …, as the page's
 * `window.wasmBindings`), `adapter` the adapter Dawn offers the page
 * (`{ vendor, architecture, device, description }`), or null when Dawn found none (no Vulkan
 * loader, no driver): `WebTrainer.create(…, "webgpu")` then refuses as the page would. Call once
 * per process: the wasm keeps one WebGPU device per instance. Throws if `dist` has no build.
 */
export async function loadPage(dist = DIST) {
  const { create, globals } = await import("webgpu");
  Object.assign(globalThis, globals);
  const gpu = create([]);
  // The page reads `navigator.gpu` (Node 20 has no `navigator`; Node 21 on has one without gpu).
  if (globalThis.navigator) Object.defineProperty(globalThis.navigator, "gpu", { value: gpu, configurable: true });
  else globalThis.navigator = { gpu };
  // wgpu's WebGPU backend runs only on "the main thread or a dedicated worker", which it tells
  // by `globalThis instanceof Window`: this process is the page's main thread.
  globalThis.Window = class Window {
    static [Symbol.hasInstance](x) {
      return x === globalThis;
    }
  };
  // The wasm seeds its thread RNG from Web Crypto, global from Node 19 on (Debian's Node 18,
  // which scripts/gpu-dawn.sh may bring, has it only as node:crypto's `webcrypto`).
  globalThis.crypto ??= webcrypto;
  const found = await gpu.requestAdapter();
  const info = found?.info;
  const adapter = info
    ? { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description }
    : null;
  let js, wasm;
  try {
    js = join(dist, "alam.js");
    wasm = readFileSync(join(dist, "alam_bg.wasm"));
  } catch (e) {
    throw new Error(`no page build in ${dist} (run \`trunk build\` first, or set ALAM_DIST): ${e.message}`);
  }
  const core = await import(pathToFileURL(js).href);
  core.initSync({ module: wasm });
  return { core, adapter };
}

/** Whether the wasm has the population API (`seeds` setting, `WebTrainer.seeds()`). */
export function hasPopulations(core) {
  return typeof core.WebTrainer.prototype.seeds === "function";
}

/**
 * Tolerance of the WebGPU path against the CPU path, relative (absolute below magnitude 1): the
 * browser tests' (tests/browser/page.test.mjs, "CPU fallback and WebGPU run real updates that
 * agree with the native run"), for the same reason — WebGPU's kernels sum in other orders than
 * the CPU's, which moves f32 results by far less than this and far less than any learning effect.
 */
export const WEBGPU_REL_TOLERANCE = 1e-2;

/** The update statistics compared: the browser tests' list plus the temperature's own loss. */
export const COMPARED = ["critic_loss", "cost_critic_loss", "actor_loss", "alpha_loss", "alpha", "lambda_mean", "multiplier_loss"];

/**
 * The first `updates` update records of a fresh run of `settings` on `backend` ("cpu" or
 * "webgpu"); `settings` should set `log_every: 1` (a record per update) and `total_steps` to
 * `learning_starts + updates` (the run's end reads every update still on the device). Returns
 * `{ backend, records }`: the trainer's own words for its device, and the update records in
 * order, seed by seed (`seed_index`, 0 to N − 1 in a population of N). Throws what
 * `WebTrainer.create` throws (an Error with `field` for a refused setting), or if the run ends
 * with fewer records.
 */
export async function firstUpdates(core, settings, backend, updates) {
  const t = await core.WebTrainer.create(settings, backend);
  try {
    const records = [];
    let report;
    do {
      report = await t.run(1_000_000, 1e9);
      records.push(...report.records.filter((r) => r.kind === "update"));
    } while (!report.done);
    const seeds = typeof t.seeds === "function" ? t.seeds() : 1;
    // Seed by seed, each in update order (Array.sort is stable).
    records.sort((a, b) => (a.seed_index ?? 0) - (b.seed_index ?? 0) || a.updates - b.updates);
    if (records.length < updates * seeds) {
      throw new Error(`${backend}: ${records.length} update records, expected ${updates * seeds}`);
    }
    return { backend: t.backend(), records };
  } finally {
    t.free();
  }
}

/**
 * Compares two runs' update records pairwise (same order: same seed, same update). Returns
 * `{ worst, disagreements }`: `worst` the largest |a − b| / max(1, |a|) over every compared
 * statistic, `disagreements` one line for each statistic over `rel` (empty when they agree).
 */
export function compareUpdates(reference, other, rel = WEBGPU_REL_TOLERANCE) {
  const disagreements = [];
  let worst = 0;
  if (reference.length !== other.length) {
    disagreements.push(`${reference.length} update records against ${other.length}`);
  }
  for (let i = 0; i < Math.min(reference.length, other.length); i++) {
    const a = reference[i], b = other[i];
    const where = `seed ${a.seed_index ?? 0}, update ${a.updates}`;
    if ((a.seed_index ?? 0) !== (b.seed_index ?? 0) || a.updates !== b.updates) {
      disagreements.push(`${where}: paired with seed ${b.seed_index ?? 0}, update ${b.updates}`);
      continue;
    }
    for (const k of COMPARED) {
      const x = a[k], y = b[k];
      const deviation = Math.abs(x - y) / Math.max(1, Math.abs(x));
      if (!(deviation <= rel)) disagreements.push(`${where}: ${k} ${x} against ${y}`);
      if (Number.isFinite(deviation)) worst = Math.max(worst, deviation);
    }
  }
  return { worst, disagreements };
}
