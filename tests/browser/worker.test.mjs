// Training off the main thread (www/remote.js, www/trainer-worker.js), on both devices: the page
// stays free while its run trains at full speed (no long task, the display's frame rate), its
// commands and answers cross the worker boundary (pause stops, Step steps once, Reset mid-slice
// drops the old run's records), and a race's agents train in parallel workers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, ready, devices, trainerWorkers } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

const steps = (page) => page.evaluate(() => Number(document.querySelector("#steps").textContent));

for (const dev of devices()) {
  // Long enough that no run ends while a test watches it.
  const RUN = `${dev.query}${dev.small}&total_steps=10000000&speed=max`;

  test(`[${dev.name}] training at full speed leaves the main thread free: no blocking task, ≥ 50 frames/s`, { timeout: 180_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?env=point-goal&algo=alam&${RUN}`);
      await ready(page);
      await page.click("#play");
      await page.waitForFunction(() => Number(document.querySelector("#updates").textContent) > 5, null, { timeout: 120_000 * dev.slow });
      const seen = await page.evaluate(async () => {
        const longTasks = [];
        new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(Math.round(e.duration)))).observe({ type: "longtask" });
        let frames = 0;
        const count = () => {
          frames += 1;
          requestAnimationFrame(count);
        };
        requestAnimationFrame(count);
        const steps = () => Number(document.querySelector("#steps").textContent);
        const s0 = steps();
        const t0 = performance.now();
        await new Promise((ok) => setTimeout(ok, 10_000));
        return { longTasks, fps: frames / ((performance.now() - t0) / 1000), trained: steps() - s0 };
      });
      console.log(`[${dev.name}] while training: ${seen.trained} steps in 10 s, ${seen.fps.toFixed(1)} frames/s, long tasks: [${seen.longTasks}]`);
      assert.ok(seen.trained > 0, "it trained meanwhile");
      // On an idle machine there is none (BENCHMARKS.md: 0 in 20 s, no animation frame over
      // 30 ms either). On a loaded 2-core CI machine the OS can deschedule the main thread within
      // a short task, so one task just over 50 ms was seen once in a full run: allowed are tasks
      // under 100 ms adding up to at most 50 ms of blocking (the time over 50 ms) in 10 s. The
      // single-thread page blocked for seconds in 10 s (BENCHMARKS.md: ~13 long tasks a second).
      const blocking = seen.longTasks.reduce((sum, d) => sum + (d - 50), 0);
      assert.ok(seen.longTasks.every((d) => d < 100) && blocking <= 50, `main-thread long tasks: [${seen.longTasks}] ms (${blocking} ms blocking)`);
      assert.ok(seen.fps >= 50, `${seen.fps.toFixed(1)} frames/s`);
      assert.equal(await page.textContent("#status"), "training");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] commands cross the worker boundary: Pause stops it, Step steps once, Reset mid-slice drops the old run's records`, { timeout: 240_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?env=double-integrator&algo=alam&${RUN}`);
      await ready(page);
      const [worker] = await trainerWorkers(page);
      await page.click("#play");
      await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 300, null, { timeout: 120_000 * dev.slow });

      // Pause: once it says so, the worker has stopped (nothing more comes).
      await page.click("#pause");
      await page.waitForFunction(() => !window.alamPage.busy() && document.querySelector("#status").textContent === "paused", null, { timeout: 60_000 });
      const paused = await steps(page);
      await page.waitForTimeout(1500);
      assert.equal(await steps(page), paused, "a paused run stays put");
      // The page shows what the worker's trainer did, no more, no less.
      assert.equal(await worker.evaluate(() => self.alamWorker.trainer.steps()), paused);

      // Step: exactly one environment step.
      await page.click("#step");
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) === n + 1 && !window.alamPage.busy(), paused, { timeout: 60_000 });
      await page.waitForTimeout(500);
      assert.equal(await steps(page), paused + 1);

      // Pause and Play pressed in one go while a save is in flight (their messages and the
      // save's queue up in the worker): it ends playing, and trains.
      await page.evaluate(() => ["save", "pause", "play", "pause", "play"].forEach((id) => document.getElementById(id).click()));
      const toggled = await steps(page);
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 100, toggled, { timeout: 120_000 * dev.slow });
      assert.equal(await page.isEnabled("#pause"), true, "it says it plays");
      assert.doesNotMatch(await page.textContent("#status"), /paused|error/);

      // Reset while a slice is in flight: the new run starts from step 0, and nothing of the
      // old one (its worker ended with its slice) reaches the charts or the counters.
      const old = await steps(page);
      await page.click("#reset");
      await page.waitForFunction(() => document.querySelector("#status").textContent === "ready", null, { timeout: 120_000 });
      // Left unplayed a while: a record of the old run arriving late would show here.
      await page.waitForTimeout(1500);
      assert.equal(await steps(page), 0, `the counters restart (after step ${old})`);
      const plotted = await page.evaluate(() => Object.values(window.alamPage.plotted()).map((data) => data[0].length));
      assert.ok(plotted.every((n) => n === 0), `the charts start empty: ${plotted}`);
      await page.click("#play");
      await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 100, null, { timeout: 120_000 * dev.slow });
      // One training worker: the old run's ended with it.
      assert.equal((await trainerWorkers(page, { timeout: 5_000 })).length, 1);
      await page.click("#pause");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] a race's agents train in parallel workers, each saying its steps/s`, { timeout: 240_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?env=double-integrator&${RUN}`);
      await ready(page);
      await page.click("#race-start");
      await page.waitForFunction(() => window.alamRace.agents().length === 2 && window.alamRace.agents().every((a) => a.slices.length >= 10), null, { timeout: 120_000 * dev.slow, polling: 250 });
      // The page's own run and one worker per agent.
      assert.equal((await trainerWorkers(page, { count: 3 })).length, 3);
      // In parallel: slices of the two agents ran at the same time (the old round-robin never
      // overlapped them).
      const [a, b] = await page.evaluate(() => window.alamRace.agents().map((x) => x.slices));
      const overlap = a.filter((s) => b.some((t) => s.start < t.end && t.start < s.end)).length;
      assert.ok(overlap >= a.length / 2, `${overlap} of ${a.length} slices of one agent overlap the other's`);
      await page.waitForFunction(() => /^fac \d+ steps, \d+ steps\/s · alam \d+ steps, \d+ steps\/s$/.test(document.querySelector("#race-rates").textContent), null, { timeout: 30_000 });
      const rates = await page.evaluate(() => window.alamRace.agents().map((x) => x.stepsPerSecond));
      assert.ok(rates.every((r) => r > 0), JSON.stringify(rates));
      await page.click("#race-pause");
      await page.waitForFunction(() => document.querySelector("#race-pause").textContent === "Resume race", null, { timeout: 60_000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
