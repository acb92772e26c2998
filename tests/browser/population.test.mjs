// Seed populations in the page, on both devices (harness.mjs DEVICES): a race of 2 algorithms × 3
// seeds trains each algorithm's seeds as one population and draws each algorithm's mean with a
// shaded min–max band, said in the caption and legend; a page run of Seeds = 4 says what it
// counts, saves, comes back from its autosave on a reload, and from its saved file goes on exactly
// as the run that never stopped (its records, seed by seed, as the CSV export gives them).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, open, ready, screenshot, devices, downloaded } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

/** A CSV of numbers and plain words as rows of objects (empty cells as null). */
function parseCsv(text) {
  const [head, ...lines] = text.trimEnd().split("\n");
  const columns = head.split(",");
  const rows = lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [columns[i], v === "" ? null : Number.isNaN(Number(v)) ? v : Number(v)])));
  return { columns, rows };
}

/** Translucent pixels of the chart canvas inside `selector`: uPlot's canvas is transparent and
 *  lines are drawn opaque, so these are the bands' fill (a series colour at alpha 0x33,
 *  charts.js; two bands over each other a little more), bar the lines' anti-aliased edges. */
const bandPixels = (page, selector) =>
  page.evaluate((selector) => {
    const canvas = document.querySelector(`${selector} canvas`);
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] >= 40 && data[i] <= 110) n++;
    return { n, of: canvas.width * canvas.height };
  }, selector);

/** The status line once it matches `re`. */
async function statusText(page, re, timeout = 120_000) {
  await page.waitForFunction((src) => new RegExp(src).test(document.querySelector("#status").textContent), re.source, { timeout });
  return page.textContent("#status");
}

const counter = (page, id) => page.textContent(`#${id}`).then(Number);

/** Plays the page's run until its steps (each seed's) pass `n`, then pauses; resolves once the
 *  worker has stopped and the run is autosaved. */
async function playPast(page, n, timeout) {
  await page.click("#play");
  await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n, n, { timeout, polling: 100 });
  await page.click("#pause");
  await page.waitForFunction(() => !window.alamPage.busy() && document.querySelector("#play").disabled === false, null, { timeout: 60_000 });
}

for (const dev of devices()) {
  test(`[${dev.name}] a race of 2 algorithms × 3 seeds trains each algorithm as one population and draws its mean with a band`, { timeout: 400_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&seed=7&${dev.small}`);
      await ready(page);
      await page.fill("#race-seeds", "3");
      await page.click("#race-start"); // fac and alam, checked by default
      await page.waitForFunction(() => /seeds 7–9 \(3 per algorithm/.test(document.querySelector("#race-status").textContent), null, { timeout: 120_000 });
      // Two rows of the return chart's band: every seed of each algorithm has ended episodes.
      await page.waitForFunction(() => {
        const d = window.alamRace.plotted()?.return;
        const rows = (k) => (d ? d[1 + 3 * k].filter((v) => v !== null).length : 0);
        return rows(0) >= 2 && rows(1) >= 2;
      }, null, { timeout: 300_000 * dev.slow, polling: 500 });
      await page.click("#race-pause");
      await page.waitForFunction(() => document.querySelector("#race-pause").textContent === "Resume race", null, { timeout: 60_000 });

      const agents = await page.evaluate(() => window.alamRace.agents());
      assert.deepEqual(agents.map((a) => [a.algo, a.seeds]), [["fac", 3], ["alam", 3]], "each algorithm is one population of 3 seeds");
      assert.match(await page.textContent("#race-rates"), /fac \d+ steps \(each of 3 seeds\)/);
      // The band as drawn: for each algorithm its top ≥ mean ≥ bottom, and the seeds differ.
      const d = await page.evaluate(() => window.alamRace.plotted().return);
      for (const k of [0, 1]) {
        const [mean, hi, lo] = [d[1 + 3 * k], d[2 + 3 * k], d[3 + 3 * k]];
        const rows = mean.map((m, i) => [m, hi[i], lo[i]]).filter(([m]) => m !== null);
        assert.ok(rows.every(([m, h, l]) => l <= m + 1e-9 && m <= h + 1e-9), `${agents[k].algo}: min ≤ mean ≤ max`);
        assert.ok(rows.some(([, h, l]) => h > l), `${agents[k].algo}: the seeds' returns differ somewhere`);
      }
      // What a person sees: the shaded band in the chart, the caption saying what it is, the
      // legend naming each algorithm's mean.
      const shaded = await bandPixels(page, "#race-return");
      assert.ok(shaded.n > shaded.of / 20, `the return chart is shaded between the seeds' extremes: ${shaded.n} of ${shaded.of} pixels`);
      const caption = await page.textContent("figure:has(#race-return) figcaption");
      assert.match(caption, /mean of 3 seeds, shaded band min–max over the seeds/);
      const legend = await page.innerText("#race-return .u-legend");
      assert.match(legend, /fac, mean of 3 seeds/);
      assert.match(legend, /alam, mean of 3 seeds/);
      assert.doesNotMatch(legend, /over seeds|seed \d/, "band edges and seed lines stay out of the legend");
      // "Show each seed": the seeds' own lines, said in the caption.
      await page.check("#race-seed-lines");
      assert.match(await page.textContent("figure:has(#race-return) figcaption"), /thin lines each seed/);
      await screenshot(page, `population-race-${dev.name}.png`);
      // The CSV names each record's seed.
      const csv = await downloaded(page, "#race-download-csv");
      assert.equal(csv.name, "alam-race-double-integrator-fac-alam-s7-n3.csv");
      const { columns, rows } = parseCsv(csv.bytes.toString("utf8"));
      assert.deepEqual(columns.slice(0, 4), ["algo", "kind", "step", "seed_index"]);
      for (const a of agents) {
        const seeds = new Set(rows.filter((r) => r.algo === a.algo && r.kind === "episode").map((r) => r.seed_index));
        assert.deepEqual([...seeds].sort(), [0, 1, 2], `${a.algo}: episodes of every seed`);
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] a page run of Seeds = 4 counts per seed, saves, reloads and goes on exactly`, { timeout: 500_000 * dev.slow }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "alam-population-"));
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    // Past the warm-up (updates of every seed) before the save, then some steps more.
    const [at, more] = dev.webgpu ? [60, 30] : [300, 150];
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=alam&seed=5&seeds=4&${dev.small}`);
      await ready(page);
      // The page says how many seeds train and what each counter counts.
      assert.equal(await page.evaluate(() => window.alamPage.seeds()), 4);
      assert.equal(await page.inputValue("#seeds"), "4");
      assert.match(page.url(), /seeds=4/);
      assert.match(await page.textContent("#seeds-count"), /^4 seeds \(RNG seeds 5–8\), trained as one$/);
      assert.equal(await page.textContent("#steps-label"), "Steps (each seed)");
      assert.equal(await page.textContent("#episodes-label"), "Episodes (sum over 4 seeds)");
      assert.equal((await page.$$eval("#seed-shown option", (os) => os.map((o) => o.textContent))).length, 4);
      assert.match(await page.textContent("figure:has(#chart-return) figcaption"), /mean of 4 seeds, shaded band min–max over the seeds/);

      await playPast(page, at, 240_000 * dev.slow);
      const saved = {
        steps: await counter(page, "steps"),
        updates: await counter(page, "updates"),
        episodes: await counter(page, "episodes"),
        perSeed: await page.textContent("#episodes-per-seed"),
        violations: await page.textContent("#violations-per-seed"),
      };
      assert.ok(saved.updates > 0, "the save comes after the warm-up");
      if (saved.episodes > 0) assert.match(saved.perSeed, /^ \(by seed: \d+ · \d+ · \d+ · \d+\)$/);
      const file = await downloaded(page, "#save");
      assert.match(file.name, /^alam-double-integrator-alam-s5-step\d+-4seeds\.alam$/, "the file name says the population's size");
      const path = join(dir, file.name);
      await file.download.saveAs(path);
      // Seed 2 shown: the heat map and scene follow it.
      const maps = await page.evaluate(() => window.alamPage.heatmapVersion);
      await page.selectOption("#seed-shown", "2");
      await page.waitForFunction((v) => window.alamPage.shownSeed() === 2 && window.alamPage.heatmapVersion > v, maps, { timeout: 60_000 });

      // The run that never stopped: `more` steps on from the save, its records as the CSV has them.
      await playPast(page, saved.steps + more, 240_000 * dev.slow);
      const whole = parseCsv((await downloaded(page, "#download-csv")).bytes.toString("utf8"));
      assert.ok(whole.columns.includes("seed_index"));

      // A reload comes back from this browser's autosave: still a population of 4.
      await page.reload();
      await ready(page);
      await statusText(page, /^resumed from this browser's autosave/);
      assert.equal(await page.evaluate(() => window.alamPage.seeds()), 4);

      // The saved file: the per-seed counters are where they were, and it goes on exactly.
      await page.waitForFunction(() => !window.alamPage.busy(), null, { timeout: 60_000 });
      await page.setInputFiles("#load", path);
      await statusText(page, new RegExp(`^loaded .*: step ${saved.steps},`));
      assert.equal(await page.evaluate(() => window.alamPage.seeds()), 4, "the loaded run is a population of 4");
      assert.equal(await page.inputValue("#seeds"), "4");
      assert.equal(await counter(page, "steps"), saved.steps);
      // (A report's updates are those read back at the last sync; the save reads the rest.)
      assert.ok((await counter(page, "updates")) >= saved.updates);
      assert.equal(await counter(page, "episodes"), saved.episodes);
      assert.equal(await page.textContent("#episodes-per-seed"), saved.perSeed);
      assert.equal(await page.textContent("#violations-per-seed"), saved.violations);
      await playPast(page, saved.steps + more, 240_000 * dev.slow);
      const resumed = parseCsv((await downloaded(page, "#download-csv")).bytes.toString("utf8"));
      // Timing fields differ from run to run; everything else must not.
      const after = ({ rows }) =>
        rows
          .filter((r) => r.step > saved.steps && r.step <= saved.steps + more)
          .map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k, v]) => !/_per_s$/.test(k) && v !== null).sort(([x], [y]) => (x < y ? -1 : 1)))));
      const [a, b] = [after(whole), after(resumed)];
      assert.ok(a.length > 0 && a.some((r) => r.includes('"kind":"update"')), "updates after the save");
      assert.deepEqual(new Set(a.map((r) => JSON.parse(r).seed_index)), new Set([0, 1, 2, 3]), "records of every seed");
      assert.deepEqual(b, a, "the loaded population writes the records the uninterrupted one wrote");
      await screenshot(page, `population-page-${dev.name}.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

test("[cpu] a population's size out of 1–16 is refused beside the Seeds field; the run keeps its seeds", { timeout: 120_000, skip: !devices().some((d) => d.name === "cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?backend=cpu&env=double-integrator&seeds=17&hidden=16`);
    await ready(page);
    assert.match(await page.textContent("#seeds-error"), /From the URL: .*seeds/);
    assert.equal(await page.evaluate(() => window.alamPage.seeds()), 1, "the default instead");
    assert.equal(await page.isHidden("#seeds-row"), true, "one seed: no population row");
    await page.fill("#seeds", "3");
    await page.press("#seeds", "Enter");
    await page.waitForFunction(() => window.alamPage.seeds() === 3, null, { timeout: 60_000 });
    assert.match(await page.textContent("#seeds-count"), /^3 seeds/);
    await page.fill("#seeds", "0");
    await page.press("#seeds", "Enter");
    await page.waitForFunction(() => document.querySelector("#seeds-error").textContent.includes("seeds"), null, { timeout: 10_000 });
    assert.equal(await page.getAttribute("#seeds", "aria-invalid"), "true");
    assert.equal(await page.evaluate(() => window.alamPage.seeds()), 3, "the running population is untouched");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
