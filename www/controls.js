// The settings form, the buttons and the URL query string. The core validates every value
// (`checkSettings`); this module only reads, writes and explains them.

import { CONSTRAINT_FIELDS, SEEDS_FIELD, TEXT_FIELDS } from "./template.js";

/** Config fields with an input on the page (text inputs, the population's seeds and the
 *  constraint's knobs among them; env and algo are selects). */
export const FORM_FIELDS = [...TEXT_FIELDS.map(([id]) => id), SEEDS_FIELD.id, ...CONSTRAINT_FIELDS.map((k) => k.id)];
const SELECT_FIELDS = ["env", "algo"];

/** Browser defaults: the point-goal demo with small networks (the browser's CPU path is slower
 *  than native); with these it reaches goals safely in under a minute here (BENCHMARKS.md). */
export const DEFAULT_SETTINGS = { env: "point-goal", algo: "alam", hidden: 64, batch_size: 64 };
export const DEFAULT_PAGE = { backend: "auto", autoplay: false, speed: "max" };

/** Steps per `run` call for each speed; every call also stops after BUDGET_MS of work. A
 *  `Map`: a speed is user text (`?speed=`, an attribute), never a property of an object. */
export const SPEEDS = new Map([["1", 1], ["10", 10], ["100", 100], ["max", 1_000_000]]);
export const BUDGET_MS = 40;
/** The values each page option (`?speed=`, `?backend=`, the widget's attributes) may take. */
const PAGE_CHOICES = new Map([
  ["speed", [...SPEEDS.keys()]],
  ["backend", ["auto", "webgpu", "cpu"]],
]);
/** The largest seed: an integer above 2^53 − 1 cannot be held exactly by a JavaScript number
 *  (9007199254740993 reads as …992), and the core refuses it too. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** A typed value from text: numbers and booleans as such, anything else as the string
 *  (so the core names the field when the text is not what it expects). */
export function parseValue(text) {
  const s = String(text).trim();
  if (s === "true" || s === "false") return s === "true";
  // An integer a number cannot hold exactly stays text: checked as text (`pageRefusal`), never
  // rounded to a neighbour.
  if (/^[+-]?\d+$/.test(s) && !Number.isSafeInteger(Number(s))) return s;
  if (s !== "" && Number.isFinite(Number(s))) return Number(s);
  return s;
}

/** A setting's value from the text of a field, a URL parameter or an attribute: env and algo
 *  are names, the rest `parseValue`. */
export const parseSetting = (field, text) => (field === "env" || field === "algo" ? String(text) : parseValue(text));

/** The sentence an error says, never empty: the core's refusals come as strings or as errors
 *  with a `message` (and a `field`); an error with an empty message (Chromium's
 *  QuotaExceededError) is named by its `name`. */
export function messageOf(e) {
  const text = typeof e === "string" ? e : e?.message || e?.name || String(e);
  return text || "an error with no message";
}

/** A refusal as the core makes them: an Error whose `field` names the setting. */
const refusal = (field, message) => Object.assign(new Error(message), { field });

/** The page's own refusal of `settings` (an Error with `field`), before the core sees them, or
 *  null: a seed beyond MAX_SEED, judged on its text (`parseValue` keeps such an integer as
 *  text; the core would only see a rounded number). */
export function pageRefusal(settings) {
  if (!Object.hasOwn(settings, "seed")) return null;
  const seed = settings.seed;
  const big = (typeof seed === "string" && /^\+?\d+$/.test(seed.trim())) || (typeof seed === "number" && seed > MAX_SEED);
  return big ? refusal("seed", `seed ${seed} is out of range: a seed is an integer from 0 to ${MAX_SEED} (2^53 − 1)`) : null;
}

/** The core's `checkSettings` behind the page's own refusals (`pageRefusal`): the checked full
 *  config, or throws an Error naming its `field`. */
export function checkWith(checkSettings) {
  return (settings) => {
    const refused = pageRefusal(settings);
    if (refused) throw refused;
    return checkSettings(settings);
  };
}

/** The settings to commit: the candidate, with every form field pinned to the value the core
 *  resolved (`config`, its full config), so the URL reproduces the run even if defaults change. */
export function committed(candidate, config) {
  const s = { ...candidate };
  for (const f of [...SELECT_FIELDS, ...FORM_FIELDS]) if (config[f] !== undefined) s[f] = config[f];
  return s;
}

/** The settings a changed field asks for: `settings` with `field` = `value`. A new env or
 *  algorithm brings its own defaults for the form fields still at the old pair's defaults (the
 *  threshold d is 1 on point-goal and 0 elsewhere); values set by hand stay. `check`:
 *  `checkSettings` (the core's full config for partial settings). */
export function changedSettings(settings, field, value, check) {
  const next = { ...settings, [field]: value };
  if (!SELECT_FIELDS.includes(field)) return next;
  let before;
  try {
    before = check({ env: settings.env, algo: settings.algo });
  } catch {
    return next; // the old pair was refused itself: nothing to carry over
  }
  for (const f of FORM_FIELDS) if (f in next && next[f] === before[f]) delete next[f];
  return next;
}

/** The given settings (the URL's or a widget's attributes', over DEFAULT_SETTINGS) minus any
 *  the core refuses (`check`: `checkSettings`, which throws an error naming its `field`): each
 *  refusal is shown beside its field by `controls`, prefixed with `source`, and the run takes
 *  the default instead. Returns `{ settings, refused }`: the committed settings and the
 *  refusals' messages. */
export function acceptedSettings(given, check, controls, source) {
  const refused = [];
  let s = { ...DEFAULT_SETTINGS, ...given };
  for (let tries = 0; tries < 20; tries++) {
    try {
      return { settings: committed(s, check(s)), refused };
    } catch (e) {
      const msg = messageOf(e);
      refused.push(msg);
      const field = e?.field; // the setting the core names, if any
      // Own properties only: a key such as `constructor` is a setting someone gave, not
      // Object's; `in` would find Object.prototype's and drop every other setting.
      if (!field || !Object.hasOwn(s, field)) {
        s = { ...DEFAULT_SETTINGS };
        controls.showError(`${source}, refused: ${msg}`, "env");
        continue;
      }
      controls.showRefused(field, s[field], `${source}: ${msg}`);
      const rest = { ...s };
      delete rest[field];
      s = Object.hasOwn(DEFAULT_SETTINGS, field) ? { ...rest, [field]: DEFAULT_SETTINGS[field] } : rest;
    }
  }
  return { settings: { ...DEFAULT_SETTINGS }, refused };
}

/** The page options as given (`{ backend, speed, autoplay }`, from the URL or a widget's
 *  attributes) minus the values that are not among their choices: each refusal is shown beside
 *  its field by `controls` (the speed has one), prefixed with `source`, and the default is used
 *  instead. Returns `{ page, refused }`: the options and the refusals' messages. */
export function acceptedPage(given, controls, source) {
  const page = { ...DEFAULT_PAGE, ...given };
  const refused = [];
  for (const [name, choices] of PAGE_CHOICES) {
    if (choices.includes(page[name])) continue;
    const message = `${name}: unknown ${name} "${page[name]}" (allowed: ${choices.join(", ")})`;
    refused.push(message);
    controls?.showError(`${source}, refused: ${message}`, name);
    page[name] = DEFAULT_PAGE[name];
  }
  return { page, refused };
}

/** Settings and page options from a query string (`?env=point-goal&rho=1&backend=cpu`), as
 *  given: `acceptedSettings` and `acceptedPage` judge them. Each key is the settings' own
 *  property, whatever its name (`__proto__` too, which then the core refuses as unknown). */
export function readQuery(search) {
  const params = new URLSearchParams(search);
  const settings = {};
  const page = { ...DEFAULT_PAGE };
  for (const [key, value] of params) {
    if (key === "backend") page.backend = value || DEFAULT_PAGE.backend;
    else if (key === "autoplay") page.autoplay = value === "" || value === "1" || value === "true";
    else if (key === "speed") page.speed = value || DEFAULT_PAGE.speed;
    else setOwn(settings, key, parseSetting(key, value));
  }
  return { settings, page };
}

/** `obj[key] = value` as an own property even for `__proto__` (an assignment would set the
 *  prototype, or do nothing). */
export const setOwn = (obj, key, value) => Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });

/** Writes the settings (and the page options that differ from the defaults) to the URL,
 *  without a new history entry: the address bar always reproduces the run on screen. */
export function writeQuery(settings, page) {
  const params = new URLSearchParams();
  for (const key of SELECT_FIELDS) if (Object.hasOwn(settings, key)) params.set(key, settings[key]);
  for (const [key, value] of Object.entries(settings)) {
    if (!SELECT_FIELDS.includes(key)) params.set(key, String(value));
  }
  if (page.backend !== DEFAULT_PAGE.backend) params.set("backend", page.backend);
  if (page.speed !== DEFAULT_PAGE.speed) params.set("speed", page.speed);
  if (page.autoplay) params.set("autoplay", "1");
  const url = `${location.pathname}?${params}${location.hash}`;
  history.replaceState(null, "", url);
}

/** The page's controls. Callbacks: onSetting(field, value), onPlay, onPause, onStep, onReset,
 *  onScratch, onTrainOn, onSpeed(speed), onSave, onSaveWeights, onLoad(file), onCopyLink. */
export class Controls {
  /** `doc`: the page's document or a widget's shadow root (both have getElementById). */
  constructor(doc, callbacks) {
    this.doc = doc;
    this.cb = callbacks;
    this.buttons = {};
    for (const id of ["play", "pause", "step", "reset", "scratch"]) {
      const b = doc.getElementById(id);
      this.buttons[id] = b;
      const name = `on${id[0].toUpperCase()}${id.slice(1)}`;
      b.addEventListener("click", () => this.cb[name]());
    }
    for (const field of [...SELECT_FIELDS, ...FORM_FIELDS]) {
      const el = doc.getElementById(field);
      el.addEventListener("change", () => this.cb.onSetting(field, parseSetting(field, el.value)));
    }
    // Enter in a text field commits it (the form itself never submits).
    doc.getElementById("settings").addEventListener("submit", (e) => e.preventDefault());
    const speed = doc.getElementById("speed");
    speed.addEventListener("change", () => {
      this.clearError("speed");
      this.cb.onSpeed(speed.value);
    });
    this.buttons.trainOn = doc.getElementById("train-on");
    this.buttons.trainOn.addEventListener("click", () => this.cb.onTrainOn?.());
    this.buttons.save = doc.getElementById("save");
    this.buttons.save.addEventListener("click", () => this.cb.onSave());
    this.buttons.saveWeights = doc.getElementById("save-weights");
    this.buttons.saveWeights.addEventListener("click", () => this.cb.onSaveWeights());
    const file = doc.getElementById("load");
    doc.getElementById("load-button").addEventListener("click", () => file.click());
    file.addEventListener("change", () => {
      if (file.files.length > 0) this.cb.onLoad(file.files[0]);
      file.value = ""; // the same file can be chosen again
    });
    doc.getElementById("copy-link").addEventListener("click", () => this.cb.onCopyLink());
  }

  /** Shows the settings in use; fields showing a refused value keep it until edited. */
  fill(settings, config) {
    for (const field of [...SELECT_FIELDS, ...FORM_FIELDS]) {
      const el = this.doc.getElementById(field);
      if (el.getAttribute("aria-invalid") === "true") continue;
      const value = Object.hasOwn(settings, field) ? settings[field] : config?.[field];
      if (value !== undefined) el.value = String(value);
    }
    this.showKnobsOf(settings.algo ?? config?.algo);
  }

  /** Shows the constraint's knobs that `algo` uses (and any showing a refusal), and says so. */
  showKnobsOf(algo) {
    for (const knob of CONSTRAINT_FIELDS) {
      const el = this.doc.getElementById(knob.id);
      el.closest(".field").hidden = !knob.algos.includes(algo) && el.getAttribute("aria-invalid") !== "true";
    }
    const used = CONSTRAINT_FIELDS.filter((k) => k.algos.includes(algo)).length;
    this.doc.getElementById("knobs-note").textContent =
      used === 0 ? `${algo} trains without a constraint: none of these knobs apply.` : `Shown: the knobs ${algo} uses (the others belong to other algorithms).`;
  }

  setSpeed(speed) {
    this.doc.getElementById("speed").value = speed;
  }

  /** Puts a refusal beside `named` (the field the core's refusal names: its `field`) and
   *  beside `fallback` (the field just edited), and marks those inputs invalid for assistive
   *  technology. */
  showError(message, fallback, named = null) {
    const fields = new Set([named ?? fallback, fallback]); // the edited field explains too
    for (const field of fields) {
      const el = this.doc.getElementById(field);
      const out = this.doc.getElementById(`${field}-error`);
      if (!el || !out) continue;
      el.setAttribute("aria-invalid", "true");
      out.textContent = String(message);
      el.closest(".field").hidden = false; // a knob of another algorithm, refused: seen
    }
  }

  /** A refused starting value: kept in its text field (to be edited), the refusal beside it. */
  showRefused(field, value, message) {
    const el = this.doc.getElementById(field);
    if (el && el.tagName === "INPUT") el.value = String(value);
    this.showError(message, field);
  }

  clearError(field) {
    const el = this.doc.getElementById(field);
    const out = this.doc.getElementById(`${field}-error`);
    el?.removeAttribute("aria-invalid");
    if (out) out.textContent = "";
  }

  clearAllErrors() {
    for (const field of [...SELECT_FIELDS, ...FORM_FIELDS]) this.clearError(field);
  }

  /** Enables the buttons that make sense in `state`: "none" (no trainer), "idle", "playing", "done". */
  setState(state) {
    const b = this.buttons;
    const focused = this.doc.activeElement;
    b.play.disabled = state !== "idle";
    b.pause.disabled = state !== "playing";
    b.step.disabled = state === "none" || state === "done";
    b.reset.disabled = false;
    b.save.disabled = state === "none";
    b.saveWeights.disabled = state === "none";
    // Keyboard users keep their place: Play hands focus to Pause and back.
    if (focused === b.play && b.play.disabled) (b.pause.disabled ? b.reset : b.pause).focus();
    else if (focused === b.pause && b.pause.disabled) (b.play.disabled ? b.reset : b.play).focus();
  }
}
