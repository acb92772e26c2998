// The trainer page in a real headless Chromium, as a person uses it: it loads clean, trains
// when Play is clicked, switches env and algorithm, refuses a bad value beside its field,
// saves, loads and resumes — each on both devices (the CPU fallback and WebGPU through
// SwiftShader, harness.mjs DEVICES) — trains with the native run's numbers on both, and on the
// CPU stays within bounded memory over a long run and learns the default demo.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, serve, open, ready, screenshot, devices, rememberWebGpu } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

for (const dev of devices()) {
  const SMALL = dev.small;

  test(`[${dev.name}] loads with no console error, no foreign request, and says which device trains`, { timeout: 180_000 }, async () => {
    const { browser, page, errors, foreign } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}${SMALL}`);
      await ready(page);
      const backend = await page.textContent("#backend");
      assert.match(backend, dev.label, `the device in use is said: ${backend}`);
      if (!dev.webgpu) assert.match(backend, /navigator\.gpu|WebGPU/, `the notice says why not WebGPU: ${backend}`);
      assert.equal(await page.getAttribute("#backend", "data-kind"), dev.webgpu ? "gpu" : "cpu");
      assert.deepEqual(errors, []);
      assert.deepEqual(foreign, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] Play trains: charts gain points, counters and λ move, the heat map changes`, { timeout: 300_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=alam&${SMALL}`);
      await ready(page);
      // The first map is read as soon as the trainer exists (on WebGPU, a read that takes a moment).
      await page.waitForFunction(() => window.alamPage.heatmapVersion >= 1, null, { timeout: 60_000 });
      const first = await page.evaluate(() => window.alamPage.lastHeatmap?.lambda?.slice());
      assert.ok(first, "a heat map is drawn before training");
      await page.click("#play");
      // SwiftShader: fewer episodes (each is up to 200 steps of a slow emulated GPU).
      const want = dev.webgpu ? 2 : 3;
      await page.waitForFunction((want) => {
        const p = window.alamPage.points();
        return p.return >= want && p.lambda >= want && window.alamPage.heatmapVersion >= want;
      }, want, { timeout: 240_000, polling: 500 });
      const violations = Number(await page.textContent("#violations"));
      const updates = Number(await page.textContent("#updates"));
      assert.ok(violations > 0, "random warm-up actions hit the wall");
      assert.ok(updates > 0);
      const last = await page.evaluate(() => window.alamPage.lastHeatmap.lambda);
      assert.notDeepEqual(last, first, "λ(s) changed as training went");
      await page.click("#pause");
      assert.match(await page.textContent("#status"), /paused/);
      assert.match(await page.textContent("#backend"), dev.label);
      await screenshot(page, `page-${dev.name}-double-integrator.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] switching env and algorithm works; a bad ρ is refused beside its field`, { timeout: 180_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&${SMALL}`);
      await ready(page);
      await page.selectOption("#env", "point-goal");
      await page.waitForFunction(() => window.alamPage.config()?.env === "point-goal", null, { timeout: 60_000 });
      await page.selectOption("#algo", "fac");
      await page.waitForFunction(() => window.alamPage.config()?.algo === "fac", null, { timeout: 60_000 });
      assert.match(page.url(), /env=point-goal/);
      assert.match(page.url(), /algo=fac/);
      await page.click("#play");
      // Past the warm-up: FAC's updates run on this device.
      await page.waitForFunction(() => Number(document.querySelector("#updates").textContent) > 5, null, { timeout: 60_000 * dev.slow });
      await page.fill("#rho", "-1");
      await page.press("#rho", "Enter");
      await page.waitForFunction(() => document.querySelector("#rho-error").textContent.includes("rho"), null, { timeout: 10_000 });
      assert.match(await page.textContent("#rho-error"), /`rho`/);
      assert.equal((await page.evaluate(() => window.alamPage.config())).algo, "fac", "the running trainer is untouched");
      assert.doesNotMatch(await page.textContent("#status"), /error/);
      await screenshot(page, `page-${dev.name}-point-goal.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

// The same tiny run natively and in the page: its first update's losses must agree.
const FIRST_UPDATE = { env: "double-integrator", algo: "alam", seed: 3, hidden: 8, batch_size: 16, learning_starts: 64, log_every: 1, total_steps: 66, eval_every: 0, probe_every: 1000 };

function nativeFirstUpdate() {
  const out = mkdtempSync(join(tmpdir(), "alam-native-"));
  const sets = Object.entries(FIRST_UPDATE)
    .filter(([k]) => !["env", "algo", "seed", "total_steps"].includes(k))
    .flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  execFileSync(join(ROOT, "target/release/alam"), ["train", "--env", FIRST_UPDATE.env, "--algo", FIRST_UPDATE.algo, "--seed", String(FIRST_UPDATE.seed), "--steps", String(FIRST_UPDATE.total_steps), "--quiet", "--out", out, ...sets]);
  return readFileSync(join(out, "metrics.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((r) => r.kind === "update");
}

async function browserFirstUpdate(page, backend) {
  return page.evaluate(async ([settings, backend]) => {
    const t = await window.wasmBindings.WebTrainer.create(settings, backend);
    try {
      const report = await t.run(1000, 1e9);
      return { backend: t.backend(), update: report.records.find((r) => r.kind === "update") };
    } finally {
      t.free();
    }
  }, [FIRST_UPDATE, backend]);
}

/**
 * Tolerance: the CPU path runs the same f32 operations as native but with wasm's 128-bit SIMD
 * instead of AVX-512, so sums are reassociated: agreement to 1e-4 relative. On WebGPU the
 * kernels and reduction orders differ more: 1e-2 relative (still far below any learning effect).
 */
function assertClose(native, other, rel, label) {
  for (const k of ["critic_loss", "cost_critic_loss", "actor_loss", "alpha", "lambda_mean", "multiplier_loss"]) {
    const a = native[k], b = other[k];
    assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(a)), `${label} ${k}: native ${a} vs ${b}`);
  }
}

test("CPU fallback and WebGPU run real updates that agree with the native run", { timeout: 400_000 }, async () => {
  const native = nativeFirstUpdate();
  assert.ok(native, "native run produced an update record");
  for (const { webgpu, small, query } of devices()) {
    const { browser, page, errors } = await open({ webgpu });
    try {
      await page.goto(`${server.base}?${query}${small}`);
      await ready(page);
      const backend = webgpu ? "webgpu" : "cpu";
      const { backend: used, update } = await browserFirstUpdate(page, backend);
      assert.match(used, webgpu ? /WebGPU/ : /CPU/);
      assert.ok(update, `${backend}: an update record`);
      assertClose(native, update, webgpu ? 1e-2 : 1e-4, backend);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  }
});

test("[cpu] a long run stays healthy: wasm memory and JS heap level off", { timeout: 400_000, skip: !devices().some((d) => d.name === "cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    // log_every=2: the history a save carries (HISTORY_CAP = 4000 records: an update record every
    // 2 steps, plus episodes and probes) is full before step 8100, the replay (2000 transitions)
    // and the chart windows (500 points) long before.
    const long = "hidden=16&batch_size=32&buffer_size=2000&learning_starts=100&log_every=2&probe_every=500&eval_every=0&total_steps=1000000&speed=max";
    await page.goto(`${server.base}?env=point-goal&algo=alam&${long}`);
    await ready(page);
    // The wasm memory of the run's training worker; the JS heap of the page's main thread.
    const measure = () => page.evaluate(async () => {
      window.gc?.();
      return { wasm: await window.alamPage.wasmMemoryBytes(), heap: performance.memory.usedJSHeapSize, saved: window.alamPage.autosaved };
    });
    await page.click("#play");
    // Each autosave (every 15 s) packs the whole run, its largest transient allocation: readings
    // are taken just after one, the first once everything bounded is full (its saves no longer grow).
    const savedPast = (step) => page.waitForFunction((step) => window.alamPage.autosaved > step, step, { timeout: 300_000, polling: 500 });
    // The first readings are the larger of two, just after two autosaves: the first save with
    // everything full does not always reach the transient peak (one full run here read 11.7 MB
    // after it, then 13.8 MB, the plateau the other runs read at once, from the next save on).
    await savedPast(9000);
    const first = await measure();
    await savedPast(first.saved);
    const second = await measure();
    const early = { ...second, wasm: Math.max(first.wasm, second.wasm), heap: Math.max(first.heap, second.heap) };
    await savedPast(early.saved + 6000);
    const late = await measure();
    console.log(`memory after the autosave at step ${early.saved}: wasm ${early.wasm} B, JS heap ${early.heap} B; at step ${late.saved}: wasm ${late.wasm} B, JS heap ${late.heap} B`);
    // From there on memory must not keep growing with the number of steps.
    assert.ok(late.wasm <= early.wasm * 1.1, `wasm memory grew: ${early.wasm} → ${late.wasm}`);
    assert.ok(late.heap <= early.heap * 1.5 + 2e6, `JS heap grew: ${early.heap} → ${late.heap}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// A first visit (a bare address) watches the pretrained demo (scripts/pretrain.sh): its policy
// acts deterministically in an environment of its own and nothing learns (WebTrainer.watch);
// its training curves come from the file's history at once. Natively its watched episodes are
// `alam eval`'s (seed 12345): 0.46 violating steps per episode over 100 (tests/demo.rs checks
// the file). Watched at one step per frame by default; the test picks "as fast as possible" in
// the Speed field for its 20 episodes (5000 steps), as a person may. Then Train on continues the
// demo's training and Train from scratch starts afresh: both train.
for (const dev of devices()) {
  test(`[${dev.name}] a first visit watches the pretrained demo: its curves at once, safe episodes, no update; Train on and Train from scratch train`, { timeout: 300_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      // WebGPU: as on a machine where "auto" measured WebGPU faster (a first visit has no query).
      if (dev.webgpu) await page.addInitScript(rememberWebGpu([["point-goal", 64, 64]]));
      const t0 = Date.now();
      await page.goto(server.base);
      await ready(page);
      assert.match(await statusText(page, /^watching the pretrained demo/), /SAC-ALaM on point-goal after 20000 steps \(seed 4\), acting without learning/);
      assert.match(await page.textContent("#backend"), dev.label);
      assert.equal(await page.inputValue("#speed"), "1", "watchable: one step per frame");
      for (const id of ["#train-on", "#scratch", "#watched-row"]) assert.ok(await page.isVisible(id), `${id} is shown`);
      assert.equal(await page.evaluate(() => location.search), "", "the address stays bare: a reload shows the demo again");

      // The demo's curves, from its history, before any watched episode ends: what uPlot draws.
      await page.waitForFunction(() => (window.alamPage.plotted().return?.[0]?.length ?? 0) >= 50, null, { timeout: 10_000, polling: 100 });
      const plotted = await page.evaluate(() => window.alamPage.plotted());
      const finite = (col) => col.filter((v) => typeof v === "number" && Number.isFinite(v));
      const [steps, episodeReturns, evalReturns] = plotted.return;
      assert.ok(finite(episodeReturns).length >= 50, `training episodes drawn: ${finite(episodeReturns).length}`);
      assert.ok(finite(evalReturns).length >= 3, "evaluations drawn");
      assert.equal(Math.max(...steps), 20_000, "up to the demo's last step");
      assert.ok(finite(plotted.cost[2]).length >= 50, "violating steps per training episode drawn");
      assert.ok(finite(plotted.lambda[1]).length >= 10 && finite(plotted.lambda[3]).length >= 3, "λ (batch and probe grid) drawn");
      assert.ok(finite(plotted.speed[1]).length >= 10, "throughput drawn");
      assert.equal(await page.evaluate(() => window.alamPage.watched().episodes), 0, "all of it before a watched episode ends");
      await screenshot(page, `page-${dev.name}-demo-watching.png`);
      const before = { steps: await page.textContent("#steps"), updates: await page.textContent("#updates") };
      assert.equal(before.steps, "20000");
      assert.ok(Number(before.updates) > 15_000, `the demo's updates: ${before.updates}`);

      await page.selectOption("#speed", "max");
      const tw = Date.now();
      await page.waitForFunction(() => window.alamPage.watched().episodes >= 20, null, { timeout: 120_000, polling: 250 });
      // Pause while watching: the counters hold still to be read.
      await page.click("#pause");
      assert.equal(await page.textContent("#status"), "paused");
      await page.waitForFunction(() => !window.alamPage.busy(), null, { timeout: 30_000 });
      // Nothing was learnt: a watched demo's pause saves nothing to this browser.
      assert.equal(await page.evaluate(() => window.alamPage.autosaved), -1);
      const watched = await page.evaluate(() => window.alamPage.watched());
      const first = watched.list.slice(0, 20);
      const mean = first.reduce((s, e) => s + e.violations, 0) / 20;
      const ret = first.reduce((s, e) => s + e.return, 0) / 20;
      console.log(`# [${dev.name}] watched ${watched.episodes} episodes in ${((Date.now() - tw) / 1000).toFixed(1)} s; the first 20: return ${ret.toFixed(1)}, ${mean.toFixed(2)} violating steps per episode [${first.map((e) => e.violations).join(" ")}] (page ready after ${((tw - t0) / 1000).toFixed(1)} s)`);
      assert.ok(mean <= 0.5, `watched: ${mean} violating steps per episode`);
      assert.ok(ret >= 50, `reaches goals (a random policy earns ~5): ${ret}`);
      assert.match(await page.textContent("#watched"), new RegExp(`^${watched.episodes} · mean return`));
      assert.equal(await page.textContent("#steps"), before.steps, "no training step while watching");
      assert.equal(await page.textContent("#updates"), before.updates, "no update while watching");
      assert.equal(await page.evaluate(() => window.alamPage.plotted().return[0].length), plotted.return[0].length, "watching adds nothing to the training curves");
      await screenshot(page, `page-${dev.name}-demo-watched.png`);

      // Play while watching: it watches on.
      const paused = watched.episodes;
      assert.equal(await page.evaluate(() => window.alamPage.watched().episodes), paused, "paused");
      await page.click("#play");
      assert.match(await page.textContent("#status"), /^watching the pretrained demo/);
      await page.waitForFunction((n) => window.alamPage.watched().episodes > n, paused, { timeout: 60_000, polling: 250 });

      // Train on: the demo's run trains from its step, its curves kept.
      await page.click("#train-on");
      await page.waitForFunction(() => /^training on the pretrained demo from step 20000/.test(document.querySelector("#status").textContent), null, { timeout: 60_000 });
      assert.equal(await page.isVisible("#train-on"), false);
      assert.equal(await page.isVisible("#watched-row"), false);
      // The demo's whole training state: it updates at once (a weights-only file would first
      // refill 2000 steps without an update).
      assert.equal((await page.evaluate(() => window.alamPage.loaded)).kind, "full");
      await page.waitForFunction((u) => Number(document.querySelector("#updates").textContent) > u && Number(document.querySelector("#steps").textContent) > 20_000, Number(before.updates), { timeout: 120_000, polling: 250 });
      assert.ok(Number(await page.textContent("#steps")) < 21_000, "updates began without a refill");
      assert.ok((await page.evaluate(() => window.alamPage.plotted().return[0].length)) >= 50, "the demo's curves stay");
      assert.match(await page.evaluate(() => location.search), /env=point-goal/, "the address reproduces the run on screen");

      // Train from scratch: a fresh run of the page's settings trains.
      await page.click("#scratch");
      await page.waitForFunction(() => document.querySelector("#status").textContent === "training" && Number(document.querySelector("#steps").textContent) < 20_000, null, { timeout: 60_000 });
      assert.equal(await page.isVisible("#scratch"), false);
      const cfg = await page.evaluate(() => window.alamPage.config());
      assert.deepEqual([cfg.env, cfg.algo, cfg.hidden, cfg.batch_size], ["point-goal", "alam", 64, 64]);
      await page.waitForFunction(() => Number(document.querySelector("#updates").textContent) > 0 && Number(document.querySelector("#steps").textContent) > 2000, null, { timeout: 120_000, polling: 250 });
      console.log(`# [${dev.name}] whole test ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

// The first failure, as a newcomer with a GPU met it: on WebGPU the bare address (the
// pretrained demo) stopped with an error within seconds (saving read tensors synchronously).
// Here "auto" has measured WebGPU as the faster device in this browser (as on a real GPU), so
// the demo's run trains on (Train on) on WebGPU: it acts, autosaves, reloads, resumes and
// trains on, with no error.
test("[webgpu] the pretrained demo trains on, autosaves, reloads and resumes on WebGPU with no error", { timeout: 400_000, skip: !devices().some((d) => d.name === "webgpu") }, async () => {
  const { browser, page, errors } = await open({ webgpu: true });
  try {
    await page.addInitScript(rememberWebGpu([["point-goal", 64, 64]]));
    await page.goto(server.base);
    await ready(page);
    assert.match(await statusText(page, /^watching the pretrained demo/), /SAC-ALaM on point-goal after 20000 steps/);
    assert.match(await page.textContent("#backend"), /^Training on: WebGPU \(WebGPU [\d.]+ agent-updates\/s vs CPU .*: using WebGPU \(measured earlier/);
    await page.click("#train-on"); // the demo's run trains on
    await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) >= 20_030, null, { timeout: 240_000, polling: 500 });
    assert.match(await page.textContent("#status"), /^training on the pretrained demo/, "no error while it plays");
    await page.click("#pause"); // saves the run to this browser: a read of every network
    await page.waitForFunction(() => window.alamPage.autosaved >= 20_030, null, { timeout: 60_000 });
    const saved = await page.evaluate(() => window.alamPage.autosaved);
    await screenshot(page, "page-webgpu-pretrained.png");

    await page.reload();
    await ready(page);
    assert.match(await statusText(page, /^resumed/), new RegExp(`step ${saved}\\b`));
    assert.match(await page.textContent("#backend"), /^Training on: WebGPU/);
    await page.click("#play");
    await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) >= n + 10, saved, { timeout: 120_000, polling: 500 });
    assert.equal(await page.textContent("#status"), "training");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// Measured here (bench/demo_time.mjs, seeds 0–2): the default demo meets this in 31–51 s of
// training in the page's trainer; seed 0 meets it at step 15 000. The counter is what a person
// reads: mean return and violating steps over the last 5 finished episodes. Return ≥ 80 is
// about four goals per episode (a random policy earns ~5); plain SAC runs through hazards
// ~25 steps per episode.
test("[cpu] the default demo learns to reach goals without touching hazards", { timeout: 600_000, skip: !devices().some((d) => d.name === "cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(server.base);
    await ready(page);
    const cfg = await page.evaluate(() => window.alamPage.config());
    assert.equal(cfg.env, "point-goal");
    assert.equal(cfg.algo, "alam");
    // A first visit shows the pretrained demo; this is the newcomer who trains from scratch.
    await page.click("#scratch");
    await page.waitForFunction(() => document.querySelector("#status").textContent === "training" && Number(document.querySelector("#steps").textContent) < 20_000, null, { timeout: 60_000 });
    await page.waitForFunction(() => {
      const m = document.querySelector("#recent").textContent.match(/return (-?[\d.]+) · ([\d.]+) violating/);
      return m && Number(m[1]) >= 80 && Number(m[2]) <= 1;
    }, null, { timeout: 540_000, polling: 1000 });
    const steps = Number(await page.textContent("#steps"));
    await screenshot(page, "page-default-demo-learned.png");
    console.log(`# default demo: ${await page.textContent("#recent")} at step ${steps}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

const ALAM = join(ROOT, "target/release/alam");
/** `alam eval` of a weights file: deterministic episodes on a fixed seed, as JSON. */
function evalNative(path) {
  const out = execFileSync(ALAM, ["eval", "--weights", path, "--episodes", "3"], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").filter((l) => l.startsWith("{")).at(-1));
}

/** A run file with its header JSON edited, its length and checksum made right again: a file
 *  that passes the integrity checks but disagrees with itself. */
function editHeader(bytes, edit) {
  const len = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(12, 12 + len).toString("utf8"));
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(4);
  size.writeUInt32LE(json.length);
  const body = Buffer.concat([bytes.subarray(0, 8), size, json, bytes.subarray(12 + len, bytes.length - 4)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  return Buffer.concat([body, crc]);
}

async function statusText(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(document.querySelector("#status").textContent), re.source, { timeout: 60_000 });
  return page.textContent("#status");
}

for (const dev of devices()) {
  const SMALL = dev.small;

  test(`[${dev.name}] save, load and share: the page and the CLI read each other's run files; bad files change nothing`, { timeout: 400_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "alam-files-"));
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=alam&${SMALL}&seed=5`);
      await ready(page);
      await page.click("#play");
      // Past the warm-up (some updates; SwiftShader: a dozen or so) and one finished episode,
      // so the saved history has a return to chart.
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n && Number(document.querySelector("#episodes").textContent) >= 1, dev.webgpu ? 120 : 400, { timeout: 180_000 });
      await page.click("#pause");
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
      const saved = join(dir, download.suggestedFilename());
      await download.saveAs(saved);
      assert.match(download.suggestedFilename(), /^alam-double-integrator-alam-s5-step\d+\.alam$/);
      const first = evalNative(saved); // the CLI reads what the page saved

      // Load it back into a fresh page and save again: the same weights evaluate the same.
      // The person waits until the fresh page has finished starting its own run (on WebGPU
      // that takes a while): a file loaded before that is replaced by the starting run, a
      // known race (see the closing note of 2026-11-29).
      await page.reload();
      await ready(page);
      await page.waitForFunction(() => !window.alamPage.busy() && !/^(starting|measuring)/.test(document.querySelector("#status").textContent), null, { timeout: 120_000, polling: 250 });
      await page.setInputFiles("#load", saved);
      assert.match(await statusText(page, /^loaded/), /step [1-9]\d*/);
      // "Save run" wrote the whole training state: the loaded run goes on exactly, no refill.
      assert.equal((await page.evaluate(() => window.alamPage.loaded)).kind, "full");
      assert.doesNotMatch(await page.textContent("#status"), /refilled/);
      assert.match(await page.textContent("#backend"), dev.label, "loaded onto this device");
      const shown = await page.evaluate(() => window.alamPage.points());
      assert.ok(shown.return > 0 && shown.cost > 0, `the file's metrics history is charted: ${JSON.stringify(shown)}`);
      assert.equal((await page.evaluate(() => window.alamPage.config())).seed, 5);
      assert.match(page.url(), /seed=5/, "the URL describes the loaded run");
      const [again] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
      const resaved = join(dir, "again.alam");
      await again.saveAs(resaved);
      assert.deepEqual(evalNative(resaved), first);
      // "Save weights only": a smaller file of the same networks.
      const [small] = await Promise.all([page.waitForEvent("download"), page.click("#save-weights")]);
      assert.match(small.suggestedFilename(), /-weights\.alam$/);
      const weights = join(dir, "weights-only.alam");
      await small.saveAs(weights);
      assert.ok(statSync(weights).size < statSync(resaved).size, "weights only is the smaller file");
      // (Its actor is the current one, read at the save; the full file's acting policy is the
      // actor as of the last read, as the run acts: their evaluations may differ.)
      const w = evalNative(weights);
      assert.ok(w.episodes === first.episodes && Number.isFinite(w.return_mean), JSON.stringify(w));
      // The CLI goes on from the page's whole state: the file alone in a folder, resumed.
      const fromPage = join(dir, "from-page");
      mkdirSync(fromPage);
      copyFileSync(saved, join(fromPage, "checkpoint.alam"));
      const savedAt = Number(download.suggestedFilename().match(/step(\d+)/)[1]);
      execFileSync(ALAM, ["train", "--resume", fromPage, "--steps", String(savedAt + 40), "--quiet"]);
      const continued = readFileSync(join(fromPage, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.ok(continued.some((r) => r.step <= savedAt) && continued.at(-1).step > savedAt, "the page's records, then the CLI's");

      // The page reads what `alam train` wrote, and trains on from it.
      const cli = join(dir, "cli");
      execFileSync(ALAM, ["train", "--env", "car-following", "--algo", "fac", "--steps", "300", "--quiet", "--out", cli,
        "--set", "hidden=16", "--set", "batch_size=32", "--set", "learning_starts=100", "--set", "eval_every=0"]);
      await page.setInputFiles("#load", join(cli, "weights.alam"));
      assert.match(await statusText(page, /^loaded/), /step 300/);
      // A weights-only file: said, with what happens before training goes on.
      assert.equal((await page.evaluate(() => window.alamPage.loaded)).kind, "weights-only");
      assert.match(await page.textContent("#status"), /replay is refilled with 100 steps of the loaded policy before any update/);
      const cfg = await page.evaluate(() => window.alamPage.config());
      assert.deepEqual([cfg.env, cfg.algo, cfg.hidden], ["car-following", "fac", 16]);
      await page.click("#play");
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n, dev.webgpu ? 310 : 350, { timeout: 60_000 * dev.slow });
      // A weights-only file refills its replay (learning_starts steps, no updates) first, so its
      // 300 more steps can end before (or during) the click: Pause is then disabled, nothing to pause.
      await page.click("#pause", { timeout: 5_000 }).catch(async () => assert.equal(await page.isEnabled("#pause"), false, "Pause could not be clicked while the run plays"));
      // Paused once the worker has stopped (its last slice shown) and the run is saved.
      await page.waitForFunction(() => !window.alamPage.busy(), null, { timeout: 60_000 });

      // Truncated, corrupted and foreign files are refused with a reason; the run stays.
      const bytes = readFileSync(saved);
      const flipped = Buffer.from(bytes);
      flipped[flipped.length >> 1] ^= 0xff;
      const bad = {
        "truncated.alam": [bytes.subarray(0, bytes.length >> 1), /truncated or corrupted/],
        "flipped.alam": [flipped, /truncated or corrupted/],
        "notes.alam": [Buffer.from("not a run"), /not an ALaM Playground run file/],
        "other-env.alam": [editHeader(bytes, (h) => (h.config.env = "point-goal")), /says env point-goal but its networks take obs\/act dims 2\/1/],
        "other-width.alam": [editHeader(bytes, (h) => (h.config.hidden = 64)), /weights do not fit the config/],
      };
      for (const [name, [content, reason]] of Object.entries(bad)) {
        writeFileSync(join(dir, name), content);
        const steps = await page.textContent("#steps");
        await page.setInputFiles("#load", join(dir, name));
        // Wait for this file's refusal (the previous file's is still on screen until then).
        const text = await statusText(page, new RegExp(`^refused ${name.replace(".", "\\.")}: `));
        assert.match(text, reason);
        assert.equal((await page.evaluate(() => window.alamPage.config())).env, "car-following", "the current run is untouched");
        assert.equal(await page.textContent("#steps"), steps);
      }
      // Too large: refused by its size before it is read (a sparse file: no disk is used).
      const huge = join(dir, "huge.alam");
      writeFileSync(huge, "");
      truncateSync(huge, 300 * 2 ** 20);
      await page.setInputFiles("#load", huge);
      assert.match(await statusText(page, /^refused huge\.alam/), /^refused huge\.alam: the file is 300 MiB; a run file is at most 256 MiB/);
      assert.equal((await page.evaluate(() => window.alamPage.config())).env, "car-following", "the current run is untouched");

      // Copy link puts the address, which holds every setting, on the clipboard.
      await browser.contexts()[0].grantPermissions(["clipboard-read", "clipboard-write"]);
      await page.click("#copy-link");
      await statusText(page, /^link copied/);
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), page.url());
      await screenshot(page, `page-${dev.name}-save-load.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] autosave: a reload resumes the run where it was; Reset starts afresh`, { timeout: 300_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      const url = `${server.base}?${dev.query}env=double-integrator&algo=fac&${SMALL}&seed=7`;
      await page.goto(url);
      await ready(page);
      await page.click("#play");
      const past = dev.webgpu ? 100 : 300;
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n, past, { timeout: 120_000 });
      await page.click("#pause"); // a pause saves the run to this browser
      // The save made at the pause, at the paused step (an earlier periodic autosave can land
      // first: on WebGPU a save's read takes a while).
      await page.waitForFunction((n) => window.alamPage.autosaved > n && window.alamPage.autosaved === Number(document.querySelector("#steps").textContent), past, { timeout: 60_000 });
      const saved = await page.evaluate(() => window.alamPage.autosaved);

      await page.reload();
      await ready(page);
      const status = await statusText(page, /^resumed/);
      assert.match(status, new RegExp(`step ${saved}\\b`));
      assert.equal(Number(await page.textContent("#steps")), saved);
      const cfg = await page.evaluate(() => window.alamPage.config());
      assert.deepEqual([cfg.env, cfg.algo, cfg.seed], ["double-integrator", "fac", 7]);
      assert.match(await page.textContent("#backend"), dev.label, "resumed on this device");
      // It trains on from there.
      await page.click("#play");
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 20, saved, { timeout: 60_000 * dev.slow });
      await page.click("#pause");
      assert.equal(await page.textContent("#status"), "paused");

      // Another run's link does not pick up this autosave.
      await page.goto(url.replace("seed=7", "seed=8"));
      await ready(page);
      assert.equal(Number(await page.textContent("#steps")), 0);
      assert.doesNotMatch(await page.textContent("#status"), /resumed/);

      // Reset drops the autosave: back on the first link, a reload starts afresh.
      await page.goto(url);
      await ready(page);
      await statusText(page, /^resumed/);
      await page.click("#reset");
      await statusText(page, /^ready/);
      await page.reload();
      await ready(page);
      await statusText(page, /^ready/);
      assert.equal(Number(await page.textContent("#steps")), 0);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
