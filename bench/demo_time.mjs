// Time for the point-goal demo to reach a safe, goal-reaching policy in the page's own trainer
// (headless Chromium, CPU device in wasm unless WEBGPU=1), with the page's default network
// sizes. Criterion, over the last 5 training episodes: mean return ≥ 80 (about four goals; a
// random policy earns ~5, SAC ~200) and mean violating steps ≤ 1 (SAC: ~25). Prints one JSON
// object. Needs `trunk build` first. Usage: node bench/demo_time.mjs [seed] [max_seconds]
import { serve, open } from "../tests/browser/harness.mjs";

const seed = Number(process.argv[2] ?? 0);
const maxSeconds = Number(process.argv[3] ?? 1200);
const settings = { env: "point-goal", algo: "alam", hidden: 64, batch_size: 64, seed, eval_every: 0, total_steps: 1_000_000 };

const server = await serve();
const { browser, page } = await open({ webgpu: process.env.WEBGPU === "1" });
try {
  await page.goto(`${server.base}?backend=cpu`);
  await page.waitForFunction(() => window.wasmBindings, null, { timeout: 120000 });
  const result = await page.evaluate(async ([settings, backend, maxSeconds]) => {
    const t = await window.wasmBindings.WebTrainer.create(settings, backend);
    const t0 = performance.now();
    const episodes = [];
    let steps = 0;
    for (;;) {
      const report = await t.run(1000, 1e9);
      steps = report.steps ?? steps;
      for (const r of report.records) if (r.kind === "episode") episodes.push({ step: r.step, ret: r.return, violations: r.violations });
      const secs = (performance.now() - t0) / 1000;
      const last = episodes.slice(-5);
      const mean = (f) => last.reduce((s, e) => s + f(e), 0) / last.length;
      if (last.length === 5 && mean((e) => e.ret) >= 80 && mean((e) => e.violations) <= 1) {
        return { reached: true, seconds: secs, step: last[4].step, episodes: episodes.length, last5_return: mean((e) => e.ret), last5_violations: mean((e) => e.violations), backend: t.backend() };
      }
      if (secs > maxSeconds) return { reached: false, seconds: secs, step: episodes.at(-1)?.step, episodes: episodes.length, backend: t.backend() };
    }
  }, [settings, process.env.WEBGPU === "1" ? "webgpu" : "cpu", maxSeconds]);
  console.log(JSON.stringify({ env: "point-goal", algo: "alam", hidden: 64, batch: 64, seed, criterion: "last 5 episodes: return ≥ 80, violations ≤ 1", ...result }));
} finally {
  await browser.close();
  await server.close();
}
