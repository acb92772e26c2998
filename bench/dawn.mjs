// The page's own trainer — the trunk build's wasm, as the page runs it — under Node, on WebGPU
// through Dawn (npm's `webgpu`: Chrome's WebGPU implementation) and on the wasm CPU path, in the
// same process: agent-updates/s (each seed's updates/s × seeds) for populations of N seeds, at the
// page's preset (2×64, batch 64) and the paper's shape (2×256, batch 256). Dawn runs on whatever
// Vulkan driver the loader finds: the NVIDIA driver on a GPU machine (scripts/gpu-dawn.sh),
// SwiftShader here (`--swiftshader`: a CPU emulation, for correctness, not speed).
//
// First, once per process, the CPU path trains for `--warm-seconds` (V8 compiles hot wasm
// functions with its optimising tier only after they have run a while: bench/page_threads.mjs
// saw the page's first ~20 s of training run ~35% slower). Then each figure: a fresh trainer
// (point-goal by default, SAC-ALaM), a warm-up past the first host read (`sync_every` + 4
// updates: shader compilation, first allocations and the first sync period are not counted),
// then 40 ms slices of `WebTrainer.run` — the page's own calls, each update
// with its environment step — for at least `--seconds` and at least one sync period, ended by a
// GPU read that waits for every queued command (queued work is not counted as done).
//
// `--check`: no speed; the first `--updates` updates' statistics (log_every 1, the same seed) on
// WebGPU against the CPU path, within the browser tests' tolerance (tests/dawn/harness.mjs);
// exits 1 on a disagreement or a failed run. Needs `trunk build` first (ALAM_DIST=path runs another build).
//
// Usage: node bench/dawn.mjs [--check] [--swiftshader] [--json PATH] [--sizes 64,256]
//          [--seeds 1,4,16,64] [--backends webgpu,cpu] [--algo alam] [--env point-goal]
//          [--seconds 10] [--warm-seconds 20] [--updates 4]
// Prints a Markdown table (progress on stderr); `--json PATH` also appends one JSON line per
// figure to PATH.
import { appendFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DIST, SWIFTSHADER_ICD, compareUpdates, firstUpdates, hasPopulations, loadPage, WEBGPU_REL_TOLERANCE } from "../tests/dawn/harness.mjs";

const { values: opt } = parseArgs({
  options: {
    check: { type: "boolean", default: false },
    swiftshader: { type: "boolean", default: false },
    json: { type: "string" },
    sizes: { type: "string", default: "64,256" },
    seeds: { type: "string", default: "1,4,16,64" },
    backends: { type: "string", default: "webgpu,cpu" },
    algo: { type: "string", default: "alam" },
    env: { type: "string", default: "point-goal" },
    seconds: { type: "string", default: "10" },
    "warm-seconds": { type: "string", default: "20" },
    updates: { type: "string", default: "4" },
  },
});
const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
const numbers = (name) => {
  const xs = list(opt[name]).map(Number);
  if (xs.length === 0 || !xs.every((x) => Number.isInteger(x) && x > 0)) {
    console.error(`--${name} takes a comma list of positive integers, not "${opt[name]}"`);
    process.exit(2);
  }
  return xs;
};
const SIZES = numbers("sizes");
const SEEDS = numbers("seeds");
const SECONDS = Number(opt.seconds);
const WARM_SECONDS = Number(opt["warm-seconds"]);
const UPDATES = numbers("updates")[0];
const BACKENDS = list(opt.backends);
if (!BACKENDS.every((b) => b === "webgpu" || b === "cpu") || !(SECONDS > 0) || !(WARM_SECONDS >= 0)) {
  console.error("--backends takes webgpu and/or cpu; --seconds a positive number, --warm-seconds one ≥ 0");
  process.exit(2);
}
/** The page's slice of training per call (www/controls.js, BUDGET_MS). */
const SLICE_MS = 40;
const NAMES = { webgpu: "WebGPU", cpu: "CPU" };

// The loader reads this when Dawn starts, so before loadPage.
if (opt.swiftshader) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
const { core, adapter } = await loadPage();
const populations = hasPopulations(core);
const say = (line) => process.stderr.write(`${line}\n`);

/** The settings of one figure: `size` hidden units and batch rows, N seeds. */
function settingsFor(size, seeds, extra = {}) {
  return {
    env: opt.env, algo: opt.algo, seed: 0, hidden: size, batch_size: size, learning_starts: size,
    eval_every: 0, probe_every: 1_000_000_000, log_every: 1_000_000, total_steps: 1_000_000_000,
    ...(seeds > 1 ? { seeds } : {}), ...extra,
  };
}

/** Why N seeds cannot be measured with this build, or null when they can. */
function unmeasurable(seeds) {
  return seeds > 1 && !populations ? "needs the population API" : null;
}

/** Waits until every command queued so far has run: a GPU read (λ's heat map where the
 *  algorithm has a multiplier network, else the settled weights). On the CPU it costs little. */
async function drain(t) {
  if ((await t.heatmap(2)) === null) await t.saveWeightsOnly();
}

/**
 * One figure: `{ updates_per_s, agent_updates_per_s, updates, seconds }` for `settings` on
 * `backend` (`updates`: each seed's, counted; `seconds`: the window). Throws what
 * `WebTrainer.create` throws (a refused setting: an Error with `field`), or if the run diverged.
 */
async function measure(settings, backend) {
  const t = await core.WebTrainer.create(settings, backend);
  try {
    const seeds = typeof t.seeds === "function" ? t.seeds() : 1;
    const period = t.config().sync_every;
    let report = await t.run(0, 0);
    while (report.updates < period + 4) report = await t.run(1_000_000, SLICE_MS);
    await drain(t);
    const u0 = report.updates;
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000 || report.updates - u0 < period) {
      report = await t.run(1_000_000, SLICE_MS);
      if (report.diverged) throw new Error(`the run diverged: ${report.diverged}`);
    }
    await drain(t);
    const seconds = (performance.now() - t0) / 1000;
    const updates = report.updates - u0;
    return { updates_per_s: updates / seconds, agent_updates_per_s: (updates * seeds) / seconds, updates, seconds };
  } finally {
    t.free();
  }
}

const round = (x, digits = 3) => (x === null ? null : Number(x.toPrecision(digits)));
const gpuName = adapter ? `${adapter.vendor} ${adapter.architecture} (${adapter.description || adapter.device})` : "none";
console.log(`the page's trainer under Node ${process.version}, build ${DIST}; Dawn's adapter: ${gpuName}`);
if (!adapter && BACKENDS.includes("webgpu")) say("no WebGPU adapter: is a Vulkan loader (libvulkan1) and driver there? (--swiftshader uses chromium's)");

if (opt.check) {
  // The first updates of the same seed on both devices, one record per update.
  let failed = false;
  for (const size of SIZES) {
    for (const seeds of SEEDS) {
      const why = unmeasurable(seeds);
      const label = `2×${size}/batch ${size}, ${seeds} seed${seeds > 1 ? "s" : ""}`;
      if (why) {
        console.log(`${label}: ${why}`);
        continue;
      }
      const settings = settingsFor(size, seeds, { log_every: 1, total_steps: size + UPDATES });
      say(`${label}: ${UPDATES} updates on the CPU path, then on WebGPU`);
      try {
        const cpu = await firstUpdates(core, settings, "cpu", UPDATES);
        const gpu = await firstUpdates(core, settings, "webgpu", UPDATES);
        const { worst, disagreements } = compareUpdates(cpu.records, gpu.records);
        const verdict = disagreements.length ? "DISAGREE" : "agree";
        console.log(`${label}: ${gpu.records.length} update records ${verdict} (worst relative deviation ${worst.toExponential(2)}, tolerance ${WEBGPU_REL_TOLERANCE})`);
        disagreements.slice(0, 10).forEach((d) => console.log(`  ${d}`));
        failed ||= disagreements.length > 0;
      } catch (e) {
        // A refused setting (64 seeds where the page takes 16) is said, not a disagreement.
        console.log(`${label}: ${e.field ? `refused (${e.field}): ` : "failed: "}${e.message ?? e}`);
        failed ||= !e.field;
      }
    }
  }
  process.exit(failed ? 1 : 0);
}

console.log(`agent-updates/s (each seed's updates/s × seeds), ${opt.env}, ${opt.algo}, environment steps included; ≥ ${SECONDS} s per figure after the warm-up`);
if (WARM_SECONDS > 0) {
  say(`warming the wasm up: ${WARM_SECONDS} s of training on the CPU path`);
  const t = await core.WebTrainer.create(settingsFor(SIZES[0], 1), "cpu");
  const t0 = performance.now();
  while (performance.now() - t0 < WARM_SECONDS * 1000) await t.run(1_000_000, SLICE_MS);
  t.free();
}
const head = ["shape", "seeds", ...BACKENDS.map((b) => NAMES[b]), ...(BACKENDS.length === 2 ? ["WebGPU / CPU"] : [])];
console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
for (const size of SIZES) {
  for (const seeds of SEEDS) {
    const shape = `2×${size}, batch ${size}`;
    const cells = {};
    for (const backend of BACKENDS) {
      const why = unmeasurable(seeds);
      if (why) {
        cells[backend] = { error: why };
        continue;
      }
      say(`${shape}, ${seeds} seed${seeds > 1 ? "s" : ""}, ${NAMES[backend]}…`);
      try {
        cells[backend] = await measure(settingsFor(size, seeds), backend);
        say(`  ${round(cells[backend].agent_updates_per_s)} agent-updates/s (${cells[backend].updates} updates in ${cells[backend].seconds.toFixed(1)} s)`);
      } catch (e) {
        cells[backend] = { error: `${e.field ? "refused: " : "failed: "}${e.message ?? e}` };
        say(`  ${cells[backend].error}`);
      }
    }
    const rate = (b) => cells[b]?.agent_updates_per_s ?? null;
    const ratio = rate("webgpu") !== null && rate("cpu") !== null ? rate("webgpu") / rate("cpu") : null;
    const cell = (b) => cells[b].error ?? String(round(cells[b].agent_updates_per_s));
    console.log(`| 2×${size}/${size} | ${seeds} | ${BACKENDS.map(cell).join(" | ")}${BACKENDS.length === 2 ? ` | ${ratio === null ? "—" : `${round(ratio)}×`}` : ""} |`);
    for (const backend of opt.json ? BACKENDS : []) {
      const c = cells[backend];
      appendFileSync(opt.json, `${JSON.stringify({
        env: opt.env, algo: opt.algo, hidden: size, batch: size, seeds, backend,
        adapter: backend === "webgpu" ? gpuName : null, node: process.version, date: new Date().toISOString(),
        ...(c.error ? { error: c.error } : { agent_updates_per_s: round(c.agent_updates_per_s, 4), updates_per_s: round(c.updates_per_s, 4), updates: c.updates, seconds: round(c.seconds, 4) }),
      })}\n`);
    }
  }
}
