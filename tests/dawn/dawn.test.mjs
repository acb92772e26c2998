// The page's own WebGPU path outside a browser: the trunk build's wasm under Node, on Dawn (npm's
// `webgpu`, Chrome's WebGPU implementation) with Debian chromium's SwiftShader Vulkan driver, and
// on the wasm CPU path in the same process. The first updates of one tiny population must agree
// between the two, seed by seed: the small, CI-sized version of `node bench/dawn.mjs --check`,
// which a GPU machine runs at full size (scripts/gpu-dawn.sh). Needs `trunk build` first,
// chromium and the Vulkan loader (libvulkan1; scripts/setup.sh installs both).
// Run: node --test tests/dawn/
import { test } from "node:test";
import assert from "node:assert/strict";
import { SWIFTSHADER_ICD, compareUpdates, firstUpdates, loadPage, WEBGPU_REL_TOLERANCE } from "./harness.mjs";

// SwiftShader unless the caller names a driver; read by the Vulkan loader when Dawn starts.
process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;

/** Tiny (SwiftShader compiles each kernel in seconds): 8 units, batch 16, three updates after
 *  32 steps of the double integrator; SAC-ALaM, so every network and loss takes part; two seeds
 *  trained as one population (the page's stacked networks). ~60 s here under load 11, 23 s of CPU. */
const UPDATES = 3;
const TINY = {
  env: "double-integrator", algo: "alam", seed: 3, hidden: 8, batch_size: 16, learning_starts: 32,
  log_every: 1, total_steps: 32 + UPDATES, eval_every: 0, probe_every: 1000, seeds: 2,
};

test("the comparison refuses a statistic off by more than the tolerance, and only then", () => {
  const record = { kind: "update", updates: 1, critic_loss: 0.5, cost_critic_loss: 2, actor_loss: -3, alpha_loss: 0.01, alpha: 0.2, lambda_mean: 0.1, multiplier_loss: 0 };
  assert.deepEqual(compareUpdates([record], [{ ...record, actor_loss: -3 * (1 + WEBGPU_REL_TOLERANCE / 2) }]).disagreements, []);
  const off = compareUpdates([record], [{ ...record, actor_loss: -3 * (1 + 2 * WEBGPU_REL_TOLERANCE) }]);
  assert.deepEqual(off.disagreements, ["seed 0, update 1: actor_loss -3 against -3.06"]);
  // Below magnitude 1 the tolerance is absolute: 0.01 + 0.02 is off, a NaN always is.
  assert.equal(compareUpdates([record], [{ ...record, alpha_loss: 0.03 }]).disagreements.length, 1);
  assert.equal(compareUpdates([record], [{ ...record, critic_loss: NaN }]).disagreements.length, 1);
  assert.equal(compareUpdates([record, record], [record]).disagreements.length, 1);
});

test("the page's wasm trains on Dawn's WebGPU as on its CPU path: the first updates agree", { timeout: 240_000 }, async () => {
  const { core, adapter } = await loadPage();
  assert.ok(adapter, `Dawn found no WebGPU adapter (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}; is libvulkan1 installed?)`);
  const cpu = await firstUpdates(core, TINY, "cpu", UPDATES);
  const gpu = await firstUpdates(core, TINY, "webgpu", UPDATES);
  assert.match(cpu.backend, /^CPU/);
  assert.match(gpu.backend, /^WebGPU/);
  const order = (records) => records.map((r) => `${r.seed_index}:${r.updates}`);
  assert.deepEqual(order(gpu.records), order(cpu.records));
  assert.deepEqual([...new Set(cpu.records.map((r) => r.seed_index))], [0, 1], "both seeds' records");
  const { worst, disagreements } = compareUpdates(cpu.records, gpu.records);
  assert.deepEqual(disagreements, [], `WebGPU (${adapter.architecture}) against the CPU path`);
  console.log(`${gpu.records.length} update records on ${adapter.vendor} ${adapter.architecture}: worst relative deviation ${worst.toExponential(2)} (tolerance ${WEBGPU_REL_TOLERANCE})`);
});
