// Shared by the browser tests: a static server for dist/ on loopback and a headless Debian
// Chromium driven by playwright-core, with every console error and every request that
// leaves the page's own origin recorded.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { readFile, mkdir } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

const TYPES = {
  ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml",
};

export const ROOT = new URL("../../", import.meta.url).pathname;
/** The static build under test (ALAM_DIST serves another, e.g. an older build for a bench). */
export const DIST = process.env.ALAM_DIST ?? join(ROOT, "dist");
export const ARTIFACTS = join(ROOT, "artifacts");

/** Where the tests serve the build: a sub-path, as a course site or GitHub Pages would, so every
 *  browser test also checks that the static build works away from the host's root. */
export const SUBPATH = "/courses/safe-rl/alam/";

/** Serves `dir` under `prefix` on 127.0.0.1 (a plain file server: no rewriting, no fallback
 *  page); resolves to its base URL. `cors(path)`: whether that file is sent with CORS (default
 *  all, as GitHub Pages does; a plain local server sends none). */
export async function serve(dir = DIST, prefix = SUBPATH, { cors = () => true } = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end();
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(prefix.length)) || "index.html";
    if (rel.endsWith("/")) rel += "index.html";
    const path = normalize(join(dir, rel));
    if (!path.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(path);
      // CORS, as static hosts such as GitHub Pages send it: a course page on another origin
      // embeds the widget from here.
      const headers = { "content-type": TYPES[extname(path)] ?? "application/octet-stream" };
      if (cors(path)) headers["access-control-allow-origin"] = "*";
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${server.address().port}${prefix}`;
  return { base, close: () => new Promise((ok) => server.close(ok)) };
}

const COMMON = [
  "--no-sandbox", "--disable-background-networking", "--disable-component-update",
  "--no-first-run", "--disable-sync", "--disable-quic", "--js-flags=--expose-gc",
];
/** WebGPU through SwiftShader (NOTES.md); without these flags there is no adapter. */
const WEBGPU = [
  "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader", "--use-webgpu-adapter=swiftshader",
];

/** A page in a fresh headless Chromium; `webgpu` turns on the SwiftShader adapter. `newPage()`
 *  opens another tab in the same browser context (the same origin's storage, as two tabs of one
 *  person's browser); every tab's errors and foreign requests are recorded. */
export async function open({ webgpu = false, viewport = { width: 1280, height: 1000 } } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: webgpu ? [...COMMON, ...WEBGPU] : [...COMMON, "--disable-gpu"],
  });
  const context = await browser.newContext({ viewport });
  const errors = [];
  const foreign = [];
  const newPage = async () => {
    const page = await context.newPage();
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.protocol !== "data:" && u.hostname !== "127.0.0.1") foreign.push(r.url());
    });
    return page;
  };
  const page = await newPage();
  return { browser, context, page, newPage, errors, foreign };
}

/**
 * The two devices every feature test runs on. `cpu`: no WebGPU flags, so "auto" falls back to
 * burn's CPU device in wasm (and says why). `webgpu`: SwiftShader's WebGPU adapter, forced with
 * `?backend=webgpu`, where "auto" would measure SwiftShader — a CPU emulation of a GPU — slower
 * than the CPU path and pick the CPU. SwiftShader is slow, so the WebGPU pass trains tiny
 * networks for a few updates (`small`: an update every tenth step, so episodes end soon) and
 * asserts what a person sees: it trains, saves, loads, draws, and says no error.
 * ALAM_DEVICES=cpu or =webgpu runs one pass (default both).
 */
export const DEVICES = [
  {
    name: "cpu",
    webgpu: false,
    query: "",
    small: "hidden=16&batch_size=32&learning_starts=200&log_every=20&probe_every=200&eval_every=0",
    /** What #backend says. */
    label: /^Training on: CPU/,
    /** Slower device: more time for the same thing (a multiplier on timeouts). */
    slow: 1,
  },
  {
    name: "webgpu",
    webgpu: true,
    query: "backend=webgpu&",
    small: "hidden=8&batch_size=16&learning_starts=32&utd_ratio=0.1&log_every=5&probe_every=50&eval_every=0",
    label: /^Training on: WebGPU/,
    slow: 3,
  },
];

/** The device passes to run (ALAM_DEVICES, comma-separated; default both). */
export function devices() {
  const want = (process.env.ALAM_DEVICES ?? "cpu,webgpu").split(",").map((s) => s.trim());
  return DEVICES.filter((d) => want.includes(d.name));
}

/** An init script for `page.addInitScript`: this browser measured WebGPU as the faster device
 *  for each [env, hidden, batch] (as "auto" remembers it, www/device.js), so "auto" uses it at
 *  once. How the WebGPU pass puts the pretrained demo and widgets on WebGPU. */
export function rememberWebGpu(keys) {
  return {
    content: `try { for (const k of ${JSON.stringify(keys.map((k) => k.join("/")))}) localStorage.setItem("alam-playground:device:" + k, JSON.stringify({ backend: "webgpu", webgpu: 1000, cpu: 1, at: 0 })); } catch {}`,
  };
}

/** Waits until the wasm core is loaded and the page has created its first trainer. */
export async function ready(page) {
  await page.waitForFunction(() => window.wasmBindings && window.alamPage?.config(), null, { timeout: 120_000 });
}

export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The training workers of `page` (www/trainer-worker.js: one per trainer) that hold a trainer,
 *  waiting up to `timeout` ms until there are `count` of them. Playwright's `worker.evaluate`
 *  reaches into one (`self.alamWorker`: the core's bindings, the trainer, its WebGPU devices). */
export async function trainerWorkers(page, { count = 1, timeout = 120_000 } = {}) {
  const until = Date.now() + timeout;
  for (;;) {
    const workers = [];
    for (const w of page.workers().filter((w) => w.url().endsWith("/trainer-worker.js"))) {
      if (await w.evaluate(() => Boolean(self.alamWorker?.trainer)).catch(() => false)) workers.push(w);
    }
    if (workers.length === count) return workers;
    if (Date.now() > until) throw new Error(`${workers.length} training workers with a trainer, not ${count}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** The download that clicking `selector` starts: its suggested name, its bytes and Playwright's
 *  download (to save it elsewhere). */
export async function downloaded(page, selector) {
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 60_000 }), page.click(selector)]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()), download };
}
