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
use crate::env::Env;
use crate::metrics::{Record, HISTORY_CAP};
use crate::population::{self, PopulationTrainer};
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
struct RunReport<'a> {
    records: Vec<SeedRecord<'a>>,
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
    /// Every seed is done.
    done: bool,
    /// Why a seed stopped early (prefixed "seed i: " in a population), if one did.
    diverged: Option<String>,
    /// Seeds in the population.
    seeds: usize,
    /// Each seed's counters, in seed order.
    per_seed: Vec<SeedCounters>,
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

/// A record and the seed (0-based index in the population) that made it.
#[derive(Serialize)]
struct SeedRecord<'a> {
    seed_index: usize,
    #[serde(flatten)]
    record: &'a Record,
}

/// One seed's counters in a [`RunReport`].
#[derive(Serialize)]
struct SeedCounters {
    episodes: u64,
    violations: u64,
    diverged: Option<String>,
}

/// One seed's page-side state: what its charts need beyond its trainer.
struct SeedPage {
    /// The newest records (probe grids dropped), saved with the run so a loaded run shows its curves.
    history: VecDeque<Record>,
    /// What a weights-only file's run had done before (none for a new run or a full file).
    prior: Prior,
}

impl SeedPage {
    fn remember(&mut self, record: &Record) {
        if self.history.len() == HISTORY_CAP {
            self.history.pop_front();
        }
        self.history.push_back(record.for_history());
    }
}

/// One training run in the page: a population of 1 to 16 seeds of one config (a single run is
/// a population of one), trained as one ([`PopulationTrainer`]).
#[wasm_bindgen]
pub struct WebTrainer {
    population: PopulationTrainer,
    backend: String,
    seeds: Vec<SeedPage>,
    /// Records made outside [`WebTrainer::run`] (the read that settles the run before a save),
    /// handed to the page with the next run's, with their seed.
    unsent: Vec<(usize, Record)>,
    /// The seed that [`WebTrainer::watch`], [`WebTrainer::scene`] and [`WebTrainer::heatmap`] show.
    shown: usize,
    /// The policy acting in an environment of its own, made by the first [`WebTrainer::watch`].
    watcher: Option<Watcher>,
    /// Whether the latest call was [`WebTrainer::watch`]: the page then shows the watched
    /// environment, and [`WebTrainer::heatmap`] is drawn over it.
    watching: bool,
    /// The seed and update count whose networks are in that seed's trainer's agent (the view
    /// that acts for the watcher and computes λ for the heat map).
    written: Option<(usize, u64)>,
    /// The kind of file this run was loaded from, if any.
    loaded: Option<RunKind>,
}

impl WebTrainer {
    fn new(population: PopulationTrainer, backend: String, seeds: Vec<SeedPage>, loaded: Option<RunKind>) -> Self {
        WebTrainer {
            population,
            backend,
            seeds,
            unsent: Vec::new(),
            shown: 0,
            watcher: None,
            watching: false,
            written: None,
            loaded,
        }
    }

    fn first(&self) -> &Trainer {
        &self.population.trainers()[0]
    }

    /// Reads what the population still holds on the device; its records go out with the next run's.
    async fn settle(&mut self) -> Result<(), String> {
        let settled = self.population.settle().await.map_err(js_err)?;
        for (i, records) in settled.into_iter().enumerate() {
            for r in records {
                self.seeds[i].remember(&r);
                self.unsent.push((i, r));
            }
        }
        Ok(())
    }

    /// Makes the shown seed's trainer hold its networks as they are now (written into its
    /// agent once per change of seed or of the networks), with the acting policy as of the
    /// last sync: watching reads nothing from the device and changes nothing in the run.
    async fn write_shown(&mut self) -> Result<(), String> {
        let now = (self.shown, self.population.updates());
        if self.written == Some(now) {
            return Ok(());
        }
        if self.population.policy_missing() {
            // A loaded run has no acting policy yet (the actor's copy on the CPU): this one
            // async read makes it, as the run's first step would, so acting never reads from
            // a GPU. A loaded run has no update unread to judge.
            self.settle().await?;
        }
        self.population.sync_agent(self.shown);
        self.written = Some(now);
        Ok(())
    }

    fn report(&self, records: Vec<(usize, Record)>) -> Result<JsValue, String> {
        let trainers = self.population.trainers();
        let per_seed: Vec<SeedCounters> = trainers
            .iter()
            .zip(&self.seeds)
            .map(|(t, p)| SeedCounters {
                episodes: p.prior.episodes + t.episodes_done(),
                violations: p.prior.violations + t.total_violations(),
                diverged: t.diverged().map(str::to_string),
            })
            .collect();
        let diverged = trainers.iter().enumerate().find_map(|(i, t)| {
            t.diverged().map(|d| if trainers.len() == 1 { d.to_string() } else { format!("seed {i}: {d}") })
        });
        to_js(&RunReport {
            records: records.iter().map(|(i, r)| SeedRecord { seed_index: *i, record: r }).collect(),
            steps: self.first().steps_done(),
            episodes: per_seed.iter().map(|c| c.episodes).sum(),
            violations: per_seed.iter().map(|c| c.violations).sum(),
            violations_at_least: self.seeds.iter().any(|p| !p.prior.complete),
            updates: self.first().agent().updates(),
            total_steps: self.first().config().total_steps,
            done: self.population.is_done(),
            diverged,
            seeds: trainers.len(),
            per_seed,
        })
    }
}

#[wasm_bindgen]
impl WebTrainer {
    /// `settings`: a partial config object (`{env, algo, seed, rho, hidden, ..., seeds}`;
    /// `seeds`: 1–16 seeds trained as one population, seed i with RNG seed `seed + i`);
    /// `backend`: "auto" (WebGPU if the browser has it, else the CPU), "webgpu" or "cpu".
    /// A refused setting throws an `Error` with a `field` property (see `checkSettings`).
    pub async fn create(settings: JsValue, backend: String) -> Result<WebTrainer, JsValue> {
        let value: serde_json::Value =
            serde_wasm_bindgen::from_value(settings).map_err(|e| JsValue::from(js_err(e)))?;
        let cfgs = population::configs_from_partial_json(&value).map_err(refusal)?;
        let (device, label) = pick_device(&backend).await?;
        let population = PopulationTrainer::new(&cfgs, &device).map_err(refusal)?;
        let seeds = cfgs.iter().map(|_| SeedPage { history: VecDeque::new(), prior: Prior::NONE }).collect();
        Ok(WebTrainer::new(population, label, seeds, None))
    }

    /// A trainer that goes on from a saved run: a full file (this page's [`WebTrainer::save`],
    /// `alam train`'s `checkpoint.alam`, a population's file) goes on exactly where it stopped;
    /// a weights-only file ([`WebTrainer::save_weights_only`], `weights.alam`, files of older
    /// versions) refills its replay with `learning_starts` steps of the loaded policy before
    /// any update ([`WebTrainer::loaded_kind`], [`WebTrainer::load_note`] say which). A corrupt,
    /// truncated, too large or foreign file is refused with the reason, before anything of the
    /// current run is touched.
    pub async fn load(bytes: Vec<u8>, backend: String) -> Result<WebTrainer, String> {
        let (device, label) = pick_device(&backend).await?;
        let files = checkpoint::unpack_population(&bytes).map_err(js_err)?.unwrap_or_else(|| vec![bytes.as_slice()]);
        let (mut trainers, mut seeds, mut kind) = (Vec::new(), Vec::new(), RunKind::Full);
        for (i, file) in files.iter().enumerate() {
            let (mut trainer, header, k) = checkpoint::load_run(file, &device, None).map_err(|e| {
                if files.len() > 1 {
                    format!("seed {i}: {e}")
                } else {
                    js_err(e)
                }
            })?;
            // A full file's finished run too (a weights-only one got it in `Trainer::resume`):
            // the demo's included.
            trainer.train_on_if_finished().map_err(js_err)?;
            let prior = if k == RunKind::WeightsOnly { Prior::of(&header.history) } else { Prior::NONE };
            seeds.push(SeedPage { history: header.history.into(), prior });
            trainers.push(trainer);
            kind = k;
        }
        let population = PopulationTrainer::from_trainers(trainers).map_err(js_err)?;
        Ok(WebTrainer::new(population, label, seeds, Some(kind)))
    }

    /// How many seeds train (1 for a single run).
    pub fn seeds(&self) -> usize {
        self.population.trainers().len()
    }

    /// Chooses the seed (0-based) that [`WebTrainer::watch`], [`WebTrainer::scene`] and
    /// [`WebTrainer::heatmap`] show, and whose weights-only file
    /// [`WebTrainer::save_weights_only`] writes. An index past the last seed is refused.
    #[wasm_bindgen(js_name = showSeed)]
    pub fn show_seed(&mut self, seed: usize) -> Result<(), String> {
        if seed >= self.seeds() {
            return Err(format!("seed {seed} is not in this run (seeds 0 to {})", self.seeds() - 1));
        }
        if seed != self.shown {
            self.shown = seed;
            self.watcher = None;
        }
        Ok(())
    }

    /// The seed shown ([`WebTrainer::show_seed`]).
    #[wasm_bindgen(js_name = shownSeed)]
    pub fn shown_seed(&self) -> usize {
        self.shown
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
        self.loaded.map(|k| k.note(self.first().config().learning_starts))
    }

    /// Whether the run is still refilling its replay after a weights-only load (no updates yet).
    pub fn refilling(&self) -> bool {
        self.first().refilling()
    }

    /// Environment steps done so far by each seed (what a save made now holds), exact up to 2^53.
    pub fn steps(&self) -> f64 {
        self.first().steps_done() as f64
    }

    /// The whole run as one file, from which [`WebTrainer::load`] (and, for a single run,
    /// `alam train --resume`) goes on exactly where it stopped: a single run's is `ALAMRUN2`
    /// (config, counters, metrics history, networks, Adam moments, replay, every RNG, the
    /// episode in progress), a population's holds one such file per seed (`ALAMPOP1`). The
    /// device state comes back in async reads (never a synchronous one: it runs on WebGPU),
    /// the statistics not read yet included. Saving changes nothing in the run.
    pub async fn save(&mut self) -> Result<Vec<u8>, String> {
        self.population.sync_agents();
        self.written = Some((self.shown, self.population.updates()));
        let mut files = Vec::with_capacity(self.seeds());
        for (t, p) in self.population.trainers().iter().zip(&self.seeds) {
            let history = p.history.iter().cloned().collect();
            files.push(checkpoint::save_run_async(t, history, None).await.map_err(js_err)?);
        }
        Ok(if files.len() == 1 { files.pop().unwrap_or_default() } else { checkpoint::pack_population(&files) })
    }

    /// A small, shareable file (`ALAMRUN1`) of the shown seed: config, counters, metrics
    /// history and every network, no optimiser state or replay — what `alam eval --weights`
    /// reads too. The run is settled first (the statistics still on the device are read and
    /// judged), so the file holds checked weights.
    pub async fn save_weights_only(&mut self) -> Result<Vec<u8>, String> {
        self.write_shown().await?;
        let shown = self.shown;
        let trainer = &self.population.trainers()[shown];
        let (agent, steps) = (trainer.agent(), trainer.steps_done());
        let history = self.seeds[shown].history.iter().cloned().collect();
        checkpoint::save_async(agent, steps, history).await.map_err(js_err)
    }

    /// The records kept so far (a loaded run's come from its file), each with its
    /// `seed_index`: seed by seed, each seed's oldest first.
    pub fn history(&self) -> Result<JsValue, String> {
        let all: Vec<SeedRecord> = self
            .seeds
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.history.iter().map(move |r| SeedRecord { seed_index: i, record: r }))
            .collect();
        to_js(&all)
    }

    /// Which device trains, and why (shown on the page).
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// The full config in use (seed 0's: the others differ in their seed only), as an object
    /// with `seeds` added.
    pub fn config(&self) -> Result<JsValue, String> {
        let mut value = serde_json::to_value(self.first().config()).map_err(js_err)?;
        if let Some(o) = value.as_object_mut() {
            o.insert("seeds".into(), self.seeds().into());
        }
        to_js(&value)
    }

    /// Trains for at most `max_steps` steps of the population (each steps every seed's
    /// environment once) or `budget_ms` milliseconds, then yields back to its caller (the
    /// page's training worker, www/trainer-worker.js), which runs the page's calls that came
    /// meanwhile before the next slice. Reports the records made (each with its `seed_index`),
    /// each seed's steps and updates (the same for all), the episodes and violating steps
    /// summed over the seeds and per seed (`per_seed`).
    pub async fn run(&mut self, max_steps: u32, budget_ms: f64) -> Result<JsValue, String> {
        let t0 = Instant::now();
        self.watching = false;
        let mut records = std::mem::take(&mut self.unsent);
        for _ in 0..max_steps {
            if self.population.is_done() || t0.elapsed().as_secs_f64() * 1e3 >= budget_ms {
                break;
            }
            let new = self.population.step_async().await.map_err(js_err)?;
            for (i, seed_records) in new.into_iter().enumerate() {
                for r in seed_records {
                    self.seeds[i].remember(&r);
                    records.push((i, r));
                }
            }
        }
        self.report(records)
    }

    /// Watches the shown seed's policy act, without learning, for at most `max_steps` steps or
    /// `budget_ms` milliseconds: deterministic actions (tanh μ, as evaluation) in an environment
    /// of its own ([`Watcher`], seeded as `alam eval`), so nothing of the run changes — no
    /// replay, no update, no step of its environment or its random generators. Reports the
    /// watched scene, the watched episodes finished meanwhile and the one in progress.
    pub async fn watch(&mut self, max_steps: u32, budget_ms: f64) -> Result<JsValue, String> {
        let t0 = Instant::now();
        self.watching = true;
        self.write_shown().await?;
        let trainer = &self.population.trainers()[self.shown];
        let env = trainer.config().env;
        let watcher = self.watcher.get_or_insert_with(|| Watcher::new(env, WATCH_SEED));
        let mut episodes = Vec::new();
        for _ in 0..max_steps {
            if t0.elapsed().as_secs_f64() * 1e3 >= budget_ms {
                break;
            }
            if let Some(e) = watcher.step(trainer.agent()).await.map_err(js_err)? {
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
            steps: trainer.steps_done(),
            updates: trainer.agent().updates(),
        })
    }

    /// What the canvas draws now (tagged by env): the shown seed's training environment.
    pub fn scene(&self) -> Result<JsValue, String> {
        to_js(&self.population.trainers()[self.shown].env().scene())
    }

    /// λ(s) of the shown seed over an n × n grid of states (double integrator: (x, v) with the
    /// doomed set; point-goal: robot positions, in the layout of hazards and goal on screen),
    /// or null where there is no state-wise multiplier (SAC, the scalar baselines) or no 2-D
    /// picture. Drawn over the environment the page shows: the watched one after
    /// [`WebTrainer::watch`], else the shown seed's training one.
    pub async fn heatmap(&mut self, n: usize) -> Result<JsValue, String> {
        if !self.first().config().algo.has_multiplier_net() {
            return Ok(JsValue::NULL);
        }
        self.write_shown().await?;
        let trainer = &self.population.trainers()[self.shown];
        let env: &dyn Env = match &self.watcher {
            Some(w) if self.watching => w.env(),
            _ => trainer.env(),
        };
        let Some(grid) = env.probe_grid(n, n) else { return Ok(JsValue::NULL) };
        let lambda = read_floats_async(trainer.agent().lambda_tensor(&grid.obs)).await.map_err(js_err)?;
        to_js(&Heatmap {
            x_label: grid.x_label,
            y_label: grid.y_label,
            x_range: grid.x_range,
            y_range: grid.y_range,
            nx: grid.nx,
            ny: grid.ny,
            lambda,
            lambda_max: trainer.config().lambda_max,
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
    let cfgs = population::configs_from_partial_json(&value).map_err(refusal)?;
    let mut checked = serde_json::to_value(&cfgs[0]).map_err(|e| JsValue::from(js_err(e)))?;
    if let Some(o) = checked.as_object_mut() {
        o.insert("seeds".into(), cfgs.len().into());
    }
    Ok(to_js(&checked)?)
}

/// Bytes of wasm linear memory (it only ever grows): the long-run test asserts it levels off.
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    (core::arch::wasm32::memory_size(0) * 65536) as f64
}
