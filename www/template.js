// The trainer's markup, shared by the page (index.html) and the `<alam-trainer>` widget (its
// shadow root). Element ids are unique within one root, so two widgets on a page never clash.

/** The panels a trainer can show; the page shows all of them. */
export const PANELS = ["controls", "settings", "scene", "heatmap", "charts"];

/** Text fields of the settings form: [config field, label, inputmode]. */
const TEXT_FIELDS = [
  ["rho", "ρ (penalty weight)", "decimal"],
  ["actor_lr", "Actor learning rate", "decimal"],
  ["critic_lr", "Critic learning rate", "decimal"],
  ["multiplier_lr", "Multiplier learning rate", "decimal"],
  ["batch_size", "Batch size", "numeric"],
  ["hidden", "Network width (hidden units)", "numeric"],
  ["utd_ratio", "Update-to-data ratio", "decimal"],
  ["seed", "Seed", "numeric"],
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
  ["fac", "fac — λ(s), dual ascent"],
  ["alam", "alam — λ(s), augmented Lagrangian"],
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

function settingsForm(shown) {
  return `<form id="settings" novalidate aria-label="Run settings"${shown ? "" : " hidden"}>
    ${select("env", "Environment", ENVS)}
    ${select("algo", "Algorithm", ALGOS)}
    ${TEXT_FIELDS.map(textField).join("")}
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
      <div><dt>Steps</dt><dd><span id="steps">0</span> / <span id="total-steps">–</span></dd></div>
      <div><dt>Episodes</dt><dd id="episodes">0</dd></div>
      <div><dt>Violating steps</dt><dd id="violations">0</dd></div>
      <div><dt>Last 5 episodes (mean)</dt><dd id="recent">–</dd></div>
      <div><dt>Updates</dt><dd id="updates">0</dd></div>
      <div id="watched-row" hidden><dt>Watched episodes (no learning)</dt><dd id="watched">–</dd></div>
    </dl>
  </section>`;
}

const scenePanel = () => `<section class="panel scene-panel" aria-labelledby="scene-title">
  <h2 id="scene-title">Environment</h2>
  <canvas id="scene" width="480" height="300" role="img" aria-label="The environment, drawn live" aria-describedby="scene-caption"></canvas>
  <p class="help" id="scene-caption"></p>
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
