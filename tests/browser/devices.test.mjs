// Which device trains, and what happens when a call fails: "auto" measures WebGPU against the
// CPU once and remembers the faster (www/device.js); a failed save, readback or training call is
// said in the status line and the page stays usable; a lost WebGPU device is said and the run
// goes on on the CPU from its last save.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, ready, screenshot, devices, trainerWorkers } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

const has = (name) => devices().some((d) => d.name === name);
// A long run: tiny networks train thousands of steps a second on the CPU, and a run that ends
// while a test still waits for a failure to be said would never say it.
const TINY = "env=double-integrator&algo=alam&hidden=8&batch_size=16&learning_starts=32&utd_ratio=0.1&log_every=5&probe_every=50&eval_every=0&total_steps=10000000";
const steps = (page) => page.evaluate(() => Number(document.querySelector("#steps").textContent));
const status = (page) => page.textContent("#status");
// Every text the status line shows, in order (`window.__statusLog`), so that a message replaced
// a moment later (a failed save to a file, then the periodic autosave's failure) is still seen.
async function logStatus(page) {
  await page.evaluate(() => {
    const el = document.querySelector("#status");
    window.__statusLog = [el.textContent];
    new MutationObserver(() => window.__statusLog.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
  });
}
/** Where the status log stands now: `statusMatches` from here on reads only what comes after. */
const statusMark = (page) => page.evaluate(() => window.__statusLog?.length ?? 0);
/** The first status text matching `re` (in the log from `since`, when the page logs its
 *  status; else the current text), waiting up to `timeout` ms. */
async function statusMatches(page, re, { since = 0, timeout = 60_000 } = {}) {
  try {
    const found = await page.waitForFunction(
      ([src, since]) => {
        const re = new RegExp(src);
        const texts = window.__statusLog ? window.__statusLog.slice(since) : [document.querySelector("#status").textContent];
        return texts.find((t) => re.test(t)) ?? null;
      },
      [re.source, since],
      { timeout, polling: 100 },
    );
    return found.jsonValue();
  } catch (e) {
    throw new Error(`the status never matched ${re} in ${timeout} ms; it reads "${await status(page)}" at step ${await steps(page)}`, { cause: e });
  }
}

// SwiftShader emulates the GPU on the CPU, so here the CPU wins; on a real GPU WebGPU may.
test("[webgpu] auto measures both devices once, says both figures, keeps the faster, and remembers it", { timeout: 300_000, skip: !has("webgpu") }, async () => {
  const { browser, page, errors } = await open({ webgpu: true });
  try {
    await page.goto(`${server.base}?${TINY}`);
    await ready(page);
    const notice = await page.textContent("#backend");
    const m = notice.match(/WebGPU ([\d.]+) agent-updates\/s vs CPU ([\d.]+): using (WebGPU|CPU)/);
    assert.ok(m, `both figures in the notice: ${notice}`);
    const [webgpu, cpu, used] = [Number(m[1]), Number(m[2]), m[3]];
    assert.ok(cpu > 0, `the CPU trained while measured: ${notice}`);
    assert.equal(used, webgpu > cpu ? "WebGPU" : "CPU", "the faster one is used");
    assert.match(notice, new RegExp(`^Training on: ${used}`));
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 1);
    assert.equal(await page.evaluate(() => window.alamPage.device().measured), true);
    await screenshot(page, "auto-measured.png");

    // A later visit starts at once with the remembered choice: no measuring.
    await page.reload();
    await ready(page);
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 0, "a reload does not measure again");
    const again = await page.textContent("#backend");
    assert.match(again, new RegExp(`^Training on: ${used} \\(WebGPU ${m[1]} agent-updates/s vs CPU ${m[2]}: using ${used}(; WebGPU still warming up after \\d+ s)? \\(measured earlier in this browser\\)\\)`));
    // Other settings (another width) are measured for themselves.
    await page.fill("#hidden", "12");
    await page.press("#hidden", "Enter");
    await page.waitForFunction(() => window.alamPage.config()?.hidden === 12, null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 1, "a new width is measured");
    // So is a population (a GPU pays where one launch serves many agents): its figures count
    // every seed's updates.
    await page.fill("#seeds", "2");
    await page.press("#seeds", "Enter");
    await page.waitForFunction(() => window.alamPage.config()?.seeds === 2, null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 2, "a population is measured for its seeds");
    assert.match(await page.textContent("#backend"), /WebGPU [\d.]+ agent-updates\/s vs CPU [\d.]+ \(2 seeds\): using (WebGPU|CPU)/);

    // ?backend= still forces one, without measuring.
    await page.goto(`${server.base}?backend=webgpu&${TINY}&hidden=10`);
    await ready(page);
    assert.match(await page.textContent("#backend"), /^Training on: WebGPU$/);
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 0);
    await page.goto(`${server.base}?backend=cpu&${TINY}&hidden=10`);
    await ready(page);
    assert.match(await page.textContent("#backend"), /^Training on: CPU/);
    assert.equal(await page.evaluate(() => window.alamPage.measurements), 0);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("[cpu] a failed save, heat map or training call is said in the status line; the page stays usable", { timeout: 180_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?${TINY}`);
    await ready(page);
    // A call of the core fails in the run's training worker while failNext[name] > 0, as a
    // failed readback or a full storage would (Infinity until the test has seen the failure
    // said: the periodic autosave may come first); the failure crosses to the page as a message.
    const [worker] = await trainerWorkers(page);
    await worker.evaluate(() => {
      const proto = self.alamWorker.bindings.WebTrainer.prototype;
      self.failNext = { save: 0, heatmap: 0, run: 0 };
      for (const name of ["save", "heatmap", "run"]) {
        const f = proto[name];
        proto[name] = function (...args) {
          if (self.failNext[name] > 0) {
            self.failNext[name] -= 1;
            return Promise.reject(`simulated ${name} failure`);
          }
          return f.apply(this, args);
        };
      }
    });
    const failNext = (name, n) => worker.evaluate(([name, n]) => (self.failNext[name] = n), [name, n]);
    await logStatus(page);
    await page.click("#play");
    await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 100, null, { timeout: 60_000 });

    // A failed autosave (at pause): said; the run stays.
    await failNext("save", Infinity);
    let since = await statusMark(page);
    await page.click("#pause");
    assert.match(await statusMatches(page, /autosave failed/, { since }), /autosave failed \(simulated save failure\); the run goes on/);
    await failNext("save", 0);
    await page.click("#play");
    const before = await steps(page);
    await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 50, before, { timeout: 60_000 });

    // A failed save to a file: said; training goes on.
    await failNext("save", Infinity);
    since = await statusMark(page);
    await page.click("#save");
    assert.match(await statusMatches(page, /could not save/, { since }), /simulated save failure/);
    await failNext("save", 0);
    const during = await steps(page);
    await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 50, during, { timeout: 60_000 });

    // A failed heat map: said under the map; training goes on.
    await failNext("heatmap", Infinity);
    await page.waitForFunction(() => /heat map failed: simulated heatmap failure/.test(document.querySelector("#heatmap-caption").textContent), null, { timeout: 30_000 });
    await failNext("heatmap", 0);
    await page.waitForFunction(() => !/failed/.test(document.querySelector("#heatmap-caption").textContent), null, { timeout: 30_000 });

    // A failed training call: said, the run pauses; Play goes on from where it was.
    since = await statusMark(page);
    await failNext("run", 1);
    assert.match(await statusMatches(page, /^error: training failed/, { since }), /simulated run failure/);
    assert.equal(await page.isEnabled("#play"), true, "Play is offered again");
    const stopped = await steps(page);
    await page.click("#play");
    await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 50, stopped, { timeout: 60_000 });
    assert.equal(await status(page), "training");
    await page.click("#pause");
    // The same file save works now.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
    assert.match(download.suggestedFilename(), /\.alam$/);
    // The failures were logged as such (console.error) by the page; nothing else was.
    assert.ok(errors.every((e) => /simulated|could not save|heat map failed|training failed/.test(e)), errors.join("\n"));
  } finally {
    await browser.close();
  }
});

// A lost device (driver reset, GPU process crash, device.destroy()): the page hears it, says it,
// and the run goes on on the CPU from its last save — the autosave at a pause, or the save every
// 15 s while it plays on WebGPU.
test("[webgpu] a lost GPU device is said and the run goes on on the CPU from its last save", { timeout: 300_000, skip: !has("webgpu") }, async () => {
  const { browser, page, errors } = await open({ webgpu: true });
  try {
    await page.goto(`${server.base}?backend=webgpu&${TINY}`);
    await ready(page);
    assert.match(await page.textContent("#backend"), /^Training on: WebGPU/);
    await page.click("#play");
    await page.waitForFunction(() => Number(document.querySelector("#updates").textContent) > 10, null, { timeout: 120_000 });
    await page.click("#pause"); // the last save
    await page.waitForFunction(() => window.alamPage.autosaved > 0, null, { timeout: 60_000 });
    const saved = await page.evaluate(() => window.alamPage.autosaved);
    await page.click("#play");
    await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 5, saved, { timeout: 60_000 });

    // The run's training worker keeps the GPUDevice its core requested: destroyed there, as a
    // lost device would be.
    const [worker] = await trainerWorkers(page);
    assert.equal(await worker.evaluate(() => self.alamWorker.devices.length), 1);
    // The last save is the newest one when the device goes (the 15 s autosave may have made a
    // newer one than the pause's while it played on).
    const last = await page.evaluate(() => window.alamPage.autosaved);
    await worker.evaluate(() => self.alamWorker.devices[0].destroy());
    assert.ok(last >= saved);
    // First "…going on on the CPU…" while the last save loads in a new worker, then from where.
    const said = await statusMatches(page, /WebGPU device was lost.*training goes on on the CPU from the last save/);
    // (a save already reading when the device went may still land: then that one is the last)
    const from = Number(said.match(/training goes on on the CPU from the last save \(step (\d+)\)/)?.[1]);
    assert.ok(from >= last, `${said} (last save seen: ${last})`);
    assert.match(await page.textContent("#backend"), /^Training on: CPU/);
    // It goes on training (it was playing), from the save it loaded.
    try {
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 100, from, { timeout: 60_000 });
    } catch (e) {
      throw new Error(`no training on the CPU after the loss: step ${await steps(page)}, status "${await status(page)}", Pause ${(await page.isEnabled("#pause")) ? "enabled" : "disabled"}`, { cause: e });
    }
    assert.equal(await page.isEnabled("#pause"), true);
    await page.click("#pause");
    await screenshot(page, "webgpu-device-lost.png");
    // Later runs on this page use the CPU too (the device is gone).
    await page.selectOption("#algo", "fac");
    await page.waitForFunction(() => window.alamPage.config()?.algo === "fac", null, { timeout: 60_000 });
    assert.match(await page.textContent("#backend"), /^Training on: CPU/);
    await page.click("#play");
    await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 50, null, { timeout: 60_000 });
    const unexpected = errors.filter((e) => !/lost|destroy|WebGPU|wgpu|GPU|device|panicked|unreachable|Buffer/i.test(e));
    assert.deepEqual(unexpected, [], "no error beyond the lost device's own");
  } finally {
    await browser.close();
  }
});

// The same for a population: the one save carries every seed, and the run comes back on the CPU
// with each seed's counters where they were and the seed on screen still shown.
test("[webgpu] a lost GPU device: a population of 4 comes back on the CPU with every seed's counters", { timeout: 300_000, skip: !has("webgpu") }, async () => {
  const { browser, page, errors } = await open({ webgpu: true });
  try {
    await page.goto(`${server.base}?backend=webgpu&${TINY}&seed=5&seeds=4`);
    await ready(page);
    assert.match(await page.textContent("#backend"), /^Training on: WebGPU/);
    assert.equal(await page.evaluate(() => window.alamPage.seeds()), 4);
    await page.click("#play");
    // Past the first episode of every seed (double-integrator's last 200 steps) and some updates.
    await page.waitForFunction(() => Number(document.querySelector("#updates").textContent) > 10 && Number(document.querySelector("#steps").textContent) > 200, null, { timeout: 180_000 });
    await page.click("#pause"); // the last save: the counters on screen are the saved run's
    await page.waitForFunction(() => window.alamPage.autosaved > 0 && !window.alamPage.busy(), null, { timeout: 60_000 });
    await page.selectOption("#seed-shown", "2");
    await page.waitForFunction(() => window.alamPage.shownSeed() === 2 && !window.alamPage.busy(), null, { timeout: 60_000 });
    const counters = () =>
      page.evaluate(() => Object.fromEntries(["steps", "episodes", "violations", "episodes-per-seed", "violations-per-seed"].map((id) => [id, document.getElementById(id).textContent])));
    const saved = await counters();
    assert.equal(Number(saved.steps), await page.evaluate(() => window.alamPage.autosaved), "the pause saved the run on screen");
    assert.match(saved["episodes-per-seed"], /^ \(by seed: \d+ · \d+ · \d+ · \d+\)$/);

    const [worker] = await trainerWorkers(page);
    await worker.evaluate(() => self.alamWorker.devices[0].destroy());
    await statusMatches(page, new RegExp(`WebGPU device was lost.*training goes on on the CPU from the last save \\(step ${saved.steps}\\)`));
    assert.match(await page.textContent("#backend"), /^Training on: CPU/);
    assert.equal(await page.evaluate(() => window.alamPage.seeds()), 4, "still a population of 4");
    // Each seed's counters are where they were, and seed 2 is still the one shown.
    assert.deepEqual(await counters(), saved);
    await page.waitForFunction(() => window.alamPage.shownSeed() === 2 && !window.alamPage.busy(), null, { timeout: 60_000 });
    assert.equal(await page.inputValue("#seed-shown"), "2");
    // It was paused: it stays paused, and Play trains every seed on the CPU.
    assert.equal(await page.isEnabled("#play"), true);
    await page.click("#play");
    await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 50, Number(saved.steps), { timeout: 60_000 });
    assert.equal(await page.evaluate(() => window.alamPage.seeds()), 4);
    await page.click("#pause");
    await screenshot(page, "webgpu-device-lost-population.png");
    const unexpected = errors.filter((e) => !/lost|destroy|WebGPU|wgpu|GPU|device|panicked|unreachable|Buffer/i.test(e));
    assert.deepEqual(unexpected, [], "no error beyond the lost device's own");
  } finally {
    await browser.close();
  }
});
