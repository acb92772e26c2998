// The λ(s) heat map: `trainer.heatmap(n)` over a 2-D grid of states, coloured from 0 to
// λ_max, with the doomed set's boundary (double integrator, car-following) or the hazards
// (point-goal, from the scene) drawn on top.

import { cssVar } from "./theme.js";

// Viridis, sampled: readable in both colour schemes and for colour-blind readers.
const STOPS = [
  [0.0, [68, 1, 84]],
  [0.25, [59, 82, 139]],
  [0.5, [33, 145, 140]],
  [0.75, [94, 201, 98]],
  [1.0, [253, 231, 37]],
];

export function colour(t) {
  const u = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
  for (let k = 1; k < STOPS.length; k++) {
    const [t1, c1] = STOPS[k];
    if (u <= t1) {
      const [t0, c0] = STOPS[k - 1];
      const f = (u - t0) / (t1 - t0);
      return c0.map((v, i) => Math.round(v + f * (c1[i] - v)));
    }
  }
  return STOPS[STOPS.length - 1][1];
}

const num = (v) => {
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1000)) return v.toExponential(1);
  return String(Math.round(v * 100) / 100);
};

/** Draws the colour scale into the legend canvas and writes its end values. */
export function drawLegend(scaleCanvas, loEl, hiEl, top) {
  const ctx = scaleCanvas.getContext("2d");
  const { width, height } = scaleCanvas;
  for (let x = 0; x < width; x++) {
    const [r, g, b] = colour(x / (width - 1));
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x, 0, 1, height);
  }
  loEl.textContent = "0";
  hiEl.textContent = num(top);
}

/**
 * Draws `hm` on `canvas`. `scene` (optional) supplies what to outline: hazards and goal for
 * point-goal, the walls for the double integrator. `top` is the value drawn at full colour.
 * Returns a one-line description.
 */
export function drawHeatmap(canvas, hm, scene, top) {
  const dpr = window.devicePixelRatio || 1;
  const size = Math.max(160, Math.min(canvas.clientWidth || 320, 480));
  if (canvas.width !== Math.round(size * dpr)) {
    canvas.width = Math.round(size * dpr);
    canvas.height = Math.round(size * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const fg = cssVar(canvas, "--fg", "#111");
  const muted = cssVar(canvas, "--fg-muted", "#666");
  ctx.fillStyle = cssVar(canvas, "--canvas-bg", "#fff");
  ctx.fillRect(0, 0, size, size);

  const { nx, ny } = hm;
  const m = { left: 44, right: 8, top: 8, bottom: 34 };
  const W = size - m.left - m.right;
  const H = size - m.top - m.bottom;
  const [x0, x1] = hm.x_range;
  const [y0, y1] = hm.y_range;
  const px = (x) => m.left + ((x - x0) / (x1 - x0)) * W;
  const py = (y) => m.top + (1 - (y - y0) / (y1 - y0)) * H;

  // One pixel per cell, scaled up without smoothing. Row 0 is the lowest y: drawn at the bottom.
  const img = new ImageData(nx, ny);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const [r, g, b] = colour(hm.lambda[j * nx + i] / top);
      const o = 4 * ((ny - 1 - j) * nx + i);
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
  }
  const cells = document.createElement("canvas");
  cells.width = nx;
  cells.height = ny;
  cells.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, m.left, m.top, W, H);

  if (hm.doomed) drawDoomedBoundary(ctx, hm, m, W, H);

  ctx.save();
  ctx.beginPath();
  ctx.rect(m.left, m.top, W, H);
  ctx.clip();
  if (scene?.env === "point-goal" && hm.x_label === "x") {
    const sx = W / (x1 - x0);
    ctx.lineWidth = 2;
    for (const [x, y, r] of scene.hazards) {
      ctx.beginPath();
      ctx.arc(px(x), py(y), r * sx, 0, 2 * Math.PI);
      ctx.strokeStyle = "#fff";
      ctx.stroke();
    }
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.arc(px(scene.goal[0]), py(scene.goal[1]), scene.goal_radius * sx, 0, 2 * Math.PI);
    ctx.strokeStyle = "#fff";
    ctx.stroke();
    ctx.setLineDash([]);
  } else if (scene?.env === "double-integrator") {
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = "#fff";
    for (const x of [-scene.x_max, scene.x_max]) {
      ctx.beginPath();
      ctx.moveTo(px(x), m.top);
      ctx.lineTo(px(x), m.top + H);
      ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  ctx.restore();

  drawAxes(ctx, hm, m, W, H, { fg, muted });

  let max = 0;
  let flagged = 0;
  for (const v of hm.lambda) {
    if (v > max) max = v;
    if (v >= 0.99 * hm.lambda_max) flagged++;
  }
  const doomedNote = hm.doomed ? " White line: boundary of the doomed set (no action avoids a violation)." : "";
  const hazardNote = scene?.env === "point-goal" ? " White circles: hazards; dashed: the goal." : "";
  return `λ(s) over ${hm.x_label} × ${hm.y_label}, ${nx}×${ny} cells: max ${num(max)}, ` +
    `${Math.round((100 * flagged) / hm.lambda.length)}% at the cap ${num(hm.lambda_max)}.${doomedNote}${hazardNote}`;
}

/** The doomed set's boundary on the heat map's grid (drawn in the box at `m.left`, `m.top`,
 *  `W` × `H` px): edges between a doomed cell and a safe neighbour. */
function drawDoomedBoundary(ctx, hm, m, W, H) {
  const { nx, ny } = hm;
  const cw = W / nx;
  const ch = H / ny;
  const d = (i, j) => hm.doomed[j * nx + i];
  ctx.beginPath();
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const x = m.left + i * cw;
      const y = m.top + (ny - 1 - j) * ch;
      if (i + 1 < nx && d(i, j) !== d(i + 1, j)) {
        ctx.moveTo(x + cw, y);
        ctx.lineTo(x + cw, y + ch);
      }
      if (j + 1 < ny && d(i, j) !== d(i, j + 1)) {
        ctx.moveTo(x, y);
        ctx.lineTo(x + cw, y);
      }
    }
  }
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgba(0,0,0,0.8)";
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#fff";
  ctx.stroke();
}

/** Axis names and range ends around the box at `m.left`, `m.top`, `W` × `H` px (the grid is a
 *  picture, not a chart), in the theme's colours `fg` and `muted`. */
function drawAxes(ctx, hm, m, W, H, { fg, muted }) {
  const [x0, x1] = hm.x_range;
  const [y0, y1] = hm.y_range;
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = muted;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(num(x0), m.left, m.top + H + 4);
  ctx.textAlign = "right";
  ctx.fillText(num(x1), m.left + W, m.top + H + 4);
  ctx.textAlign = "center";
  ctx.fillStyle = fg;
  ctx.fillText(hm.x_label, m.left + W / 2, m.top + H + 18);
  ctx.fillStyle = muted;
  ctx.textAlign = "right";
  ctx.textBaseline = "bottom";
  ctx.fillText(num(y0), m.left - 4, m.top + H);
  ctx.textBaseline = "top";
  ctx.fillText(num(y1), m.left - 4, m.top);
  ctx.save();
  ctx.translate(12, m.top + H / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillStyle = fg;
  ctx.fillText(hm.y_label, 0, 0);
  ctx.restore();
}
