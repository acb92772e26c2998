// WebGPU API calls per update of the page's own trainer, counted in headless Chromium with the
// SwiftShader adapter: the prototypes are wrapped before any WebGPU use (an init script), the
// trainer warms up (shader compilation, first allocations, a full sync period), the counters are
// zeroed, and N more updates run — each with its environment step, as the page runs them. The
// counts do not depend on how fast the adapter is, so SwiftShader gives the figure a real GPU
// would. Prints one JSON line per algorithm × network size × population size. Needs `trunk
// build` first (ALAM_DIST=path serves another build).
//
// A population of N seeds (the `seeds` setting) trains as one: its update updates every seed, so
// the figure that matters is dispatches per agent-update (per update ÷ N), against the target
// 200/N + 10, and mapAsync per update of the population, against ≤ 1 per 8 updates.
//
// Each line also breaks the dispatches per update down by kernel (`kernels_per_update`): the
// name of each compute shader's entry point, as burn/CubeCL writes it, without its type
// specialisation and hash (elemwise_fuse: a fused elementwise kernel; matmul_entry; reduce_kernel;
// kernel_binop: an unfused binary op; full_kernel: a fill; slice_assign_kernel, copy_kernel, …).
//
// Usage: node bench/webgpu_calls.mjs [algos] [sizes] [seeds]   e.g.  node bench/webgpu_calls.mjs alam 64 1,16
//   algos: comma list of sac,lag,pid-lag,fac,alam (default all); sizes: comma list of 64,256
//   (hidden = batch; default both); seeds: comma list of N (default 1,4,16; N > 1 needs a build
//   with the population API, else its line says so). UPDATES_64, UPDATES_256 set the counted
//   updates (default 64 and 16);
//   SYNC_EVERY passes sync_every to the trainer (default: the trainer's own); WARM sets the
//   warm-up updates (default 20: past the first sync period at the default K = 16).
import { serve, open } from "../tests/browser/harness.mjs";

const algos = (process.argv[2] ?? "sac,lag,pid-lag,fac,alam").split(",");
const sizes = (process.argv[3] ?? "64,256").split(",").map(Number);
const seedCounts = (process.argv[4] ?? "1,4,16").split(",").map(Number);
const N = { 64: Number(process.env.UPDATES_64 ?? 64), 256: Number(process.env.UPDATES_256 ?? 16) };
/** The targets (issue 19): dispatches per agent-update for N seeds, mapAsync per update. */
const dispatchTarget = (seeds) => 200 / seeds + 10;
const MAP_ASYNC_TARGET = 1 / 8;

/** Runs in the page before its scripts: wraps each counted WebGPU entry point, and tallies the
 *  dispatches by kernel (each pipeline named after its shader's entry point). */
function wrapWebGpu() {
  const counts = { dispatchWorkgroups: 0, mapAsync: 0, submit: 0, writeBuffer: 0, createBuffer: 0 };
  const kernels = {};
  window.__gpuCalls = counts;
  window.__gpuKernels = kernels;
  const wrap = (proto, name, before = () => {}) => {
    if (!proto) return;
    const f = proto[name];
    proto[name] = function (...args) {
      counts[name] += 1;
      before(this, args);
      return f.apply(this, args);
    };
  };
  // "kernel_binop_c_f32_n_4_1a2b3c4d" → "kernel_binop": the entry point without types and hash.
  const kernelName = (code) => {
    const entry = /@compute[^\n]*\n\s*fn (\w+)\(/.exec(code ?? "")?.[1] ?? "unknown";
    return entry.replace(/_[0-9a-f]{8}$/, "").replace(/_f32.*$/, "").replace(/_(t|c|e|f|in|lhs)$/, "");
  };
  const name = (proto, method, label) => {
    if (!proto?.[method]) return;
    const f = proto[method];
    proto[method] = function (desc, ...rest) {
      const out = f.call(this, desc, ...rest);
      const tag = (x) => Object.defineProperty(x, "__kernel", { value: label(desc) });
      return out instanceof Promise ? out.then(tag) : tag(out);
    };
  };
  name(globalThis.GPUDevice?.prototype, "createShaderModule", (desc) => kernelName(desc.code));
  name(globalThis.GPUDevice?.prototype, "createComputePipeline", (desc) => desc.compute.module.__kernel);
  name(globalThis.GPUDevice?.prototype, "createComputePipelineAsync", (desc) => desc.compute.module.__kernel);
  const setPipeline = globalThis.GPUComputePassEncoder?.prototype.setPipeline;
  if (setPipeline) {
    GPUComputePassEncoder.prototype.setPipeline = function (pipeline) {
      this.__kernel = pipeline.__kernel;
      return setPipeline.call(this, pipeline);
    };
  }
  wrap(globalThis.GPUComputePassEncoder?.prototype, "dispatchWorkgroups", (pass) => {
    const k = pass.__kernel ?? "unknown";
    kernels[k] = (kernels[k] ?? 0) + 1;
  });
  wrap(globalThis.GPUBuffer?.prototype, "mapAsync");
  wrap(globalThis.GPUQueue?.prototype, "submit");
  wrap(globalThis.GPUQueue?.prototype, "writeBuffer");
  wrap(globalThis.GPUDevice?.prototype, "createBuffer");
}

async function count(page, algo, size, seeds, updates) {
  const settings = {
    env: "point-goal", algo, hidden: size, batch_size: size, learning_starts: size, ...(seeds > 1 ? { seeds } : {}),
    eval_every: 0, probe_every: 1_000_000, log_every: 1_000_000, total_steps: 10_000_000,
    ...(process.env.SYNC_EVERY ? { sync_every: Number(process.env.SYNC_EVERY) } : {}),
  };
  const warmUpdates = Number(process.env.WARM ?? 20);
  return page.evaluate(async ([settings, updates, warmUpdates]) => {
    const t = await window.wasmBindings.WebTrainer.create(settings, "webgpu");
    try {
      // The page's own calls: slices of at most 40 ms, one env step and one update per step.
      const upTo = async (n) => {
        let r = await t.run(0, 0);
        while (r.updates < n) r = await t.run(1_000_000, 40);
        return r;
      };
      // Warm-up: past learning_starts, shader compilation, and a full sync period or more.
      const warm = await upTo(warmUpdates);
      const c0 = { ...window.__gpuCalls };
      const k0 = { ...window.__gpuKernels };
      const t0 = performance.now();
      const end = await upTo(warm.updates + updates);
      const seconds = (performance.now() - t0) / 1000;
      const c1 = window.__gpuCalls;
      const done = end.updates - warm.updates;
      const steps = end.steps - warm.steps;
      const per = Object.fromEntries(Object.keys(c1).map((k) => [k, (c1[k] - c0[k]) / done]));
      const kernels = Object.entries(window.__gpuKernels)
        .map(([k, n]) => [k, (n - (k0[k] ?? 0)) / done])
        .filter(([, n]) => n > 0)
        .sort((x, y) => y[1] - x[1]);
      return { backend: t.backend(), updates: done, env_steps: steps, seconds, per_update: per, kernels };
    } finally {
      t.free();
    }
  }, [settings, updates, warmUpdates]);
}

const server = await serve();
const { browser, page } = await open({ webgpu: true });
try {
  await page.addInitScript(wrapWebGpu);
  // A run setting in the address: no pretrained demo playing beside the count.
  await page.goto(`${server.base}?backend=cpu&env=double-integrator&hidden=8&batch_size=16&learning_starts=32`);
  await page.waitForFunction(() => window.wasmBindings && window.alamPage?.config(), null, { timeout: 120_000 });
  const commit = process.env.COMMIT ?? null;
  const populations = await page.evaluate(() => typeof window.wasmBindings.WebTrainer.prototype.seeds === "function");
  const round = (x) => Math.round(x * 1000) / 1000;
  for (const size of sizes) {
    for (const seeds of seedCounts) {
      for (const algo of algos) {
        const line = { env: "point-goal", algo, hidden: size, batch: size, seeds, ...(commit ? { commit } : {}) };
        if (seeds > 1 && !populations) {
          console.log(JSON.stringify({ ...line, error: "needs the population API" }));
          continue;
        }
        const r = await count(page, algo, size, seeds, N[size]);
        const perAgent = r.per_update.dispatchWorkgroups / seeds;
        console.log(JSON.stringify({
          ...line,
          ...(process.env.SYNC_EVERY ? { sync_every: Number(process.env.SYNC_EVERY) } : {}),
          updates: r.updates, env_steps: r.env_steps, seconds: round(r.seconds),
          ...Object.fromEntries(Object.entries(r.per_update).map(([k, v]) => [`${k}_per_update`, round(v)])),
          updates_per_mapAsync: r.per_update.mapAsync > 0 ? round(1 / r.per_update.mapAsync) : null,
          dispatchWorkgroups_per_agent_update: round(perAgent),
          dispatch_target: round(dispatchTarget(seeds)),
          kernels_per_update: Object.fromEntries(r.kernels.map(([k, n]) => [k, round(n)])),
          meets_targets: perAgent <= dispatchTarget(seeds) && r.per_update.mapAsync <= MAP_ASYNC_TARGET,
          backend: r.backend,
        }));
      }
    }
  }
} finally {
  await browser.close();
  await server.close();
}
