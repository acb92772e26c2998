// The race view: 2–4 algorithms train side by side on the same env, seeds and settings, their
// curves overlaid (one colour per algorithm) — the picture of dual ascent on λ(s) swinging
// while ALaM settles. Each agent is one algorithm's population: its N seeds (seed, seed + 1, …;
// "Seeds per algorithm") train as one set of stacked networks in a Web Worker of its own
// (remote.js), and its curve is the seeds' mean with a min–max band (charts.js, bands.js). The
// agents train in parallel, each at full speed on a core of its own where the machine has
// enough, and this thread only draws. Different algorithms are not batched together: they differ
// in their losses and multipliers.
import { bandNote, Chart } from "./charts.js";
import { ALGOS } from "./template.js";
import { changedSettings, messageOf } from "./controls.js";
import { chooseBackend, gpuLost, unlessLost, whenGpuLost } from "./device.js";
import { RECORDS_KEPT, recordsCsv, scalarFields } from "./export.js";
import { download } from "./runfile.js";
import { RACE_TRANSITIONS, StateMachine } from "./runstate.js";

const MIN_AGENTS = 2;
const MAX_AGENTS = 4;
/** Seeds per algorithm: each algorithm's seeds train as one population in its worker. */
const MAX_SEEDS = 8;
/** One seed by default: on this 2-core machine's CPU (2×64, batch 64, point-goal, two
 *  algorithms, loaded machine) 3 seeds train at 8–10 steps/s per seed against 15–25 for one,
 *  so a first race would move at half the pace; bands are one field (or `race-seeds=3`) away. */
export const DEFAULT_RACE_SEEDS = 1;
/** Episodes in each curve's moving mean: single episodes are too noisy to compare by eye. */
const SMOOTH = 5;
/** Each agent's latest slices kept (when each ran: `agents()`, to see them overlap). */
const SLICES_KEPT = 50;
/** Each agent's slice: longer than the page's (BUDGET_MS), as nothing waits on a race's slice
 *  but Pause, and fewer reports leave more of the machine to training. */
const RACE_BUDGET_MS = 100;
/** How often the agents' steps/s are said. */
const RATES_EVERY_MS = 1000;

/**
 * Race presets: how each agent's settings differ from the shared ones, and what to watch.
 * Each agent keeps its own algorithm's multiplier schedule (FAC: an ascent step every 10
 * updates; ALaM: a regression every update onto a target that moves every 100) unless the
 * shared settings changed it (`changedSettings`, as the page's algorithm select). The captions say what the settings do and
 * what to look at, not what a single seed will show: one race is one seed (REPRODUCTION.md has
 * the multi-seed figures).
 * "stressed": FAC's multiplier learns 30× faster and steps 20× less often than its preset
 * (FAC's overshoot setting in the earlier study); ALaM keeps its own schedule, whose step is ρh
 * whatever its learning rate.
 */
export const PRESETS = {
  default: {
    label: "Settings as given",
    settings: () => ({}),
    watch:
      "Watch the λ chart. FAC moves λ(s) by gradient ascent every 10 updates, by a step its learning rate sets; ALaM fits λ(s) onto the dual target max(0, λ_old + ρh) and moves the anchor λ_old every 100 updates, by a step of ρh. Both share the environment, seed and settings; one seed is one run, not a rule.",
  },
  stressed: {
    label: "Stressed multiplier (FAC's λ learns 30× faster, every 200 updates)",
    settings: (base, algo) => (algo === "fac" ? { multiplier_lr: 9e-3, multiplier_every: 200 } : {}),
    watch:
      "FAC's multiplier takes a 30× larger ascent step, 20× less often: a delayed, coarse dual update. ALaM keeps its dual period of 100 updates, whose step is ρh whatever its learning rate. Watch whether either λ overshoots or swings, and what the return and violations do meanwhile.",
  },
};

function markup(checked, preset, seeds) {
  const options = Object.entries(PRESETS).map(([value, p]) => `<option value="${value}"${value === preset ? " selected" : ""}>${p.label}</option>`).join("");
  const boxes = ALGOS.map(([value, label]) => `<label class="race-algo"><input type="checkbox" name="race-algo" value="${value}"${checked.includes(value) ? " checked" : ""} /> ${label}</label>`).join("");
  return `<h2 id="race-title">Race: algorithms side by side</h2>
  <p class="help">All agents share one environment, seeds and settings (on the page: those of the run above); each seed's curve is the mean of its last ${SMOOTH} episodes, and with several seeds an algorithm's curve is their mean, with a min–max band.</p>
  <fieldset class="race-pick" aria-describedby="race-error"><legend>Algorithms (${MIN_AGENTS}–${MAX_AGENTS})</legend>${boxes}</fieldset>
  <label class="race-preset">Preset <select id="race-preset" aria-describedby="race-watch">${options}</select></label>
  <p class="help" id="race-watch">${PRESETS[preset].watch}</p>
  <div class="field race-seeds">
    <label for="race-seeds">Seeds per algorithm</label>
    <input id="race-seeds" type="text" inputmode="numeric" autocomplete="off" value="${seeds}" aria-describedby="race-seeds-help race-error" />
    <span class="help" id="race-seeds-help">1 to ${MAX_SEEDS}. Each algorithm's seeds (seed, seed + 1, …) train as one population in its worker; its curve is their mean, with a min–max band.</span>
  </div>
  <span class="error" id="race-error" role="alert"></span>
  <div class="buttons" role="group" aria-label="Race">
    <button type="button" id="race-start">Start race</button>
    <button type="button" id="race-pause" disabled>Pause race</button>
    <button type="button" id="race-download-csv" disabled title="Every agent's records (the newest ${RECORDS_KEPT} each) as one table: the algorithm in the first column, then the columns of Download curves">Download race curves (CSV)</button>
  </div>
  <p class="help" id="race-export-note" aria-live="polite"></p>
  <p class="status-line">Race: <output id="race-status" aria-live="polite">not started</output></p>
  <p class="help race-rates">Each agent trains in a worker of its own, in parallel: <output id="race-rates">–</output></p>
  <div class="check" id="race-seed-lines-row" hidden>
    <input type="checkbox" id="race-seed-lines" />
    <label for="race-seed-lines">Show each seed's own curve</label>
  </div>
  <div class="race-charts">
    <figure><figcaption>Episode return (mean of last ${SMOOTH})</figcaption><div class="chart" id="race-return"></div></figure>
    <figure><figcaption>Violating steps per episode (mean of last ${SMOOTH})</figcaption><div class="chart" id="race-violations"></div></figure>
    <figure><figcaption>Multiplier λ, mean over the fixed probe states</figcaption><div class="chart" id="race-lambda"></div></figure>
  </div>`;
}

/**
 * A race in `container` (an element whose root is the page or a widget's shadow root).
 * `baseSettings()` gives the settings the agents share (the algorithm is replaced per agent);
 * `onStart` runs before a race starts (the page pauses its own trainer to lend it the CPU);
 * `seeds`: the seeds per algorithm the form starts with (checked at the start);
 * `preset`: a key of PRESETS, the one selected at first (another is refused, and said with
 * `refused`, the messages of options refused before: beside the algorithms). Returns what tests read.
 */
export function createRace(container, core, baseSettings, { algos = ["fac", "alam"], backend = "auto", preset = "default", seeds = DEFAULT_RACE_SEEDS, onStart = () => {}, refused = [] } = {}) {
  refused = [...refused];
  if (!Object.hasOwn(PRESETS, preset)) {
    refused.push(`race-preset: unknown preset "${preset}" (allowed: ${Object.keys(PRESETS).join(", ")})`);
    preset = "default";
  }
  container.innerHTML = markup(algos, preset, seeds);
  const root = container.getRootNode();
  /** The race view's parts, which the functions below take. */
  const rv = {
    container,
    core,
    baseSettings,
    backend,
    onStart,
    $: (id) => root.getElementById(id),
    refusedText: refused.length > 0 ? `Refused, defaults used: ${refused.join("; ")}` : "",
    /** Where the race stands (runstate.js RACE_TRANSITIONS). */
    machine: new StateMachine(RACE_TRANSITIONS, "idle"),
    /** The race on screen: { agents: [{ algo, trainer, returns, violations, steps, episodes, …
     *  }], seeds, charts, device, onGpu }, or null. */
    race: null,
    /** Races started so far: a start that a newer one overtook while its trainers were being
     *  made frees them. */
    starts: 0,
  };
  const { $ } = rv;
  $("race-preset").addEventListener("change", () => ($("race-watch").textContent = PRESETS[$("race-preset").value].watch));
  $("race-seed-lines").addEventListener("change", () => {
    if (!rv.race) return;
    for (const c of Object.values(rv.race.charts)) c.showSeeds($("race-seed-lines").checked);
    captions(rv, rv.race);
  });
  whenGpuLost().then(() => rv.race?.onGpu && lostDevice(rv, rv.race));
  $("race-error").textContent = rv.refusedText;
  $("race-start").addEventListener("click", () => start(rv));
  $("race-pause").addEventListener("click", () => togglePause(rv));
  $("race-download-csv").addEventListener("click", () => downloadCsv(rv));

  return {
    /** Per agent: algorithm, its seeds (a population's size), steps (each seed's) and episodes
     *  (summed over its seeds) so far, env steps per second since the race
     *  last started or resumed, its latest slices (`{ start, end }`, ms since the epoch) and the
     *  multiplier settings it runs. */
    agents: () =>
      rv.race
        ? rv.race.agents.map(({ algo, trainer, steps, episodes, stepsPerSecond, slices, config }) => ({ algo, seeds: trainer.seeds(), steps, episodes, stepsPerSecond: stepsPerSecond ?? 0, slices: slices.slice(), multiplier_lr: config.multiplier_lr, multiplier_every: config.multiplier_every }))
        : [],
    /** Where the race stands: idle, starting, racing, paused, lost (runstate.js). */
    state: () => rv.machine.state,
    /** The device the race trains on ("WebGPU", "CPU"). */
    device: () => rv.race?.device ?? null,
    /** What each chart draws (uPlot's data), `{return: [[steps…], [series…]…], …}`: with N > 1
     *  seeds, per algorithm k its mean, band top and bottom (series 1 + 3k … 3 + 3k), then each
     *  seed's line. */
    plotted: () => (rv.race ? Object.fromEntries(Object.entries(rv.race.charts).map(([k, c]) => [k, c.plot.data.map((col) => Array.from(col))])) : null),
    /** Rows per chart. */
    points: () => (rv.race ? Object.fromEntries(Object.entries(rv.race.charts).map(([k, c]) => [k, c.table.length])) : null),
    start: () => start(rv),
    stop: () => stop(rv),
  };
}

const status = (rv, text) => (rv.$("race-status").textContent = text);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The seeds per algorithm the form asks for, or null (said beside it) if not 1–MAX_SEEDS. */
function pickedSeeds({ $ }) {
  const text = $("race-seeds").value.trim();
  const n = Number(text);
  if (/^\d+$/.test(text) && n >= 1 && n <= MAX_SEEDS) return n;
  $("race-error").textContent = `Seeds per algorithm: "${text}" is not a whole number from 1 to ${MAX_SEEDS}.`;
  $("race-seeds").setAttribute("aria-invalid", "true");
  return null;
}

/** Each figure's caption: its own words and, for populations, what the lines and band are. */
function captions({ $ }, r) {
  const each = $("race-seed-lines").checked;
  $("race-seed-lines-row").hidden = r.seeds === 1;
  for (const c of Object.values(r.charts)) {
    const el = c.container.closest("figure").querySelector("figcaption");
    el.dataset.own ??= el.textContent;
    el.textContent = `${el.dataset.own}${bandNote(r.seeds, each)}`;
  }
}

function makeCharts({ $ }, names, seeds) {
  // One series per agent (with N seeds: its seeds' mean and band); Chart colours them in order
  // (charts.js's palette).
  const spec = (extra = {}) => ({
    series: names.map((name) => ({ label: name, ...extra })),
    rows: {},
  });
  const chart = (id, extra) => {
    $(id).replaceChildren();
    const c = new Chart($(id), spec(extra), seeds);
    if (seeds > 1 && $("race-seed-lines").checked) c.showSeeds(true);
    return c;
  };
  return {
    return: chart("race-return"),
    violations: chart("race-violations"),
    lambda: chart("race-lambda", { points: { show: true, size: 4 } }),
  };
}

/** Agent k's record onto the overlaid charts (a row with a value in k's series only, for the
 *  record's seed: each seed's moving mean is its own). */
function route(r, k, record) {
  const a = r.agents[k];
  a.records.push(scalarFields(record));
  if (a.records.length > RECORDS_KEPT) a.records.shift();
  const row = (v) => r.agents.map((_, j) => (j === k ? v : null));
  const seed = record.seed_index ?? 0;
  if (record.kind === "episode") {
    a.returns[seed] = [...a.returns[seed], record.return].slice(-SMOOTH);
    a.violations[seed] = [...a.violations[seed], record.violations].slice(-SMOOTH);
    a.episodes += 1;
    r.charts.return.push(record.step, row(mean(a.returns[seed])), seed);
    r.charts.violations.push(record.step, row(mean(a.violations[seed])), seed);
  } else if (record.kind === "probe") {
    r.charts.lambda.push(record.step, row(record.lambda_mean), seed);
  }
}

/** Every agent's records as one CSV table, an `algo` column first, in step order (agents in
 *  the race's order at the same step). */
function downloadCsv(rv) {
  const { race } = rv;
  if (!race) return;
  const rows = race.agents.flatMap((a) => a.records.map((rec) => ({ algo: a.algo, ...rec })));
  rows.sort((x, y) => x.step - y.step); // stable: agents keep their order at equal steps
  const { env, seed } = race.agents[0].config;
  const seeds = race.seeds > 1 ? `-n${race.seeds}` : "";
  const file = `alam-race-${env}-${race.agents.map((a) => a.algo).join("-")}-s${seed}${seeds}.csv`;
  download(new Blob([recordsCsv(rows, ["algo"])], { type: "text/csv" }), file);
  rv.$("race-export-note").textContent = `Downloaded ${file} (${rows.length} records).`;
}

/** Agent `k` trains at full speed in its worker (`play`) until the race pauses; each slice's
 *  records go to the charts as they come. */
function train(rv, r, k) {
  const a = r.agents[k];
  a.since = { steps: a.steps, at: performance.now() };
  const take = (report, error) => {
    if (rv.race !== r) return; // a stopped race's
    if (error) return failed(rv, r, a, error);
    for (const rec of report.records) route(r, k, rec);
    a.steps = report.steps;
    a.slices = [...a.slices.slice(1 - SLICES_KEPT), report.slice];
    a.stepsPerSecond = (a.steps - a.since.steps) / ((performance.now() - a.since.at) / 1000);
    // A frame only for something to draw: a frame asked for each report would cost the
    // compositor's work 50 times a second with nothing new on screen.
    if (Object.values(r.charts).some((c) => c.dirty) || performance.now() - (r.ratesAt ?? 0) >= RATES_EVERY_MS) drawSoon(rv, r);
  };
  guarded(r, a.trainer.play(1_000_000, RACE_BUDGET_MS, take)).catch((e) => failed(rv, r, a, e));
}

/** On a lost WebGPU device a call may never return: given up when the loss is heard. */
const guarded = (r, call) => (r.onGpu ? unlessLost(call) : call);

/** An agent's call failed: the race pauses, and says why. */
function failed(rv, r, a, e) {
  if (rv.race !== r) return; // a stopped race's
  if (rv.machine.is("racing")) pauseRace(rv, r, "fail");
  if (r.onGpu && gpuLost()) lostDevice(rv, r);
  else status(rv, `${a.algo} failed: ${messageOf(e)}; Resume race tries again`);
}

/** The WebGPU device is lost: a race on it stops (its agents' workers end, a slice stuck on the
 *  device with them) and says that a restart trains on the CPU. */
function lostDevice(rv, r) {
  if (!rv.machine.send("lost")) return; // said already
  for (const a of r.agents) a.trainer.free();
  rv.$("race-pause").disabled = true;
  status(rv, `the WebGPU device was lost (${gpuLost().message}): Restart race trains on the CPU`);
}

/** Draws at the next frame (once per frame however many reports come). */
function drawSoon(rv, r) {
  if (r.frame) return;
  r.frame = requestAnimationFrame(() => {
    r.frame = null;
    if (rv.race === r) draw(rv, r);
  });
}

/** The charts with what came since the last frame, and each agent's steps/s, said once a
 *  second (a line of text rewritten every frame would cost a repaint every frame). */
function draw(rv, r) {
  for (const c of Object.values(r.charts)) c.flush();
  const now = performance.now();
  if (now - (r.ratesAt ?? 0) < RATES_EVERY_MS && rv.machine.is("racing")) return;
  r.ratesAt = now;
  const each = r.seeds > 1 ? ` (each of ${r.seeds} seeds)` : "";
  rv.$("race-rates").textContent = r.agents.map((a) => `${a.algo} ${a.steps} steps${each}, ${Math.round(a.stepsPerSecond ?? 0)} steps/s${each ? " per seed" : ""}`).join(" · ");
}

/** Every agent trains at once, each in its own worker, while this thread draws (the race has
 *  just started or resumed). */
function playRace(rv, r) {
  rv.$("race-pause").textContent = "Pause race";
  r.agents.forEach((_, k) => train(rv, r, k));
}

/** Every agent stops after its slice in flight (`event`: Pause race, or an agent's failure);
 *  resolves once their last reports are drawn. */
async function pauseRace(rv, r, event = "pause") {
  if (!rv.machine.send(event)) return;
  await Promise.allSettled(r.agents.map((a) => guarded(r, a.trainer.pause())));
  if (rv.race !== r) return;
  draw(rv, r);
  // Said once every agent has stopped (its last slice drawn); not after a lost device, whose
  // race can only be restarted.
  if (rv.machine.is("paused")) rv.$("race-pause").textContent = "Resume race";
}

async function togglePause(rv) {
  if (!rv.race) return;
  if (rv.machine.is("racing")) await pauseRace(rv, rv.race);
  else if (rv.machine.send("resume")) playRace(rv, rv.race);
}

/** Ends the race on screen: its agents' workers end, a call in flight with them. */
function stop(rv) {
  const r = rv.race;
  rv.race = null;
  rv.starts += 1; // a start still making its trainers frees them
  rv.machine.send("stop");
  if (!r) return;
  for (const a of r.agents) a.trainer.free();
}

/** Start race (or Restart race): the picked algorithms, each a population of the picked seeds,
 *  on the device "auto" picks for the shared settings; a bad pick is said beside the form. */
async function start(rv) {
  const { $ } = rv;
  const names = [...rv.container.querySelectorAll('input[name="race-algo"]:checked')].map((b) => b.value);
  if (names.length < MIN_AGENTS || names.length > MAX_AGENTS) {
    $("race-error").textContent = `Pick ${MIN_AGENTS} to ${MAX_AGENTS} algorithms (${names.length} picked).`;
    return;
  }
  $("race-error").textContent = rv.refusedText;
  $("race-seeds").removeAttribute("aria-invalid");
  const seeds = pickedSeeds(rv);
  if (seeds === null) return;
  rv.onStart();
  stop(rv);
  rv.machine.send("start");
  const mine = rv.starts;
  status(rv, "starting…");
  const preset = $("race-preset").value;
  let trainers;
  try {
    trainers = await makeTrainers(rv, names, seeds, preset);
  } catch (e) {
    if (mine === rv.starts) {
      rv.machine.send("startFailed");
      status(rv, `could not start: ${messageOf(e)}`);
    }
    return;
  }
  if (mine !== rv.starts) {
    trainers.forEach((t) => t.free());
    return;
  }
  const perSeed = () => Array.from({ length: seeds }, () => []);
  const agents = trainers.map((trainer, k) => ({ algo: names[k], trainer, config: trainer.config(), returns: perSeed(), violations: perSeed(), steps: 0, episodes: 0, slices: [], records: [] }));
  const device = trainers[0].backend().split(" — ")[0].replace(/ \(chosen\)$/, "");
  rv.race = { agents, seeds, charts: makeCharts(rv, names, seeds), device, onGpu: /^webgpu/i.test(device) };
  captions(rv, rv.race);
  $("race-pause").disabled = false;
  $("race-download-csv").disabled = false;
  $("race-start").textContent = "Restart race";
  const config = agents[0].config;
  const stressed = preset === "default" ? "" : `, ${PRESETS[preset].label.replace(/ \(.*/, "").toLowerCase()}`;
  const seedsSaid = seeds === 1 ? `seed ${config.seed}` : `seeds ${config.seed}–${config.seed + seeds - 1} (${seeds} per algorithm, each algorithm's trained as one population)`;
  status(rv, `${names.join(" vs ")} on ${config.env}, ${seedsSaid}${stressed}, on ${device}`);
  rv.machine.send("started");
  playRace(rv, rv.race);
}

/** One trainer per algorithm of `names` (each a population of `seeds`), on the device "auto"
 *  picks for the shared settings (measured or remembered, as for the page's run); if one cannot
 *  be made, none is kept and its error is thrown. */
async function makeTrainers(rv, names, seeds, preset) {
  // The page's run may be a population of its own: the race's seeds are the race's.
  const base = { ...rv.baseSettings(), seeds };
  const settingsOf = (algo) => ({ ...changedSettings(base, "algo", algo, rv.core.checkSettings), ...PRESETS[preset].settings(base, algo) });
  const choice = await chooseBackend(rv.core, base, rv.backend, { onMeasure: () => status(rv, "measuring which device trains faster here…") });
  const made = await Promise.allSettled(names.map((algo) => rv.core.WebTrainer.create(settingsOf(algo), choice.backend)));
  const trainers = made.filter((m) => m.status === "fulfilled").map((m) => m.value);
  const refused = made.find((m) => m.status === "rejected");
  if (refused) {
    trainers.forEach((t) => t.free());
    throw refused.reason;
  }
  return trainers;
}
