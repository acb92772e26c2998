// www/runstate.js in Node (no browser): the trainer view's run as a state machine, walked through
// the sequences that broke the page before it had one — Pause and Play in one go, Reset in the
// middle of a slice, a device lost while a save is in flight, Train on after watching the demo —
// and the transitions it refuses; and the race's own machine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RACE_TRANSITIONS, RunState, StateMachine, TRANSITIONS } from "../../www/runstate.js";

/** A machine in `state`, sent `events` in order, each of which must be allowed: its states on
 *  the way. */
function walk(state, events) {
  const run = new RunState(state);
  return events.map((event) => {
    assert.ok(run.send(event), `${event} refused in ${run.state}`);
    return run.state;
  });
}

/** `event` is refused in `state`: send says so and the state stays. */
function refused(state, event) {
  const run = new RunState(state);
  assert.equal(run.can(event), false, `${event} allowed in ${state}`);
  assert.equal(run.send(event), false);
  assert.equal(run.state, state);
}

test("every transition leads to a state of the table", () => {
  for (const table of [TRANSITIONS, RACE_TRANSITIONS]) {
    for (const [from, events] of Object.entries(table)) {
      for (const [event, to] of Object.entries(events)) assert.ok(Object.hasOwn(table, to), `${from} --${event}--> ${to}`);
    }
  }
  assert.throws(() => new RunState("running"), /unknown state "running"/);
});

test("a fresh run: made, played, finished; nothing plays once it has finished", () => {
  assert.deepEqual(walk("none", ["restart", "ready", "play", "finish"]), ["starting", "paused", "playing", "finished"]);
  refused("finished", "play");
  refused("finished", "pause");
  const run = new RunState("finished");
  assert.equal(run.controls, "done");
  assert.equal(run.playing, false);
});

test("Pause and Play in one go: the run plays again, and a second Pause or Play is refused", () => {
  const run = new RunState("playing");
  assert.ok(run.send("pause"));
  assert.ok(run.send("play"));
  assert.equal(run.state, "playing");
  assert.equal(run.playing, true);
  assert.equal(run.send("play"), false, "Play while playing");
  assert.ok(run.send("pause"));
  assert.equal(run.send("pause"), false, "Pause while paused");
  assert.equal(run.state, "paused");
  assert.equal(run.controls, "idle");
});

test("Reset mid-slice: the old run's reports are dropped while the new one is made, and the new one stays paused", () => {
  const run = new RunState("playing");
  assert.ok(run.send("restart")); // Reset: a slice is still in flight
  assert.equal(run.replacing, true, "the slice's report is dropped");
  assert.equal(run.playing, false, "no slice is scheduled");
  // The slice in flight fails (its worker ended): the new run is still being made.
  assert.ok(run.send("fail"));
  assert.equal(run.state, "starting");
  refused("starting", "play");
  refused("starting", "finish");
  assert.ok(run.send("ready"));
  assert.equal(run.state, "paused");
  // A changed setting while playing: the new run goes on playing, unless a Reset overtakes it.
  assert.deepEqual(walk("playing", ["start", "start", "ready"]), ["resuming", "resuming", "playing"]);
  assert.deepEqual(walk("playing", ["start", "restart", "ready"]), ["resuming", "starting", "paused"]);
  assert.deepEqual(walk("paused", ["start", "startFailed"]), ["starting", "none"]);
});

test("a lost device during a save: the run is made again on the CPU and goes on", () => {
  // Playing, an autosave in flight; the device is lost (the save's failure is the recovery's).
  const run = new RunState("playing");
  assert.ok(run.send("lost"));
  assert.equal(run.state, "recovering");
  assert.equal(run.controls, "none");
  refused("recovering", "play");
  refused("recovering", "lost");
  refused("recovering", "pause");
  // The recovery's own run is made (start, ready) without leaving the recovery, and a failure
  // meanwhile leaves it too.
  assert.deepEqual(walk("recovering", ["restart", "fail", "ready", "recovered", "play"]), ["recovering", "recovering", "recovering", "paused", "playing"]);
  assert.deepEqual(walk("recovering", ["restart", "startFailed", "unrecovered"]), ["recovering", "recovering", "none"]);
  // The loss heard only after the failure it caused: the run was playing (interrupted).
  assert.deepEqual(walk("playing", ["fail", "lost"]), ["interrupted", "recovering"]);
  // A view disposed while it recovers: the recovery's end is refused.
  const gone = new RunState("recovering");
  assert.ok(gone.send("dispose"));
  assert.equal(gone.send("recovered"), false);
  assert.equal(gone.send("lost"), false);
  assert.equal(gone.state, "disposed");
});

test("Train on after watching: the demo pauses, is left, and the run it continues trains", () => {
  const run = new RunState("none");
  for (const e of ["restart", "ready", "watch", "play"]) assert.ok(run.send(e), e);
  assert.equal(run.state, "watching");
  assert.equal(run.watching, true);
  assert.equal(run.playing, true);
  // Train on: Pause, leave the demo, replace it with the full run, play.
  assert.deepEqual(walk("watching", ["pause", "leave", "restart", "ready", "play"]), ["demo", "paused", "starting", "paused", "playing"]);
  // Train from scratch while the demo plays: it is left playing, and the new run is made.
  assert.deepEqual(walk("watching", ["leave", "restart"]), ["playing", "starting"]);
  // The demo cannot be replaced before it is left, nor watched twice, nor finish.
  refused("watching", "start");
  refused("demo", "restart");
  refused("demo", "watch");
  refused("watching", "finish");
  refused("playing", "leave");
});

test("a disposed view refuses every event", () => {
  for (const event of new Set(Object.values(TRANSITIONS).flatMap((t) => Object.keys(t)))) refused("disposed", event);
  for (const state of Object.keys(TRANSITIONS).filter((s) => s !== "disposed")) assert.deepEqual(walk(state, ["dispose"]), ["disposed"]);
});

test("the race: a failure pauses it, a lost device leaves only a restart, a stale start's end is refused", () => {
  const race = new StateMachine(RACE_TRANSITIONS, "idle");
  for (const e of ["start", "started", "fail"]) assert.ok(race.send(e), e);
  assert.equal(race.state, "paused");
  assert.ok(race.send("resume"));
  assert.ok(race.send("pause"));
  assert.ok(race.send("lost"));
  for (const e of ["resume", "pause", "lost", "fail", "started"]) assert.equal(race.send(e), false, `${e} after a lost device`);
  assert.equal(race.state, "lost");
  assert.ok(race.send("start"));
  // Restart race while its trainers are made: the first start is stopped, the second goes on.
  assert.ok(race.send("stop"));
  assert.equal(race.send("started"), false, "a stopped start cannot start");
  assert.deepEqual(["start", "startFailed"].map((e) => (race.send(e), race.state)), ["starting", "idle"]);
});
