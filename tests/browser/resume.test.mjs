// Exact resume in the page: a run trained N steps, saved ("Save run": the whole training state),
// loaded and trained M more steps writes the same records as one run of N + M steps that never
// stopped (timing fields aside), on the device it trains on. N stops mid-episode, with updates
// not yet read back from the device, after the warm-up; the run evaluates and probes on the way.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, devices } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

for (const dev of devices()) {
  test(`[${dev.name}] a saved and loaded run goes on exactly as if it had never stopped`, { timeout: 300_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?backend=cpu&env=double-integrator&hidden=8&batch_size=16&learning_starts=32`);
      await page.waitForFunction(() => window.wasmBindings, null, { timeout: 120_000 });
      // SwiftShader emulates the GPU on the CPU: fewer steps and a tenth of an update per step.
      const [n, m] = dev.webgpu ? [53, 40] : [237, 200];
      const settings = {
        env: "double-integrator", algo: "alam", seed: 3, hidden: 8, batch_size: 16, buffer_size: 2000,
        learning_starts: dev.webgpu ? 24 : 50, utd_ratio: dev.webgpu ? 0.25 : 1, log_every: 2,
        probe_every: 40, eval_every: dev.webgpu ? 60 : 150, eval_episodes: 1, total_steps: 100_000,
      };
      const result = await page.evaluate(async ([settings, n, m, backend]) => {
        const { WebTrainer } = window.wasmBindings;
        // Timing fields differ from run to run; everything else must not.
        const strip = (records) => records.map((r) => JSON.stringify(r, (k, v) => (/_per_s$/.test(k) ? undefined : v)));
        // Every record the page is handed, up to step `target`, as the page calls `run`.
        const upTo = async (t, target) => {
          let r = await t.run(0, 0);
          const out = [...r.records];
          while (r.steps < target) {
            r = await t.run(target - r.steps, 1e9);
            out.push(...r.records);
          }
          return { records: out, updates: r.updates };
        };
        const whole = await WebTrainer.create(settings, backend);
        const uninterrupted = await upTo(whole, n + m);
        const first = await WebTrainer.create(settings, backend);
        const before = await upTo(first, n);
        const bytes = await first.save();
        const second = await WebTrainer.load(bytes, backend);
        const kind = second.loaded_kind();
        const after = await upTo(second, n + m);
        for (const t of [whole, first, second]) t.free();
        return { uninterrupted: strip(uninterrupted.records), resumed: strip([...before.records, ...after.records]), kind, updates: before.updates };
      }, [settings, n, m, dev.webgpu ? "webgpu" : "cpu"]);
      assert.equal(result.kind, "full");
      assert.ok(result.updates > 0, "the save came after the warm-up");
      assert.ok(result.resumed.some((r) => r.includes('"kind":"eval"')) && result.resumed.some((r) => r.includes('"kind":"probe"')), "evaluations and probes on the way");
      assert.equal(result.resumed.length, result.uninterrupted.length, "as many records");
      assert.deepEqual(result.resumed, result.uninterrupted);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
