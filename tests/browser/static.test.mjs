// The static build as a host serves it: `dist/` from a plain file server under a sub-path,
// with the Content-Security-Policy the build writes into the page (scripts/csp.mjs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DIST, SUBPATH, serve, open, ready, screenshot, devices } from "./harness.mjs";

let server;
before(async () => {
  server = await serve(DIST, SUBPATH); // every browser test runs under this sub-path
});
after(() => server?.close());

for (const dev of devices()) {
test(`[${dev.name}] the static build works under a sub-path, with a CSP that allows only its own assets and wasm`, { timeout: 240_000 }, async () => {
  const { browser, page, errors, foreign } = await open({ webgpu: dev.webgpu });
  try {
    const response = await page.goto(`${server.base}?${dev.query}${dev.small}`);
    assert.equal(response.status(), 200);
    await ready(page);
    const policy = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
    // The policy is in force: an injected inline script does not run (the wasm still compiles:
    // 'wasm-unsafe-eval'; the loader script runs: its hash is listed).
    const ran = await page.evaluate(async () => {
      const s = document.createElement("script");
      s.textContent = "window.injected = true";
      document.head.append(s);
      await new Promise((r) => setTimeout(r, 100));
      return window.injected === true;
    });
    assert.equal(ran, false, "an inline script outside the policy must be blocked");
    errors.length = 0; // the blocked script above logs its own CSP report
    await page.click("#play");
    // Past the warm-up and through a first episode.
    await page.waitForFunction(() => window.alamPage.points().return > 0 && Number(document.querySelector("#updates").textContent) > 0, null, { timeout: 120_000 });
    assert.match(await page.textContent("#backend"), dev.label);
    await screenshot(page, `static-${dev.name}-subpath.png`);
    assert.deepEqual(errors, [], "no console error, CSP violations included");
    assert.deepEqual(foreign, [], "no request outside the page's origin");
  } finally {
    await browser.close();
  }
});
}

/** The page's download budget for its code (issue 20): 3 MB gzipped, wasm and JavaScript. */
const CODE_BUDGET = 3_000_000;

test("the build's wasm + JavaScript weigh at most 3 MB gzipped", (t) => {
  // Every .wasm and .js file of the build (each copy counted: the service worker fetches them
  // all), gzipped by Node's zlib at level 9 (a little larger than `gzip -9`: BENCHMARKS.md).
  const files = readdirSync(DIST, { recursive: true }).filter((f) => /\.(wasm|m?js)$/.test(f));
  const sizes = files.map((f) => [f, gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length]);
  const total = sizes.reduce((sum, [, n]) => sum + n, 0);
  const wasmSizes = sizes.filter(([f]) => f.endsWith(".wasm"));
  const wasm = wasmSizes.reduce((sum, [, n]) => sum + n, 0);
  assert.ok(files.includes("alam_bg.wasm") && files.includes("alam.js"), `the build's core is missing: ${files}`);
  const mb = (n) => (n / 1e6).toFixed(3);
  const figure =
    `wasm + JavaScript: ${mb(total)} MB gzipped (wasm ${mb(wasm)} MB, ${files.length - wasmSizes.length} JavaScript files ` +
    `${mb(total - wasm)} MB)`;
  t.diagnostic(figure);
  assert.ok(total <= CODE_BUDGET, `${figure}, over the ${mb(CODE_BUDGET)} MB budget`);
});
