// Offline use (www/sw.js, www/offline.js): after one online visit the page opens, watches the
// demo and trains with the network off; a new build replaces the cached one on the next online
// visit, and the page says so; the widget on a course page of the build's origin works offline
// too. "Offline" here is both Playwright's `setOffline` and the server stopped: a request that
// the service worker does not answer from its cache fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DIST, ROOT, serve, open, ready, screenshot, devices, rememberWebGpu } from "./harness.mjs";

/** What the page's offline notice says, once it matches `pattern`. */
async function notice(page, pattern, timeout = 120_000) {
  await page.waitForFunction((source) => new RegExp(source).test(document.getElementById("offline")?.textContent ?? ""), pattern.source, { timeout });
  return page.textContent("#offline");
}

/** The network goes away: the browser is offline and the server stopped. */
async function goOffline(context, server) {
  await context.setOffline(true);
  await server.close();
}

/** A copy of the build in a temporary folder (removed by `done`), to change and re-version. */
function copyOfBuild() {
  const dir = mkdtempSync(join(tmpdir(), "alam-build-"));
  cpSync(DIST, dir, { recursive: true });
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new build in `dir`: `edit` changes index.html, then scripts/precache.mjs re-versions it. */
function rebuild(dir, edit) {
  const file = join(dir, "index.html");
  writeFileSync(file, edit(readFileSync(file, "utf8")));
  execFileSync("node", [join(ROOT, "scripts/precache.mjs")], { env: { ...process.env, TRUNK_STAGING_DIR: dir }, stdio: "pipe" });
}

const heading = (page) => page.textContent("h1");

/** Records `page`'s console errors, uncaught exceptions and requests that leave loopback into
 *  `errors`; returns `page`. */
function watch(page, errors) {
  page.on("console", (m) => m.type() === "error" && errors.push(`${page.url()}: ${m.text()}`));
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e}`));
  page.on("request", (r) => new URL(r.url()).hostname !== "127.0.0.1" && !r.url().startsWith("data:") && errors.push(`foreign request: ${r.url()}`));
  return page;
}

/** Resolves once the build's registration has no worker waiting or installing and its active
 *  one has activated (read from inside the service workers: a page of the build would hold the
 *  old one in place). */
async function tookOver(context, timeout = 30_000) {
  const until = Date.now() + timeout;
  for (;;) {
    for (const worker of context.serviceWorkers()) {
      const done = await worker
        .evaluate(() => !self.registration.waiting && !self.registration.installing && self.registration.active?.state === "activated")
        .catch(() => false);
      if (done) return;
    }
    if (Date.now() > until) throw new Error("the new build's service worker did not take over");
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/** A headless Chromium (harness.mjs) with one browser context of our own, in which visits are
 *  pages that share the service worker, the caches and the storage, as a person's browser does. */
async function browse(dev) {
  const { browser, page } = await open({ webgpu: dev.webgpu });
  await page.close();
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  return { browser, context, errors: [] };
}

for (const dev of devices()) {
  test(`[${dev.name}] a second visit with the network off opens the page, watches the demo and trains`, { timeout: 360_000 }, async () => {
    const server = await serve();
    const { browser, context, errors } = await browse(dev);
    try {
      // WebGPU: as where "auto" measured WebGPU faster (the demo's address has no query).
      if (dev.webgpu) await context.addInitScript(rememberWebGpu([["point-goal", 64, 64]]));
      const first = watch(await context.newPage(), errors);
      await first.goto(server.base);
      await ready(first);
      assert.match(await notice(first, /^Saved for offline use/), /opens and trains without a network/);
      await first.close();

      await goOffline(context, server);
      const page = watch(await context.newPage(), errors);
      const failed = [];
      page.on("requestfailed", (r) => failed.push(r.url()));
      await page.goto(server.base);
      await ready(page);
      // The demo: watched, from the cached run file.
      await page.waitForFunction(() => /^watching the pretrained demo/.test(document.querySelector("#status").textContent), null, { timeout: 60_000 });
      await page.waitForFunction(() => window.alamPage.watched().episodes >= 1, null, { timeout: 120_000 * dev.slow, polling: 250 });
      assert.match(await page.textContent("#backend"), dev.label);
      // Training, with settings in the address (the same cached page, whatever the query).
      await page.goto(`${server.base}?${dev.query}${dev.small}`);
      await ready(page);
      await page.click("#play");
      await page.waitForFunction(() => window.alamPage.points().return > 0 && Number(document.querySelector("#updates").textContent) > 0, null, { timeout: 120_000 * dev.slow });
      assert.match(await page.textContent("#backend"), dev.label);
      await screenshot(page, `offline-${dev.name}-trains.png`);
      assert.deepEqual(failed, [], "no request went to the network");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close().catch(() => {});
    }
  });

  test(`[${dev.name}] a new build replaces the cached one on the next online visit, and the page says so`, { timeout: 360_000 }, async () => {
    const build = copyOfBuild();
    const server = await serve(build.dir);
    const { browser, context, errors } = await browse(dev);
    const url = () => `${server.base}?${dev.query}${dev.small}`;
    try {
      const first = watch(await context.newPage(), errors);
      await first.goto(url());
      await ready(first);
      await notice(first, /^Saved for offline use/);
      const v1 = await first.evaluate(() => localStorage.getItem("alam-playground:build"));
      assert.match(v1, /^[0-9a-f]{16}$/);
      await first.close();

      // Build 2 is published. The next visit opens build 1 from the cache at once, meanwhile
      // fetches build 2, and offers it: Reload shows build 2 and says so.
      rebuild(build.dir, (html) => html.replace("<h1>ALaM Playground</h1>", "<h1>ALaM Playground 2</h1>"));
      const second = watch(await context.newPage(), errors);
      await second.goto(url());
      await ready(second);
      assert.equal(await heading(second), "ALaM Playground", "the cached build opens first");
      await notice(second, /^A new version is ready/);
      const reloaded = second.waitForEvent("load", { timeout: 60_000 });
      await second.getByRole("button", { name: "Reload", exact: true }).click();
      await reloaded;
      await ready(second);
      assert.equal(await heading(second), "ALaM Playground 2");
      const v2 = await second.evaluate(() => localStorage.getItem("alam-playground:build"));
      assert.notEqual(v2, v1);
      assert.equal(await notice(second, /^Updated/), `Updated to the new version (build ${v2}).`);
      await screenshot(second, `offline-${dev.name}-updated.png`);
      await second.close();

      // Build 3, and this time the page is closed, not reloaded: the next visit opens build 2,
      // build 3 waits until no page runs build 2, and the visit after that opens build 3.
      rebuild(build.dir, (html) => html.replace("<h1>ALaM Playground 2</h1>", "<h1>ALaM Playground 3</h1>"));
      const third = watch(await context.newPage(), errors);
      await third.goto(url());
      await ready(third);
      assert.equal(await heading(third), "ALaM Playground 2");
      await notice(third, /^A new version is ready/);
      await third.close();
      // No page runs build 2 now: build 3 takes over by itself (asked of the service workers
      // themselves: no page of the build may be open meanwhile).
      await tookOver(context);
      const fourth = watch(await context.newPage(), errors);
      await fourth.goto(url());
      await ready(fourth);
      assert.equal(await heading(fourth), "ALaM Playground 3");
      const v3 = await fourth.evaluate(() => localStorage.getItem("alam-playground:build"));
      assert.equal(await notice(fourth, /^Updated/), `Updated to the new version (build ${v3}).`);
      await fourth.close();

      // Offline, the new build is what opens, and it trains.
      await goOffline(context, server);
      const offline = watch(await context.newPage(), errors);
      await offline.goto(url());
      await ready(offline);
      assert.equal(await heading(offline), "ALaM Playground 3");
      await offline.click("#play");
      await offline.waitForFunction(() => Number(document.querySelector("#updates").textContent) > 0, null, { timeout: 120_000 * dev.slow });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close().catch(() => {});
      build.done();
    }
  });

  test(`[${dev.name}] the widget on a course page of the build's origin works offline after an online visit`, { timeout: 300_000 }, async () => {
    const server = await serve();
    const { browser, context, errors } = await browse(dev);
    try {
      // The course page's widgets ("auto", double-integrator 2×64, batch 64) on WebGPU in that pass.
      if (dev.webgpu) await context.addInitScript(rememberWebGpu([["double-integrator", 64, 64]]));
      // The course page alone (no visit to the page itself): widget.js registers the worker.
      const first = watch(await context.newPage(), errors);
      await first.goto(`${server.base}examples/course-page.html`);
      await first.waitForFunction(() => document.getElementById("fac").alam?.config(), null, { timeout: 120_000 });
      // Cached and in charge: the worker installs (the whole build) before it takes the page.
      await first.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 120_000 });
      assert.equal(await first.$("#offline"), null, "no notice on the host's page");
      await first.close();

      await goOffline(context, server);
      const page = watch(await context.newPage(), errors);
      await page.goto(`${server.base}examples/course-page.html`);
      await page.waitForFunction(() => document.getElementById("fac").alam?.config(), null, { timeout: 120_000 });
      await page.locator("#fac").locator("#play").click();
      await page.waitForFunction(() => Number(document.getElementById("fac").shadowRoot.getElementById("steps").textContent) > 300, null, { timeout: 60_000 * dev.slow, polling: 250 });
      assert.match(await page.locator("#fac").locator("#backend").textContent(), dev.label);
      await screenshot(page, `offline-${dev.name}-widget.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close().catch(() => {});
    }
  });
}
