// What a person's browser does to the page beyond one tab and one good link: two tabs on one
// origin's storage (each keeps its own run; a reload resumes its own; a tab on a link another tab
// holds goes on from a copy and says so; an older save never replaces a newer one; the oldest
// saved runs are dropped past the bound, with a word), a full disk (the autosave says it failed
// and how much room the run needs; nothing claims a save), URL keys and values and widget
// attributes that name JavaScript built-ins (refused with a message, the rest kept), and seeds
// past 2^53 − 1 (refused beside the Seed field with the range, judged on the text).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, ready, devices, rememberWebGpu } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

/** Names every plain object inherits (or, `__proto__`, its prototype's accessor). */
const BUILT_INS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
const steps = (page) => page.evaluate(() => Number(document.querySelector("#steps").textContent));
const autosaved = (page) => page.evaluate(() => window.alamPage.autosaved);
/** The id of the run a tab shows (www/autosave.js keeps it in the tab's sessionStorage). */
const runId = (page) => page.evaluate(() => sessionStorage.getItem("alam-playground:run"));

/** Keeps every text the status line shows (`window.__statusLog`), so that a word replaced a
 *  moment later (an autosave's, then "paused") is still seen by `statusSeen`. */
async function logStatus(page) {
  await page.evaluate(() => {
    const el = document.querySelector("#status");
    window.__statusLog = [el.textContent];
    new MutationObserver(() => window.__statusLog.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
  });
}
async function statusSeen(page, re, timeout = 60_000) {
  try {
    const found = await page.waitForFunction((src) => window.__statusLog.find((t) => new RegExp(src).test(t)) ?? null, re.source, { timeout, polling: 100 });
    return found.jsonValue();
  } catch (e) {
    throw new Error(`the status never showed ${re}; it showed ${JSON.stringify(await page.evaluate(() => window.__statusLog))}`, { cause: e });
  }
}

async function statusText(page, re, timeout = 60_000) {
  try {
    await page.waitForFunction((src) => new RegExp(src).test(document.querySelector("#status").textContent), re.source, { timeout });
  } catch (e) {
    throw new Error(`the status never matched ${re}; it reads "${await page.textContent("#status")}"`, { cause: e });
  }
  return page.textContent("#status");
}

/** Plays until past step `past`, pauses, and waits for the save made at the pause (at the
 *  paused step: once no call is queued, so not a periodic save that landed first); returns
 *  that step. */
async function trainAndPause(page, past, dev) {
  await page.click("#play");
  await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n, past, { timeout: 120_000 * dev.slow });
  await page.click("#pause");
  await page.waitForFunction(
    (n) => !window.alamPage.busy() && window.alamPage.autosaved > n && window.alamPage.autosaved === Number(document.querySelector("#steps").textContent),
    past,
    { timeout: 60_000 * dev.slow, polling: 100 },
  );
  return autosaved(page);
}


for (const dev of devices()) {
  const link = (seed) => `${server.base}?${dev.query}env=double-integrator&algo=fac&${dev.small}&total_steps=10000000&seed=${seed}`;
  const past = dev.webgpu ? 40 : 300;

  test(`[${dev.name}] two tabs keep two runs: each reload resumes its own, a tab on a held link goes on from a copy and says so, a newer save is never replaced, the oldest are dropped with a word`, { timeout: 600_000 * dev.slow }, async () => {
    const { browser, page: a, newPage, errors } = await open({ webgpu: dev.webgpu });
    try {
      // Tab A on one link, tab B on another: each trains and pauses (each pause saves).
      await a.goto(link(7));
      await ready(a);
      const savedA = await trainAndPause(a, past, dev);
      const b = await newPage();
      await b.goto(link(8));
      await ready(b);
      await trainAndPause(b, past, dev);
      assert.notEqual(await runId(a), await runId(b));

      // Reloading A resumes A's run (B's save did not replace it).
      await a.reload();
      await ready(a);
      assert.match(await statusText(a, /^resumed/), new RegExp(`at step ${savedA}\\b`));
      assert.equal(await steps(a), savedA);

      // Tab C on A's link, while A holds it: it says so and goes on from a copy of A's save.
      const c = await newPage();
      await c.goto(link(7));
      await ready(c);
      assert.match(await statusText(c, /open in another tab/), new RegExp(`^this run is open in another tab: this tab goes on from that tab's save at step ${savedA} as a copy of its own`));
      assert.equal(await steps(c), savedA);
      assert.notEqual(await runId(c), await runId(a));

      // Both train on and save, apart; A goes further than C. Each reload resumes its own.
      const savedC = await trainAndPause(c, savedA + 10, dev);
      const savedA2 = await trainAndPause(a, savedC + 10, dev);
      await c.reload();
      await ready(c);
      assert.match(await statusText(c, /^resumed/), new RegExp(`at step ${savedC}\\b`));
      await a.reload();
      await ready(a);
      assert.match(await statusText(a, /^resumed/), new RegExp(`at step ${savedA2}\\b`));

      // At most MAX_SAVED_RUNS saved runs: A starts afresh (Reset drops its save), the store is
      // filled up with runs no tab holds, and A's next save drops the oldest of them, said.
      await a.click("#reset");
      await statusText(a, /^ready$/);
      const oldest = await a.evaluate(async () => {
        const store = await import(new URL("www/autosave.js", location.href).href);
        const fill = store.MAX_SAVED_RUNS - (await store.listRuns()).length;
        for (let i = 0; i < fill; i++) {
          await store.writeRun(`old-${i}`, { settings: { env: "double-integrator", algo: "sac", seed: 100 + i }, bytes: new Uint8Array(10), steps: 5 });
        }
        return fill;
      });
      assert.ok(oldest > 0);
      await logStatus(a);
      await trainAndPause(a, 20, dev);
      // (Said by the first save past the bound: the periodic one as Play starts, or the pause's.)
      assert.match(await statusSeen(a, /^autosaved/), /^autosaved at step \d+; this browser keeps at most 8 saved runs: dropped the oldest \(double-integrator sac seed 100 at step 5\)$/);
      const savedA3 = await autosaved(a);
      const kept = await a.evaluate(async () => {
        const store = await import(new URL("www/autosave.js", location.href).href);
        return (await store.listRuns()).map((r) => r.id);
      });
      assert.equal(kept.length, 8);
      assert.ok(!kept.includes("old-0") && kept.includes("old-1"));
      assert.ok(kept.includes(await runId(a)) && kept.includes(await runId(b)) && kept.includes(await runId(c)), "the runs open in tabs are kept");

      // A save of A's run further on (as another tab training the same run would leave it) is
      // never replaced by A's older step: refused and said; the page claims no save.
      const id = await runId(a);
      const furtherOn = async ([id, steps]) => {
        const store = await import(new URL("www/autosave.js", location.href).href);
        const run = await store.readRun(id);
        if (steps) await store.writeRun(id, { ...run, steps });
        return (await store.readRun(id)).steps;
      };
      assert.equal(await a.evaluate(furtherOn, [id, 1_000_000_000]), 1_000_000_000);
      await a.click("#play");
      await a.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 10, savedA3, { timeout: 60_000 * dev.slow });
      await a.click("#pause");
      const refused = await statusText(a, /could not autosave/);
      assert.match(refused, /^could not autosave to this browser \(this run's save in this browser is at step 1000000000, further on than step \d+ \(trained on in another tab\?\): not written over\); the run goes on unsaved$/);
      assert.equal(await autosaved(a), savedA3, "no save claimed");
      assert.equal(await a.evaluate(furtherOn, [id, 0]), 1_000_000_000, "the newer save stays");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] a full disk: the autosave says it failed, the room the run needs and what is left; nothing claims a save`, { timeout: 300_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      // Before the page first opens its storage: Chromium applies an override to storage opened
      // after it (an origin whose IndexedDB is already open keeps its quota).
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("Storage.overrideQuotaForOrigin", { origin: new URL(server.base).origin, quotaSize: 50 * 1024 });
      await page.goto(link(11));
      await ready(page);
      await page.click("#play");
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n, past, { timeout: 120_000 * dev.slow });
      await page.click("#pause");
      const said = await statusText(page, /could not autosave/);
      assert.match(said, /^could not autosave to this browser \(no room in this browser's storage \(QuotaExceededError[^)]*\): the run needs [\d.]+ (KB|MB), this site has [\d.]+ (B|KB|MB|GB) of its [\d.]+ (KB|MB|GB) left\); the run goes on unsaved$/);
      assert.ok(Number(said.match(/needs ([\d.]+) /)[1]) > 0, "the run's size");
      assert.equal(await autosaved(page), -1, "no save claimed");
      // It trains on, unsaved; a reload starts afresh.
      const at = await steps(page);
      await page.click("#play");
      await page.waitForFunction((n) => Number(document.querySelector("#steps").textContent) > n + 10, at, { timeout: 60_000 * dev.slow });
      await page.click("#pause");
      await page.reload();
      await ready(page);
      await statusText(page, /^ready$/);
      assert.equal(await steps(page), 0);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  // On the WebGPU pass a refused backend falls back to "auto": this browser is told WebGPU is
  // the faster device for these settings, so auto uses it at once (no measurement).
  const remember = rememberWebGpu([["point-goal", 8, 16], ["double-integrator", 8, 16]]);

  test(`[${dev.name}] URL keys and values that name built-ins are refused with a message; the other settings stay, and it trains`, { timeout: 600_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      if (dev.webgpu) await page.addInitScript(remember);
      for (const [k, name] of BUILT_INS.entries()) {
        // A seed of its own: no name's page resumes another's autosaved run.
        const seed = 5 + k;
        await page.goto(`${server.base}?env=${name}&algo=${name}&speed=${name}&backend=${name}&${name}=2&${dev.small}&total_steps=10000000&seed=${seed}`);
        await ready(page);
        const status = await statusText(page, /^ready, with defaults/);
        for (const said of [`unknown speed "${name}"`, `unknown backend "${name}"`, `invalid setting \`${name}\`: unknown config field`, "invalid setting `env`", "invalid setting `algo`"]) {
          assert.ok(status.includes(said), `${name}: the status says ${said}: ${status}`);
        }
        // Beside their fields: env, algo, speed.
        for (const field of ["env", "algo", "speed"]) {
          const beside = await page.textContent(`#${field}-error`);
          // (The core names an unknown algorithm in lower case.)
          assert.ok(beside.startsWith("From the URL") && beside.toLowerCase().includes(name.toLowerCase()), `${name}: beside ${field}: ${beside}`);
          assert.equal(await page.getAttribute(`#${field}`, "aria-invalid"), "true");
        }
        assert.equal(await page.inputValue("#speed"), "max");
        // The other settings stay; the defaults replace what was refused.
        const cfg = await page.evaluate(() => window.alamPage.config());
        assert.deepEqual([cfg.env, cfg.algo, cfg.seed, cfg.hidden], ["point-goal", "alam", seed, dev.webgpu ? 8 : 16], name);
        assert.match(await page.textContent("#backend"), dev.label);
        const search = new URLSearchParams(await page.evaluate(() => location.search));
        assert.ok(![...search.keys()].includes(name) && ![...search.values()].includes(name), `${name} left the link: ${search}`);
        // It trains.
        await page.click("#play");
        await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 20, null, { timeout: 60_000 * dev.slow });
        assert.equal(await page.textContent("#status"), "training");
        await page.click("#pause");
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] widget attributes that name built-ins are refused with a message; the other settings stay, and it trains`, { timeout: 600_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      if (dev.webgpu) await page.addInitScript(remember);
      await page.goto(`${server.base}examples/course-page.html`);
      const attrs = dev.small.split("&").map((kv) => kv.split("=")).map(([k, v]) => `${k === "hidden" ? "hidden-units" : k.replaceAll("_", "-")}="${v}"`).join(" ");
      for (const name of BUILT_INS) {
        const id = `w-${name}`;
        // HTML lowercases attribute names: `toString="2"` is the key `tostring`.
        const key = name.toLowerCase();
        await page.evaluate(
          ([id, name, attrs]) =>
            document.body.insertAdjacentHTML(
              "beforeend",
              `<alam-trainer id="${id}" env="double-integrator" algo="fac" seed="5" speed="${name}" backend="${name}" ${name}="2" ${attrs} total-steps="10000000" panels="controls,settings" autoplay></alam-trainer>
               <alam-trainer id="${id}-race" race="fac,alam" race-preset="${name}" backend="${name}"></alam-trainer>`,
            ),
          [id, name, attrs],
        );
        const shown = await page.waitForFunction(
          (id) => {
            const root = document.getElementById(id).shadowRoot;
            const status = root?.getElementById("status")?.textContent ?? "";
            return Number(root?.getElementById("steps")?.textContent ?? 0) > 20 ? { status, speed: root.getElementById("speed-error").textContent, config: document.getElementById(id).alam.config() } : null;
          },
          id,
          { timeout: 120_000 * dev.slow },
        );
        const { status, speed, config } = await shown.jsonValue();
        // Said where it is always seen (the status line), the speed beside its field too.
        assert.match(status, /^training, with defaults for what was refused: /, name);
        for (const said of [`unknown speed "${name}"`, `unknown backend "${name}"`, `invalid setting \`${key}\`: unknown config field`]) assert.ok(status.includes(said), `${name}: ${said}: ${status}`);
        assert.match(speed, new RegExp(`^From the element's attributes, refused: speed: unknown speed`));
        assert.deepEqual([config.env, config.algo, config.seed], ["double-integrator", "fac", 5], name);
        // The race refuses its preset and backend beside its algorithms, and keeps the default.
        const race = await page.evaluate((id) => {
          const root = document.getElementById(`${id}-race`).shadowRoot;
          return { error: root.getElementById("race-error").textContent, preset: root.getElementById("race-preset").value };
        }, id);
        assert.ok(race.error.includes(`race-preset: unknown preset "${name}"`) && race.error.includes(`backend: unknown backend "${name}"`), `${name}: ${race.error}`);
        assert.equal(race.preset, "default");
        await page.evaluate((id) => {
          document.getElementById(id).remove();
          document.getElementById(`${id}-race`).remove();
        }, id);
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test(`[${dev.name}] a seed past 2^53 − 1 is refused beside the Seed field with the range, judged on its text; 2^53 − 1 trains`, { timeout: 300_000 }, async () => {
    const { browser, page, errors } = await open({ webgpu: dev.webgpu });
    try {
      const range = "a seed is an integer from 0 to 9007199254740991 (2^53 − 1)";
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=fac&${dev.small}&seed=9007199254740993`);
      await ready(page);
      assert.equal(await page.textContent("#seed-error"), `From the URL: seed 9007199254740993 is out of range: ${range}`);
      assert.equal(await page.inputValue("#seed"), "9007199254740993", "the text as given, not a rounded number");
      assert.equal(await page.getAttribute("#seed", "aria-invalid"), "true");
      const cfg = await page.evaluate(() => window.alamPage.config());
      assert.deepEqual([cfg.env, cfg.algo, cfg.seed], ["double-integrator", "fac", 0]);

      // The largest seed: accepted, kept in the link, and it trains.
      await page.goto(`${server.base}?${dev.query}env=double-integrator&algo=fac&${dev.small}&seed=9007199254740991`);
      await ready(page);
      await statusText(page, /^ready$/);
      assert.equal(await page.textContent("#seed-error"), "");
      assert.equal(await page.evaluate(() => window.alamPage.config().seed), 9007199254740991);
      assert.equal(new URL(page.url()).searchParams.get("seed"), "9007199254740991");
      await page.click("#play");
      await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 20, null, { timeout: 60_000 * dev.slow });

      // Typed into the field: refused beside it; the run on screen goes on.
      await page.fill("#seed", "9007199254740993");
      await page.press("#seed", "Enter");
      await page.waitForFunction(() => document.querySelector("#seed-error").textContent !== "");
      assert.equal(await page.textContent("#seed-error"), `seed 9007199254740993 is out of range: ${range}`);
      assert.equal(await page.evaluate(() => window.alamPage.config().seed), 9007199254740991);
      assert.equal(await page.textContent("#status"), "training");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
