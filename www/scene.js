// Draws `trainer.scene()` on the `#scene` canvas: one function per environment, world
// coordinates mapped to pixels here. A violating step turns the scene red.

import { cssVar as themeVar } from "./theme.js";

const DEFAULT_CAR_LENGTH = 4.5; // metres, the core's car_length, if the scene omits it
const DEFAULT_LIDAR_RANGE = 3.0; // the core's PointGoalParams::lidar_range, if the scene omits it
const DEFAULT_HAZARD_LIDAR_RANGE = 0.5; // and its hazard_lidar_range

function palette(el) {
  const cssVar = (name, fallback) => themeVar(el, name, fallback);
  return {
    bg: cssVar("--canvas-bg", "#fff"),
    fg: cssVar("--fg", "#111"),
    muted: cssVar("--fg-muted", "#666"),
    grid: cssVar("--grid", "rgba(128,128,128,0.25)"),
    robot: cssVar("--robot", "#2f7ed8"),
    goal: cssVar("--goal", "#17a589"),
    hazard: cssVar("--hazard", "#e4572e"),
    danger: cssVar("--danger", "#d62828"),
    warn: cssVar("--warn", "#f4a100"),
  };
}

/** Sizes the canvas backing store to its CSS width × aspect at the device pixel ratio and
 *  returns a context in CSS pixels with the logical width and height. */
function fit(canvas, aspect) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(160, canvas.clientWidth || canvas.parentElement?.clientWidth || 480);
  const h = Math.round(w * aspect);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h };
}

/** A sized, cleared canvas in the current palette, with the labels' font set. */
function blank(canvas, aspect) {
  const { ctx, w, h } = fit(canvas, aspect);
  const c = palette(canvas);
  ctx.fillStyle = c.bg;
  ctx.fillRect(0, 0, w, h);
  ctx.font = "12px system-ui, sans-serif";
  return { ctx, w, h, c };
}

function arrow(ctx, x0, y0, x1, y1, color, width = 2) {
  const len = Math.hypot(x1 - x0, y1 - y0);
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
  if (len < 3) return;
  const a = Math.atan2(y1 - y0, x1 - x0);
  const head = Math.min(8, len / 2);
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x1 - head * Math.cos(a - 0.45), y1 - head * Math.sin(a - 0.45));
  ctx.lineTo(x1 - head * Math.cos(a + 0.45), y1 - head * Math.sin(a + 0.45));
  ctx.closePath();
  ctx.fill();
}

function flash(ctx, w, h, c) {
  ctx.save();
  ctx.globalAlpha = 0.18;
  ctx.fillStyle = c.danger;
  ctx.fillRect(0, 0, w, h);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = c.danger;
  ctx.lineWidth = 4;
  ctx.strokeRect(2, 2, w - 4, h - 4);
  ctx.restore();
}

function label(ctx, text, x, y, color, align = "left") {
  ctx.fillStyle = color;
  ctx.textAlign = align;
  ctx.textBaseline = "middle";
  ctx.fillText(text, x, y);
}

/** Labels an arrow from x0 to x1 at its tip, or behind its start when the tip is too close
 *  to the canvas edge for the text. */
function tipLabel(ctx, text, x0, x1, y, w, color) {
  const width = ctx.measureText(text).width;
  const right = x1 >= x0;
  const fits = right ? x1 + 6 + width <= w - 4 : x1 - 6 - width >= 4;
  if (fits) label(ctx, text, x1 + (right ? 6 : -6), y, color, right ? "left" : "right");
  else label(ctx, text, x0 + (right ? -16 : 16), y, color, right ? "right" : "left");
}

const fmt = (v, d = 2) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(d) : "–");

function drawPointGoal(canvas, s) {
  const { ctx, w, h, c } = blank(canvas, 1);
  const pad = 10;
  const side = Math.min(w, h) - 2 * pad;
  const scale = side / (2 * s.arena);
  const ox = (w - side) / 2;
  const oy = (h - side) / 2;
  const px = (x) => ox + (x + s.arena) * scale;
  const py = (y) => oy + (s.arena - y) * scale; // y up

  ctx.strokeStyle = c.muted;
  ctx.lineWidth = 1.5;
  ctx.strokeRect(ox, oy, side, side);

  for (const [x, y, r] of s.hazards) disc(ctx, px(x), py(y), r * scale, c.hazard, 1.5);
  disc(ctx, px(s.goal[0]), py(s.goal[1]), s.goal_radius * scale, c.goal, 2);

  // Pseudo-lidar: bin i looks along the centre of its sector (bin 0 starts at +x,
  // counter-clockwise); a reading v sees something at distance (1 − v)·range.
  const [rx, ry] = s.robot;
  const rays = (values, color, range) => {
    values.forEach((v, i) => {
      if (!(v > 0)) return;
      const a = ((i + 0.5) * 2 * Math.PI) / s.lidar_bins;
      const d = (1 - v) * range;
      ctx.globalAlpha = 0.35 + 0.65 * v;
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(px(rx), py(ry));
      ctx.lineTo(px(rx + d * Math.cos(a)), py(ry + d * Math.sin(a)));
      ctx.stroke();
    });
    ctx.globalAlpha = 1;
  };
  rays(s.goal_lidar, c.goal, s.lidar_range ?? DEFAULT_LIDAR_RANGE);
  rays(s.hazard_lidar, c.hazard, s.hazard_lidar_range ?? DEFAULT_HAZARD_LIDAR_RANGE);

  const color = s.violating ? c.danger : c.robot;
  arrow(ctx, px(rx), py(ry), px(rx + s.velocity[0] * 0.5), py(ry + s.velocity[1] * 0.5), c.fg, 1.5);
  ctx.beginPath();
  ctx.arc(px(rx), py(ry), Math.max(5, 0.07 * scale), 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
  ctx.strokeStyle = c.bg;
  ctx.lineWidth = 1.5;
  ctx.stroke();

  if (s.violating) flash(ctx, w, h, c);
  return `Robot at (${fmt(s.robot[0])}, ${fmt(s.robot[1])}), goal at (${fmt(s.goal[0])}, ${fmt(s.goal[1])}), ` +
    `${s.hazards.length} hazards${s.violating ? " — inside a hazard (violation)" : ""}.`;
}

function drawDoubleIntegrator(canvas, s) {
  const { ctx, w, h, c } = blank(canvas, 0.42);
  const span = 1.3 * s.x_max;
  const px = (x) => w / 2 + (x / span) * (w / 2 - 12);
  const track = h * 0.45;

  // Beyond the walls: cost 1.
  ctx.globalAlpha = 0.15;
  ctx.fillStyle = c.hazard;
  ctx.fillRect(0, 0, px(-s.x_max), h);
  ctx.fillRect(px(s.x_max), 0, w - px(s.x_max), h);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = c.hazard;
  ctx.lineWidth = 4;
  for (const x of [-s.x_max, s.x_max]) {
    ctx.beginPath();
    ctx.moveTo(px(x), track - 40);
    ctx.lineTo(px(x), track + 24);
    ctx.stroke();
  }
  label(ctx, `wall −${s.x_max}`, px(-s.x_max) + 6, 14, c.hazard);
  label(ctx, `wall ${s.x_max}`, px(s.x_max) - 6, 14, c.hazard, "right");

  ctx.strokeStyle = c.muted;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(6, track + 12);
  ctx.lineTo(w - 6, track + 12);
  ctx.stroke();
  for (let x = -1; x <= 1; x += 0.5) {
    const X = px(x * s.x_max);
    ctx.beginPath();
    ctx.moveTo(X, track + 12);
    ctx.lineTo(X, track + 17);
    ctx.stroke();
  }

  const cx = px(Math.max(-span, Math.min(span, s.x)));
  const color = s.violating ? c.danger : c.robot;
  ctx.fillStyle = color;
  ctx.fillRect(cx - 12, track - 10, 24, 20);
  if (s.doomed && !s.violating) {
    ctx.strokeStyle = c.warn;
    ctx.lineWidth = 3;
    ctx.strokeRect(cx - 14, track - 12, 28, 24);
  }

  // Velocity (above) and the applied force u (below).
  const vlen = (s.v / s.v_max) * (w * 0.3);
  arrow(ctx, cx, track - 22, cx + vlen, track - 22, c.fg, 2.5);
  tipLabel(ctx, `v ${fmt(s.v)}`, cx, cx + vlen, track - 22, w, c.fg);
  const ulen = Math.max(-1, Math.min(1, s.u)) * (w * 0.12);
  arrow(ctx, cx, track + 30, cx + ulen, track + 30, c.goal, 2);
  tipLabel(ctx, `u ${fmt(s.u)}`, cx, cx + ulen, track + 30, w, c.goal);

  const state = s.violating ? "past the wall (violation)" : s.doomed ? "doomed: no braking avoids the wall" : "safe";
  label(ctx, `x ${fmt(s.x)}   ${state}`, 8, h - 12, s.violating ? c.danger : s.doomed ? c.warn : c.muted);
  if (s.violating) flash(ctx, w, h, c);
  return `Position ${fmt(s.x)} between walls at ±${s.x_max}, velocity ${fmt(s.v)}, force ${fmt(s.u)}: ${state}.`;
}

function drawCarFollowing(canvas, s) {
  const { ctx, w, h, c } = blank(canvas, 0.36);
  const CAR_LENGTH = s.car_length ?? DEFAULT_CAR_LENGTH;
  const gap = s.lead_x - s.ego_x - CAR_LENGTH;
  // Positions are rear bumpers; the view follows the ego and keeps the lead in sight.
  const left = s.ego_x - 6;
  const right = Math.max(s.lead_x + CAR_LENGTH + 6, s.ego_x + CAR_LENGTH + s.min_gap + 25);
  const scale = (w - 8) / (right - left);
  const px = (x) => 4 + (x - left) * scale;
  const road = h * 0.5;
  const carH = Math.max(12, Math.min(26, CAR_LENGTH * scale * 0.45));

  ctx.fillStyle = c.grid;
  ctx.fillRect(0, road - carH, w, 2 * carH);
  // Dashed road edges move with the road, so the speed is visible.
  ctx.strokeStyle = c.muted;
  ctx.setLineDash([3 * scale, 3 * scale]);
  ctx.lineDashOffset = (((left % 6) + 6) % 6) * scale;
  ctx.lineWidth = 1;
  for (const y of [road - carH, road + carH]) {
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(w, y);
    ctx.stroke();
  }
  ctx.setLineDash([]);

  const zoneX = px(s.ego_x + CAR_LENGTH);
  ctx.globalAlpha = s.violating ? 0.45 : 0.2;
  ctx.fillStyle = c.hazard;
  ctx.fillRect(zoneX, road - carH, s.min_gap * scale, 2 * carH);
  ctx.globalAlpha = 1;
  label(ctx, `min gap ${fmt(s.min_gap, 1)} m`, zoneX + 2, road - carH - 8, c.hazard);

  const car = (x, color, name) => {
    ctx.fillStyle = color;
    ctx.fillRect(px(x), road - carH / 2, CAR_LENGTH * scale, carH);
    ctx.font = "11px system-ui, sans-serif";
    label(ctx, name, px(x) + (CAR_LENGTH * scale) / 2, road + 1, "#fff", "center");
    ctx.font = "12px system-ui, sans-serif";
  };
  car(s.ego_x, s.violating ? c.danger : c.robot, "ego");
  car(s.lead_x, c.muted, "lead");

  const y = road;
  ctx.strokeStyle = c.fg;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(zoneX, y);
  ctx.lineTo(px(s.lead_x), y);
  ctx.stroke();
  label(ctx, `gap ${fmt(gap, 1)} m`, (zoneX + px(s.lead_x)) / 2, road + carH + 14, s.violating ? c.danger : c.fg, "center");
  label(ctx, `ego ${fmt(s.ego_v, 1)} m/s   lead ${fmt(s.lead_v, 1)} m/s`, 8, h - 10, c.muted);
  if (s.violating) flash(ctx, w, h, c);
  return `Gap ${fmt(gap, 1)} m (minimum ${fmt(s.min_gap, 1)} m), ego ${fmt(s.ego_v, 1)} m/s, lead ${fmt(s.lead_v, 1)} m/s` +
    `${s.violating ? " — too close (violation)" : ""}.`;
}

const DRAW = {
  "point-goal": drawPointGoal,
  "double-integrator": drawDoubleIntegrator,
  "car-following": drawCarFollowing,
};

/** Draws a scene; returns a one-line description (for the caption and screen readers). */
export function drawScene(canvas, scene) {
  const draw = DRAW[scene?.env];
  if (!draw) return "";
  return draw(canvas, scene);
}

/** A translucent disc with a solid outline (hazards, the goal). */
function disc(ctx, x, y, radius, color, lineWidth) {
  ctx.beginPath();
  ctx.arc(x, y, radius, 0, 2 * Math.PI);
  ctx.globalAlpha = 0.25;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.strokeStyle = color;
  ctx.lineWidth = lineWidth;
  ctx.stroke();
}
