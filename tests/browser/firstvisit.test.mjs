// A first visit as a newcomer meets it (a bare address: the pretrained demo, watched): the robot
// moves within the first second and the watched episode is said as it goes; every counter and
// field is the demo's run (its episodes and violating steps from its history, its seed in the
// field and, once it trains, in the URL); leaving the demo brings back the page's own speed and
// controls; the λ(s) heat map is drawn over the hazards and goal the scene shows, and follows
// them while watching; every chart's axes hold its lines; with a WebGPU adapter never measured
// here, the demo plays on the CPU at once while "auto" measures, for a few seconds at most; a
// device that cannot be used is explained in words. Each on both devices where it applies, with
// screenshots 1 s and 5 s into the demo (artifacts/firstvisit-*.png).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, serve, open, ready, screenshot, devices, rememberWebGpu } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

const has = (name) => devices().some((d) => d.name === name);

/** The demo file's header (config and history), read here as src/checkpoint.rs writes it: magic
 *  (8 bytes), the header's length (u32 LE), the header JSON. */
function demoHeader() {
  const bytes = readFileSync(join(ROOT, "www/pretrained/point-goal-alam.alam"));
  const len = bytes.readUInt32LE(8);
  return JSON.parse(bytes.subarray(12, 12 + len).toString("utf8"));
}

async function statusText(page, re, timeout = 60_000) {
  await page.waitForFunction((src) => new RegExp(src).test(document.querySelector("#status").textContent), re.source, { timeout });
  return page.textContent("#status");
}

/** The robot's position on screen (point-goal). */
const robot = (page) => page.evaluate(() => window.alamPage.scene()?.robot ?? null);

for (const dev of devices()) {
  test(`[${dev.name}] a first visit: the demo moves at once, its counters and fields are the demo's, and leaving it restores the page's controls`, { timeout: 240_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      // WebGPU: as where "auto" measured WebGPU faster before (the demo then acts on WebGPU).
      if (dev.webgpu) await page.addInitScript(rememberWebGpu([["point-goal", 64, 64]]));
      const t0 = Date.now();
      await page.goto(server.base);
      await ready(page);
      await statusText(page, /^watching the pretrained demo/);
      const watching = Date.now();
      console.log(`# [${dev.name}] the demo plays ${((watching - t0) / 1000).toFixed(1)} s after the address was opened`);

      // It moves at once: 0.2 (a few steps at top speed) within its first steps (natively in 5;
      // src/watch.rs), a tenth of a second at 60 frames/s (this loaded machine draws fewer).
      const start = await robot(page);
      await page.waitForFunction(([x, y]) => {
        const r = window.alamPage.scene()?.robot;
        return r && Math.hypot(r[0] - x, r[1] - y) >= 0.2;
      }, start, { timeout: 5000 * dev.slow, polling: 50 });
      // The episode in progress is said as it goes, with the seed it is scored on.
      await page.waitForFunction(() => /^episode 1: step \d+, return -?[\d.]+, \d+ violating \(the episodes of alam eval --seed \d+\)$/.test(document.querySelector("#watched").textContent), null, { timeout: 3000 * dev.slow });
      console.log(`# [${dev.name}] moved 0.2 and said its episode within ${((Date.now() - watching) / 1000).toFixed(1)} s of playing`);
      // What a person sees 1 s and 5 s into the demo.
      await page.waitForTimeout(Math.max(0, watching + 1000 - Date.now()));
      await screenshot(page, `firstvisit-${dev.name}-1s.png`);

      // Every counter and field is the demo's run.
      const header = demoHeader();
      const episodes = header.history.filter((r) => r.kind === "episode");
      const cfg = await page.evaluate(() => window.alamPage.config());
      assert.equal(await page.textContent("#steps"), String(header.steps));
      assert.equal(await page.textContent("#episodes"), String(episodes.at(-1).episode), "the demo's episodes, from its history");
      assert.equal(await page.textContent("#violations"), String(episodes.reduce((s, e) => s + e.violations, 0)), "the demo's violating steps");
      assert.equal(await page.inputValue("#seed"), String(header.config.seed), "the demo's seed in the Seed field");
      assert.equal(cfg.seed, header.config.seed);
      assert.match(await page.textContent("#status"), new RegExp(`\\(seed ${header.config.seed}\\)`));
      for (const f of ["hidden", "batch_size", "rho"]) assert.equal(Number(await page.inputValue(`#${f}`)), header.config[f], `#${f}`);
      assert.equal(await page.evaluate(() => location.search), "", "the address stays bare while the demo is watched");
      await page.waitForTimeout(Math.max(0, watching + 5000 - Date.now()));
      await screenshot(page, `firstvisit-${dev.name}-5s.png`);
      assert.match(await page.textContent("#watched"), /^(\d+ · mean return .*; now )?episode \d+: step \d+/, "the watched episodes, as they go");

      // Switching env leaves the demo: the page's speed, no demo buttons; the URL and the form
      // carry the demo's settings into the new run.
      await page.selectOption("#env", "double-integrator");
      await page.waitForFunction(() => window.alamPage.config()?.env === "double-integrator" && !window.alamPage.watching(), null, { timeout: 60_000 * dev.slow });
      assert.equal(await page.inputValue("#speed"), "max", "the page's own speed again");
      for (const id of ["#scratch", "#train-on", "#watched-row"]) assert.equal(await page.isVisible(id), false, `${id} is gone`);
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("env"), "double-integrator");
      assert.equal(url.searchParams.get("seed"), String(header.config.seed), "the URL's seed is the Seed field's");
      assert.equal(await page.inputValue("#seed"), String(header.config.seed));
      assert.equal((await page.evaluate(() => window.alamPage.config())).seed, header.config.seed);
      // The demo was playing: the new run trains at once.
      await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 100, null, { timeout: 60_000 * dev.slow });
      assert.equal(await page.textContent("#status"), "training");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] the heat map draws the hazards and goal of the watched scene and follows them while watching`, { timeout: 180_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      if (dev.webgpu) await page.addInitScript(rememberWebGpu([["point-goal", 64, 64]]));
      await page.goto(server.base);
      await ready(page);
      await statusText(page, /^watching the pretrained demo/);
      const v0 = await page.evaluate(() => window.alamPage.heatmapVersion);
      // Each goal reached (a new goal) and each episode (new hazards) is a new layout: the map is
      // drawn again for it, over the watched environment, and matches the scene.
      await page.waitForFunction((v0) => {
        const hm = window.alamPage.lastHeatmap?.scene;
        const sc = window.alamPage.scene();
        return window.alamPage.heatmapVersion >= v0 + 2 && JSON.stringify([hm?.hazards, hm?.goal]) === JSON.stringify([sc?.hazards, sc?.goal]);
      }, v0, { timeout: 60_000 * dev.slow, polling: 100 });
      const seen = await page.evaluate(() => ({ hm: window.alamPage.lastHeatmap.scene, scene: window.alamPage.scene(), caption: document.querySelector("#heatmap-caption").textContent }));
      assert.equal(seen.hm.hazards.length, seen.scene.hazards.length);
      assert.match(seen.caption, /White circles: hazards/);
      await screenshot(page, `firstvisit-${dev.name}-heatmap.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

/** Every finite value each chart draws, against its value axis: strictly inside [min, max]. */
async function assertAxesHoldLines(page, where) {
  const { plotted, ranges } = await page.evaluate(() => ({ plotted: window.alamPage.plotted(), ranges: window.alamPage.ranges() }));
  for (const [chart, [, ...series]] of Object.entries(plotted)) {
    series.forEach((col, k) => {
      // The throughput chart's second series (env steps/s) is on its right-hand axis.
      const [min, max] = ranges[chart][chart === "speed" && k === 1 ? "steps" : "y"];
      for (const v of col) {
        if (typeof v !== "number" || !Number.isFinite(v)) continue;
        assert.ok(v > min && v < max, `${where}: ${chart} series ${k + 1} draws ${v} outside its axis [${min}, ${max}]`);
      }
    });
  }
}

test("[cpu] every chart's axes hold its lines: the demo's curves, and a FAC run's λ", { timeout: 240_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(server.base);
    await ready(page);
    await page.waitForFunction(() => (window.alamPage.plotted().return?.[0]?.length ?? 0) >= 50, null, { timeout: 30_000 });
    await assertAxesHoldLines(page, "the demo");
    await page.goto(`${server.base}?env=point-goal&algo=fac&hidden=16&batch_size=32&learning_starts=200&log_every=20&probe_every=200&eval_every=0`);
    await ready(page);
    await page.click("#play");
    await page.waitForFunction(() => window.alamPage.points().lambda >= 20 && window.alamPage.points().return >= 3, null, { timeout: 180_000, polling: 500 });
    await page.click("#pause");
    await page.waitForFunction(() => !window.alamPage.busy(), null, { timeout: 30_000 });
    await page.waitForTimeout(200); // the last rows reach the charts at the next frame
    await assertAxesHoldLines(page, "FAC");
    await screenshot(page, "firstvisit-fac-charts.png");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("[webgpu] a first visit with a WebGPU adapter never measured here: the demo plays on the CPU at once while auto measures, for a few seconds", { timeout: 180_000, skip: !has("webgpu") }, async () => {
  const { browser, page, errors } = await open({ webgpu: true });
  try {
    await page.goto(server.base);
    await page.waitForFunction(() => window.alamPage?.measurements >= 1, null, { timeout: 120_000, polling: 50 });
    const began = Date.now();
    await statusText(page, /^watching the pretrained demo/);
    const watching = Date.now();
    console.log(`# [webgpu] the demo plays ${((watching - began) / 1000).toFixed(1)} s after the measurement began`);
    assert.match(await page.textContent("#backend"), /^Training on: CPU \(watching trains nothing; (measuring meanwhile|for training)/);
    const start = await robot(page);
    await page.waitForFunction(([x, y]) => {
      const r = window.alamPage.scene()?.robot;
      return r && Math.hypot(r[0] - x, r[1] - y) >= 0.2;
    }, start, { timeout: 5000, polling: 50 });
    // Both devices, at most 3 s each, then both figures.
    await page.waitForFunction(() => /for training: WebGPU [\d.]+ agent-updates\/s.* vs CPU [\d.]+: using (WebGPU|CPU)/.test(document.querySelector("#backend").textContent), null, { timeout: 30_000, polling: 100 });
    const took = (Date.now() - began) / 1000;
    const { seconds } = await page.evaluate(() => window.alamPage.device());
    console.log(`# [webgpu] measured in ${seconds.toFixed(1)} s by the page's clock (${took.toFixed(1)} s until the test saw it): ${await page.textContent("#backend")}`);
    // 3 s per device (on this loaded machine the page's timers may fire a little late).
    assert.ok(seconds <= 2 * 3 + 1.5, `measured within a few seconds (3 s per device): ${seconds} s`);
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 1);
    assert.ok(await page.evaluate(() => window.alamPage.watching()), "still watching");
    // Training uses the measured choice, at once.
    const used = (await page.textContent("#backend")).match(/using (WebGPU|CPU)/)[1];
    await page.click("#train-on");
    await statusText(page, /^training on the pretrained demo/);
    assert.match(await page.textContent("#backend"), new RegExp(`^Training on: ${used}`));
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 1, "measured once");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("[cpu] why the CPU trains is said in words, not the library's debug text", { timeout: 120_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?env=double-integrator`);
    await ready(page);
    const notice = await page.textContent("#backend");
    assert.match(notice, /^Training on: CPU/);
    const why = await page.textContent("#backend details");
    assert.match(why, /why not WebGPU\?this browser (does not offer WebGPU|offers WebGPU but)/, why);
    assert.doesNotMatch(why, /[{}]|WgpuDevice|DefaultDevice|Error\(/, why);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
