// The <alam-trainer> widget as a course author uses it (examples/course-page.html): two widgets
// and a race on one page, each in its own shadow root, trained independently, with a hostile
// host stylesheet that must not get in and our styles that must not get out. And the page's
// race view: 2–4 algorithms side by side.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, open, ready, screenshot, devices, rememberWebGpu } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

/** Rules a careless or hostile host page might have: broad, !important, on our element names. */
const HOSTILE = `
  * { font-family: "Comic Sans MS", cursive !important; color: rgb(255, 0, 0) !important; letter-spacing: 4px !important; line-height: 3 !important; }
  button { display: none !important; background: rgb(255, 0, 0) !important; }
  canvas { display: none !important; }
  h2 { font-size: 50px !important; }
  .panel, #play, #scene, .app { border: 9px solid lime !important; }
`;

const has = (name) => devices().some((d) => d.name === name);
const steps = (page, id) => page.evaluate((id) => Number(document.getElementById(id).shadowRoot.getElementById("steps").textContent), id);

test("[cpu] two widgets on a course page train independently, isolated from the host's CSS both ways", { timeout: 300_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors, foreign } = await open();
  try {
    await page.goto(`${server.base}examples/course-page.html`);
    await page.addStyleTag({ content: HOSTILE });
    // The host has its own elements with our class names and ids: ours must not style them.
    await page.evaluate(() => {
      document.body.insertAdjacentHTML("beforeend", '<div class="panel" id="host-panel">host</div><button id="play">host button</button><canvas id="scene"></canvas>');
    });
    await page.waitForFunction(() => ["fac", "alam"].every((id) => document.getElementById(id).alam?.config()), null, { timeout: 120_000 });
    const configs = await page.evaluate(() => ["fac", "alam"].map((id) => document.getElementById(id).alam.config()));
    assert.deepEqual(configs.map((c) => [c.env, c.algo, c.seed]), [["double-integrator", "fac", 1], ["double-integrator", "alam", 1]]);

    // Inside: the host's rules do not reach the widget's controls, canvas, headings or text.
    const inside = await page.evaluate(() => {
      const root = document.getElementById("fac").shadowRoot;
      const play = root.getElementById("play");
      const s = getComputedStyle(play);
      const h2 = getComputedStyle(root.querySelector("h2"));
      const text = getComputedStyle(root.getElementById("status"));
      return {
        playShown: play.offsetWidth > 0 && s.display !== "none",
        playBg: s.backgroundColor,
        playBorder: s.borderTopWidth,
        sceneShown: root.getElementById("scene").offsetWidth > 0,
        h2Size: h2.fontSize,
        color: text.color,
        letterSpacing: text.letterSpacing,
        font: text.fontFamily,
      };
    });
    assert.ok(inside.playShown, "the widget's Play button is shown");
    assert.ok(inside.sceneShown, "the widget's canvas is shown");
    assert.notEqual(inside.playBg, "rgb(255, 0, 0)");
    assert.notEqual(inside.playBorder, "9px");
    assert.notEqual(inside.h2Size, "50px");
    assert.notEqual(inside.color, "rgb(255, 0, 0)");
    assert.equal(inside.letterSpacing, "normal");
    assert.doesNotMatch(inside.font, /Comic/);
    // Outside: our styles do not reach the host's look-alike elements.
    const outside = await page.evaluate(() => {
      const panel = getComputedStyle(document.getElementById("host-panel"));
      const button = getComputedStyle(document.querySelector("body > button#play"));
      return { panelRadius: panel.borderTopLeftRadius, buttonRadius: button.borderTopLeftRadius };
    });
    assert.equal(outside.panelRadius, "0px", "our .panel rule stays inside the widget");
    assert.equal(outside.buttonRadius, "0px", "our button rule stays inside the widget");

    // Independent runs: playing one leaves the other where it is; pausing one stops only it.
    await page.locator("#fac").locator("#play").click();
    await page.waitForFunction(() => Number(document.getElementById("fac").shadowRoot.getElementById("steps").textContent) > 300, null, { timeout: 60_000 });
    assert.equal(await steps(page, "alam"), 0, "the other widget has not moved");
    await page.locator("#alam").locator("#play").click();
    await page.waitForFunction(() => Number(document.getElementById("alam").shadowRoot.getElementById("steps").textContent) > 300, null, { timeout: 60_000 });
    await page.locator("#fac").locator("#pause").click();
    // Paused once its worker has stopped (the slice in flight shown) and the view is idle.
    await page.waitForFunction(() => !document.getElementById("fac").alam.busy(), null, { timeout: 30_000 });
    const facPaused = await steps(page, "fac");
    const alamBefore = await steps(page, "alam");
    await page.waitForTimeout(2000);
    assert.equal(await steps(page, "fac"), facPaused, "the paused widget stays paused");
    assert.ok((await steps(page, "alam")) > alamBefore, "the other widget goes on training");
    const points = await page.evaluate(() => ["fac", "alam"].map((id) => document.getElementById(id).alam.points().return));
    assert.ok(points.every((n) => n > 0), `both widgets chart their episodes: ${points}`);
    await page.locator("#alam").locator("#pause").click();
    await screenshot(page, "widget-course-page.png");
    assert.deepEqual(errors, []);
    assert.deepEqual(foreign, []);
  } finally {
    await browser.close();
  }
});

test("[cpu] race view: 2–4 algorithms train side by side, overlaid; a race widget too", { timeout: 300_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?env=double-integrator&hidden=16&batch_size=32&learning_starts=200&probe_every=200&eval_every=0&seed=3`);
    await ready(page);
    // One algorithm is not a race: refused beside the picker.
    for (const algo of ["fac", "alam"]) await page.uncheck(`input[name="race-algo"][value="${algo}"]`);
    await page.check('input[name="race-algo"][value="sac"]');
    await page.click("#race-start");
    assert.match(await page.textContent("#race-error"), /Pick 2 to 4/);
    for (const algo of ["lag", "fac", "alam"]) await page.check(`input[name="race-algo"][value="${algo}"]`);
    await page.click("#race-start");
    assert.equal(await page.textContent("#race-error"), "");
    await page.waitForFunction(() => {
      const a = window.alamRace.agents();
      return a.length === 4 && a.every((x) => x.episodes >= 3 && x.steps >= 600);
    }, null, { timeout: 200_000, polling: 500 });
    const agents = await page.evaluate(() => window.alamRace.agents());
    assert.deepEqual(agents.map((a) => a.algo), ["sac", "lag", "fac", "alam"]);
    // The default preset runs the shared settings as they are, each algorithm with its own
    // multiplier schedule (FAC and the scalar baselines: every 10 updates at 3e-4; ALaM: a dual
    // period of 100 at 3e-3), though the page's settings hold ALaM's.
    assert.deepEqual(agents.map((a) => [a.multiplier_lr, a.multiplier_every]), [[3e-4, 10], [3e-4, 10], [3e-4, 10], [3e-3, 100]]);
    assert.match(await page.textContent("#race-status"), /sac vs lag vs fac vs alam on double-integrator, seed 3/);
    const pts = await page.evaluate(() => window.alamRace.points());
    assert.ok(pts.return >= 12 && pts.violations >= 12 && pts.lambda >= 3, JSON.stringify(pts));
    await page.click("#race-pause");
    // Paused once every agent's worker has stopped: the button offers to resume.
    await page.waitForFunction(() => document.querySelector("#race-pause").textContent === "Resume race", null, { timeout: 30_000 });
    const paused = await page.evaluate(() => window.alamRace.agents().map((a) => a.steps));
    await page.waitForTimeout(1000);
    assert.deepEqual(await page.evaluate(() => window.alamRace.agents().map((a) => a.steps)), paused, "a paused race stays put");
    await screenshot(page, "race-view.png");

    // The course page's race widget.
    await page.goto(`${server.base}examples/course-page.html`);
    await page.waitForFunction(() => document.getElementById("race").alam, null, { timeout: 60_000 });
    await page.locator("alam-trainer#race").locator("#race-start").click();
    await page.waitForFunction(() => {
      const a = document.getElementById("race").alam.agents();
      return a.length === 2 && a.every((x) => x.episodes >= 2);
    }, null, { timeout: 200_000, polling: 500 });
    assert.deepEqual(await page.evaluate(() => document.getElementById("race").alam.agents().map((a) => a.algo)), ["fac", "alam"]);
    await page.locator("alam-trainer#race").locator("#race-pause").click();

    // The course page's stressed race: its preset is selected and says what to watch; FAC runs
    // with its multiplier 30× faster and updated every 200 policy updates, ALaM with its own.
    const stressed = page.locator("#stressed");
    assert.equal(await stressed.locator("#race-preset").inputValue(), "stressed");
    assert.match(await stressed.locator("#race-watch").textContent(), /FAC's multiplier takes a 30× larger ascent step/);
    await stressed.locator("#race-start").click();
    await page.waitForFunction(() => document.getElementById("stressed").alam.agents().length === 2 && document.getElementById("stressed").alam.agents().every((a) => a.steps > 0), null, { timeout: 120_000, polling: 500 });
    const runs = await page.evaluate(() => document.getElementById("stressed").alam.agents());
    assert.deepEqual(runs.map((a) => [a.algo, a.multiplier_lr, a.multiplier_every]), [["fac", 9e-3, 200], ["alam", 3e-3, 100]]);
    assert.match(await stressed.locator("#race-status").textContent(), /fac vs alam on point-goal, seed 0, stressed multiplier, on /);
    await stressed.locator("#race-pause").click();
    await stressed.scrollIntoViewIfNeeded();
    await screenshot(page, "race-stressed.png");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

for (const dev of devices()) {
test(`[${dev.name}] widget attributes: run settings, panels, height and autoplay; a refused setting is said`, { timeout: 180_000 * dev.slow }, async () => {
  const { browser, page, errors } = await open({ webgpu: dev.webgpu });
  try {
    if (dev.webgpu) await page.addInitScript(rememberWebGpu([["double-integrator", 64, 64]]));
    await page.goto(`${server.base}examples/course-page.html`);
    await page.waitForFunction(() => document.getElementById("fac").alam?.config(), null, { timeout: 120_000 });
    // On WebGPU: forced by the attribute, a tenth of an update per step (SwiftShader is slow).
    const extra = dev.webgpu ? 'backend="webgpu" utd_ratio="0.1"' : "";
    await page.evaluate((extra) => {
      document.body.insertAdjacentHTML("beforeend", `
        <alam-trainer id="auto" env="car-following" algo="lag" batch-size="32" hidden-units="16" learning_starts="100"
          panels="scene,charts" height="420px" autoplay ${extra}></alam-trainer>
        <alam-trainer id="bad" env="double-integrator" rho="-1" hidden-units="16" ${extra}></alam-trainer>`);
    }, extra);
    // Autoplay, with the attributes' settings (batch-size is batch_size, hidden-units is hidden).
    await page.waitForFunction((n) => {
      const el = document.getElementById("auto");
      return el.alam?.points().return >= n && Number(el.shadowRoot.getElementById("updates").textContent) > 0;
    }, dev.webgpu ? 1 : 2, { timeout: 120_000 * dev.slow });
    assert.equal(await page.evaluate(() => document.getElementById("auto").alam.device().onGpu), dev.webgpu);
    const cfg = await page.evaluate(() => document.getElementById("auto").alam.config());
    assert.deepEqual([cfg.env, cfg.algo, cfg.batch_size, cfg.hidden, cfg.learning_starts], ["car-following", "lag", 32, 16, 100]);
    // Only the panels asked for; the height asked for.
    const shown = await page.evaluate(() => {
      const el = document.getElementById("auto");
      const root = el.shadowRoot;
      const visible = (sel) => root.querySelector(sel).offsetHeight > 0;
      return { controls: visible(".controls"), scene: visible(".scene-panel"), heatmap: visible(".heatmap-panel"), charts: visible(".charts"), height: el.getBoundingClientRect().height };
    });
    assert.deepEqual(shown, { controls: false, scene: true, heatmap: false, charts: true, height: 420 });
    // A bad value is refused and said in the status line; the run starts with the default.
    await page.waitForFunction(() => /refused/.test(document.getElementById("bad").alam ? document.getElementById("bad").shadowRoot.getElementById("status").textContent : ""), null, { timeout: 60_000 });
    const status = await page.evaluate(() => document.getElementById("bad").shadowRoot.getElementById("status").textContent);
    assert.match(status, /refused.*`rho`/);
    // Only the refused setting falls back (the core names it as data, `field`); the others stay,
    // and the refusal is shown beside the ρ input.
    const bad = await page.evaluate(() => {
      const el = document.getElementById("bad");
      const { rho, hidden, env } = el.alam.config();
      return { rho, hidden, env, beside: el.shadowRoot.getElementById("rho-error").textContent, invalid: el.shadowRoot.getElementById("rho").getAttribute("aria-invalid") };
    });
    assert.deepEqual([bad.rho, bad.hidden, bad.env, bad.invalid], [1, 16, "double-integrator", "true"]);
    assert.match(bad.beside, /`rho`/);
    await page.evaluate(() => document.getElementById("auto").alam.pause());
    await screenshot(page, `widget-${dev.name}-attributes.png`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
}

// The WebGPU pass of the two tests above: two widgets and a race on WebGPU (tiny networks),
// what a person sees — each trains, independently, and charts its episodes.
const TINY = 'env="double-integrator" hidden-units="8" batch-size="16" learning_starts="32" utd_ratio="0.1" eval_every="0" probe_every="50" backend="webgpu"';

test("[webgpu] two widgets train independently on WebGPU; a race too", { timeout: 400_000, skip: !has("webgpu") }, async () => {
  const { browser, page, errors, foreign } = await open({ webgpu: true });
  try {
    // The course page's own widgets ("auto", double-integrator 2×64, batch 64) start on WebGPU
    // too, as where it measured faster, instead of measuring SwiftShader.
    await page.addInitScript(rememberWebGpu([["double-integrator", 64, 64]]));
    await page.goto(`${server.base}examples/course-page.html`);
    await page.evaluate((tiny) => {
      document.body.insertAdjacentHTML("beforeend", `
        <alam-trainer id="g1" algo="fac" ${tiny} panels="controls,heatmap,charts" compact></alam-trainer>
        <alam-trainer id="g2" algo="alam" ${tiny} panels="controls,heatmap,charts" compact></alam-trainer>
        <alam-trainer id="g3" race="sac,alam" ${tiny} compact></alam-trainer>`);
    }, TINY);
    await page.waitForFunction(() => ["g1", "g2"].every((id) => document.getElementById(id).alam?.config()), null, { timeout: 120_000 });
    for (const id of ["g1", "g2"]) {
      assert.equal(await page.evaluate((id) => document.getElementById(id).alam.device().onGpu, id), true, `${id} on WebGPU`);
      assert.match(await page.evaluate((id) => document.getElementById(id).shadowRoot.getElementById("backend").textContent, id), /^Training on: WebGPU/);
    }
    await page.locator("#g1").locator("#play").click();
    await page.waitForFunction(() => Number(document.getElementById("g1").shadowRoot.getElementById("updates").textContent) > 5, null, { timeout: 120_000 });
    assert.equal(await steps(page, "g2"), 0, "the other widget has not moved");
    await page.locator("#g2").locator("#play").click();
    await page.waitForFunction(() => Number(document.getElementById("g2").shadowRoot.getElementById("updates").textContent) > 5, null, { timeout: 120_000 });
    await page.locator("#g1").locator("#pause").click();
    // Paused once its worker has stopped (the slice in flight shown) and the view is idle.
    await page.waitForFunction(() => document.getElementById("g1").shadowRoot.getElementById("status").textContent === "paused" && !document.getElementById("g1").alam.busy(), null, { timeout: 60_000 });
    const paused = await steps(page, "g1");
    const other = await steps(page, "g2");
    await page.waitForTimeout(3000);
    assert.equal(await steps(page, "g1"), paused, "the paused widget stays paused");
    assert.ok((await steps(page, "g2")) > other, "the other widget goes on training");
    await page.locator("#g2").locator("#pause").click();
    // The heat map drew on WebGPU (λ(s) of the alam widget).
    assert.ok(await page.evaluate(() => document.getElementById("g2").alam.heatmapVersion >= 1));

    // A race widget on WebGPU.
    await page.locator("#g3").locator("#race-start").click();
    await page.waitForFunction(() => {
      const a = document.getElementById("g3").alam.agents();
      return a.length === 2 && a.every((x) => x.episodes >= 1);
    }, null, { timeout: 240_000, polling: 500 });
    assert.equal(await page.evaluate(() => document.getElementById("g3").alam.device()), "WebGPU");
    assert.match(await page.evaluate(() => document.getElementById("g3").shadowRoot.getElementById("race-status").textContent), /sac vs alam on double-integrator, seed \d+, on WebGPU/);
    await page.locator("#g3").locator("#race-pause").click();
    await page.locator("#g3").scrollIntoViewIfNeeded();
    await screenshot(page, "widget-webgpu.png");
    for (const id of ["g1", "g2"]) {
      assert.doesNotMatch(await page.evaluate((id) => document.getElementById(id).shadowRoot.getElementById("status").textContent, id), /error/);
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(foreign, []);
  } finally {
    await browser.close();
  }
});

// A course page on another origin than the build (the widget's files served with CORS, as GitHub
// Pages does): a worker must be of the page's origin, so the widget starts its trainer's worker
// from a module of the page's origin that imports ours (www/remote.js).
for (const dev of devices()) {
  test(`[${dev.name}] a course page on another origin embeds the widget, and it trains in its worker`, { timeout: 180_000 * dev.slow }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "alam-host-"));
    const attrs = dev.small.split("&").map((kv) => kv.split("=")).map(([k, v]) => `${k === "hidden" ? "hidden-units" : k.replaceAll("_", "-")}="${v}"`).join(" ");
    writeFileSync(join(dir, "index.html"), `<!doctype html><html lang="en"><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<script type="module" src="${server.base}widget.js"></script>
<alam-trainer id="w" env="double-integrator" algo="alam" backend="${dev.webgpu ? "webgpu" : "cpu"}" ${attrs} total-steps="10000000" autoplay></alam-trainer></html>`);
    const host = await serve(dir, "/course/");
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${host.base}index.html`);
      assert.notEqual(new URL(host.base).origin, new URL(server.base).origin);
      const shown = () => page.evaluate(() => {
        const root = document.getElementById("w").shadowRoot;
        const text = (id) => root?.getElementById(id)?.textContent ?? null;
        return { steps: Number(text("steps")), backend: text("backend"), status: text("status"), error: root?.querySelector(".widget-error")?.textContent ?? null };
      });
      await page
        .waitForFunction(() => Number(document.getElementById("w").shadowRoot?.getElementById("steps")?.textContent ?? 0) > 40, null, { timeout: 120_000 * dev.slow })
        .catch(async (e) => assert.fail(`it did not train: ${JSON.stringify(await shown())} ${errors.join(" ")} (${e.message})`));
      const seen = await shown();
      assert.match(seen.backend, dev.label);
      assert.equal(seen.status, "training");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await host.close();
    }
  });
}

// A widget taken out of its page (a tab panel closed, a framework re-rendering) ends its run and
// its worker; put back, it starts afresh and trains.
test("[cpu] a widget removed from its page ends its worker; put back, it trains again", { timeout: 180_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}examples/course-page.html`);
    await page.evaluate(() => document.body.insertAdjacentHTML("beforeend", `<alam-trainer id="x" env="double-integrator" hidden-units="16" batch-size="32" learning-starts="100" total-steps="10000000" autoplay></alam-trainer>`));
    await page.waitForFunction(() => Number(document.getElementById("x").shadowRoot?.getElementById("steps")?.textContent ?? 0) > 200, null, { timeout: 60_000 });
    const workers = () => page.workers().filter((w) => w.url().endsWith("/trainer-worker.js")).length;
    const before = workers();
    await page.evaluate(() => {
      window.__x = document.getElementById("x");
      window.__x.remove();
    });
    for (let i = 0; i < 40 && workers() !== before - 1; i++) await page.waitForTimeout(250);
    assert.equal(workers(), before - 1, "its worker ended");
    await page.evaluate(() => document.body.append(window.__x));
    await page.waitForFunction(() => {
      const root = document.getElementById("x").shadowRoot;
      return root.getElementById("status")?.textContent === "training" && Number(root.getElementById("steps").textContent) > 100;
    }, null, { timeout: 60_000 });
    assert.equal(workers(), before);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// A widget's heading says what it trains (its `label`, by default its algorithm and env); `src`
// starts it from a run file (here the page's demo, on another origin, fetched with CORS: its
// 20 000 steps, its settings); `element.alam.play()` and `pause()` drive it from a script.
for (const dev of devices()) {
  test(`[${dev.name}] a widget's label heads it; src starts it from a run file; play() and pause() drive it`, { timeout: 180_000 * dev.slow }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "alam-label-"));
    const backend = dev.webgpu ? "webgpu" : "cpu";
    writeFileSync(join(dir, "index.html"), `<!doctype html><html lang="en"><meta charset="utf-8"><title>Labels</title><link rel="icon" href="data:,">
<script type="module" src="${server.base}widget.js"></script>
<alam-trainer id="plain" env="double-integrator" algo="fac" hidden-units="16" backend="${backend}"></alam-trainer>
<alam-trainer id="named" env="double-integrator" label="Lesson 7: the 1-D robot" hidden-units="16" backend="${backend}"></alam-trainer>
<alam-trainer id="file" src="${server.base}www/pretrained/point-goal-alam.alam" backend="${backend}"${dev.webgpu ? ' utd_ratio="0.1"' : ""}></alam-trainer>
<alam-trainer id="race" race="fac,alam" env="double-integrator"></alam-trainer></html>`);
    const host = await serve(dir, "/course/");
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${host.base}index.html`);
      const text = (id, inner) => page.evaluate(([id, inner]) => document.getElementById(id).shadowRoot?.getElementById(inner)?.textContent ?? null, [id, inner]);
      await page.waitForFunction(() => ["plain", "named", "file"].every((id) => document.getElementById(id).alam?.config()), null, { timeout: 120_000 * dev.slow });
      await page.waitForFunction(() => /^loaded point-goal-alam\.alam: step 20000/.test(document.getElementById("file").shadowRoot.getElementById("status").textContent), null, { timeout: 60_000 * dev.slow });
      assert.equal(await text("plain", "controls-title"), "FAC on double-integrator");
      assert.equal(await text("named", "controls-title"), "Lesson 7: the 1-D robot");
      assert.equal(await text("file", "controls-title"), "SAC-ALaM on point-goal", "the file's run, not the attributes'");
      assert.equal(await text("race", "race-title"), "Race: FAC vs SAC-ALaM on double-integrator");
      // The file's run: its steps, its config, its curves.
      assert.equal(await text("file", "steps"), "20000");
      const cfg = await page.evaluate(() => document.getElementById("file").alam.config());
      assert.deepEqual([cfg.env, cfg.algo, cfg.seed, cfg.hidden], ["point-goal", "alam", 4, 64]);
      assert.ok((await page.evaluate(() => document.getElementById("file").alam.points().return)) >= 50, "the file's curves");
      // play() trains on from the file's step; pause() stops it.
      await page.evaluate(() => document.getElementById("file").alam.play());
      await page.waitForFunction(() => Number(document.getElementById("file").shadowRoot.getElementById("steps").textContent) > 20_010, null, { timeout: 60_000 * dev.slow });
      await page.evaluate(() => document.getElementById("file").alam.pause());
      await page.waitForFunction(() => !document.getElementById("file").alam.busy(), null, { timeout: 30_000 * dev.slow });
      const stopped = await text("file", "steps");
      await page.waitForTimeout(500);
      assert.equal(await text("file", "steps"), stopped, "paused");
      await screenshot(page, `widget-${dev.name}-label-src.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await host.close();
    }
  });
}

// The README's snippet against a host that sends no CORS headers (a plain local server): the
// browser refuses widget.js, and the element's own text stays, where a person sees it. A host
// that sends them for its scripts but not for the wasm: the widget says in its box what it could
// not load and why. A `src` that cannot be fetched is said, and a fresh run starts.
test("[cpu] a widget that cannot load says so where its box is, not only in the console", { timeout: 180_000, skip: !has("cpu") }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "alam-nocors-"));
  const builds = {
    none: await serve(undefined, undefined, { cors: () => false }),
    scripts: await serve(undefined, undefined, { cors: (path) => !path.endsWith(".wasm") }),
  };
  for (const [name, build] of Object.entries(builds)) {
    writeFileSync(join(dir, `${name}.html`), `<!doctype html><html lang="en"><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<script type="module" src="${build.base}widget.js"></script>
<alam-trainer id="w" env="double-integrator" autoplay>The trainer loads from the course's host…</alam-trainer></html>`);
  }
  writeFileSync(join(dir, "badsrc.html"), `<!doctype html><html lang="en"><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,">
<script type="module" src="${server.base}widget.js"></script>
<alam-trainer id="w" env="double-integrator" hidden-units="16" src="missing.alam"></alam-trainer></html>`);
  const host = await serve(dir, "/course/");
  const { browser, page } = await open();
  try {
    await page.goto(`${host.base}none.html`);
    await page.waitForTimeout(3000);
    assert.equal(await page.evaluate(() => customElements.get("alam-trainer")), undefined, "widget.js was refused");
    assert.ok(await page.getByText("The trainer loads from the course's host…").isVisible(), "the element's own text shows");

    await page.goto(`${host.base}scripts.html`);
    const origin = new URL(builds.scripts.base).origin;
    await page.waitForFunction(() => document.getElementById("w").shadowRoot?.querySelector(".widget-error"), null, { timeout: 60_000 });
    const box = page.locator("#w .widget-error");
    assert.ok(await box.isVisible(), "the error is shown in the widget");
    assert.match(await box.textContent(), new RegExp(`^The ALaM trainer could not start: could not load the trainer from ${origin.replaceAll(".", "\\.")}: the host must send Access-Control-Allow-Origin`));
    await screenshot(page, "widget-cors-error.png");

    await page.goto(`${host.base}badsrc.html`);
    await page.waitForFunction(() => /^could not load the run file .*missing\.alam \(.*404.*\): a fresh run instead/.test(document.getElementById("w").shadowRoot?.getElementById("status")?.textContent ?? ""), null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => document.getElementById("w").alam.config().env), "double-integrator");
  } finally {
    await browser.close();
    await host.close();
    for (const b of Object.values(builds)) await b.close();
  }
});
