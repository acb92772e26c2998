// The trainer's markup, shared by the page (index.html) and the `<alam-trainer>` widget (its
// shadow root). Element ids are unique within one root, so two widgets on a page never clash.
import { RECORDS_KEPT } from "./export.js";

/** The panels a trainer can show; the page shows all of them. */
export const PANELS = ["controls", "settings", "scene", "heatmap", "charts"];

/** Text fields of the settings form: [config field, label, inputmode]. */
export const TEXT_FIELDS = [
  ["rho", "ρ (penalty weight)", "decimal"],
  ["actor_lr", "Actor learning rate", "decimal"],
  ["critic_lr", "Critic learning rate", "decimal"],
  ["multiplier_lr", "Multiplier learning rate", "decimal"],
  ["batch_size", "Batch size", "numeric"],
  ["hidden", "Network width (hidden units)", "numeric"],
  ["utd_ratio", "Update-to-data ratio", "decimal"],
  ["seed", "Seed", "numeric"],
];

/** The population's size: how many seeds of the run train as one (the core checks it, 1–16; seed
 *  index i trains with RNG seed `seed + i`). A field with its range and hint, as the knobs. */
export const SEEDS_FIELD = {
  id: "seeds",
  label: "Seeds (a population)",
  mode: "numeric",
  range: "1 to 16",
  hint: "Trains seeds seed, seed + 1, … as one population; the charts draw their mean with a min–max band.",
};

/**
 * The constraint's knobs: text fields grouped apart, each shown only with the algorithms that
 * use it (`algos`), with its allowed range and a one-line hint (the core checks the value:
 * `TrainConfig::validate`; `range` says the same to a person).
 */
export const CONSTRAINT_FIELDS = [
  {
    id: "cost_threshold",
    label: "d — constraint threshold",
    mode: "decimal",
    range: "≥ 0",
    hint: "How much discounted cost ahead a state may carry: Q_c(s, a) ≤ d; 0 = none.",
    algos: ["fac", "alam"],
  },
  {
    id: "cost_budget",
    label: "Cost budget per episode",
    mode: "decimal",
    range: "≥ 0",
    hint: "The episode cost the scalar λ steers toward: λ rises while episodes cost more.",
    algos: ["lag", "pid-lag"],
  },
  {
    id: "lambda_max",
    label: "λ_max — cap on λ",
    mode: "decimal",
    range: "> 0",
    hint: "No multiplier goes above it, so the penalty stays finite where the constraint cannot be met.",
    algos: ["lag", "pid-lag", "fac", "alam"],
  },
  {
    id: "multiplier_every",
    label: "m — multiplier period (policy updates)",
    mode: "numeric",
    range: "whole number ≥ 1",
    hint: "FAC: λ(s) ascends every m-th policy update (10 by default). ALaM: the dual period — the anchor λ_old moves every m updates (100), one step of ρh.",
    algos: ["fac", "alam"],
  },
  {
    id: "multiplier_steps",
    label: "k — multiplier gradient steps",
    mode: "numeric",
    range: "1 to 1000",
    hint: "FAC: ascent steps each time λ(s) learns. ALaM: regression steps onto the dual target on every policy update.",
    algos: ["fac", "alam"],
  },
];

export const ENVS = [
  ["point-goal", "point-goal (robot, goal, hazards)"],
  ["double-integrator", "double-integrator (1-D, walls)"],
  ["car-following", "car-following (keep the gap)"],
];

export const ALGOS = [
  ["sac", "sac — no constraint"],
  ["lag", "lag — scalar λ, dual ascent"],
  ["pid-lag", "pid-lag — scalar λ, PID"],
  ["fac", "fac — λ(s), dual ascent every 10 updates"],
  ["alam", "alam — λ(s), augmented Lagrangian + dual target"],
];

const options = (pairs) => pairs.map(([value, label]) => `<option value="${value}">${label}</option>`).join("");

function select(id, label, pairs) {
  return `<div class="field">
    <label for="${id}">${label}</label>
    <select id="${id}" name="${id}" aria-describedby="${id}-error">${options(pairs)}</select>
    <span class="error" id="${id}-error" role="alert"></span>
  </div>`;
}

function textField([id, label, mode]) {
  return `<div class="field">
    <label for="${id}">${label}</label>
    <input id="${id}" name="${id}" type="text" inputmode="${mode}" autocomplete="off" spellcheck="false" aria-describedby="${id}-error" />
    <span class="error" id="${id}-error" role="alert"></span>
  </div>`;
}

/** A knob of the constraint: label, input, its range and hint, and its refusal. */
function knobField({ id, label, mode, range, hint }) {
  return `<div class="field knob" data-knob="${id}">
    <label for="${id}">${label}</label>
    <input id="${id}" name="${id}" type="text" inputmode="${mode}" autocomplete="off" spellcheck="false" aria-describedby="${id}-help ${id}-error" />
    <span class="help" id="${id}-help">${range}. ${hint}</span>
    <span class="error" id="${id}-error" role="alert"></span>
  </div>`;
}

/** The constraint's knobs, in a group of their own (controls.js shows those of the chosen
 *  algorithm and says which in `#knobs-note`). */
const knobsGroup = () => `<fieldset class="knobs" id="knobs">
    <legend>Constraint</legend>
    <p class="help" id="knobs-note"></p>
    ${CONSTRAINT_FIELDS.map(knobField).join("")}
  </fieldset>`;

function settingsForm(shown) {
  return `<form id="settings" novalidate aria-label="Run settings"${shown ? "" : " hidden"}>
    ${select("env", "Environment", ENVS)}
    ${select("algo", "Algorithm", ALGOS)}
    ${TEXT_FIELDS.map(textField).join("")}
    ${knobField(SEEDS_FIELD)}
    ${knobsGroup()}
    <div class="field">
      <label for="speed">Speed</label>
      <select id="speed" name="speed" aria-describedby="speed-help speed-error">
        <option value="1">1 step per frame</option>
        <option value="10">10 steps per frame</option>
        <option value="100">100 steps per frame</option>
        <option value="max">as fast as possible</option>
      </select>
      <span class="help" id="speed-help">Each call trains at most this many steps or 40 ms, then the view redraws.</span>
      <span class="error" id="speed-error" role="alert"></span>
    </div>
    <p class="help wide">A changed setting starts a new run. A refused value is explained beside its field and the current run goes on.</p>
  </form>`;
}

function controlsPanel(show, { share }) {
  return `<section class="panel controls" aria-labelledby="controls-title">
    <h2 id="controls-title">Run</h2>
    <p id="backend" class="notice" role="status">Loading the training core…</p>
    <div class="buttons" role="group" aria-label="Training">
      <button type="button" id="play" disabled>Play</button>
      <button type="button" id="pause" disabled>Pause</button>
      <button type="button" id="step" disabled>Step</button>
      <button type="button" id="reset" disabled>Reset</button>
      <button type="button" id="train-on" hidden>Train on</button>
      <button type="button" id="scratch" hidden>Train from scratch</button>
    </div>
    <div class="buttons" role="group" aria-label="Save and share"${share ? "" : " hidden"}>
      <button type="button" id="save" disabled title="The whole training state (networks, optimiser moments, replay, random generators): Load run goes on exactly where it stopped">Save run</button>
      <button type="button" id="save-weights" disabled title="Networks and curves only: a small file to share; a loaded one refills its replay before training on">Save weights only</button>
      <button type="button" id="load-button">Load run…</button>
      <input type="file" id="load" accept=".alam" hidden aria-label="Load a saved run (.alam)" />
      <button type="button" id="copy-link">Copy link</button>
    </div>
    <p class="status-line">Status: <output id="status" aria-live="polite">loading</output></p>
    ${settingsForm(show.has("settings"))}
    <dl class="counters">
      <div id="seeds-row" hidden><dt>Population</dt><dd id="seeds-count">1 seed</dd></div>
      <div><dt id="steps-label">Steps</dt><dd><span id="steps">0</span> / <span id="total-steps">–</span></dd></div>
      <div><dt id="episodes-label">Episodes</dt><dd><span id="episodes">0</span><span id="episodes-per-seed" class="per-seed"></span></dd></div>
      <div><dt id="violations-label">Violating steps</dt><dd><span id="violations">0</span><span id="violations-per-seed" class="per-seed"></span></dd></div>
      <div><dt id="recent-label">Last 5 episodes (mean)</dt><dd id="recent">–</dd></div>
      <div><dt id="updates-label">Updates</dt><dd id="updates">0</dd></div>
      <div id="watched-row" hidden><dt>Watched episodes (no learning)</dt><dd id="watched">–</dd></div>
    </dl>
    <div class="field" id="seed-shown-row" hidden>
      <label for="seed-shown">Seed shown (environment and heat map)</label>
      <select id="seed-shown" aria-describedby="seed-shown-help"></select>
      <span class="help" id="seed-shown-help">The population's seed whose episode and λ(s) map are drawn.</span>
    </div>
  </section>`;
}

const scenePanel = () => `<section class="panel scene-panel" aria-labelledby="scene-title">
  <h2 id="scene-title">Environment</h2>
  <canvas id="scene" width="480" height="300" role="img" aria-label="The environment, drawn live" aria-describedby="scene-caption"></canvas>
  <p class="help" id="scene-caption"></p>
  <div class="buttons" role="group" aria-label="Recording">
    <button type="button" id="record" title="Records the environment as it is drawn, until Stop recording; then downloads the clip (WebM)">Record</button>
  </div>
  <p class="help" id="record-note" aria-live="polite"></p>
</section>`;

const heatmapPanel = () => `<section class="panel heatmap-panel" aria-labelledby="heatmap-title">
  <h2 id="heatmap-title">Multiplier map λ(s)</h2>
  <canvas id="heatmap" width="320" height="320" role="img" aria-label="Heat map of the multiplier λ(s) over states" aria-describedby="heatmap-caption"></canvas>
  <div class="legend" id="heatmap-legend" role="group" aria-label="Colour scale of the heat map">
    <canvas id="heatmap-scale" width="240" height="12" aria-hidden="true"></canvas>
    <div class="legend-ticks"><span id="heatmap-lo">0</span><span id="heatmap-units">λ(s), reward per unit of cost</span><span id="heatmap-hi">–</span></div>
  </div>
  <div class="check">
    <input type="checkbox" id="heatmap-autoscale" />
    <label for="heatmap-autoscale">Scale colours to this map's largest λ instead of the cap λ_max</label>
  </div>
  <p class="help" id="heatmap-caption">Refreshed every few seconds while training.</p>
</section>`;

const chartsPanel = () => `<section class="panel charts" aria-labelledby="charts-title">
  <h2 id="charts-title">Training curves</h2>
  <figure><figcaption>Episode return (line) and deterministic evaluation (dots)</figcaption><div class="chart" id="chart-return"></div></figure>
  <figure><figcaption>Episode cost, violating steps (dashed) and evaluation cost (dots)</figcaption><div class="chart" id="chart-cost"></div></figure>
  <figure><figcaption>Multiplier λ (batch mean and max, probe-grid mean)</figcaption><div class="chart" id="chart-lambda"></div></figure>
  <figure><figcaption>Throughput: updates/s (left axis), env steps/s (right axis)</figcaption><div class="chart" id="chart-speed"></div></figure>
  <div class="check" id="seed-lines-row" hidden>
    <input type="checkbox" id="seed-lines" />
    <label for="seed-lines">Show each seed's own curve</label>
  </div>
  <div class="buttons" role="group" aria-label="Export the curves">
    <button type="button" id="download-csv" title="The run's records (the newest ${RECORDS_KEPT}) as one table: a row per record, its kind (episode, update, eval, probe) in the first column, then the fields of metrics.jsonl">Download curves (CSV)</button>
    <button type="button" id="download-png" title="The four charts, with their titles and legends, as one image">Download charts (PNG)</button>
  </div>
  <p class="help" id="export-note" aria-live="polite"></p>
</section>`;

/**
 * The trainer's panels, in `show` (a Set of PANELS; "settings" lives inside "controls").
 * `share`: the save / load / copy-link buttons (the page has them; a widget has no URL).
 * Panels left out are still made, hidden, so the code that drives them needs no branches.
 */
export function trainerMarkup(show, { share = true } = {}) {
  const hidden = (name, html) => (show.has(name) ? html : html.replace(/^<section /, "<section hidden "));
  const panels = [
    hidden("controls", controlsPanel(show, { share })),
    hidden("scene", scenePanel()),
    hidden("heatmap", heatmapPanel()),
    hidden("charts", chartsPanel()),
  ];
  return `<div class="layout">${panels.join("\n")}</div>`;
}
