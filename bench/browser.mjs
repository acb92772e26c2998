// Updates per second of the page's trainer in headless Chromium, on the CPU device in wasm
// and on WebGPU (SwiftShader here: a CPU emulation of a GPU, so a lower bound). Prints one
// JSON object. Needs `trunk build` first. Usage: node bench/browser.mjs [hidden] [batch]
import { serve, open } from "../tests/browser/harness.mjs";

const hidden = Number(process.argv[2] ?? 64);
const batch = Number(process.argv[3] ?? 64);
const settings = { env: "point-goal", algo: "alam", hidden, batch_size: batch, learning_starts: batch, eval_every: 0, probe_every: 100000, total_steps: 1000000 };

async function measure(webgpu, updates) {
  const { browser, page } = await open({ webgpu });
  try {
    await page.goto(`${server.base}?backend=cpu`);
    await page.waitForFunction(() => window.wasmBindings, null, { timeout: 120000 });
    return await page.evaluate(async ([settings, backend, updates]) => {
      const t = await window.wasmBindings.WebTrainer.create(settings, backend);
      // As the page does: slices of up to 40 ms (a call per update would time the calls).
      const upd = async (n) => { while ((await t.run(n, 40)).updates < n); };
      await upd(3); // warm-up: shader compilation, first allocations
      const t0 = performance.now();
      const start = (await t.run(0, 0)).updates;
      await upd(start + updates);
      const secs = (performance.now() - t0) / 1000;
      const backendUsed = t.backend();
      t.free();
      return { backend: backendUsed, updates, seconds: secs, updates_per_s: updates / secs };
    }, [settings, webgpu ? "webgpu" : "cpu", updates]);
  } finally {
    await browser.close();
  }
}

const server = await serve();
try {
  const cpu = await measure(false, 3000);
  const webgpu = await measure(true, 20);
  console.log(JSON.stringify({ env: settings.env, hidden, batch, cpu_wasm: cpu, webgpu_swiftshader: webgpu, ratio_webgpu_over_cpu: webgpu.updates_per_s / cpu.updates_per_s }));
} finally {
  await server.close();
}
