// A population's curves (N seeds of one config, www/app.js and www/race.js) as one mean curve
// with a band over the seeds. Pure functions of arrays: no DOM, no uPlot (tests/browser/
// bands.test.mjs checks them in Node against sums done by hand).
//
// The band is the min–max over the seeds, not a confidence interval: with the page's 2–16 seeds
// an interval rests on a normal approximation that few seeds do not support, while min–max says
// exactly what was seen (every seed's curve lies inside it) and needs no explaining.
//
// Seeds log at different steps (an episode ends when it ends), so the curves are aligned by step:
// at each step where any seed has a point, each seed counts with its latest value at or before
// that step (a curve holds its value until its next point: an episode's return stands until the
// next episode ends). A step before every seed has its first point is left out, so every point of
// the mean is over all N seeds.

/** A curve: `{ x, y }`, two arrays of one length, x (env steps) non-decreasing, y finite. */

/**
 * The mean and min–max band of `seeds` (N ≥ 1 curves, one per seed) aligned by step as above.
 * Returns `{ x, mean, lo, hi }`: arrays of one length, x strictly increasing (the union of the
 * seeds' steps from the first step where every seed has a point on). Two points of one seed at
 * one step: the later counts. No seed, or a seed with no point: all four arrays empty.
 */
export function band(seeds) {
  const out = { x: [], mean: [], lo: [], hi: [] };
  if (seeds.length === 0 || seeds.some((s) => s.x.length === 0)) return out;
  const steps = [...new Set(seeds.flatMap((s) => s.x))].sort((a, b) => a - b);
  const next = seeds.map(() => 0); // per seed: index of its first point after the current step
  for (const x of steps) {
    const values = [];
    seeds.forEach((s, i) => {
      while (next[i] < s.x.length && s.x[next[i]] <= x) next[i] += 1;
      if (next[i] > 0) values.push(s.y[next[i] - 1]);
    });
    if (values.length < seeds.length) continue; // a seed with no point yet
    out.x.push(x);
    out.mean.push(values.reduce((a, b) => a + b, 0) / values.length);
    out.lo.push(Math.min(...values));
    out.hi.push(Math.max(...values));
  }
  return out;
}

/**
 * Curves as one uPlot table: `[x, y₀, y₁, …]`, x the sorted union of the curves' steps, each
 * y column the curve's value at that step or null where it has none (uPlot draws across the gap
 * with `spanGaps`). Two points of one curve at one step: the later counts.
 */
export function table(curves) {
  const x = [...new Set(curves.flatMap((c) => c.x))].sort((a, b) => a - b);
  const row = new Map(x.map((step, i) => [step, i]));
  const columns = curves.map((c) => {
    const col = new Array(x.length).fill(null);
    c.x.forEach((step, j) => (col[row.get(step)] = c.y[j]));
    return col;
  });
  return [x, ...columns];
}
