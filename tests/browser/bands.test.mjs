// www/bands.js in Node (no browser): a population's mean and min–max band, aligned by step, and
// curves merged into one uPlot table, against values worked out by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { band, table } from "../../www/bands.js";

const close = (actual, expected) => {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${actual} vs ${expected}`));
};

test("seeds whose episodes end at different steps: each counts with its latest value, from the step all have one", () => {
  const seeds = [
    { x: [10, 30, 50], y: [1, 3, 5] },
    { x: [20, 30], y: [2, 6] },
    { x: [25], y: [-4] },
  ];
  const b = band(seeds);
  // Steps 10 and 20: seed 2 has no episode yet (left out). Step 25: 1, 2, −4. Step 30: 3, 6, −4
  // (both seeds 0 and 1 end one there). Step 50: 5, 6 (held from 30), −4 (held from 25).
  assert.deepEqual(b.x, [25, 30, 50]);
  close(b.mean, [(1 + 2 - 4) / 3, (3 + 6 - 4) / 3, (5 + 6 - 4) / 3]);
  assert.deepEqual(b.lo, [-4, -4, -4]);
  assert.deepEqual(b.hi, [2, 6, 6]);
});

test("seeds logging at the same steps: the plain mean, min and max at each step", () => {
  const b = band([
    { x: [100, 200], y: [0.5, 1.5] },
    { x: [100, 200], y: [1.5, 0.5] },
    { x: [100, 200], y: [4, 2] },
    { x: [100, 200], y: [2, 4] },
  ]);
  assert.deepEqual(b.x, [100, 200]);
  close(b.mean, [2, 2]);
  assert.deepEqual(b.lo, [0.5, 0.5]);
  assert.deepEqual(b.hi, [4, 4]);
});

test("one seed: the band is its curve; a seed with no point yet: nothing to draw", () => {
  assert.deepEqual(band([{ x: [1, 2], y: [3, 4] }]), { x: [1, 2], mean: [3, 4], lo: [3, 4], hi: [3, 4] });
  assert.deepEqual(band([{ x: [1], y: [3] }, { x: [], y: [] }]), { x: [], mean: [], lo: [], hi: [] });
  assert.deepEqual(band([]), { x: [], mean: [], lo: [], hi: [] });
});

test("a seed's two points at one step: the later counts", () => {
  const b = band([{ x: [5, 5], y: [1, 7] }, { x: [5], y: [3] }]);
  assert.deepEqual(b, { x: [5], mean: [5], lo: [3], hi: [7] });
});

test("curves merge into one table on the union of their steps, null where a curve has no point", () => {
  assert.deepEqual(table([{ x: [1, 3], y: [10, 30] }, { x: [2, 3], y: [-2, -3] }, { x: [], y: [] }]), [
    [1, 2, 3],
    [10, null, 30],
    [null, -2, -3],
    [null, null, null],
  ]);
});
