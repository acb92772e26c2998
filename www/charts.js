// Live training curves with uPlot. Each chart keeps a bounded window of rows (the newest
// MAX_POINTS), so a long run does not grow memory; rows from different record kinds share
// the step axis and leave the other series empty (null), drawn across the gaps.
import uPlot from "../uPlot.esm.js";
import { cssVar } from "./theme.js";

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

export class Chart {
  constructor(container, spec) {
    this.container = container;
    this.spec = spec;
    this.table = new Table(spec.series.length);
    this.dirty = false;
    const opts = {
      width: this.width(),
      height: HEIGHT,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      // Every value axis ranges over its data (uPlot's default keeps 0 in a positive one and
      // may cut a line at the axis).
      scales: {
        x: { time: false },
        ...Object.fromEntries([...new Set(spec.series.map((s) => s.scale ?? "y"))].map((key) => [key, { range: paddedRange }])),
      },
      axes: [axis(), axis(), ...(spec.axes ?? [])],
      series: [
        { label: "step" },
        ...spec.series.map((s, k) => ({
          stroke: COLORS[k % COLORS.length],
          width: 1.5,
          spanGaps: true,
          points: { show: false },
          ...s,
        })),
      ],
    };
    this.plot = new uPlot(opts, this.table.data(), container);
    new ResizeObserver(() => this.resize()).observe(container);
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
    if (row) this.push(record.step, row(record));
  }

  /** One row: `values` per series, null where this row has none. */
  push(x, values) {
    this.table.push(x, values);
    this.dirty = true;
  }

  flush() {
    if (!this.dirty) return;
    this.dirty = false;
    this.plot.setData(this.table.data());
  }

  clear() {
    this.table = new Table(this.spec.series.length);
    this.dirty = true;
    this.flush();
  }
}

/** The four charts, in `#chart-return`, `#chart-cost`, `#chart-lambda`, `#chart-speed` of
 *  `root` (the page's document or a widget's shadow root). */
export class Charts {
  constructor(root) {
    this.charts = {};
    for (const [name, spec] of Object.entries(SPECS)) {
      this.charts[name] = new Chart(root.getElementById(`chart-${name}`), spec);
    }
    // Axis colours follow the colour scheme; redraw when it flips.
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      for (const c of Object.values(this.charts)) c.plot.redraw(false, true);
    });
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
