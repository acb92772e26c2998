// The article below the race (www/article.js), as a reader meets it: four sections, figures
// whose numbers follow their sliders and agree with the formulas worked by hand, "try this"
// links that set the trainer up as they say (one of them followed on both devices), and
// `?text=0`, which leaves the article out. The figures are plain JS: their tests run on the CPU
// pass only.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ARTIFACTS, serve, open, ready, devices } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

const has = (name) => devices().some((d) => d.name === name);
/** A small run for the page's trainer while the article is read. */
const SMALL = "env=double-integrator&hidden=16&batch_size=32&learning_starts=200&eval_every=0";

const text = (page, sel) => page.textContent(sel);
const data = (page, sel) => page.$eval(sel, (el) => ({ ...el.dataset }));

test("[cpu] the article is below the race, with its four sections, each ending in a try-this link", { timeout: 120_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?${SMALL}`);
    await ready(page);
    assert.ok(await page.isVisible("#article"));
    assert.ok(await page.$eval("#article", (a) => Boolean(document.getElementById("race").compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING)), "after the race");
    const titles = await page.$$eval("#article h3", (hs) => hs.map((h) => h.textContent));
    assert.deepEqual(titles, ["1. “On average” is not “never”", "2. One multiplier per state", "3. Dual ascent overshoots", "4. What ALaM changes"]);
    const links = await page.$$eval("#article section", (ss) => ss.map((s) => s.querySelectorAll(".try a").length));
    assert.deepEqual(links, [2, 1, 1, 2], "try-this links per section");
    // The formulas the text teaches, as a person reads them.
    const body = await text(page, "#article");
    for (const formula of ["h(s) = Qc(s, a) − d ≤ 0", "Es[ −V(s) + λ(s)·h(s) ]", "λ ← max(0, λ + η·h)", "ψρ(h, λ) = (max(0, λ + ρh)² − λ²) / (2ρ)", "λ̂(s) = max(0, λold(s) + ρh(s))", "λ = λmax·sigmoid(f − ln λmax)"]) {
      assert.ok(body.replace(/\s+/g, " ").includes(formula), `the article writes ${formula}`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("[cpu] the figures compute what they show: ψ by hand, dual ascent swings, the method of multipliers settles, budgets and states", { timeout: 120_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?${SMALL}`);
    await page.waitForSelector("#fig-psi-out:not(:empty)");

    // Figure 4, ψ_ρ(h, λ) = (max(0, λ + ρh)² − λ²)/(2ρ). ρ = 2, λ = 1, h = 0.5:
    // max(0, 1 + 1) = 2, (4 − 1)/4 = 0.75, slope 2.
    await page.fill("#fig-psi-rho", "2");
    await page.fill("#fig-psi-lambda", "1");
    assert.equal(await text(page, "#fig-psi-rho-value"), "2");
    assert.match(await text(page, "#fig-psi-out"), /ψ_ρ\(0\.5, 1\.0\) with ρ = 2\.0: 0\.750; slope 2\.000; λ·h = 0\.500\./);
    // By keyboard, h from 0.5 down to −1 in 15 steps of 0.1: max(0, 1 − 2) = 0, ψ = (0 − 1)/4 = −0.25,
    // the constant −λ²/(2ρ) of a slack state, and no slope.
    await page.focus("#fig-psi-h");
    for (let i = 0; i < 15; i++) await page.keyboard.press("ArrowLeft");
    assert.equal(await text(page, "#fig-psi-h-value"), "−1");
    assert.match(await text(page, "#fig-psi-out"), /^ψ_ρ\(−1\.0, 1\.0\) with ρ = 2\.0: −0\.250; slope 0\.000; λ·h = −1\.000\.$/);
    assert.equal(Number((await data(page, "#fig-psi-out")).psi), -0.25);
    // ρ = 10, λ = 0, h = 1: ψ = 10²/20 = 5 = ρh²/2.
    await page.fill("#fig-psi-rho", "10");
    await page.fill("#fig-psi-lambda", "0");
    await page.fill("#fig-psi-h", "1");
    assert.equal(Number((await data(page, "#fig-psi-out")).psi), 5);
    assert.equal(Number((await data(page, "#fig-psi-out")).slope), 10);
    // The chart draws the same function: 61 points of h on [−3, 3] and the slider's dot.
    const psiPlot = await page.evaluate(() => document.querySelector("#fig-psi .u-over") !== null);
    assert.ok(psiPlot, "figure 4 is a uPlot chart");

    // Figure 3: a large step makes dual ascent swing across λ* = 2 without settling (η = 4.5:
    // λ jumps between 0 and 4.5), while the method of multipliers with ρ = 4.5 approaches λ*
    // from below; a small step (1) makes neither swing.
    await page.fill("#fig-toy-step", "4.5");
    let toy = await data(page, "#fig-toy-out");
    let [ascent, multipliers] = [JSON.parse(toy.ascent), JSON.parse(toy.multipliers)];
    assert.ok(ascent.crossings >= 15, `dual ascent crosses λ* ${ascent.crossings} times in 20 rounds`);
    assert.ok(ascent.error > 1, `dual ascent ends ${ascent.error} from λ*`);
    assert.equal(multipliers.crossings, 0);
    assert.equal(multipliers.overshoot, 0);
    assert.ok(multipliers.error < 1e-3, `the method of multipliers ends ${multipliers.error} from λ*`);
    assert.match(await text(page, "#fig-toy-out"), /Dual ascent: crosses λ\* \d+ times, overshoots by 2\.50/);
    await page.fill("#fig-toy-step", "1");
    toy = await data(page, "#fig-toy-out");
    [ascent, multipliers] = [JSON.parse(toy.ascent), JSON.parse(toy.multipliers)];
    assert.equal(ascent.crossings, 0, "a small dual-ascent step does not overshoot");
    assert.equal(multipliers.crossings, 0);
    await page.fill("#fig-toy-step", "0.1"); // the smallest ρ: slow, still no overshoot
    multipliers = JSON.parse((await data(page, "#fig-toy-out")).multipliers);
    assert.equal(multipliers.overshoot, 0);

    // Figure 1: budget B = 0.9 allows 3 shortcuts of 3 violating steps (mean cost 0.9 ≤ 0.9);
    // B = 0 allows none. The crossed cells are drawn.
    assert.equal(await page.$$eval("#fig-budget .cell.violate", (c) => c.length), 9);
    assert.match(await text(page, "#fig-budget-out"), /Mean episode cost 0\.9 ≤ B = 0\.9: the budget holds.*3 of 10 episodes cross the hazard: 9 violating steps/);
    await page.fill("#fig-budget-b", "0");
    assert.equal(await page.$$eval("#fig-budget .cell.violate", (c) => c.length), 0);
    assert.match(await text(page, "#fig-budget-out"), /No episode crosses the hazard/);

    // Figure 2: at risk 0 three states violate, the mean h (−0.44) is negative, so the scalar λ
    // stays 0 while λ(s) rises in those three; at risk 0.5 the mean turns positive (0.06) and the
    // scalar rises everywhere.
    let states = await data(page, "#fig-states-out");
    assert.deepEqual([states.violating, states.raised, Number(states.scalar)], ["3", "3", 0]);
    assert.match(await text(page, "#fig-states-out"), /Mean h = −0\.44\. 3 of 12 states violate.*scalar λ stays 0/);
    await page.fill("#fig-states-risk", "0.5");
    states = await data(page, "#fig-states-out");
    assert.deepEqual([states.violating, states.raised], ["5", "5"]);
    assert.ok(Math.abs(Number(states.scalar) - 0.0625) < 1e-9, `scalar λ ${states.scalar}`);
    assert.equal(await page.$$eval("#fig-states .bar.violate", (b) => b.length), 5);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

/** Clicks the article's link named `name` and waits for the page it loads. */
async function follow(page, name) {
  await Promise.all([page.waitForEvent("load"), page.getByRole("link", { name, exact: true }).click()]);
  await ready(page);
}

test("[cpu] each try-this link sets the trainer or the race up as it says", { timeout: 240_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    const trainer = [
      ["ALaM on point-goal, d = 0", { env: "point-goal", algo: "alam", cost_threshold: 0 }],
      ["ALaM on point-goal, d = 1", { env: "point-goal", algo: "alam", cost_threshold: 1 }],
      ["ALaM on the double integrator: watch the heat map of λ(s)", { env: "double-integrator", algo: "alam" }],
      ["ALaM on point-goal, ρ = 0", { env: "point-goal", algo: "alam", rho: 0 }],
      ["ALaM on point-goal, ρ = 10", { env: "point-goal", algo: "alam", rho: 10 }],
    ];
    for (const [name, want] of trainer) {
      await page.goto(`${server.base}?${SMALL}`);
      await ready(page);
      await follow(page, name);
      const config = await page.evaluate(() => window.alamPage.config());
      for (const [key, value] of Object.entries(want)) assert.equal(config[key], value, `${name}: ${key}`);
      // What a person sees: the form shows the run, and it trains at once (autoplay).
      assert.equal(await page.inputValue("#env"), want.env);
      assert.equal(await page.inputValue("#algo"), want.algo);
      if ("rho" in want) assert.equal(Number(await page.inputValue("#rho")), want.rho);
      await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 0, null, { timeout: 60_000 });
    }

    // The race: its algorithms and preset picked, the page scrolled to it; Start race trains FAC
    // with the stressed multiplier (30× its learning rate, every 200 updates) and ALaM with its own.
    await page.goto(`${server.base}?${SMALL}`);
    await ready(page);
    await follow(page, "Race FAC against ALaM with a stressed multiplier (then press Start race)");
    assert.deepEqual(await page.$$eval('input[name="race-algo"]:checked', (bs) => bs.map((b) => b.value)), ["fac", "alam"]);
    assert.equal(await page.inputValue("#race-preset"), "stressed");
    assert.ok(await page.$eval("#race", (r) => r.getBoundingClientRect().top < innerHeight && r.getBoundingClientRect().bottom > 0), "the race is in view");
    await page.click("#race-start");
    await page.waitForFunction(() => window.alamRace.agents().length === 2, null, { timeout: 60_000 });
    const agents = await page.evaluate(() => window.alamRace.agents());
    assert.deepEqual(agents.map((a) => a.algo), ["fac", "alam"]);
    assert.deepEqual(agents.map((a) => [a.multiplier_lr, a.multiplier_every]), [[9e-3, 200], [3e-3, 100]]);
    await page.evaluate(() => window.alamRace.stop());
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// One link followed on each device: the link keeps the device the page was asked for.
for (const dev of devices()) {
  test(`[${dev.name}] a try-this link (ρ = 10) sets the trainer up on this device`, { timeout: 180_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&${dev.small}`);
      await ready(page);
      await follow(page, "ALaM on point-goal, ρ = 10");
      assert.equal(new URL(page.url()).searchParams.get("backend"), dev.webgpu ? "webgpu" : null);
      const config = await page.evaluate(() => window.alamPage.config());
      assert.deepEqual([config.env, config.algo, config.rho], ["point-goal", "alam", 10]);
      assert.equal(Number(await page.inputValue("#rho")), 10);
      assert.match(await text(page, "#backend"), dev.label);
      await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 0, null, { timeout: 60_000 * dev.slow });
      await page.click("#pause");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

test("[cpu] ?text=0 leaves the article out, keeps saying so in the address, and a first visit still watches the demo", { timeout: 120_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?text=0`);
    await ready(page);
    assert.equal(await page.isVisible("#article"), false);
    assert.equal(await page.$$eval("#article *", (els) => els.length), 0, "nothing drawn");
    await page.waitForFunction(() => /watching the pretrained demo/.test(document.querySelector("#status").textContent), null, { timeout: 60_000 });
    // A run of its own: the trainer writes its settings into the address; text=0 stays.
    await page.goto(`${server.base}?text=0&${SMALL}`);
    await ready(page);
    await page.selectOption("#algo", "fac");
    await page.waitForFunction(() => window.alamPage.config()?.algo === "fac", null, { timeout: 60_000 });
    const url = new URL(page.url());
    assert.equal(url.searchParams.get("algo"), "fac", "the address holds the run");
    assert.equal(url.searchParams.get("text"), "0");
    assert.equal(await page.isVisible("#article"), false);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("[cpu] screenshots of the article, light and dark", { timeout: 120_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open({ viewport: { width: 900, height: 1000 } });
  try {
    await mkdir(ARTIFACTS, { recursive: true });
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${server.base}?${SMALL}`);
      await page.waitForSelector("#fig-psi-out:not(:empty)");
      await page.locator("#article").screenshot({ path: join(ARTIFACTS, `article-${scheme}.png`) });
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
