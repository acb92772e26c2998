// What a trainer view shows: the charts, the scene, the λ(s) heat map, the counters, the
// device notice and the status line. It only draws what it is given (app.js hands it the
// core's reports); it never calls the trainer.
import { Charts } from "./charts.js";
import { drawScene } from "./scene.js";
import { drawHeatmap, drawLegend } from "./heatmap.js";
import { RECORDS_KEPT, scalarFields } from "./export.js";

/** Finished episodes in the "last episodes" counter. */
const RECENT = 5;

/** Each algorithm's name in the literature (the paper's for SAC-ALaM; all five on SAC). */
export const ALGO_NAMES = { sac: "SAC", lag: "SAC-Lag", "pid-lag": "SAC-PID-Lag", fac: "FAC", alam: "SAC-ALaM" };

/** "SAC-ALaM on point-goal": what a run of `config` ({algo, env}) is, as a heading says it. */
export const runTitle = ({ algo, env }) => `${ALGO_NAMES[algo] ?? algo} on ${env}`;

export class Display {
  /** `root`: a Document or a ShadowRoot holding `trainerMarkup`. */
  constructor(root) {
    this.$ = (id) => root.getElementById(id);
    this.charts = new Charts(root);
    this.scene = null;
    /** The λ(s) grid on screen (`WebTrainer.heatmap`), or null. */
    this.heatmap = null;
    /** Violating steps of the run's finished episodes. */
    this.violations = 0;
    /** The last RECENT finished episodes: what "is it safe and reaching goals yet?" reads. */
    this.recent = [];
    /** The run's records as the CSV export gives them (export.js): the newest RECORDS_KEPT,
     *  scalar fields only, oldest first. */
    this.records = [];
    /** Environment steps of the run, as last reported. */
    this.steps = 0;
    this.drawPending = false;
    this.$("heatmap-autoscale").addEventListener("change", () => this.renderHeatmap());
    new ResizeObserver(() => this.requestDraw()).observe(this.$("scene"));
    new ResizeObserver(() => this.renderHeatmap()).observe(this.$("heatmap"));
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      this.requestDraw();
      this.renderHeatmap();
    });
  }

  /** A new run: empty charts, counters and map. */
  clear() {
    this.violations = 0;
    this.recent = [];
    this.records = [];
    this.heatmap = null;
    this.charts.clear();
    this.showCounters(null, null);
  }

  setStatus(text, kind = "") {
    const el = this.$("status");
    el.textContent = text;
    el.dataset.kind = kind;
  }

  /** The status line's text and kind ("error", "playing", …). */
  status() {
    return { text: this.$("status").textContent, kind: this.$("status").dataset.kind ?? "" };
  }

  /** Charts and scene at the next animation frame (many reports, one drawing). */
  requestDraw() {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.charts.flush();
      if (this.scene) {
        const caption = drawScene(this.$("scene"), this.scene);
        if (this.$("scene-caption").textContent !== caption) this.$("scene-caption").textContent = caption;
      }
    });
  }

  /** The scene to draw next (`WebTrainer.scene`). */
  setScene(scene) {
    this.scene = scene;
    this.requestDraw();
  }

  /** A new λ(s) grid (null: this algorithm or env has none, said under the map). */
  setHeatmap(hm) {
    this.heatmap = hm ?? null;
    if (!hm) this.$("heatmap-caption").textContent = "No map: this algorithm has no state-wise multiplier λ(s) (or the environment has no 2-D picture).";
    this.renderHeatmap();
  }

  heatmapFailed(message) {
    this.$("heatmap-caption").textContent = `The heat map failed: ${message}`;
  }

  renderHeatmap() {
    const hm = this.heatmap;
    const canvas = this.$("heatmap");
    if (!hm) {
      const ctx = canvas.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      return;
    }
    let top = hm.lambda_max;
    if (this.$("heatmap-autoscale").checked) {
      top = hm.lambda.reduce((m, v) => (v > m ? v : m), 0) || 1e-6;
    }
    // Outlines from the scene the grid was built from (hazards move every episode).
    this.$("heatmap-caption").textContent = drawHeatmap(canvas, hm, hm.scene ?? this.scene, top);
    drawLegend(this.$("heatmap-scale"), this.$("heatmap-lo"), this.$("heatmap-hi"), top);
  }

  /** One record onto the charts, the episode counters and the records kept for export. */
  take(r) {
    this.charts.add(r);
    this.records.push(scalarFields(r));
    if (this.records.length > RECORDS_KEPT) this.records.splice(0, this.records.length - RECORDS_KEPT);
    if (r.kind === "episode") {
      this.violations += r.violations;
      this.recent = [...this.recent, r].slice(-RECENT);
    }
  }

  /** A run of `n` seeds (a population when n > 1, its first RNG seed `seed`): the charts draw
   *  means with bands, the counters say what they count, and "Seed shown" offers each seed. */
  setSeeds(n, seed = 0) {
    const $ = this.$;
    this.charts.setSeeds(n);
    const many = n > 1;
    $("seeds-row").hidden = !many;
    $("seeds-count").textContent = many ? `${n} seeds (RNG seeds ${seed}–${seed + n - 1}), trained as one` : "1 seed";
    $("steps-label").textContent = many ? "Steps (each seed)" : "Steps";
    $("updates-label").textContent = many ? "Updates (each seed)" : "Updates";
    $("episodes-label").textContent = many ? `Episodes (sum over ${n} seeds)` : "Episodes";
    $("violations-label").textContent = many ? `Violating steps (sum over ${n} seeds)` : "Violating steps";
    $("recent-label").textContent = many ? "Last 5 episodes of any seed (mean)" : "Last 5 episodes (mean)";
    $("seed-shown-row").hidden = !many;
    const select = $("seed-shown");
    if (select.options.length !== n || select.dataset.seed !== String(seed)) {
      select.replaceChildren(...Array.from({ length: n }, (_, i) => new Option(`seed ${i} (RNG seed ${seed + i})`, String(i))));
      select.dataset.seed = String(seed);
    }
  }

  /** The seed "Seed shown" shows (0-based). */
  showShownSeed(i) {
    this.$("seed-shown").value = String(i);
  }

  /** The counters from a report of the core (`WebTrainer.run`), or zeros; `config` gives the
   *  run's length when the report does not. A population's steps and updates are each seed's,
   *  its episodes and violating steps summed, with each seed's after them (`per_seed`). */
  showCounters(report, config) {
    const $ = this.$;
    this.steps = report?.steps ?? 0;
    $("steps").textContent = String(this.steps);
    $("episodes").textContent = String(report?.episodes ?? 0);
    $("updates").textContent = String(report?.updates ?? 0);
    // Violating steps of finished episodes (or the core's own total, if it reports one; "≥" when
    // it counts only those a loaded file's history still holds).
    $("violations").textContent = `${report?.violations_at_least ? "≥ " : ""}${report?.violations ?? this.violations}`;
    const perSeed = (report?.per_seed?.length ?? 0) > 1 ? report.per_seed : null;
    const bySeed = (f) => (perSeed ? ` (by seed: ${perSeed.map(f).join(" · ")})` : "");
    $("episodes-per-seed").textContent = bySeed((s) => s.episodes);
    $("violations-per-seed").textContent = bySeed((s) => s.violations);
    $("total-steps").textContent = String(report?.total_steps ?? config?.total_steps ?? "–");
    const n = this.recent.length;
    const mean = (f) => this.recent.reduce((s, e) => s + f(e), 0) / n;
    $("recent").textContent = n === 0 ? "–" : `return ${mean((e) => e.return).toFixed(1)} · ${mean((e) => e.violations).toFixed(1)} violating steps`;
  }

  /** Steps and updates as the core reports them while the demo is watched. */
  showProgress(steps, updates) {
    this.steps = steps;
    this.$("steps").textContent = String(steps);
    this.$("updates").textContent = String(updates);
  }

  /** Finished watched episodes, `{ episodes, violations, return }` summed, and `current`, the
   *  episode in progress (`WebTrainer.watch`'s `{ episode, return, violations, length }`), if
   *  any; `seed`: the watched environment's. */
  showWatched(w, current = null, seed = null) {
    const done =
      w.episodes === 0
        ? ""
        : `${w.episodes} · mean return ${(w.return / w.episodes).toFixed(1)} · ${(w.violations / w.episodes).toFixed(2)} violating steps per episode (${w.violations} in all)`;
    const now = current && current.length > 0 ? `episode ${current.episode}: step ${current.length}, return ${current.return.toFixed(1)}, ${current.violations} violating` : "";
    const of = seed == null ? "" : ` (the episodes of alam eval --seed ${seed})`;
    this.$("watched").textContent = done && now ? `${done}; now ${now}${of}` : `${done || now || "the first episode is starting"}${of}`;
  }

  /** The demo's rows and buttons shown while it is watched. */
  showWatching(on) {
    this.$("watched-row").hidden = !on;
    this.$("train-on").hidden = !on;
    if (on) this.$("scratch").hidden = false;
  }

  /** "Train from scratch" stays while the demo's run trains on ("Train on"). */
  showScratch() {
    this.$("scratch").hidden = false;
  }

  /** "Train from scratch" goes once a fresh run starts. */
  hideScratch() {
    this.$("scratch").hidden = true;
  }

  /** "Training on: CPU", with how "auto" chose it (`note`: both measured speeds) and the
   *  core's reason for not using WebGPU (often a long adapter error) folded away under a
   *  disclosure. */
  showBackend(text, note = null) {
    const el = this.$("backend");
    const [label, ...why] = text.split(" — ");
    // "CPU (chosen)" is the core's word for a forced CPU; a measured choice says its figures.
    const device = note ? label.replace(/ \(chosen\)$/, "") : label;
    el.replaceChildren(`Training on: ${device}`);
    if (note) el.append(` (${note})`);
    if (why.length > 0) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = "why not WebGPU?";
      details.append(summary, why.join(" — "));
      el.append(details);
    }
    el.dataset.kind = /^webgpu/i.test(text) ? "gpu" : "cpu";
  }

  /** What the notice says while "auto" measures the devices (`seconds`: at most this long). */
  showMeasuring(seconds) {
    this.$("backend").textContent = `Measuring which device trains faster here: the CPU, then WebGPU (at most ${seconds} s)…`;
  }
}
