// The page while it trains at full speed on the CPU path, in headless Chromium, as a person
// runs it (Play at "as fast as possible", then the race): env steps/s of the page's run, the
// main thread's long tasks (PerformanceObserver "longtask") and frames drawn per second
// (requestAnimationFrame), then the total steps/s of a 2-agent race (FAC vs ALaM).
// Run it against two builds for a before/after ratio (ALAM_DIST=/path/to/dist serves another).
// Needs `trunk build` first. Usage: node bench/page_threads.mjs [seconds] [label]
import { serve, open } from "../tests/browser/harness.mjs";

const SECONDS = Number(process.argv[2] ?? 30);
const LABEL = process.argv[3] ?? process.env.ALAM_DIST ?? "dist";
/** Before the page is measured: V8 compiles the hot wasm functions with its optimising tier
 *  over the first ~20 s of training (both builds alike); measured before that, a run reads ~35%
 *  slower. The race's agents then start from optimised code. */
const WARM_S = 40;
const RACE_WARM_S = 8;
const QUERY = "backend=cpu&env=point-goal&algo=alam&hidden=64&batch_size=64&learning_starts=64&eval_every=0&total_steps=10000000&speed=max";

/** From now on, long tasks and animation frames are counted on the page's main thread. */
const startCounting = () => {
  window.__perf = { longtasks: [], frames: 0 };
  new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__perf.longtasks.push(e.duration))).observe({ type: "longtask" });
  const frame = () => {
    window.__perf.frames += 1;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
};

const counters = (page) => page.evaluate(() => ({ steps: Number(document.querySelector("#steps").textContent), updates: Number(document.querySelector("#updates").textContent), at: performance.now() }));

async function pageRun(base) {
  const { browser, page } = await open();
  try {
    await page.goto(`${base}?${QUERY}`);
    await page.waitForFunction(() => window.alamPage?.config(), null, { timeout: 120_000 });
    await page.click("#play");
    await page.waitForTimeout(WARM_S * 1000);
    await page.evaluate(startCounting);
    const a = await counters(page);
    await page.waitForTimeout(SECONDS * 1000);
    const b = await counters(page);
    const perf = await page.evaluate(() => window.__perf);
    const secs = (b.at - a.at) / 1000;
    // Race: FAC vs ALaM on the same settings (the page's run pauses for it).
    await page.click("#race-start");
    await page.waitForFunction(() => window.alamRace.agents().length === 2 && window.alamRace.agents().every((x) => x.steps > 0), null, { timeout: 120_000 });
    await page.waitForTimeout(RACE_WARM_S * 1000);
    const total = () => page.evaluate(() => ({ steps: window.alamRace.agents().reduce((s, x) => s + x.steps, 0), at: performance.now() }));
    const r0 = await total();
    await page.waitForTimeout(SECONDS * 1000);
    const r1 = await total();
    return {
      page_steps_per_s: (b.steps - a.steps) / secs,
      page_updates_per_s: (b.updates - a.updates) / secs,
      longtasks_over_50ms: perf.longtasks.length,
      longest_task_ms: Math.max(0, ...perf.longtasks),
      frames_per_s: perf.frames / secs,
      race2_total_steps_per_s: (r1.steps - r0.steps) / ((r1.at - r0.at) / 1000),
    };
  } finally {
    await browser.close();
  }
}

const server = await serve();
try {
  console.log(JSON.stringify({ build: LABEL, seconds: SECONDS, ...(await pageRun(server.base)) }));
} finally {
  await server.close();
}
