// The race view: 2–4 algorithms train side by side on the same env, seed and settings, their
// curves overlaid (one colour per algorithm) — the picture of dual ascent on λ(s) swinging
// while ALaM settles. Each agent is its own trainer from the core; they take turns in one
// frame's time budget. They are not batched into shared network calls: the agents differ in
// their losses and multipliers, and batching even identical ALaM agents gains at most ~1.5×
// on the CPU (BENCHMARKS.md, population bench), so the simple round-robin stays.
import { Chart } from "./charts.js";
import { ALGOS } from "./template.js";
import { BUDGET_MS, messageOf } from "./controls.js";
import { chooseBackend, createTrainer, gpuLost, unlessLost } from "./device.js";

const MIN_AGENTS = 2;
const MAX_AGENTS = 4;
/** Episodes in each curve's moving mean: single episodes are too noisy to compare by eye. */
const SMOOTH = 5;

/**
 * Race presets: how each agent's settings differ from the shared ones, and what to watch.
 * "stressed": the multiplier network learns 30× faster and is updated 20× less often — the
 * setting under which REPRODUCTION.md saw FAC's λ(s) overshoot to its cap and its return
 * collapse on point-goal (5 seeds), while ALaM's λ stayed bounded (docs/method.md §3).
 */
export const PRESETS = {
  default: {
    label: "Settings as given",
    settings: () => ({}),
    watch: "Watch the λ chart: dual ascent (FAC) tends to swing where ALaM settles. Both curves below share the environment, seed and settings.",
  },
  stressed: {
    label: "Stressed multiplier (λ learns 30× faster, updated every 20 policy updates)",
    settings: (base) => ({ multiplier_lr: 30 * (base.multiplier_lr ?? 3e-4), multiplier_every: 20 }),
    watch:
      "Watch the λ chart and the return: with its multiplier pushed this hard, FAC's λ(s) tends to overshoot to its cap and its return to collapse (on point-goal, after about 10 000 steps). ALaM regresses λ(s) onto a dual target instead of ascending, so its λ should stay bounded and its return hold.",
  },
};

function markup(checked, preset) {
  const options = Object.entries(PRESETS).map(([value, p]) => `<option value="${value}"${value === preset ? " selected" : ""}>${p.label}</option>`).join("");
  const boxes = ALGOS.map(([value, label]) => `<label class="race-algo"><input type="checkbox" name="race-algo" value="${value}"${checked.includes(value) ? " checked" : ""} /> ${label}</label>`).join("");
  return `<h2 id="race-title">Race: algorithms side by side</h2>
  <p class="help">All agents share one environment, seed and settings (on the page: those of the run above); each curve is the mean of the last ${SMOOTH} episodes.</p>
  <fieldset class="race-pick" aria-describedby="race-error"><legend>Algorithms (${MIN_AGENTS}–${MAX_AGENTS})</legend>${boxes}</fieldset>
  <label class="race-preset">Preset <select id="race-preset" aria-describedby="race-watch">${options}</select></label>
  <p class="help" id="race-watch">${PRESETS[preset].watch}</p>
  <span class="error" id="race-error" role="alert"></span>
  <div class="buttons" role="group" aria-label="Race">
    <button type="button" id="race-start">Start race</button>
    <button type="button" id="race-pause" disabled>Pause race</button>
  </div>
  <p class="status-line">Race: <output id="race-status" aria-live="polite">not started</output></p>
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
 * `preset`: a key of PRESETS, the one selected at first. Returns what tests read.
 */
export function createRace(container, bindings, baseSettings, { algos = ["fac", "alam"], backend = "auto", preset = "default", onStart = () => {} } = {}) {
  if (!(preset in PRESETS)) preset = "default";
  container.innerHTML = markup(algos, preset);
  const root = container.getRootNode();
  const $ = (id) => root.getElementById(id);
  $("race-preset").addEventListener("change", () => ($("race-watch").textContent = PRESETS[$("race-preset").value].watch));
  /** The race on screen: { agents: [{ algo, trainer, returns, violations, steps, episodes }],
   *  charts, playing, looping (the loop's promise) }, or null. */
  let race = null;

  const status = (text) => ($("race-status").textContent = text);
  const picked = () => [...container.querySelectorAll('input[name="race-algo"]:checked')].map((b) => b.value);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

  function makeCharts(names) {
    // One series per agent; Chart colours them in order (charts.js's palette).
    const spec = (extra = {}) => ({
      series: names.map((name) => ({ label: name, ...extra })),
      rows: {},
    });
    const chart = (id, extra) => {
      $(id).replaceChildren();
      return new Chart($(id), spec(extra));
    };
    return {
      return: chart("race-return"),
      violations: chart("race-violations"),
      lambda: chart("race-lambda", { points: { show: true, size: 4 } }),
    };
  }

  /** Agent k's record onto the overlaid charts (a row with a value in k's series only). */
  function route(r, k, record) {
    const a = r.agents[k];
    const row = (v) => r.agents.map((_, j) => (j === k ? v : null));
    if (record.kind === "episode") {
      a.returns = [...a.returns, record.return].slice(-SMOOTH);
      a.violations = [...a.violations, record.violations].slice(-SMOOTH);
      a.episodes += 1;
      r.charts.return.push(record.step, row(mean(a.returns)));
      r.charts.violations.push(record.step, row(mean(a.violations)));
    } else if (record.kind === "probe") {
      r.charts.lambda.push(record.step, row(record.lambda_mean));
    }
  }

  /** Rounds until paused: every agent trains for its share of a frame's budget, then the
   *  charts redraw. */
  async function loop(r) {
    while (r.playing) {
      for (let k = 0; k < r.agents.length && r.playing; k++) {
        const a = r.agents[k];
        try {
          // On a lost WebGPU device a call may never return: given up when the loss is heard.
          const call = a.trainer.run(1_000_000, BUDGET_MS / r.agents.length);
          const report = await (r.onGpu ? unlessLost(call) : call);
          for (const rec of report.records) route(r, k, rec);
          a.steps = report.steps;
        } catch (e) {
          r.playing = false;
          if (r.onGpu && gpuLost()) {
            r.abandoned = true; // its trainers may still be borrowed by the calls given up
            $("race-pause").disabled = true;
            status(`the WebGPU device was lost (${gpuLost().message}): Restart race trains on the CPU`);
          } else {
            status(`${a.algo} failed: ${messageOf(e)}; Resume race tries again`);
          }
        }
      }
      for (const c of Object.values(r.charts)) c.flush();
      await new Promise((done) => requestAnimationFrame(done));
    }
  }

  function setPlaying(r, playing) {
    r.playing = playing;
    $("race-pause").textContent = playing ? "Pause race" : "Resume race";
    if (playing) r.looping = loop(r);
  }

  /** Ends the race on screen and frees its agents once the slice in flight has returned. */
  async function stop() {
    const r = race;
    race = null;
    if (!r) return;
    r.playing = false;
    await r.looping;
    if (r.abandoned) return;
    for (const a of r.agents) {
      try {
        a.trainer.free();
      } catch (e) {
        console.warn(`the ${a.algo} trainer could not be freed:`, e); // dropped instead
      }
    }
  }

  async function start() {
    const names = picked();
    if (names.length < MIN_AGENTS || names.length > MAX_AGENTS) {
      $("race-error").textContent = `Pick ${MIN_AGENTS} to ${MAX_AGENTS} algorithms (${names.length} picked).`;
      return;
    }
    $("race-error").textContent = "";
    onStart();
    await stop();
    status("starting…");
    const base = baseSettings();
    const preset = $("race-preset").value;
    const settingsOf = (algo) => ({ ...base, ...PRESETS[preset].settings(base), algo });
    let trainers, choice;
    try {
      // "auto": the device measured (or remembered) for these settings, as for the page's run.
      choice = await chooseBackend(bindings, base, backend, { onMeasure: () => status("measuring which device trains faster here…") });
      trainers = await Promise.all(names.map((algo) => createTrainer(bindings, settingsOf(algo), choice.backend)));
    } catch (e) {
      status(`could not start: ${messageOf(e)}`);
      return;
    }
    // Each agent's config, read now: a trainer is busy (borrowed) while a slice runs.
    const agents = trainers.map((trainer, k) => ({ algo: names[k], trainer, config: trainer.config(), returns: [], violations: [], steps: 0, episodes: 0 }));
    const device = trainers[0].backend().split(" — ")[0].replace(/ \(chosen\)$/, "");
    race = { agents, charts: makeCharts(names), playing: false, looping: null, device, onGpu: /^webgpu/i.test(device) };
    $("race-pause").disabled = false;
    $("race-start").textContent = "Restart race";
    const config = agents[0].config;
    const stressed = preset === "default" ? "" : `, ${PRESETS[preset].label.replace(/ \(.*/, "").toLowerCase()}`;
    status(`${names.join(" vs ")} on ${config.env}, seed ${config.seed}${stressed}, on ${device}`);
    setPlaying(race, true);
  }

  async function togglePause() {
    const r = race;
    if (!r) return;
    if (r.playing) {
      r.playing = false;
      await r.looping;
      setPlaying(r, false);
    } else {
      setPlaying(r, true);
    }
  }

  $("race-start").addEventListener("click", start);
  $("race-pause").addEventListener("click", togglePause);

  return {
    /** Per agent: algorithm, steps and episodes so far, and the multiplier settings it runs. */
    agents: () =>
      race
        ? race.agents.map(({ algo, steps, episodes, config }) => ({ algo, steps, episodes, multiplier_lr: config.multiplier_lr, multiplier_every: config.multiplier_every }))
        : [],
    /** The device the race trains on ("WebGPU", "CPU"). */
    device: () => race?.device ?? null,
    /** Rows per chart. */
    points: () => (race ? Object.fromEntries(Object.entries(race.charts).map(([k, c]) => [k, c.table.length])) : null),
    start,
    stop,
  };
}
