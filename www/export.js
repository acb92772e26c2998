// Results that leave the page: a run's records as CSV, its charts as one PNG, and a clip of the
// environment canvas as a video. Every file goes out through runfile.js's `download`.
import { cssVar } from "./theme.js";
import { download, runFileName } from "./runfile.js";

/** Records kept for the CSV: the newest, as many as a saved run's history carries
 *  (src/metrics.rs `HISTORY_CAP`), so a long run's page does not keep growing. */
export const RECORDS_KEPT = 4000;

/** A record as the CSV keeps it: its scalar fields only (a probe's λ and Q_c grids, arrays of
 *  hundreds of values, are left out, as a saved run's history leaves them out). */
export function scalarFields(record) {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v === null || typeof v !== "object"));
}

/** One CSV cell: numbers as JavaScript writes them (they read back exactly), empty for a
 *  missing or non-finite value, text quoted where it holds a comma, quote or line break. */
function cell(v) {
  if (v === undefined || v === null) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * `records` (objects as metrics.jsonl holds them, each with its `kind` and `step`) as one CSV
 * table: a header, then a row per record, oldest first. The columns are those of metrics.jsonl
 * read as one table (what `pandas.read_json(path, lines=True)` gives): `kind`, `step`, the seed's
 * `seed_index` where records carry it (a population's seed, 0-based), then every
 * other field in the order first met; a field a record's kind lacks is an empty cell (an
 * `episode` row has no `alpha`), so `lambda_mean` is the batch mean on an `update` row and the
 * probe grid's mean on a `probe` row, as in metrics.jsonl. `lead`: columns put first (the
 * race's `algo`).
 */
export function recordsCsv(records, lead = []) {
  // A population's records name their seed (`seed_index`): beside the step.
  const columns = [...lead, "kind", "step", ...(records.some((r) => Object.hasOwn(r, "seed_index")) ? ["seed_index"] : [])];
  const known = new Set(columns);
  for (const r of records) {
    for (const key of Object.keys(r)) {
      if (!known.has(key)) {
        known.add(key);
        columns.push(key);
      }
    }
  }
  const rows = records.map((r) => columns.map((c) => cell(r[c])).join(","));
  return [columns.join(","), ...rows].join("\n") + "\n";
}

const PAD = 12; // CSS pixels around and between the charts
const TITLE = 22; // a chart's title line
const LEGEND = 20; // a legend line

/** The series' colour as uPlot draws it (a colour, or a function giving one). */
const strokeOf = (plot, i) => {
  const s = plot.series[i].stroke;
  return typeof s === "function" ? s(plot, i) : s;
};

/**
 * The charts as one PNG `Blob`: each chart's title, its uPlot canvas (axes and curves, at the
 * canvas's own resolution) and its legend (a swatch and label per series, dashed as drawn),
 * one under the other on the page's canvas background. `figures`: `[{ title, plot }]`, `plot`
 * a uPlot instance. The image is the widest canvas + 2·PAD wide and Σ (TITLE + canvas height
 * + LEGEND) + PAD high, in CSS pixels × the canvases' pixel ratio.
 */
export async function chartsPng(figures, el) {
  const ratio = figures[0] ? figures[0].plot.ctx.canvas.width / figures[0].plot.width || 1 : 1;
  const widest = Math.max(0, ...figures.map((f) => f.plot.ctx.canvas.width));
  const height = figures.reduce((h, f) => h + (TITLE + LEGEND) * ratio + f.plot.ctx.canvas.height, PAD * ratio);
  const out = document.createElement("canvas");
  out.width = widest + 2 * PAD * ratio;
  out.height = height;
  const ctx = out.getContext("2d");
  const fg = cssVar(el, "--fg", "#16181d");
  ctx.fillStyle = cssVar(el, "--canvas-bg", "#ffffff");
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.scale(ratio, ratio);
  let y = PAD;
  for (const { title, plot } of figures) {
    ctx.fillStyle = fg;
    ctx.font = "600 13px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillText(title, PAD, y + TITLE / 2);
    y += TITLE;
    ctx.drawImage(plot.ctx.canvas, PAD, y, plot.ctx.canvas.width / ratio, plot.ctx.canvas.height / ratio);
    y += plot.ctx.canvas.height / ratio;
    let x = PAD;
    ctx.font = "12px system-ui, sans-serif";
    for (let i = 1; i < plot.series.length; i++) {
      const s = plot.series[i];
      if (s.inLegend === false) continue; // a population's band edges and seed lines (charts.js)
      ctx.strokeStyle = strokeOf(plot, i);
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dash ?? []);
      ctx.beginPath();
      ctx.moveTo(x, y + LEGEND / 2);
      ctx.lineTo(x + 18, y + LEGEND / 2);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = fg;
      ctx.fillText(s.label, x + 22, y + LEGEND / 2);
      x += 22 + ctx.measureText(s.label).width + 16;
    }
    y += LEGEND;
  }
  return new Promise((ok, fail) => out.toBlob((b) => (b ? ok(b) : fail(new Error("the browser could not encode the PNG"))), "image/png"));
}

/** The title a chart's figure gives it (its `<figcaption>`). */
export const figureTitle = (chart) => chart.container.closest("figure")?.querySelector("figcaption")?.textContent ?? "";

/** Video types to record in, best first: WebM where the browser writes it, MP4 (Safari) else. */
const VIDEO_TYPES = [
  ["video/webm;codecs=vp9", "webm"],
  ["video/webm;codecs=vp8", "webm"],
  ["video/webm", "webm"],
  ["video/mp4", "mp4"],
];

/** The type and file extension this browser records a canvas in, or null where it cannot
 *  (no `MediaRecorder` or no `canvas.captureStream`). */
export function videoType(canvas) {
  if (typeof MediaRecorder === "undefined" || typeof canvas.captureStream !== "function") return null;
  const found = VIDEO_TYPES.find(([type]) => MediaRecorder.isTypeSupported(type));
  return found ? { type: found[0], ext: found[1] } : null;
}

/** Frames a second of a recording. */
const FPS = 30;

/** A recording of `canvas` until `stop()`, which resolves to the video `Blob` (`type`: from
 *  `videoType`). It films a copy of the canvas made FPS times a second, not the canvas itself:
 *  a canvas stream has a frame only when the canvas is drawn, and the scene is drawn only when
 *  the run moves (a paused run, or a slow device, would record a clip of a frame or two). So
 *  the clip lasts as long as it was recorded, at a steady rate, at the canvas's size when it
 *  started. */
export function recordCanvas(canvas, type) {
  const copy = Object.assign(document.createElement("canvas"), { width: canvas.width, height: canvas.height });
  const ctx = copy.getContext("2d");
  const film = () => ctx.drawImage(canvas, 0, 0, copy.width, copy.height);
  film();
  const timer = setInterval(film, 1000 / FPS);
  const stream = copy.captureStream(FPS);
  const recorder = new MediaRecorder(stream, { mimeType: type });
  const chunks = [];
  recorder.addEventListener("dataavailable", (e) => e.data.size > 0 && chunks.push(e.data));
  recorder.start(1000); // a chunk a second: a long clip is not held in one piece by the encoder
  return {
    stop: () =>
      new Promise((ok) => {
        clearInterval(timer);
        recorder.addEventListener("stop", () => ok(new Blob(chunks, { type: type.split(";")[0] })), { once: true });
        recorder.stop();
        for (const track of stream.getTracks()) track.stop();
      }),
  };
}

/**
 * Wires a trainer view's export buttons (template.js): "Download curves (CSV)" and "Download
 * charts (PNG)" under the charts, "Record" under the scene (`#scene`). `display`: the view's
 * Display (its records and charts); `config()`: the run's config, for the files' names (as a
 * saved run's: env, algorithm, seed, step). What each did is said under its buttons.
 */
export function wireExports(root, display, config) {
  const $ = (id) => root.getElementById(id);
  const say = (text) => ($("export-note").textContent = text);
  const name = (ext) => runFileName(config() ?? { env: "run", algo: "none", seed: 0 }, display.steps, false).replace(/\.alam$/, `.${ext}`);
  $("download-csv").addEventListener("click", () => {
    const file = name("csv");
    download(new Blob([recordsCsv(display.records)], { type: "text/csv" }), file);
    say(`downloaded ${file} (${display.records.length} records)`);
  });
  $("download-png").addEventListener("click", async () => {
    display.charts.flush(); // rows that came since the last frame
    const figures = Object.values(display.charts.charts).map((c) => ({ title: figureTitle(c), plot: c.plot }));
    try {
      const file = name("png");
      download(await chartsPng(figures, $("chart-return")), file);
      say(`downloaded ${file}`);
    } catch (e) {
      say(`could not make the charts' image: ${e?.message ?? e}`);
    }
  });
  const button = $("record");
  const scene = $("scene");
  const video = videoType(scene);
  if (!video) {
    button.disabled = true;
    $("record-note").textContent = "Recording needs MediaRecorder and canvas capture, which this browser lacks.";
    return;
  }
  let recording = null;
  button.addEventListener("click", async () => {
    if (!recording) {
      recording = recordCanvas(scene, video.type);
      button.textContent = "Stop recording";
      $("record-note").textContent = "Recording the environment: it records what is drawn, so play the run (or watch the demo).";
      return;
    }
    const r = recording;
    recording = null;
    button.textContent = "Record";
    const blob = await r.stop();
    const file = name(video.ext);
    download(blob, file);
    $("record-note").textContent = `Saved ${file} (${(blob.size / 1024).toFixed(0)} kB).`;
  });
}
