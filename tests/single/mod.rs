//! A single run in the tests: a population of one seed ([`PopulationTrainer`]), the loop every
//! run trains through, with the accessors of its one [`Trainer`].

#![allow(dead_code)]

use alam::config::{Algo, TrainConfig};
use alam::env::EnvKind;
use alam::metrics::Record;
use alam::population::PopulationTrainer;
use alam::trainer::Trainer;
use alam::Result;
use burn::tensor::Device;

pub struct Single(pub PopulationTrainer);

impl Single {
    pub fn new(cfg: TrainConfig, device: &Device) -> Result<Self> {
        PopulationTrainer::new(&[cfg], device).map(Single)
    }

    /// Goes on from a trainer (a loaded run).
    pub fn from(trainer: Trainer) -> Result<Self> {
        PopulationTrainer::from_trainers(vec![trainer]).map(Single)
    }

    /// One environment step and the updates it makes due: the seed's records.
    pub fn step(&mut self) -> Result<Vec<Record>> {
        Ok(self.0.step()?.remove(0))
    }

    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// The seed's trainer with its networks written into its agent (to read, evaluate or save).
    pub fn trainer(&mut self) -> &Trainer {
        self.0.sync_agents();
        &self.0.trainers()[0]
    }

    /// The seed's trainer as it is (counters, config), its agent not written.
    pub fn seed(&self) -> &Trainer {
        &self.0.trainers()[0]
    }

    /// Steps to the end; the records.
    pub fn run_to_end(&mut self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        while !self.is_done() {
            out.extend(self.step()?);
        }
        Ok(out)
    }

    pub fn into_trainer(self) -> Trainer {
        self.0.into_trainers().remove(0)
    }
}

/// The resume tests' tiny run of `env` × `algo`: 420 steps, 2×8 networks, updates from step 48,
/// a sync every 7 updates and a dual period of 2, so a run crosses every kind of boundary (an
/// episode, an evaluation, a probe, a sync, an anchor refresh) within a second.
/// `tests/fixtures` were written with it.
pub fn tiny_run(env: EnvKind, algo: Algo) -> TrainConfig {
    let mut cfg = TrainConfig::preset(env, algo);
    (cfg.hidden, cfg.batch_size, cfg.learning_starts, cfg.total_steps) = (8, 16, 48, 420);
    (cfg.log_every, cfg.eval_every, cfg.eval_episodes, cfg.probe_every, cfg.sync_every) = (5, 150, 1, 100, 7);
    (cfg.buffer_size, cfg.multiplier_every) = (300, 2);
    cfg
}

/// A record as JSON with its timing fields zeroed, to compare two runs' records.
pub fn comparable(r: &Record) -> String {
    let mut r = r.clone();
    if let Record::Update { updates_per_s, env_steps_per_s, .. } = &mut r {
        (*updates_per_s, *env_steps_per_s) = (0.0, 0.0);
    }
    serde_json::to_string(&r).unwrap()
}
