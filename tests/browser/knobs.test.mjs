// The constraint's knobs on the page (d, the cost budget, λ_max, m, k), on both devices: set in
// the form or in the URL they reach the run's config; a bad value is refused beside its field;
// only the knobs the chosen algorithm uses are shown; a new env brings its own default d. And
// as a widget's attributes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, ready, screenshot, devices } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

const KNOBS = ["cost_threshold", "cost_budget", "lambda_max", "multiplier_every", "multiplier_steps"];
/** Which knobs each algorithm uses (what the form must show). */
const SHOWN = {
  sac: [],
  lag: ["cost_budget", "lambda_max"],
  "pid-lag": ["cost_budget", "lambda_max"],
  fac: ["cost_threshold", "lambda_max", "multiplier_every", "multiplier_steps"],
  alam: ["cost_threshold", "lambda_max", "multiplier_every", "multiplier_steps"],
};
/** A value outside each knob's range. */
const BAD = { cost_threshold: "-1", cost_budget: "-0.5", lambda_max: "0", multiplier_every: "0", multiplier_steps: "1001" };

const config = (page) => page.evaluate(() => window.alamPage.config());
const visibleKnobs = (page) => page.evaluate((ids) => ids.filter((id) => document.getElementById(id).checkVisibility()), KNOBS);

/** Waits until `predicate(field)` holds in the page; a timeout says what the field shows. */
async function until(page, predicate, field, timeout) {
  try {
    await page.waitForFunction(predicate, field, { timeout });
  } catch (e) {
    const seen = await page.evaluate((f) => ({ value: document.getElementById(f).value, error: document.getElementById(`${f}-error`).textContent, status: document.getElementById("status").textContent }), field);
    throw new Error(`${field}: ${e.message}; the page shows ${JSON.stringify(seen)}`);
  }
}

/** Types `value` into `field` and commits it with Enter, as a person does. */
async function setField(page, field, value) {
  await page.fill(`#${field}`, value);
  await page.press(`#${field}`, "Enter");
}

for (const dev of devices()) {
  test(`[${dev.name}] the constraint's knobs: set in the URL and in the form they reach the run; a bad value is refused beside its field`, { timeout: 240_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=alam&cost_threshold=0.5&multiplier_every=3&${dev.small}`);
      await ready(page);
      let c = await config(page);
      assert.deepEqual([c.cost_threshold, c.multiplier_every], [0.5, 3], "the URL's d and m are the run's");
      assert.equal(await page.inputValue("#cost_threshold"), "0.5");
      assert.deepEqual(await visibleKnobs(page), SHOWN.alam);
      // Each shown with its range and a hint, named for assistive technology.
      assert.match(await page.textContent("#cost_threshold-help"), /≥ 0\. How much discounted cost ahead a state may carry/);
      assert.equal(await page.getByRole("textbox", { name: "d — constraint threshold" }).count(), 1);

      // From the form: the run restarts with it and the address bar says it.
      await setField(page, "cost_threshold", "2");
      await page.waitForFunction(() => window.alamPage.config()?.cost_threshold === 2, null, { timeout: 60_000 * dev.slow });
      assert.match(page.url(), /[?&]cost_threshold=2(&|$)/);
      await setField(page, "multiplier_steps", "4");
      await page.waitForFunction(() => window.alamPage.config()?.multiplier_steps === 4, null, { timeout: 60_000 * dev.slow });
      await setField(page, "lambda_max", "50");
      await page.waitForFunction(() => window.alamPage.config()?.lambda_max === 50, null, { timeout: 60_000 * dev.slow });

      // It trains with them.
      await page.waitForFunction(() => !document.querySelector("#play").disabled, null, { timeout: 60_000 * dev.slow });
      await page.click("#play");
      await page.waitForFunction(() => Number(document.querySelector("#updates").textContent) > 0, null, { timeout: 120_000 * dev.slow });
      await page.click("#pause");

      // A bad value of each knob is refused beside its field; the run keeps its config.
      const before = await config(page);
      for (const algo of ["alam", "lag"]) {
        if (algo !== before.algo) {
          await page.selectOption("#algo", algo);
          await page.waitForFunction((algo) => window.alamPage.config()?.algo === algo, algo, { timeout: 60_000 * dev.slow });
        }
        for (const field of SHOWN[algo]) {
          await setField(page, field, BAD[field]);
          await until(page, (f) => document.getElementById(`${f}-error`).textContent.includes(`\`${f}\``), field, 10_000);
          assert.equal(await page.getAttribute(`#${field}`, "aria-invalid"), "true", field);
          const now = await config(page);
          assert.equal(now[field], before[field], `${field}: the running trainer is untouched`);
          // Put right again, the refusal goes (once per algorithm: each valid value restarts the run).
          if (field !== SHOWN[algo][0]) continue;
          await setField(page, field, String(before[field]));
          await until(page, (f) => document.getElementById(`${f}-error`).textContent === "", field, 60_000 * dev.slow);
        }
      }
      assert.doesNotMatch(await page.textContent("#status"), /error/);
      await screenshot(page, `knobs-${dev.name}.png`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] the knobs shown follow the algorithm; a new env brings its own d; a bad knob in the URL is refused beside it`, { timeout: 180_000 * dev.slow }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      // Lag does not use d, but a refused d is still shown, beside its field.
      await page.goto(`${server.base}?${dev.query}env=point-goal&algo=lag&cost_threshold=-2&${dev.small}`);
      await ready(page);
      assert.match(await page.textContent("#cost_threshold-error"), /From the URL: .*`cost_threshold`/);
      assert.ok(await page.isVisible("#cost_threshold"), "a refused knob is shown even where its algorithm does not use it");
      let c = await config(page);
      assert.equal(c.cost_threshold, 1, "the run takes point-goal's default d instead");
      assert.match(await page.textContent("#status"), /refused.*cost_threshold/);
      for (const algo of ["sac", "pid-lag", "fac", "alam"]) {
        await page.selectOption("#algo", algo);
        await page.waitForFunction((algo) => window.alamPage.config()?.algo === algo, algo, { timeout: 60_000 * dev.slow });
        assert.deepEqual(await visibleKnobs(page), SHOWN[algo], algo);
      }
      assert.equal((await config(page)).cost_threshold, 1);
      // Point-goal's d is 1, the double integrator's 0: a new env brings its own…
      await page.selectOption("#env", "double-integrator");
      await page.waitForFunction(() => window.alamPage.config()?.env === "double-integrator", null, { timeout: 60_000 * dev.slow });
      assert.equal((await config(page)).cost_threshold, 0);
      assert.equal(await page.inputValue("#cost_threshold"), "0");
      // …unless d was set by hand, which stays.
      await setField(page, "cost_threshold", "0.3");
      await page.waitForFunction(() => window.alamPage.config()?.cost_threshold === 0.3, null, { timeout: 60_000 * dev.slow });
      await page.selectOption("#env", "car-following");
      await page.waitForFunction(() => window.alamPage.config()?.env === "car-following", null, { timeout: 60_000 * dev.slow });
      assert.equal((await config(page)).cost_threshold, 0.3);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

test("[cpu] the knobs as a widget's attributes: cost-threshold, lambda-max, multiplier-every, multiplier-steps, cost-budget", { timeout: 180_000, skip: !devices().some((d) => d.name === "cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}examples/course-page.html`);
    await page.evaluate(() => {
      document.body.insertAdjacentHTML(
        "beforeend",
        `<alam-trainer id="k1" env="double-integrator" algo="fac" hidden-units="16" cost-threshold="0.25" lambda-max="7" multiplier-every="3" multiplier-steps="2" panels="controls,settings"></alam-trainer>
         <alam-trainer id="k2" env="double-integrator" algo="lag" hidden-units="16" cost-budget="4" lambda-max="-1"></alam-trainer>`,
      );
    });
    await page.waitForFunction(() => ["k1", "k2"].every((id) => document.getElementById(id).alam?.config()), null, { timeout: 120_000 });
    const [k1, k2] = await page.evaluate(() => ["k1", "k2"].map((id) => document.getElementById(id).alam.config()));
    assert.deepEqual([k1.cost_threshold, k1.lambda_max, k1.multiplier_every, k1.multiplier_steps], [0.25, 7, 3, 2]);
    assert.equal(k2.cost_budget, 4);
    assert.equal(k2.lambda_max, 100, "a refused λ_max falls back to the default");
    const status = await page.evaluate(() => document.getElementById("k2").shadowRoot.getElementById("status").textContent);
    assert.match(status, /refused.*`lambda_max`/);
    // The widget's form shows them too.
    assert.equal(await page.locator("#k1").locator("#cost_threshold").inputValue(), "0.25");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
