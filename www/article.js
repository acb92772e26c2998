// The article below the race: the idea behind SAC-ALaM in four short sections, for a reader who
// knows RL but not constrained RL. Each section has a small figure that computes what it shows
// (plain JS: SVG, and uPlot through charts.js) and ends with "try this" links that set the
// trainer up through the page's URL settings (config fields are URL keys; main.js reads `race`
// and `race-preset`). main.js leaves the article out for `?text=0`.
//
// The method is written as docs/method.md §1–§3 has it: ψ_ρ in the policy loss, the multiplier
// regressed onto the dual target max(0, λ_old + ρh), capped smoothly at λ_max.
import { Chart } from "./charts.js";

// ---- the formulas the figures compute ------------------------------------------------------

/** ALaM's penalty for one state (docs/method.md §3a): ψ_ρ(h, λ) = (max(0, λ + ρh)² − λ²) / (2ρ),
 *  with h = Q_c(s, a) − d (cost units), λ ≥ 0 the multiplier (reward per unit of cost), ρ > 0. */
export function psi(h, lambda, rho) {
  const a = Math.max(0, lambda + rho * h);
  return (a * a - lambda * lambda) / (2 * rho);
}

/** ∂ψ_ρ/∂h = max(0, λ + ρh): the multiplier after one method-of-multipliers step, and the dual
 *  target λ̂ (before the cap). */
export const psiSlope = (h, lambda, rho) => Math.max(0, lambda + rho * h);

/** The toy primal–dual problem of figure 3: minimise f(x) = (x − 2)² subject to g(x) = x − 1 ≤ 0.
 *  Its solution is x* = 1 with multiplier λ* = 2 (stationarity: 2(x* − 2) + λ* = 0). */
const TOY = { f: (x) => (x - 2) ** 2, g: (x) => x - 1, lambdaStar: 2 };

/** argmin of a convex function on [lo, hi], by golden-section search (to ~1e-12). */
function argmin(fn, lo = -20, hi = 20) {
  const r = (Math.sqrt(5) - 1) / 2;
  let [a, b] = [lo, hi];
  for (let i = 0; i < 80; i++) {
    const c = b - r * (b - a);
    const d = a + r * (b - a);
    if (fn(c) < fn(d)) b = d;
    else a = c;
  }
  return (a + b) / 2;
}

/** λ over `iterations` rounds of the toy from λ = 0, each round the "policy" x answering the
 *  current price in full, then the multiplier moving.
 *  - "ascent" (dual ascent, FAC's rule): x = argmin f + λg, then λ ← max(0, λ + η·g(x)).
 *  - "multipliers" (the method of multipliers, ALaM's rule): x = argmin f + ψ_ρ(g, λ), then λ is
 *    fitted onto its dual target max(0, λ + ρ·g(x)) until it gets there.
 *  Returns [λ₀ … λ_iterations]. */
export function toyMultiplier(rule, step, iterations) {
  const lambdas = [0];
  let lambda = 0;
  for (let k = 0; k < iterations; k++) {
    const penalty = rule === "ascent" ? (x) => lambda * TOY.g(x) : (x) => psi(TOY.g(x), lambda, step);
    const x = argmin((x) => TOY.f(x) + penalty(x));
    lambda = Math.max(0, lambda + step * TOY.g(x));
    lambdas.push(lambda);
  }
  return lambdas;
}

/** How a multiplier sequence behaves around λ*: the times it crosses λ*, its largest overshoot
 *  past λ* and its distance to λ* at the end. Within `tol` of λ* counts as on it (the argmin is
 *  exact to ~1e-8). */
export function swings(lambdas, star = TOY.lambdaStar, tol = 1e-6) {
  const side = lambdas.map((l) => (Math.abs(l - star) <= tol ? 0 : Math.sign(l - star))).filter((s) => s !== 0);
  const crossings = side.filter((s, k) => k > 0 && s !== side[k - 1]).length;
  const over = Math.max(...lambdas.map((l) => l - star));
  return { crossings, overshoot: over > tol ? over : 0, error: Math.abs(lambdas.at(-1) - star) };
}

// ---- the text --------------------------------------------------------------------------------

/** A "try this" link's address: the page's URL settings (relative, so it works under any path),
 *  keeping the device this page was asked to use. */
function tryHref(params, hash = "") {
  const q = new URLSearchParams(params);
  const backend = new URLSearchParams(location.search).get("backend");
  if (backend) q.set("backend", backend);
  return `?${q.toString().replaceAll("%2C", ",")}${hash}`.replaceAll("&", "&amp;");
}

/** A variable, as math is written in the text. */
const v = (name) => `<var>${name}</var>`;

/** Figures 1 and 2: the toy's sizes. */
const EPISODES = 10;
const STEPS = 14;
const HAZARD = [6, 7, 8]; // the steps of a shortcut spent in the hazard: its cost
const SHORTCUT_RETURN = 10;
const DETOUR_RETURN = 8;
/** Figure 2: h(s) of a policy along a row of 12 states that end at a wall, before the risk offset. */
const H_BASE = [-1, -0.95, -0.9, -0.85, -0.8, -0.7, -0.6, -0.45, -0.25, 0.05, 0.4, 0.8];
/** Figure 3: rounds drawn. */
const ROUNDS = 20;

/** The text's variables, as math is written in it. */
const [s, a, h, d, x, rho, eta, lam, m] = ["s", "a", "h", "d", "x", "ρ", "η", "λ", "m"].map(v);
/** A "try this" row of links that set the trainer up. */
const tryRow = (links) => `<p class="try">Try this: ${links.map(([label, params, hash]) => `<a href="${tryHref(params, hash)}">${label}</a>`).join(" · ")}</p>`;
/** A figure's slider with its label and value. */
const range = (id, label, min, max, step, value) => `<div class="slider">
    <label for="${id}">${label}</label>
    <input type="range" id="${id}" min="${min}" max="${max}" step="${step}" value="${value}" />
    <output for="${id}" id="${id}-value">${value}</output>
  </div>`;

function markup() {
  return `<h2 id="article-title">How it works: a constraint in every state</h2>
  <p class="article-lede">The trainer above runs SAC-ALaM. Here is the idea behind it in four steps, each with a small
  figure that computes what it shows, and links that set the trainer up to see it for real.</p>

  ${budgetSection()}

  ${multiplierSection()}

  ${dualAscentSection()}

  ${alamSection()}
  <p class="help article-end">The method in full: docs/method.md in the repository. To show the page without this text
  (for embedding), add <code>?text=0</code> to its address.</p>`;
}

/** Section 1: an episode budget against a constraint in every state. */
function budgetSection() {
  return `<section id="article-budget" aria-labelledby="article-budget-title">
    <h3 id="article-budget-title">1. “On average” is not “never”</h3>
    <p>Textbook safe RL (a constrained MDP) bounds one number per episode: the expected episode cost,
    E[Σ<sub><var>t</var></sub> <var>c</var><sub><var>t</var></sub>] ≤ <var>B</var>, where <var>c</var><sub><var>t</var></sub> = 1
    on a step that violates (enters a hazard, hits a wall). A policy can meet that budget on average and still
    drive through the hazard in some episodes, as long as others stay clear. A <em>state-wise</em> constraint asks
    instead, in every state ${s} the policy visits,</p>
    <p class="math">${h}(${s}) = <var>Q</var><sub>c</sub>(${s}, ${a}) − ${d} ≤ 0,</p>
    <p><var>Q</var><sub>c</sub>(${s}, ${a}) being the discounted cost expected ahead from ${s}, and ${d} a threshold:
    ${d} = 0 means “no violation ahead, from here”.</p>
    <figure class="article-figure">
      <svg id="fig-budget" viewBox="0 0 ${STEPS * 10} ${EPISODES * 10}" role="img" aria-labelledby="fig-budget-caption" aria-describedby="fig-budget-out"></svg>
      ${range("fig-budget-b", `Episode cost budget ${v("B")}`, 0, 3, 0.3, 0.9)}
      <p class="readout"><output id="fig-budget-out" aria-live="polite"></output></p>
      <figcaption id="fig-budget-caption">Ten episodes (rows) of fourteen steps. A shortcut through the hazard pays
      ${SHORTCUT_RETURN} and costs ${HAZARD.length} violating steps (marked ×); the detour pays ${DETOUR_RETURN}. The best policy
      under the budget takes the shortcut as often as the budget allows.</figcaption>
    </figure>
    ${tryRow([
      ["ALaM on point-goal, d = 0", { env: "point-goal", algo: "alam", cost_threshold: 0, autoplay: 1 }],
      ["ALaM on point-goal, d = 1", { env: "point-goal", algo: "alam", cost_threshold: 1, autoplay: 1 }],
    ])}
    <p class="help">d = 1 tolerates about one discounted violating step ahead; d = 0 tolerates none, so wherever the
    cost critic errs upward ${h} stays &gt; 0 and λ(${s}) keeps rising there: compare the return and λ charts after a
    minute or two. One run here is one seed. Over 8 seeds (point-goal, 50k steps, REPRODUCTION.md) d = 0 halved the
    return (64 against 147, p &lt; 0.001) and cut the violations in training (0.9 against 3.1 per episode, p = 0.005).</p>
  </section>`;
}

/** Section 2: one multiplier per state. */
function multiplierSection() {
  return `<section id="article-multiplier" aria-labelledby="article-multiplier-title">
    <h3 id="article-multiplier-title">2. One multiplier per state</h3>
    <p>A Lagrange multiplier turns a constraint into a price: the policy pays ${lam} units of reward per unit of
    expected cost. One constraint, one price: SAC-Lag and PID-Lag learn one scalar ${lam}. A constraint in every
    state needs a price in every state, a function λ(${s}) ≥ 0. States are continuous, so it is a network, and
    the policy minimises the Lagrangian</p>
    <p class="math">E<sub>${s}</sub>[ −<var>V</var>(${s}) + λ(${s})·${h}(${s}) ],</p>
    <p>where <var>V</var> is the value of reward. Where λ(${s}) = 0 the policy chases reward; where it is large, cost ahead
    outweighs reward. A single price cannot do this: averaged over states, ${h} is usually negative (most states
    are safe), so the price stays at 0 while the states near the wall violate; once the average turns positive,
    the price rises in the safe states too.</p>
    <figure class="article-figure">
      <svg id="fig-states" viewBox="0 0 240 150" role="img" aria-labelledby="fig-states-caption" aria-describedby="fig-states-out"></svg>
      ${range("fig-states-risk", "Risk the policy takes (shifts every h(s))", -0.5, 1, 0.05, 0)}
      <p class="readout"><output id="fig-states-out" aria-live="polite"></output></p>
      <figcaption id="fig-states-caption">Twelve states in a row, the wall on the right. Top: ${h}(${s}), violated where
      above 0. Bottom: one dual step from ${lam} = 0 with step 1: λ(${s}) ← max(0, ${h}(${s})) per state (bars) against
      one scalar ${lam} ← max(0, mean ${h}) (dashed line).</figcaption>
    </figure>
    ${tryRow([["ALaM on the double integrator: watch the heat map of λ(s)", { env: "double-integrator", algo: "alam", autoplay: 1 }]])}
    <p class="help">The heat map draws λ(${s}) over position and velocity, with the states from which no braking
    avoids the wall outlined: λ(${s}) should grow there and stay near 0 in the safe middle.</p>
  </section>`;
}

/** Section 3: dual ascent overshoots. */
function dualAscentSection() {
  return `<section id="article-dual-ascent" aria-labelledby="article-dual-ascent-title">
    <h3 id="article-dual-ascent-title">3. Dual ascent overshoots</h3>
    <p>How should the price learn? The classic answer is <em>dual ascent</em>: raise it where the constraint is
    violated, lower it where there is slack, ${lam} ← max(0, ${lam} + ${eta}·${h}) with a learning rate ${eta}.
    FAC (Ma et al. 2021) does this for the network: every ${m} policy updates, a gradient-ascent step on
    E<sub>${s}</sub>[λ(${s})·${h}(${s})]. It tends to swing, for three reasons:</p>
    <ul>
      <li><strong>lag</strong>: the policy answers a price only after it is set, so by the time the violation is gone
      the price has already gone past what was needed;</li>
      <li><strong>a step set by the learning rate</strong>, not by the problem: a step that is right in one state is
      too long in another;</li>
      <li><strong>shared weights</strong>: raising λ in one state raises it in its neighbours, which turn timid though
      they were safe.</li>
    </ul>
    <p>The smallest case shows the first two: minimise (${x} − 2)² subject to ${x} ≤ 1, whose answer is ${x} = 1 with
    multiplier λ* = 2. Each round the “policy” ${x} answers the current price in full, then the price moves.</p>
    <figure class="article-figure">
      <div class="chart" id="fig-toy" role="img" aria-labelledby="fig-toy-caption" aria-describedby="fig-toy-out"></div>
      ${range("fig-toy-step", `Step: ${eta} for dual ascent, ${rho} for the method of multipliers`, 0.1, 5, 0.1, 3)}
      <p class="readout"><output id="fig-toy-out" aria-live="polite"></output></p>
      <figcaption id="fig-toy-caption">${lam} over ${ROUNDS} rounds from ${lam} = 0. Dual ascent: ${x} minimises
      (${x} − 2)² + ${lam}(${x} − 1), then ${lam} ← max(0, ${lam} + ${eta}(${x} − 1)); it overshoots λ* for a step above 2 and
      never settles from 4 on. The method of multipliers (section 4) with ${rho} equal to the same step never overshoots.</figcaption>
    </figure>
    ${tryRow([["Race FAC against ALaM with a stressed multiplier (then press Start race)", { race: "fac,alam", "race-preset": "stressed" }, "#race"]])}
    <p class="help">The preset gives FAC's multiplier a 30× larger ascent step, taken every 200 policy updates
    instead of 10: a delayed, coarse dual update. ALaM keeps its own schedule, whose step is ${rho}${h} whatever its
    learning rate. One race is one seed; REPRODUCTION.md says what held over many.</p>
  </section>`;
}

/** Section 4: what ALaM changes. */
function alamSection() {
  return `<section id="article-alam" aria-labelledby="article-alam-title">
    <h3 id="article-alam-title">4. What ALaM changes</h3>
    <p><strong>The policy's loss.</strong> The price term λ·${h} becomes the augmented-Lagrangian penalty</p>
    <p class="math">ψ<sub>${rho}</sub>(${h}, ${lam}) = (max(0, ${lam} + ${rho}${h})² − ${lam}²) / (2${rho}),</p>
    <p>which is ${lam}${h} + ${rho}${h}²/2 where ${lam} + ${rho}${h} ≥ 0 and a constant where the state has slack to spare. Its
    slope in ${h} is max(0, ${lam} + ${rho}${h}): the policy already feels the price as it will be after the multiplier's next
    step, which makes up for the lag, and the ${rho}${h}²/2 term curves the loss up around the boundary.</p>
    <figure class="article-figure">
      <div class="chart" id="fig-psi" role="img" aria-labelledby="fig-psi-caption" aria-describedby="fig-psi-out"></div>
      <div class="sliders">
        ${range("fig-psi-rho", `${rho} (penalty weight)`, 0.1, 10, 0.1, 1)}
        ${range("fig-psi-lambda", `${lam} (multiplier)`, 0, 5, 0.1, 1)}
        ${range("fig-psi-h", `${h} (constraint value)`, -3, 3, 0.1, 0.5)}
      </div>
      <p class="readout"><output id="fig-psi-out" aria-live="polite"></output></p>
      <figcaption id="fig-psi-caption">ψ<sub>${rho}</sub>(${h}, ${lam}) against ${h}, its slope max(0, ${lam} + ${rho}${h}), and dual
      ascent's λ·${h} for comparison; the dot is the ${h} of the slider.</figcaption>
    </figure>
    <p><strong>The multiplier.</strong> λ(${s}) is not ascended but <em>regressed</em> onto the dual target</p>
    <p class="math">λ̂(${s}) = max(0, λ<sub>old</sub>(${s}) + ${rho}${h}(${s})),</p>
    <p>one step of the method of multipliers. λ<sub>old</sub> is a frozen copy of the multiplier network, refreshed
    every ${m} policy updates (a dual period); in between, λ(${s}) is fitted to the target on fresh batches until it
    gets there. So one dual period moves λ by exactly ${rho}${h}: ${rho} is the multiplier's step size, and a fit cannot
    step past its target. In figure 3, the policy with the penalty answers so that the step covers only part of the
    way to λ*, for every ${rho} &gt; 0: no overshoot, only slower progress for small ${rho}.</p>
    <p>The network's output <var>f</var>(${s}) is capped smoothly, λ = λ<sub>max</sub>·sigmoid(<var>f</var> − ln λ<sub>max</sub>):
    about e<sup><var>f</var></sup> for small λ, never above λ<sub>max</sub>, and unlike a hard clamp it keeps a gradient,
    so a state whose target falls back below the cap comes back down.</p>
    ${tryRow([
      ["ALaM on point-goal, ρ = 0", { env: "point-goal", algo: "alam", rho: 0, autoplay: 1 }],
      ["ALaM on point-goal, ρ = 10", { env: "point-goal", algo: "alam", rho: 10, autoplay: 1 }],
    ])}
    <p class="help">ρ = 0 keeps dual ascent's loss λ·${h} with unit steps of the regression; ρ = 10 makes each dual
    period's step ten times ρ = 1's and the penalty on ${h} &gt; 0 steeper. In the study (point-goal, two sets of 8
    seeds) ρ = 10 ended with less return than ρ = 1 in both (19% and 36% less) and with fewer final violations in only
    the first, so ρ = 1 stays the default. One run here is one seed, so expect noise; REPRODUCTION.md says what held
    over many.</p>
  </section>`;
}

// ---- the figures -------------------------------------------------------------------------------

const svgNS = "http://www.w3.org/2000/svg";
function svgEl(name, attrs, parent) {
  const el = document.createElementNS(svgNS, name);
  for (const [k, val] of Object.entries(attrs)) el.setAttribute(k, String(val));
  parent?.append(el);
  return el;
}

/** A number as the text writes it: `digits` decimals, a minus sign (−) where negative, no −0. */
const fmt = (value, digits = 2) => minus(value.toFixed(digits).replace(/^-(0\.?0*)$/, "$1"));
const minus = (text) => text.replace(/^-/, "−");

/** A range input's value as a number, said beside it in its <output>. */
function slider(root, id, onInput) {
  const input = root.getElementById(id);
  const out = root.getElementById(`${id}-value`);
  const read = () => {
    out.textContent = minus(input.value);
    onInput();
  };
  input.addEventListener("input", read);
  return () => Number(input.value);
}

/** Figure 1: ten episodes under an episode-cost budget B. */
function budgetFigure(root) {
  const svg = root.getElementById("fig-budget");
  const out = root.getElementById("fig-budget-out");
  const budget = slider(root, "fig-budget-b", draw);
  function draw() {
    const B = budget();
    // Cost per shortcut: HAZARD.length. The most shortcuts with a mean episode cost ≤ B.
    const shortcuts = Math.min(EPISODES, Math.floor((B * EPISODES) / HAZARD.length + 1e-9));
    const meanCost = (shortcuts * HAZARD.length) / EPISODES;
    const meanReturn = (shortcuts * SHORTCUT_RETURN + (EPISODES - shortcuts) * DETOUR_RETURN) / EPISODES;
    svg.replaceChildren();
    for (let e = 0; e < EPISODES; e++) {
      const cut = e < shortcuts;
      for (let t = 0; t < STEPS; t++) {
        const inHazard = HAZARD.includes(t);
        const bad = cut && inHazard;
        svgEl("rect", { x: t * 10 + 0.5, y: e * 10 + 0.5, width: 9, height: 9, rx: 1.5, class: bad ? "cell violate" : inHazard ? "cell hazard" : "cell" }, svg);
        if (bad) svgEl("path", { d: `M${t * 10 + 2.5} ${e * 10 + 2.5}l5 5m0 -5l-5 5`, class: "cross" }, svg);
      }
    }
    const violations = shortcuts * HAZARD.length;
    out.textContent =
      `Mean episode cost ${fmt(meanCost, 1)} ≤ B = ${fmt(B, 1)}: the budget holds, mean return ${fmt(meanReturn, 1)}. ` +
      (shortcuts === 0
        ? "No episode crosses the hazard: here the budget and the state-wise constraint agree."
        : `Yet ${shortcuts} of ${EPISODES} episodes cross the hazard: ${violations} violating steps, each a state where a state-wise constraint is broken.`);
    Object.assign(out.dataset, { violations, meanCost });
  }
  draw();
}

/** Figure 2: one dual step per state against one scalar step. */
function statesFigure(root) {
  const svg = root.getElementById("fig-states");
  const out = root.getElementById("fig-states-out");
  const risk = slider(root, "fig-states-risk", draw);
  const n = H_BASE.length;
  const w = 240 / n;
  // Top panel: h in [−1.5, 1.8] around its zero line at y = 40; bottom: λ in [0, 1.8] from y = 140.
  const hy = (value) => 40 - value * 20;
  const ly = (value) => 140 - value * 30;
  function draw() {
    const hs = H_BASE.map((value) => value + risk());
    const meanH = hs.reduce((p, q) => p + q, 0) / n;
    const perState = hs.map((value) => Math.max(0, value));
    const scalar = Math.max(0, meanH);
    svg.replaceChildren();
    hs.forEach((value, i) => {
      const y0 = hy(0);
      const y1 = hy(Math.max(-1.5, Math.min(1.8, value)));
      svgEl("rect", { x: i * w + 2, y: Math.min(y0, y1), width: w - 4, height: Math.max(0.5, Math.abs(y1 - y0)), class: value > 0 ? "bar violate" : "bar safe" }, svg);
      const l = Math.min(1.8, perState[i]);
      svgEl("rect", { x: i * w + 2, y: ly(l), width: w - 4, height: Math.max(0.5, 140 - ly(l)), class: "bar lambda" }, svg);
    });
    svgEl("line", { x1: 0, x2: 240, y1: hy(0), y2: hy(0), class: "axis" }, svg);
    svgEl("line", { x1: 0, x2: 240, y1: 140, y2: 140, class: "axis" }, svg);
    svgEl("line", { x1: 0, x2: 240, y1: ly(Math.min(1.8, scalar)), y2: ly(Math.min(1.8, scalar)), class: "scalar" }, svg);
    const label = (text, y) => (svgEl("text", { x: 2, y, class: "label" }, svg).textContent = text);
    label("h(s)", 9);
    label("λ after one dual step", 90);
    svgEl("rect", { x: 240 - 3, y: 0, width: 3, height: 150, class: "wall" }, svg);
    const violating = hs.filter((value) => value > 0).length;
    out.textContent =
      `Mean h = ${fmt(meanH)}. ${violating} of ${n} states violate; λ(s) rises in exactly those. ` +
      (scalar > 0
        ? `The scalar λ rises to ${fmt(scalar)} in all ${n} states, the ${n - violating} safe ones too.`
        : `The scalar λ stays 0: on average the constraint holds.`);
    Object.assign(out.dataset, { violating, raised: perState.filter((l) => l > 0).length, scalar });
  }
  draw();
}

/** Figure 3: the toy's multiplier under dual ascent and under the method of multipliers. */
function toyFigure(root) {
  const out = root.getElementById("fig-toy-out");
  const chart = new Chart(root.getElementById("fig-toy"), {
    series: [{ label: "dual ascent (FAC's rule)" }, { label: "method of multipliers (ALaM's rule)" }, { label: "λ* = 2", dash: [6, 4] }],
    rows: {},
  });
  const step = slider(root, "fig-toy-step", draw);
  function draw() {
    const ascent = toyMultiplier("ascent", step(), ROUNDS);
    const multipliers = toyMultiplier("multipliers", step(), ROUNDS);
    chart.clear();
    ascent.forEach((l, k) => chart.push(k, [l, multipliers[k], TOY.lambdaStar]));
    chart.flush();
    const [sa, sm] = [swings(ascent), swings(multipliers)];
    const say = (name, sw) =>
      `${name}: crosses λ* ${sw.crossings} times, overshoots by ${fmt(sw.overshoot)}, ends ${fmt(sw.error, 3)} from λ*`;
    out.textContent = `${say("Dual ascent", sa)}. ${say("Method of multipliers", sm)}.`;
    out.dataset.ascent = JSON.stringify(sa);
    out.dataset.multipliers = JSON.stringify(sm);
  }
  draw();
  return chart;
}

/** Figure 4: ψ_ρ(h, λ) against h, with its slope. */
function psiFigure(root) {
  const out = root.getElementById("fig-psi-out");
  const chart = new Chart(root.getElementById("fig-psi"), {
    series: [
      { label: "ψ_ρ(h, λ)" },
      { label: "slope max(0, λ + ρh)", dash: [6, 4] },
      { label: "λ·h", width: 1 },
      { label: "at the slider's h", points: { show: true, size: 8 } },
    ],
    rows: {},
  });
  const draw = () => {
    const [r, l, hNow] = [rho(), lambda(), hValue()];
    chart.clear();
    for (let i = 0; i <= 60; i++) {
      const hi = -3 + i * 0.1;
      chart.push(hi, [psi(hi, l, r), psiSlope(hi, l, r), l * hi, null]);
    }
    chart.push(hNow, [null, null, null, psi(hNow, l, r)]);
    chart.flush();
    const value = psi(hNow, l, r);
    out.textContent = `ψ_ρ(${fmt(hNow, 1)}, ${fmt(l, 1)}) with ρ = ${fmt(r, 1)}: ${fmt(value, 3)}; slope ${fmt(psiSlope(hNow, l, r), 3)}; λ·h = ${fmt(l * hNow, 3)}.`;
    Object.assign(out.dataset, { psi: value, slope: psiSlope(hNow, l, r) });
  };
  const rho = slider(root, "fig-psi-rho", draw);
  const lambda = slider(root, "fig-psi-lambda", draw);
  const hValue = slider(root, "fig-psi-h", draw);
  draw();
  return chart;
}

/** Writes the article into `section` (index.html's `#article`) and draws its figures. */
export function mountArticle(section) {
  section.innerHTML = markup();
  const root = section.getRootNode();
  budgetFigure(root);
  statesFigure(root);
  const charts = [toyFigure(root), psiFigure(root)];
  // Axis colours follow the colour scheme; redraw when it flips.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    for (const c of charts) c.plot.redraw(false, true);
  });
}
