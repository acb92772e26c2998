// Everyone can use it: every control reachable and operable from the keyboard, every control
// and picture named for a screen reader, a 375 px wide phone, dark mode with readable contrast,
// and a heat-map legend that says what its colours mean.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve, open, ready, screenshot, devices } from "./harness.mjs";

let server;
before(async () => {
  server = await serve();
});
after(async () => server?.close());

const SMALL = "env=double-integrator&hidden=16&batch_size=32&learning_starts=200&eval_every=0";
const has = (name) => devices().some((d) => d.name === name);

/** WCAG contrast ratio of two CSS colours as getComputedStyle gives them (rgb/rgba). */
function contrastIn(page, fgVar, bgVar) {
  return page.evaluate(([fgVar, bgVar]) => {
    const probe = document.createElement("div");
    document.body.append(probe);
    const rgb = (v) => {
      probe.style.color = `var(${v})`;
      return getComputedStyle(probe).color.match(/[\d.]+/g).slice(0, 3).map(Number);
    };
    const lum = ([r, g, b]) => {
      const c = [r, g, b].map((x) => {
        x /= 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const [a, b] = [lum(rgb(fgVar)), lum(rgb(bgVar))];
    probe.remove();
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  }, [fgVar, bgVar]);
}

test("[cpu] every control has a name a screen reader reads, and pictures are described", { timeout: 120_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?${SMALL}`);
    await ready(page);
    const unnamed = await page.evaluate(() => {
      const nameOf = (el) => {
        const by = el.getAttribute("aria-labelledby");
        return (
          el.getAttribute("aria-label") ||
          (by && by.split(" ").map((id) => document.getElementById(id)?.textContent).join(" ")) ||
          [...(el.labels ?? [])].map((l) => l.textContent).join(" ") ||
          (el.tagName === "BUTTON" ? el.textContent : "")
        ).trim();
      };
      return [...document.querySelectorAll("button, input, select, canvas[role=img], output, section")]
        .filter((el) => nameOf(el) === "" && el.tagName !== "OUTPUT")
        .map((el) => el.outerHTML.slice(0, 80));
    });
    assert.deepEqual(unnamed, [], "controls, canvases and sections without an accessible name");
    // Playwright's role queries read the same names a screen reader does.
    for (const name of ["Play", "Pause", "Step", "Reset", "Save run", "Load run…", "Copy link", "Start race"]) {
      assert.equal(await page.getByRole("button", { name, exact: true }).count(), 1, `one button named ${name}`);
    }
    const fields = [["combobox", "Environment"], ["combobox", "Algorithm"], ["textbox", "ρ (penalty weight)"], ["textbox", "Seed"], ["combobox", "Speed"], ["checkbox", "alam — λ(s), augmented Lagrangian + dual target"]];
    for (const [role, name] of fields) {
      assert.equal(await page.getByRole(role, { name, exact: true }).count(), 1, `one ${role} named ${name}`);
    }
    assert.match(await page.getByRole("img", { name: /heat map of the multiplier/i }).getAttribute("aria-describedby"), /heatmap-caption/);
    // The article's sliders, figures and links, by the names a screen reader reads.
    for (const name of ["Episode cost budget B", "Risk the policy takes (shifts every h(s))", "Step: η for dual ascent, ρ for the method of multipliers", "ρ (penalty weight)", "λ (multiplier)", "h (constraint value)"]) {
      assert.equal(await page.getByRole("slider", { name, exact: true }).count(), 1, `one slider named ${name}`);
    }
    assert.equal(await page.locator("#article figure [role=img]").count(), 4, "four figures");
    for (const el of await page.locator("#article figure [role=img]").all()) {
      assert.match(await el.getAttribute("aria-labelledby"), /caption/, "each figure named by its caption");
    }
    assert.equal(await page.getByRole("link", { name: "ALaM on point-goal, ρ = 0", exact: true }).count(), 1);
    // The heat map's legend (once the first map is drawn): a colour scale from 0 to a number,
    // and what λ is measured in.
    await page.waitForFunction(() => window.alamPage.heatmapVersion >= 1, null, { timeout: 60_000 });
    assert.match(await page.textContent("#heatmap-units"), /λ\(s\), reward per unit of cost/);
    assert.equal(await page.textContent("#heatmap-lo"), "0");
    assert.match(await page.textContent("#heatmap-hi"), /^\d/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test("[cpu] the article: its sliders work from the keyboard, and its text keeps its contrast in both schemes", { timeout: 120_000, skip: !has("cpu") }, async () => {
  const { browser, page, errors } = await open();
  try {
    await page.goto(`${server.base}?${SMALL}`);
    await ready(page);
    // Tab from the race's last control into the article: its first slider.
    await page.focus("#race-start");
    let tabs = 0;
    while (!(await page.evaluate(() => document.activeElement?.id === "fig-budget-b"))) {
      await page.keyboard.press("Tab");
      assert.ok(++tabs <= 10, "the article's first slider follows the race within 10 Tab presses");
    }
    assert.notEqual(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), "none", "a visible focus ring");
    const before = await page.textContent("#fig-budget-out");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.textContent("#fig-budget-b-value"), "1.2");
    assert.notEqual(await page.textContent("#fig-budget-out"), before, "the figure follows its slider");
    // Then its link, reached by Tab too.
    while (!(await page.evaluate(() => document.activeElement?.tagName === "A"))) {
      await page.keyboard.press("Tab");
      assert.ok(++tabs <= 20, "a try-this link is reached by Tab");
    }
    assert.match(await page.evaluate(() => document.activeElement.textContent), /d = 0/);
    // Every piece of the article's text against the background it is drawn on.
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      const low = await page.evaluate(() => {
        const rgb = (c) => c.match(/[\d.]+/g).map(Number);
        const lum = ([r, g, b]) => {
          const c = [r, g, b].map((x) => {
            x /= 255;
            return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        };
        const background = (el) => {
          for (; el; el = el.parentElement) {
            const c = rgb(getComputedStyle(el).backgroundColor);
            if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
          }
          return [255, 255, 255];
        };
        const els = [...document.querySelectorAll("#article :is(h2, h3, p, li, figcaption, label, output, a, var, strong, em, code)")];
        const low = els
          .map((el) => {
            const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
            return { what: `${el.tagName} ${el.textContent.slice(0, 30)}`, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
          })
          .filter((e) => e.ratio < 4.5)
          .map((e) => `${e.what}: ${e.ratio.toFixed(2)}`);
        return { checked: els.length, low };
      });
      assert.ok(low.checked > 50, `${low.checked} pieces of text checked`);
      assert.deepEqual(low.low, [], `${scheme}: article text under 4.5:1 (WCAG AA)`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

// The tests that train run on both devices.
for (const dev of devices()) {
const SMALL = `env=double-integrator&${dev.query}${dev.small}`;

test(`[${dev.name}] keyboard only: Tab reaches Play, Enter trains, Space pauses, a setting changes from the keyboard`, { timeout: 120_000 * dev.slow }, async () => {
  const { browser, page, errors } = await open({ webgpu: dev.webgpu });
  try {
    await page.goto(`${server.base}?${SMALL}`);
    await ready(page);
    await page.waitForFunction(() => !document.querySelector("#play").disabled);
    let tabs = 0;
    while (!(await page.evaluate(() => document.activeElement?.id === "play"))) {
      await page.keyboard.press("Tab");
      assert.ok(++tabs <= 20, "Play is reached within 20 Tab presses");
    }
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => Number(document.querySelector("#steps").textContent) > 100, null, { timeout: 60_000 * dev.slow });
    assert.equal(await page.evaluate(() => document.activeElement?.id), "pause", "focus moves to Pause");
    await page.keyboard.press("Space");
    await page.waitForFunction(() => document.querySelector("#status").textContent === "paused", null, { timeout: 10_000 });
    // The focused control shows a visible focus ring.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none");
    // Settings from the keyboard: focus the seed field, type, Enter.
    await page.focus("#seed");
    await page.keyboard.press("Control+A");
    await page.keyboard.type("4");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.alamPage.config()?.seed === 4, null, { timeout: 30_000 });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test(`[${dev.name}] 375 px wide and dark: nothing overflows sideways, text keeps its contrast, the page trains`, { timeout: 180_000 * dev.slow }, async () => {
  const { browser, page, errors } = await open({ webgpu: dev.webgpu, viewport: { width: 375, height: 740 } });
  try {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${server.base}?${SMALL}`);
    await ready(page);
    await page.click("#play");
    await page.waitForFunction((n) => window.alamPage.points().return >= n, dev.webgpu ? 1 : 2, { timeout: 120_000 * dev.slow });
    await page.click("#pause");
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      wide: [...document.querySelectorAll("section, canvas, .chart, form, button, select, input[type=text], input[type=range], figure, svg")]
        .filter((el) => el.getBoundingClientRect().right > innerWidth + 0.5)
        .map((el) => `${el.tagName}#${el.id}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`),
    }));
    assert.ok(overflow.page <= 375, `page ${overflow.page} px wide`);
    assert.deepEqual(overflow.wide, [], "elements past the right edge");
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, "rgb(17, 19, 24)", "the dark scheme is in use");
    for (const [fg, back] of [["--fg", "--panel"], ["--fg-muted", "--panel"], ["--error-fg", "--panel"], ["--fg", "--bg"]]) {
      const ratio = await contrastIn(page, fg, back);
      assert.ok(ratio >= 4.5, `${fg} on ${back}: contrast ${ratio.toFixed(2)} < 4.5 (WCAG AA)`);
    }
    await screenshot(page, `page-${dev.name}-375-dark.png`);
    await page.emulateMedia({ colorScheme: "light" });
    for (const [fg, back] of [["--fg", "--panel"], ["--fg-muted", "--panel"], ["--error-fg", "--panel"]]) {
      const ratio = await contrastIn(page, fg, back);
      assert.ok(ratio >= 4.5, `light: ${fg} on ${back}: contrast ${ratio.toFixed(2)} < 4.5`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
}
