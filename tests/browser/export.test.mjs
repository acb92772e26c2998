// Results that leave the page, on both devices: "Download curves (CSV)" gives the run's records,
// the very numbers the charts draw; "Download charts (PNG)" one image of the four charts that
// decodes at its size with the curves in it; "Record" a clip of the environment that decodes as
// video; the race's CSV holds every agent's records under an `algo` column.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, ready, screenshot, devices, downloaded } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

/** A CSV without quoted cells (none of the run's fields is text) as header + rows of objects,
 *  numbers as numbers and empty cells as null. */
function parseCsv(text) {
  assert.ok(!text.includes('"'), "no quoted cells expected");
  const [head, ...lines] = text.trimEnd().split("\n");
  const columns = head.split(",");
  const rows = lines.map((line) => {
    const cells = line.split(",");
    assert.equal(cells.length, columns.length, line);
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] === "" ? null : Number.isNaN(Number(cells[i])) ? cells[i] : Number(cells[i])]));
  });
  return { columns, rows };
}

/** The (step, value…) points a chart draws for series `ks` (uPlot's data: [[x…], [y₁…], …]),
 *  rows where the first of them is drawn. */
const chartPoints = (data, ks) => data[0].map((x, i) => [x, ...ks.map((k) => data[k][i])]).filter((p) => p[1] !== null);
/** The same points from the CSV's rows of `kind`. */
const csvPoints = (rows, kind, fields) => rows.filter((r) => r.kind === kind).map((r) => [r.step, ...fields.map((f) => r[f])]);

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG signature");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

for (const dev of devices()) {
  test(`[${dev.name}] Record, Download curves and Download charts: a clip that decodes, the charts' numbers as CSV, one PNG of the charts`, { timeout: 300_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=alam&seed=2&${dev.small}`);
      await ready(page);
      await page.waitForFunction(() => !document.querySelector("#play").disabled, null, { timeout: 60_000 * dev.slow });
      await page.click("#play");
      // SwiftShader: one episode (up to 200 steps of a slow emulated GPU).
      const want = dev.webgpu ? 1 : 3;
      await page.waitForFunction((want) => {
        const p = window.alamPage.points();
        return p.return >= want && p.lambda >= want && p.speed >= 1;
      }, want, { timeout: 120_000 * dev.slow, polling: 500 });

      // Record about 2 s of the environment while it trains.
      await page.click("#record");
      assert.equal(await page.textContent("#record"), "Stop recording");
      await page.waitForTimeout(2000);
      const clip = await downloaded(page, "#record");
      assert.match(clip.name, /^alam-double-integrator-alam-s2-step\d+\.webm$/);
      assert.deepEqual([...clip.bytes.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], "a WebM (EBML) header");
      assert.ok(clip.bytes.length > 1000, `a clip of some frames: ${clip.bytes.length} bytes`);
      // It decodes: a video element reads its size and a duration of about the 2 s recorded
      // (a page of its own: the trainer page's CSP allows no blob: media).
      const player = await browser.newPage();
      const video = await player.evaluate(async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const v = document.createElement("video");
        v.muted = true;
        v.src = URL.createObjectURL(new Blob([bytes], { type: "video/webm" }));
        await new Promise((ok, fail) => {
          v.onloadedmetadata = ok;
          v.onerror = () => fail(new Error(`the clip does not decode: ${v.error?.message}`));
        });
        // A recorded WebM says no duration up front: seeking to the end makes the browser find it.
        if (!Number.isFinite(v.duration)) {
          v.currentTime = 1e6;
          const found = new Promise((ok) => (v.ondurationchange = () => Number.isFinite(v.duration) && ok()));
          await Promise.race([found, new Promise((ok) => setTimeout(ok, 10_000))]);
        }
        return { width: v.videoWidth, height: v.videoHeight, duration: v.duration };
      }, clip.bytes.toString("base64"));
      await player.close();
      const scene = await page.evaluate(() => ({ width: document.getElementById("scene").width, height: document.getElementById("scene").height }));
      assert.deepEqual([video.width, video.height], [scene.width, scene.height], "the clip is the scene canvas");
      assert.ok(video.duration > 0.5 && video.duration < 4, `about 2 s recorded: ${video.duration} s`);
      assert.match(await page.textContent("#record-note"), /^Saved alam-.*\.webm/);

      await page.click("#pause");
      await page.waitForFunction(() => document.querySelector("#status").textContent === "paused" && !window.alamPage.busy(), null, { timeout: 60_000 });
      // The charts drawn up to the last record (they draw at the next animation frame).
      await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));

      // The CSV: the run's records, the numbers the charts draw.
      const csv = await downloaded(page, "#download-csv");
      assert.match(csv.name, /^alam-double-integrator-alam-s2-step\d+\.csv$/);
      const { columns, rows } = parseCsv(csv.bytes.toString("utf8"));
      assert.deepEqual(columns.slice(0, 2), ["kind", "step"]);
      for (const field of ["episode", "return", "cost", "violations", "length", "updates", "critic_loss", "alpha", "lambda_mean", "lambda_max", "updates_per_s", "env_steps_per_s", "lambda_std", "flagged_frac"]) {
        assert.ok(columns.includes(field), `column ${field} in ${columns}`);
      }
      assert.ok(!columns.includes("lambda_grid"), "probe grids are left out");
      const kinds = new Set(rows.map((r) => r.kind));
      for (const kind of ["episode", "update", "probe"]) assert.ok(kinds.has(kind), `${kind} rows: ${[...kinds]}`);
      assert.ok([...kinds].every((k) => ["episode", "update", "eval", "probe"].includes(k)), [...kinds].join());
      const steps = rows.map((r) => r.step);
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b), "oldest first");
      const drawn = await page.evaluate(() => window.alamPage.plotted());
      assert.deepEqual(chartPoints(drawn.return, [1]), csvPoints(rows, "episode", ["return"]), "return chart = episode rows");
      assert.deepEqual(chartPoints(drawn.cost, [1, 2]), csvPoints(rows, "episode", ["cost", "violations"]), "cost chart = episode rows");
      assert.deepEqual(chartPoints(drawn.lambda, [1, 2]), csvPoints(rows, "update", ["lambda_mean", "lambda_max"]), "λ chart = update rows");
      assert.deepEqual(chartPoints(drawn.lambda, [3]), csvPoints(rows, "probe", ["lambda_mean"]), "λ probe points = probe rows");
      assert.deepEqual(chartPoints(drawn.speed, [1, 2]), csvPoints(rows, "update", ["updates_per_s", "env_steps_per_s"]), "throughput chart = update rows");
      assert.equal(rows.filter((r) => r.kind === "episode").length, Number(await page.textContent("#episodes")), "every episode");
      assert.match(await page.textContent("#export-note"), new RegExp(`downloaded ${csv.name.replaceAll(".", "\\.")} \\(${rows.length} records\\)`));

      // The PNG: four charts, with titles and legends, one under the other.
      const png = await downloaded(page, "#download-png");
      assert.match(png.name, /^alam-double-integrator-alam-s2-step\d+\.png$/);
      const size = pngSize(png.bytes);
      const canvases = await page.evaluate(() => [...document.querySelectorAll(".charts .chart canvas")].map((c) => ({ width: c.width, height: c.height })));
      assert.equal(canvases.length, 4);
      // export.js: PAD 12, TITLE 22, LEGEND 20 (CSS pixels; the test page's pixel ratio is 1).
      assert.deepEqual(size, {
        width: Math.max(...canvases.map((c) => c.width)) + 24,
        height: canvases.reduce((h, c) => h + 42 + c.height, 12),
      });
      // It decodes, and holds each chart as drawn: every opaque pixel of each uPlot canvas (axes,
      // labels, curves) is in the image where its chart goes.
      const decoded = await page.evaluate(async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
        const c = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = c.getContext("2d");
        ctx.drawImage(bitmap, 0, 0);
        let top = 12;
        const charts = [];
        for (const canvas of document.querySelectorAll(".charts .chart canvas")) {
          top += 22;
          const want = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
          const got = ctx.getImageData(12, top, canvas.width, canvas.height).data;
          let opaque = 0, same = 0;
          for (let i = 0; i < want.length; i += 4) {
            if (want[i + 3] !== 255) continue;
            opaque++;
            if (want[i] === got[i] && want[i + 1] === got[i + 1] && want[i + 2] === got[i + 2]) same++;
          }
          charts.push({ opaque, same });
          top += canvas.height + 20;
        }
        return { width: bitmap.width, height: bitmap.height, charts };
      }, png.bytes.toString("base64"));
      assert.deepEqual([decoded.width, decoded.height], [size.width, size.height]);
      for (const { opaque, same } of decoded.charts) {
        assert.ok(opaque > 0 && same === opaque, `each chart's drawn pixels are in the image: ${same} of ${opaque}`);
      }
      await screenshot(page, `export-${dev.name}.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] the race's CSV holds both algorithms' records, an algo column first`, { timeout: 300_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&seed=3&${dev.small}`);
      await ready(page);
      assert.equal(await page.isDisabled("#race-download-csv"), true, "nothing to export before a race");
      await page.click("#race-start"); // fac and alam, checked by default
      await page.waitForFunction((want) => {
        const a = window.alamRace.agents();
        return a.length === 2 && a.every((x) => x.episodes >= want);
      }, dev.webgpu ? 1 : 2, { timeout: 240_000 * dev.slow, polling: 500 });
      await page.click("#race-pause");
      await page.waitForFunction(() => document.querySelector("#race-pause").textContent === "Resume race", null, { timeout: 60_000 });
      const agents = await page.evaluate(() => window.alamRace.agents());
      const csv = await downloaded(page, "#race-download-csv");
      assert.equal(csv.name, "alam-race-double-integrator-fac-alam-s3.csv");
      const { columns, rows } = parseCsv(csv.bytes.toString("utf8"));
      assert.deepEqual(columns.slice(0, 3), ["algo", "kind", "step"]);
      assert.deepEqual([...new Set(rows.map((r) => r.algo))].sort(), ["alam", "fac"]);
      for (const a of agents) {
        const mine = rows.filter((r) => r.algo === a.algo);
        assert.equal(mine.filter((r) => r.kind === "episode").length, a.episodes, `${a.algo}: every episode`);
        assert.ok(mine.some((r) => r.kind === "update") && mine.some((r) => r.kind === "probe"), `${a.algo}: updates and probes`);
        assert.ok(mine.every((r) => r.step <= a.steps), a.algo);
      }
      const steps = rows.map((r) => r.step);
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b), "in step order");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
