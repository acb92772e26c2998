// Each algorithm runs with its own multiplier schedule (docs/method.md §2–§3): the page's algorithm
// select gives FAC its authors' delay and ALaM its dual period, as the core's presets do, unless
// the user changed the schedule — on both devices.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, ready, devices } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

for (const dev of devices()) {
  test(`[${dev.name}] switching the algorithm takes its own multiplier schedule, a changed one stays`, { timeout: 180_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    const schedule = () => page.evaluate(() => {
      const c = window.alamPage.config();
      return [c.algo, c.multiplier_lr, c.multiplier_every, c.multiplier_steps];
    });
    const pick = async (algo) => {
      await page.selectOption("#algo", algo);
      await page.waitForFunction((algo) => window.alamPage.config()?.algo === algo, algo, { timeout: 60_000 });
    };
    try {
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=alam&${dev.small}`);
      await ready(page);
      assert.deepEqual(await schedule(), ["alam", 3e-3, 100, 1]);
      assert.match(page.url(), /multiplier_lr=0\.003/, "the address pins ALaM's schedule");
      await pick("fac");
      assert.deepEqual(await schedule(), ["fac", 3e-4, 10, 1], "FAC gets its own schedule, not ALaM's");
      await pick("alam");
      assert.deepEqual(await schedule(), ["alam", 3e-3, 100, 1]);
      // A learning rate the user set is theirs: it stays across the switch.
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=alam&multiplier_lr=0.002&${dev.small}`);
      await ready(page);
      await pick("fac");
      assert.deepEqual(await schedule(), ["fac", 2e-3, 10, 1]);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
