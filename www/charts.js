// Live training curves with uPlot. Each chart keeps a bounded window of rows (the newest
// MAX_POINTS), so a long run does not grow memory; rows from different record kinds share
// the step axis and leave the other series empty (null), drawn across the gaps.
import uPlot from "../uPlot.esm.js";
import { cssVar } from "./theme.js";
import { band, table } from "./bands.js";

export const MAX_POINTS = 500;
const HEIGHT = 180;

const COLORS = ["#2f7ed8", "#e4572e", "#17a589", "#a05fd8"];

/** Rows (x, y₁…yₙ) in step order, at most MAX_POINTS of them. */
class Table {
  constructor(nSeries) {
    this.x = [];
    this.cols = Array.from({ length: nSeries }, () => []);
  }

  push(x, values) {
    // Records arrive in step order; a late one is slotted in where it belongs.
    let i = this.x.length;
    while (i > 0 && this.x[i - 1] > x) i--;
    this.x.splice(i, 0, x);
    this.cols.forEach((col, k) => col.splice(i, 0, finiteOrNull(values[k])));
    if (this.x.length > MAX_POINTS) {
      this.x.shift();
      for (const col of this.cols) col.shift();
    }
  }

  get length() {
    return this.x.length;
  }

  data() {
    return [this.x, ...this.cols];
  }
}

function finiteOrNull(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

const axisStroke = (u) => cssVar(u.root, "--fg-muted", "#555");
const gridStroke = (u) => cssVar(u.root, "--grid", "rgba(128,128,128,0.2)");

/** Room left above and below a chart's lines, as a fraction of their span. */
const PAD = 0.08;

/**
 * A value axis' range (uPlot `scales[key].range`) from the lowest and highest value drawn on it:
 * PAD of their span above and below, so every line runs inside the axes, a line at the
 * bottom or top included; a flat line gets a range around it (±8% of its value, at least
 * ±0.5). Nothing drawn yet: [0, 1].
 */
export function paddedRange(_u, min, max) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  const span = max - min;
  const pad = span > 0 ? PAD * span : Math.max(PAD * Math.abs(max), 0.5);
  return [min - pad, max + pad];
}

export function axis(extra = {}) {
  return {
    stroke: axisStroke,
    grid: { stroke: gridStroke, width: 1 },
    ticks: { stroke: gridStroke, width: 1 },
    ...extra,
  };
}

/** What each chart shows: its series and, per record kind, the row it adds. */
const SPECS = {
  return: {
    series: [
      { label: "episode return" },
      { label: "eval return (mean)", points: { show: true, size: 5 } },
    ],
    rows: {
      episode: (r) => [r.return, null],
      eval: (r) => [null, r.return_mean],
    },
  },
  cost: {
    series: [
      { label: "episode cost" },
      { label: "violating steps", dash: [6, 4] },
      { label: "eval cost (mean)", points: { show: true, size: 5 } },
    ],
    rows: {
      episode: (r) => [r.cost, r.violations, null],
      eval: (r) => [null, null, r.cost_mean],
    },
  },
  lambda: {
    series: [
      { label: "λ mean (batch)" },
      { label: "λ max (batch)" },
      { label: "λ mean (probe grid)", points: { show: true, size: 5 } },
    ],
    rows: {
      update: (r) => [r.lambda_mean, r.lambda_max, null],
      probe: (r) => [null, null, r.lambda_mean],
    },
  },
  speed: {
    series: [{ label: "updates/s" }, { label: "env steps/s", scale: "steps" }],
    axes: [axis({ scale: "steps", side: 1, grid: { show: false } })],
    rows: { update: (r) => [r.updates_per_s, r.env_steps_per_s] },
  },
};

/** A colour as "#rrggbb" with an alpha (0–1) appended: "#rrggbbaa". */
const withAlpha = (hex, alpha) => `${hex}${Math.round(alpha * 255).toString(16).padStart(2, "0")}`;

/**
 * One uPlot chart of a spec's series. One seed: each series as given, its rows in a `Table`.
 * A population (`seeds` N > 1): each series is the mean over the seeds with a shaded band
 * (min–max over the seeds, www/bands.js says why), and each seed's own line, hidden until
 * `showSeeds(true)`; rows come in per seed (`push(x, values, seed)`) and the table is made from
 * each seed's newest MAX_POINTS points when drawn.
 */
export class Chart {
  constructor(container, spec, seeds = 1) {
    this.container = container;
    this.spec = spec;
    this.seeds = seeds;
    this.dirty = false;
    if (seeds === 1) this.table = new Table(spec.series.length);
    else this.perSeed = spec.series.map(() => Array.from({ length: seeds }, () => ({ x: [], y: [] })));
    const scaleKeys = [...new Set(spec.series.map((s) => s.scale ?? "y"))];
    const opts = {
      width: this.width(),
      height: HEIGHT,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      // Every value axis ranges over its data (uPlot's default keeps 0 in a positive one and
      // may cut a line at the axis).
      scales: { x: { time: false }, ...Object.fromEntries(scaleKeys.map((key) => [key, { range: paddedRange }])) },
      axes: [axis(), axis(), ...(spec.axes ?? [])],
      series: [{ label: "step" }, ...(seeds === 1 ? spec.series.map((s, k) => line(s, k)) : this.populationSeries())],
      bands: seeds === 1 ? [] : spec.series.map((s, k) => ({ series: [2 + 3 * k, 3 + 3 * k], fill: withAlpha(COLORS[k % COLORS.length], 0.2) })),
    };
    this.plot = new uPlot(opts, this.data(), container);
    // A population's legend names the means only (the band is said in the figure's caption).
    // (uPlot's legend leaves the x series out when it is not live: rows are series 1…)
    const rows = [...this.plot.root.querySelectorAll(".u-legend .u-series")];
    const first = this.plot.series.length - rows.length;
    rows.forEach((row, j) => {
      if (this.plot.series[first + j].inLegend === false) row.style.display = "none";
    });
    this.resizes = new ResizeObserver(() => this.resize());
    this.resizes.observe(container);
  }

  /** A population's series: per spec series k, its mean, the band's top and bottom (`1 + 3k` …
   *  `3 + 3k`), then every seed's own line (`1 + 3K + kN + i`, hidden). */
  populationSeries() {
    const n = this.seeds;
    const edges = this.spec.series.flatMap((s, k) => [
      line({ ...s, label: `${s.label}, mean of ${n} seeds` }, k),
      line({ ...s, label: `${s.label}: max over seeds`, points: { show: false }, dash: undefined, width: 0, inLegend: false }, k),
      line({ ...s, label: `${s.label}: min over seeds`, points: { show: false }, dash: undefined, width: 0, inLegend: false }, k),
    ]);
    const seedLines = this.spec.series.flatMap((s, k) =>
      Array.from({ length: n }, (_, i) =>
        line({ ...s, label: `${s.label}, seed ${i}`, stroke: withAlpha(COLORS[k % COLORS.length], 0.45), width: 1, show: false, inLegend: false, seedLine: true }, k),
      ),
    );
    return [...edges, ...seedLines];
  }

  width() {
    return Math.max(200, Math.floor(this.container.clientWidth || 300));
  }

  resize() {
    const width = this.width();
    if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
  }

  add(record) {
    const row = this.spec.rows[record.kind];
    if (row) this.push(record.step, row(record), record.seed_index ?? 0);
  }

  /** One row of seed `seed` (0 for a one-seed chart): `values` per series, null where this row
   *  has none. */
  push(x, values, seed = 0) {
    if (this.table) this.table.push(x, values);
    else {
      values.forEach((v, k) => {
        const curve = this.perSeed[k][seed];
        if (!curve || finiteOrNull(v) === null) return;
        // Records arrive in step order; a late one is slotted in where it belongs.
        let i = curve.x.length;
        while (i > 0 && curve.x[i - 1] > x) i--;
        curve.x.splice(i, 0, x);
        curve.y.splice(i, 0, v);
        if (curve.x.length > MAX_POINTS) {
          curve.x.shift();
          curve.y.shift();
        }
      });
    }
    this.dirty = true;
    this.drawn = null;
  }

  /** What uPlot draws: `[x, series…]` (a population's: means and band edges, then each seed's
   *  line). */
  data() {
    if (this.table) return this.table.data();
    if (this.drawn) return this.drawn;
    const bands = this.perSeed.map(band);
    const edges = bands.flatMap((b) => [b.mean, b.hi, b.lo].map((y) => ({ x: b.x, y })));
    this.drawn = table([...edges, ...this.perSeed.flat()]);
    return this.drawn;
  }

  /** Rows drawn (a population's: steps of its table). */
  get length() {
    return this.table ? this.table.length : this.data()[0].length;
  }

  /** A population's seeds' own lines, shown or not. */
  showSeeds(on) {
    this.plot.series.forEach((s, i) => {
      if (s.seedLine && s.show !== on) this.plot.setSeries(i, { show: on });
    });
  }

  flush() {
    if (!this.dirty) return;
    this.dirty = false;
    this.plot.setData(this.data());
  }

  clear() {
    if (this.table) this.table = new Table(this.spec.series.length);
    else this.perSeed = this.perSeed.map((seeds) => seeds.map(() => ({ x: [], y: [] })));
    this.drawn = null;
    this.dirty = true;
    this.flush();
  }

  /** Ends the chart (its uPlot and canvas go). */
  destroy() {
    this.resizes.disconnect();
    this.plot.destroy();
  }
}

/** uPlot's options for spec series `s`, the k-th of its chart (its colour). */
function line(s, k) {
  return { stroke: COLORS[k % COLORS.length], width: 1.5, spanGaps: true, points: { show: false }, ...s };
}

/** What a figure's caption adds for a chart of `seeds` seeds (nothing for one): what its lines
 *  and band are; `each`: whether each seed's own line shows. */
export const bandNote = (seeds, each = false) =>
  seeds === 1 ? "" : `: mean of ${seeds} seeds, shaded band min–max over the seeds${each ? ", thin lines each seed" : ""}`;

/** The four charts, in `#chart-return`, `#chart-cost`, `#chart-lambda`, `#chart-speed` of
 *  `root` (the page's document or a widget's shadow root), for a run of `seeds()` seeds: with
 *  more than one, each curve is the seeds' mean with a min–max band, said in each figure's
 *  caption, and `#seed-lines` shows each seed's own curve. */
export class Charts {
  constructor(root) {
    this.root = root;
    this.seeds = 1;
    this.charts = {};
    this.build();
    const lines = root.getElementById("seed-lines");
    lines?.addEventListener("change", () => {
      for (const c of Object.values(this.charts)) c.showSeeds(lines.checked);
      this.caption();
    });
    // Axis colours follow the colour scheme; redraw when it flips.
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      for (const c of Object.values(this.charts)) c.plot.redraw(false, true);
    });
  }

  build() {
    for (const [name, spec] of Object.entries(SPECS)) {
      const container = this.root.getElementById(`chart-${name}`);
      this.charts[name]?.destroy();
      container.replaceChildren();
      this.charts[name] = new Chart(container, spec, this.seeds);
      if (this.seeds > 1 && this.root.getElementById("seed-lines")?.checked) this.charts[name].showSeeds(true);
    }
  }

  /** A run of `n` seeds (a population when n > 1): the charts are made again, empty, when n
   *  changes. */
  setSeeds(n) {
    if (n === this.seeds) return;
    this.seeds = n;
    this.build();
    this.caption();
  }

  /** Each figure's caption: its own words, and for a population what the lines and band are. */
  caption() {
    const showing = this.root.getElementById("seed-lines")?.checked;
    const row = this.root.getElementById("seed-lines-row");
    if (row) row.hidden = this.seeds === 1;
    for (const c of Object.values(this.charts)) {
      const el = c.container.closest("figure")?.querySelector("figcaption");
      if (!el) continue;
      el.dataset.own ??= el.textContent;
      el.textContent = `${el.dataset.own}${bandNote(this.seeds, showing)}`;
    }
  }

  /** Routes one trainer record to the charts that show its kind. */
  add(record) {
    for (const c of Object.values(this.charts)) c.add(record);
  }

  /** Redraws the charts that gained rows (call once per animation frame). */
  flush() {
    for (const c of Object.values(this.charts)) c.flush();
  }

  clear() {
    for (const c of Object.values(this.charts)) c.clear();
  }

  /** What each chart draws now, for tests: uPlot's own data, `{return: [[x…], [y₁…], …], …}`
   *  (rows reach it at the next animation frame). */
  plotted() {
    return Object.fromEntries(Object.entries(this.charts).map(([k, c]) => [k, c.plot.data.map((col) => Array.from(col))]));
  }

  /** Each chart's value axes as drawn, for tests: `{lambda: {y: [min, max]}, speed: {y: …,
   *  steps: …}, …}`. */
  ranges() {
    const ranges = (plot) => Object.fromEntries(Object.entries(plot.scales).filter(([k]) => k !== "x").map(([k, s]) => [k, [s.min, s.max]]));
    return Object.fromEntries(Object.entries(this.charts).map(([k, c]) => [k, ranges(c.plot)]));
  }

  /** Rows per chart, for tests: `{return, cost, lambda, speed}`. */
  points() {
    return Object.fromEntries(Object.entries(this.charts).map(([k, c]) => [k, c.table.length]));
  }
}
