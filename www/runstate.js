// The life of a trainer view's run as one small state machine: where the run stands (a named
// state) and the events that move it (an explicit table). The view (app.js) asks it instead of
// keeping flags: a transition the table does not list is refused — `send` returns false and the
// state stays — so an event that comes too late (a Pause after the run was replaced, a lost
// device after the view was disposed) changes nothing. Pure: no DOM, no timers; it only says
// what the view may do next, and the view does it (tests/browser/runstate.test.mjs walks it in
// Node). The race (race.js) has a machine of its own, RACE_TRANSITIONS.

/**
 * The states:
 * - `none`: no run — before the first, or its start failed;
 * - `starting`: a run is being made (a fresh one, a loaded or resumed file); the reports of the
 *   run it replaces are dropped;
 * - `resuming`: the same, and it plays once ready (it replaced a playing run);
 * - `paused`: a run, not playing (ready, paused, or stopped by a failure while paused);
 * - `playing`: training;
 * - `demo`: the pretrained demo on screen, watched (its policy acts, nothing learns), not playing;
 * - `watching`: the demo, playing;
 * - `interrupted`: a failure stopped the run while it played; Play tries again, and a lost
 *   device heard only after the failure it caused recovers it playing;
 * - `finished`: the run reached its last step, or diverged;
 * - `recovering`: the WebGPU device was lost; the run is being made again on the CPU from its
 *   last save (the runs made meanwhile stay in this state until `recovered`);
 * - `disposed`: the view's run ended for good (a widget removed from its page).
 *
 * The events: `start` (a new run replaces the one on screen; a playing one's successor plays),
 * `restart` (the same, and the successor stays paused), `ready` (the new run is there),
 * `startFailed` (it could not be made), `play`,
 * `pause`, `watch` (the run on screen becomes the watched demo), `leave` (it stops being the
 * demo), `finish`, `fail`, `lost` (the WebGPU device was lost), `recovered` / `unrecovered` (the
 * recovery ended with a run / with none), `dispose`.
 */
export const TRANSITIONS = {
  none: { start: "starting", restart: "starting", fail: "none", dispose: "disposed" },
  starting: { start: "starting", restart: "starting", ready: "paused", startFailed: "none", fail: "starting", lost: "recovering", dispose: "disposed" },
  resuming: { start: "resuming", restart: "starting", ready: "playing", startFailed: "none", fail: "resuming", lost: "recovering", dispose: "disposed" },
  paused: { play: "playing", watch: "demo", finish: "finished", fail: "paused", start: "starting", restart: "starting", lost: "recovering", dispose: "disposed" },
  playing: { pause: "paused", finish: "finished", fail: "interrupted", start: "resuming", restart: "starting", lost: "recovering", dispose: "disposed" },
  demo: { play: "watching", leave: "paused", fail: "demo", lost: "recovering", dispose: "disposed" },
  watching: { pause: "demo", leave: "playing", fail: "demo", lost: "recovering", dispose: "disposed" },
  interrupted: { play: "playing", finish: "finished", fail: "interrupted", start: "starting", restart: "starting", lost: "recovering", dispose: "disposed" },
  finished: { finish: "finished", fail: "finished", start: "starting", restart: "starting", lost: "recovering", dispose: "disposed" },
  recovering: { start: "recovering", restart: "recovering", ready: "recovering", startFailed: "recovering", fail: "recovering", recovered: "paused", unrecovered: "none", dispose: "disposed" },
  disposed: {},
};

/** What the controls offer in each state (controls.js `setState`). */
const CONTROLS = { none: "none", starting: "none", resuming: "none", recovering: "none", disposed: "none", paused: "idle", demo: "idle", interrupted: "idle", playing: "playing", watching: "playing", finished: "done" };

/**
 * The race's life (race.js), as the same kind of table: `idle` (no race on screen, or its start
 * failed), `starting` (its agents' trainers are being made), `racing`, `paused` (by Pause race,
 * or by an agent's failure: Resume race tries again), `lost` (the WebGPU device was lost: only a
 * restart, on the CPU, goes on). Events: `start`, `started`, `startFailed`, `pause`, `resume`,
 * `fail`, `lost`, `stop` (the race ends: a newer start, or the page's own).
 */
export const RACE_TRANSITIONS = {
  idle: { start: "starting", stop: "idle" },
  starting: { start: "starting", started: "racing", startFailed: "idle", stop: "idle" },
  racing: { pause: "paused", fail: "paused", lost: "lost", start: "starting", stop: "idle" },
  paused: { resume: "racing", lost: "lost", start: "starting", stop: "idle" },
  lost: { start: "starting", stop: "idle" },
};

/** A state and the transitions of `table` ({ state: { event: next state } }). */
export class StateMachine {
  constructor(table, state) {
    if (!Object.hasOwn(table, state)) throw new Error(`unknown state "${state}"`);
    this.table = table;
    this.state = state;
  }

  /** Whether `event` is allowed now. */
  can(event) {
    return Object.hasOwn(this.table[this.state], event);
  }

  /** Moves to the state the table gives for `event`: true; false if the table has no such
   *  transition from here (refused: the state stays). */
  send(event) {
    if (!this.can(event)) return false;
    this.state = this.table[this.state][event];
    return true;
  }

  /** Whether the machine is in one of `states`. */
  is(...states) {
    return states.includes(this.state);
  }
}

/** A trainer view's run: its state, and the transitions of TRANSITIONS. */
export class RunState extends StateMachine {
  /** @param {keyof TRANSITIONS} state where the run starts (a view starts with none). */
  constructor(state = "none") {
    super(TRANSITIONS, state);
  }

  /** Slices are asked for (training, or the demo acting). */
  get playing() {
    return this.is("playing", "watching");
  }

  /** The run on screen is the watched demo. */
  get watching() {
    return this.is("demo", "watching");
  }

  /** A run is being made: what the old one reports is no longer shown. */
  get replacing() {
    return this.is("starting", "resuming", "recovering");
  }

  /** The controls' state (controls.js `setState`: none, idle, playing, done). */
  get controls() {
    return CONTROLS[this.state];
  }
}
