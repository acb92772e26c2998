//! The browser's door into the core: one exported struct, async methods returning
//! `Result<_, String>` (burn's web example does the same). It knows the page only through the
//! JSON it hands over; the page never reaches into the agent.

use std::cell::RefCell;
use std::collections::VecDeque;

use burn::tensor::Device;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_time::Instant;

use crate::agent::read_floats_async;
use crate::checkpoint::{self, RunKind};
use crate::config::TrainConfig;
use crate::env::Env;
use crate::metrics::{Record, HISTORY_CAP};
use crate::trainer::Trainer;
use crate::watch::{WatchedEpisode, Watcher, WATCH_SEED};

thread_local! {
    /// The WebGPU device, initialised once per wasm instance (the page runs one per trainer, each
    /// in its own worker): a second `init_async` in the same instance fails
    /// ("A server is still registered for device").
    static WEBGPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

fn js_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[wasm_bindgen]
extern "C" {
    /// `console.warn`: where the raw text of an error goes that the page says in words.
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(text: &str);
}

/// A refused setting as a JS `Error` whose `field` names the setting (absent when the
/// refusal names none), so the page shows it beside that input without parsing the text.
fn refusal(e: crate::error::AlamError) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    if let Some(field) = e.field() {
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &"field".into(), &field.into());
    }
    error.into()
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, String> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_err)
}

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Whether the browser exposes WebGPU at all (window or worker).
fn has_navigator_gpu() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"navigator".into())
        .ok()
        .and_then(|nav| js_sys::Reflect::get(&nav, &"gpu".into()).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// The WebGPU device, or why there is none, in a sentence for the page (never the library's
/// own text, which prints its device structs: that goes to the console).
async fn webgpu_device() -> Result<Device, String> {
    if let Some(d) = WEBGPU.with(|w| w.borrow().clone()) {
        return Ok(d);
    }
    if !has_navigator_gpu() {
        return Err(
            "this browser does not offer WebGPU (navigator.gpu is missing: it is turned off or not supported)".into()
        );
    }
    let device = Device::wgpu_options().init_async().await.map_err(|e| {
        let raw = e.to_string();
        console_warn(&format!("WebGPU could not be started: {raw}"));
        webgpu_refusal(&raw)
    })?;
    WEBGPU.with(|w| *w.borrow_mut() = Some(device.clone()));
    Ok(device)
}

/// Why WebGPU cannot train here, in words, from the text of a failed adapter or device request.
fn webgpu_refusal(raw: &str) -> String {
    let raw = raw.to_lowercase();
    if raw.contains("adapter") {
        "this browser offers WebGPU but found no GPU adapter to train on (no suitable GPU or driver, or the browser blocks WebGPU on it)".into()
    } else if raw.contains("limit") || raw.contains("feature") {
        "this GPU's WebGPU adapter lacks a limit or feature the trainer needs".into()
    } else {
        "this browser offers WebGPU but could not start a GPU device to train on".into()
    }
}

#[derive(Serialize)]
struct RunReport {
    records: Vec<Record>,
    steps: u64,
    /// Finished episodes so far (a weights-only file's included, [`Prior`]).
    episodes: u64,
    /// Violating steps so far, the episode in progress included.
    violations: u64,
    /// Whether `violations` is only a lower bound: a weights-only file whose history no longer
    /// holds the run's first episodes.
    violations_at_least: bool,
    updates: u64,
    total_steps: u64,
    done: bool,
    diverged: Option<String>,
}

/// What [`WebTrainer::watch`] reports: the watched episodes finished in this call, the watched
/// scene and totals, and the run's own counters (which watching leaves as they are).
#[derive(Serialize)]
struct WatchReport {
    episodes: Vec<WatchedEpisode>,
    /// The watched episode in progress so far.
    current: WatchedEpisode,
    /// The watched environment's seed: these are the episodes `alam eval --seed SEED` scores.
    seed: u64,
    scene: crate::env::Scene,
    watched_steps: u64,
    watched_episodes: u64,
    /// Violating steps watched so far, the episode in progress included.
    watched_violations: u64,
    steps: u64,
    updates: u64,
}

#[derive(Serialize)]
struct Heatmap {
    x_label: String,
    y_label: String,
    x_range: [f32; 2],
    y_range: [f32; 2],
    nx: usize,
    ny: usize,
    /// λ(s), row-major, rows from the lowest y up.
    lambda: Vec<f32>,
    lambda_max: f64,
    doomed: Option<Vec<bool>>,
    /// The scene the grid was built from: point-goal's hazards change every episode, so the
    /// outlines must come from the same moment as the λ values.
    scene: crate::env::Scene,
}

/// The device for `backend`: "auto" (WebGPU if the browser has it, else the CPU), "webgpu" or
/// "cpu", with the label the page shows.
async fn pick_device(backend: &str) -> Result<(Device, String), String> {
    Ok(match backend {
        "cpu" => (Device::flex(), "CPU (chosen)".to_string()),
        "webgpu" => (webgpu_device().await?, "WebGPU".to_string()),
        "auto" => match webgpu_device().await {
            Ok(d) => (d, "WebGPU".to_string()),
            Err(why) => (Device::flex(), format!("CPU — {why}")),
        },
        other => return Err(format!("unknown backend `{other}` (allowed: auto, webgpu, cpu)")),
    })
}

/// What a weights-only file's run had done before it was saved, as its history tells: the file
/// keeps steps and updates but no episode counters (a full file restores them exactly).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Prior {
    episodes: u64,
    violations: u64,
    /// Whether the history holds every one of those episodes (else `violations` counts only the
    /// ones it holds: the newest).
    complete: bool,
}

impl Prior {
    const NONE: Prior = Prior { episodes: 0, violations: 0, complete: true };

    /// Counted from the episode records of `history` (oldest first). Episodes are numbered from
    /// 1 in each stretch of training; a number that does not go up starts a new stretch (a run
    /// resumed from a weights-only file numbers its episodes afresh).
    fn of(history: &[Record]) -> Prior {
        let (mut episodes, mut violations, mut held, mut last) = (0, 0, 0, 0);
        for r in history {
            if let Record::Episode { episode, violations: v, .. } = *r {
                episodes += if episode > last { episode - last } else { episode };
                last = episode;
                violations += v;
                held += 1;
            }
        }
        Prior { episodes, violations, complete: held == episodes }
    }
}

/// One training run in the page.
#[wasm_bindgen]
pub struct WebTrainer {
    trainer: Trainer,
    backend: String,
    /// The newest records (probe grids dropped), saved with the run so a loaded run shows its curves.
    history: VecDeque<Record>,
    /// Records made outside [`WebTrainer::run`] (the read that settles the run before a save),
    /// handed to the page with the next run's.
    unsent: Vec<Record>,
    /// The policy acting in an environment of its own, made by the first [`WebTrainer::watch`].
    watcher: Option<Watcher>,
    /// Whether the latest call was [`WebTrainer::watch`]: the page then shows the watched
    /// environment, and [`WebTrainer::heatmap`] is drawn over it.
    watching: bool,
    /// What a weights-only file's run had done before (none for a new run or a full file).
    prior: Prior,
    /// The kind of file this run was loaded from, if any.
    loaded: Option<RunKind>,
}

impl WebTrainer {
    fn remember(&mut self, record: &Record) {
        if self.history.len() == HISTORY_CAP {
            self.history.pop_front();
        }
        self.history.push_back(record.for_history());
    }
}

#[wasm_bindgen]
impl WebTrainer {
    /// `settings`: a partial config object (`{env, algo, seed, rho, hidden, ...}`);
    /// `backend`: "auto" (WebGPU if the browser has it, else the CPU), "webgpu" or "cpu".
    /// A refused setting throws an `Error` with a `field` property (see `checkSettings`).
    pub async fn create(settings: JsValue, backend: String) -> Result<WebTrainer, JsValue> {
        let value: serde_json::Value =
            serde_wasm_bindgen::from_value(settings).map_err(|e| JsValue::from(js_err(e)))?;
        let cfg = TrainConfig::from_partial_json(&value).map_err(refusal)?;
        let (device, label) = pick_device(&backend).await?;
        let trainer = Trainer::new(cfg, &device).map_err(refusal)?;
        Ok(WebTrainer {
            trainer,
            backend: label,
            history: VecDeque::new(),
            unsent: Vec::new(),
            watcher: None,
            watching: false,
            prior: Prior::NONE,
            loaded: None,
        })
    }

    /// A trainer that goes on from a saved run: a full file (this page's [`WebTrainer::save`],
    /// `alam train`'s `checkpoint.alam`) goes on exactly where it stopped; a weights-only file
    /// ([`WebTrainer::save_weights_only`], `weights.alam`, files of older versions) refills its
    /// replay with `learning_starts` steps of the loaded policy before any update
    /// ([`WebTrainer::loaded_kind`], [`WebTrainer::load_note`] say which). A corrupt, truncated,
    /// too large or foreign file is refused with the reason, before anything of the current run
    /// is touched.
    pub async fn load(bytes: Vec<u8>, backend: String) -> Result<WebTrainer, String> {
        let (device, label) = pick_device(&backend).await?;
        let (mut trainer, header, kind) = checkpoint::load_run(&bytes, &device, None).map_err(js_err)?;
        // A full file's finished run too (a weights-only one got it in `Trainer::resume`): the
        // demo's included.
        trainer.train_on_if_finished().map_err(js_err)?;
        let prior = if kind == RunKind::WeightsOnly { Prior::of(&header.history) } else { Prior::NONE };
        Ok(WebTrainer {
            trainer,
            backend: label,
            history: header.history.into(),
            unsent: Vec::new(),
            watcher: None,
            watching: false,
            prior,
            loaded: Some(kind),
        })
    }

    /// "full" or "weights-only" for a loaded run (how it resumed), null for a new one.
    pub fn loaded_kind(&self) -> Option<String> {
        self.loaded.map(|k| match k {
            RunKind::Full => "full".to_string(),
            RunKind::WeightsOnly => "weights-only".to_string(),
        })
    }

    /// A sentence for the page about how a loaded run resumed (e.g. that its replay is being
    /// refilled), null for a new one.
    pub fn load_note(&self) -> Option<String> {
        self.loaded.map(|k| k.note(self.trainer.config().learning_starts))
    }

    /// Whether the run is still refilling its replay after a weights-only load (no updates yet).
    pub fn refilling(&self) -> bool {
        self.trainer.refilling()
    }

    /// Environment steps done so far (what a save made now holds), exact up to 2^53.
    pub fn steps(&self) -> f64 {
        self.trainer.steps_done() as f64
    }

    /// The whole run as one file (`ALAMRUN2`: config, counters, metrics history, networks, Adam
    /// moments, replay, every RNG, the episode in progress), from which [`WebTrainer::load`]
    /// and `alam train --resume` go on exactly where it stopped. Async: the device state comes
    /// back in one packed async read (never a synchronous one: it runs on WebGPU). Saving
    /// changes nothing in the run.
    pub async fn save(&mut self) -> Result<Vec<u8>, String> {
        let history = self.history.iter().cloned().collect();
        checkpoint::save_run_async(&self.trainer, history, None).await.map_err(js_err)
    }

    /// A small, shareable file (`ALAMRUN1`): config, counters, metrics history and every
    /// network, no optimiser state or replay — what `alam eval --weights` reads too. The run is
    /// settled first (the statistics still on the device are read and judged), so the file
    /// holds checked weights.
    pub async fn save_weights_only(&mut self) -> Result<Vec<u8>, String> {
        let mut settled = Vec::new();
        self.trainer.settle(&mut settled).await.map_err(js_err)?;
        settled.iter().for_each(|r| self.remember(r));
        self.unsent.extend(settled);
        let history = self.history.iter().cloned().collect();
        checkpoint::save_async(self.trainer.agent(), self.trainer.steps_done(), history).await.map_err(js_err)
    }

    /// The records kept so far (a loaded run's come from its file), oldest first.
    pub fn history(&self) -> Result<JsValue, String> {
        to_js(&self.history)
    }

    /// Which device trains, and why (shown on the page).
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// The full config in use, as an object.
    pub fn config(&self) -> Result<JsValue, String> {
        to_js(self.trainer.config())
    }

    /// Trains for at most `max_steps` environment steps or `budget_ms` milliseconds, then
    /// yields back to its caller (the page's training worker, www/trainer-worker.js), which runs
    /// the page's calls that came meanwhile before the next slice.
    pub async fn run(&mut self, max_steps: u32, budget_ms: f64) -> Result<JsValue, String> {
        let t0 = Instant::now();
        self.watching = false;
        let mut records = std::mem::take(&mut self.unsent);
        for _ in 0..max_steps {
            if self.trainer.is_done() || t0.elapsed().as_secs_f64() * 1e3 >= budget_ms {
                break;
            }
            let new = self.trainer.step_async().await.map_err(js_err)?;
            new.iter().for_each(|r| self.remember(r));
            records.extend(new);
        }
        to_js(&RunReport {
            records,
            steps: self.trainer.steps_done(),
            episodes: self.prior.episodes + self.trainer.episodes_done(),
            violations: self.prior.violations + self.trainer.total_violations(),
            violations_at_least: !self.prior.complete,
            updates: self.trainer.agent().updates(),
            total_steps: self.trainer.config().total_steps,
            done: self.trainer.is_done(),
            diverged: self.trainer.diverged().map(str::to_string),
        })
    }

    /// Watches the run's policy act, without learning, for at most `max_steps` steps or
    /// `budget_ms` milliseconds: deterministic actions (tanh μ, as evaluation) in an environment
    /// of its own ([`Watcher`], seeded as `alam eval`), so nothing of the run changes — no
    /// replay, no update, no step of its environment or its random generators. Reports the
    /// watched scene, the watched episodes finished meanwhile and the one in progress.
    pub async fn watch(&mut self, max_steps: u32, budget_ms: f64) -> Result<JsValue, String> {
        let t0 = Instant::now();
        self.watching = true;
        if self.trainer.agent().unread_updates() == 0 {
            // A loaded run has no acting policy yet (the actor's copy on the CPU): this one
            // async read makes it, as the run's first step would, so acting never reads from
            // a GPU. With no update unread it judges nothing and records nothing.
            let mut settled = Vec::new();
            self.trainer.settle(&mut settled).await.map_err(js_err)?;
            self.unsent.extend(settled);
        }
        let env = self.trainer.config().env;
        let watcher = self.watcher.get_or_insert_with(|| Watcher::new(env, WATCH_SEED));
        let mut episodes = Vec::new();
        for _ in 0..max_steps {
            if t0.elapsed().as_secs_f64() * 1e3 >= budget_ms {
                break;
            }
            if let Some(e) = watcher.step(self.trainer.agent()).await.map_err(js_err)? {
                episodes.push(e);
            }
        }
        to_js(&WatchReport {
            episodes,
            current: watcher.current(),
            seed: WATCH_SEED,
            scene: watcher.scene(),
            watched_steps: watcher.steps(),
            watched_episodes: watcher.episodes(),
            watched_violations: watcher.violations(),
            steps: self.trainer.steps_done(),
            updates: self.trainer.agent().updates(),
        })
    }

    /// What the canvas draws now (tagged by env).
    pub fn scene(&self) -> Result<JsValue, String> {
        to_js(&self.trainer.env().scene())
    }

    /// λ(s) over an n × n grid of states (double integrator: (x, v) with the doomed set;
    /// point-goal: robot positions, in the layout of hazards and goal on screen), or null where
    /// there is no state-wise multiplier (SAC, the scalar baselines) or no 2-D picture. Drawn
    /// over the environment the page shows: the watched one after [`WebTrainer::watch`], else
    /// the training one.
    pub async fn heatmap(&self, n: usize) -> Result<JsValue, String> {
        if !self.trainer.config().algo.has_multiplier_net() {
            return Ok(JsValue::NULL);
        }
        let env: &dyn Env = match &self.watcher {
            Some(w) if self.watching => w.env(),
            _ => self.trainer.env(),
        };
        let Some(grid) = env.probe_grid(n, n) else { return Ok(JsValue::NULL) };
        let lambda = read_floats_async(self.trainer.agent().lambda_tensor(&grid.obs)).await.map_err(js_err)?;
        to_js(&Heatmap {
            x_label: grid.x_label,
            y_label: grid.y_label,
            x_range: grid.x_range,
            y_range: grid.y_range,
            nx: grid.nx,
            ny: grid.ny,
            lambda,
            lambda_max: self.trainer.config().lambda_max,
            doomed: grid.doomed,
            scene: env.scene(),
        })
    }
}

/// The checked config for partial settings; a refusal throws an `Error` whose `message` says
/// why and whose `field` names the setting (`env`, `algo` or a config field; absent when the
/// refusal names none) — the page refuses a bad value beside its input before anything changes.
#[wasm_bindgen(js_name = checkSettings)]
pub fn check_settings(settings: JsValue) -> Result<JsValue, JsValue> {
    let value: serde_json::Value = serde_wasm_bindgen::from_value(settings).map_err(|e| JsValue::from(js_err(e)))?;
    Ok(to_js(&TrainConfig::from_partial_json(&value).map_err(refusal)?)?)
}

/// Bytes of wasm linear memory (it only ever grows): the long-run test asserts it levels off.
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    (core::arch::wasm32::memory_size(0) * 65536) as f64
}
