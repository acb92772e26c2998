//! A population: N seeds of one config trained side by side as one, as N runs of
//! [`Trainer`](crate::trainer::Trainer) would train them — each seed its own env, replay
//! buffer, episodes, evaluations, probes and records — with the seeds' acting (one policy
//! forward for all) and updates (one [`StackedAgents`](crate::agent::stacked::StackedAgents)
//! update for all, `agent::stacked`) batched into one network call each. `alam sweep` trains
//! the seeds of each group (env × algo × variant) this way.
//!
//! Each seed's [`Trainer`](crate::trainer::Trainer) keeps everything that is its own (env,
//! replay, exploration RNG, counters, the handler's scalar multiplier state); its agent is a
//! view that the population writes the seed's networks into before it evaluates, probes or
//! saves. Native only: it reads the device synchronously.

use burn::tensor::Device;

use crate::agent::stacked::{SeedUpdate, StackedAgents};
use crate::agent::{squash_action, UpdateStats};
use crate::config::TrainConfig;
use crate::error::Result;
use crate::metrics::Record;
use crate::replay::Batch;
use crate::trainer::Trainer;

pub struct PopulationTrainer {
    trainers: Vec<Trainer>,
    learner: StackedAgents,
    /// Each seed's statistics since the last sync: handed to its handler at the sync, when
    /// [`crate::agent::Agent::sync`] hands them over for a single run.
    unread: Vec<Vec<UpdateStats>>,
}

impl PopulationTrainer {
    /// One trainer per config; the configs must differ in their seed only.
    pub fn new(cfgs: &[TrainConfig], device: &Device) -> Result<Self> {
        let trainers = cfgs.iter().map(|c| Trainer::new(c.clone(), device)).collect::<Result<Vec<_>>>()?;
        let learner = StackedAgents::from_agents(&trainers.iter().map(|t| t.agent()).collect::<Vec<_>>())?;
        let unread = vec![Vec::new(); trainers.len()];
        Ok(PopulationTrainer { trainers, learner, unread })
    }

    /// Goes on from seeds' trainers restored from full run files written at a sync point
    /// ([`Self::at_sync_point`], [`Self::sync_agents`]): their agents are stacked again
    /// (networks, Adam moments, update-noise RNGs), so the population continues as if it had
    /// never stopped.
    ///
    /// # Errors
    /// When the trainers do not share their config (seed apart), their progress, or one diverged.
    pub fn from_trainers(trainers: Vec<Trainer>) -> Result<Self> {
        let steps = trainers.first().map(Trainer::steps_done);
        if trainers
            .iter()
            .any(|t| Some(t.steps_done()) != steps || t.diverged().is_some() || t.agent().unread_updates() > 0)
        {
            return Err(crate::AlamError::Resume(
                "a population's seeds must resume from the same step, at a sync point, none diverged".into(),
            ));
        }
        let learner = StackedAgents::from_agents(&trainers.iter().map(|t| t.agent()).collect::<Vec<_>>())?;
        let unread = vec![Vec::new(); trainers.len()];
        Ok(PopulationTrainer { trainers, learner, unread })
    }

    /// Whether every seed's statistics have been read (the acting policy is the current actor):
    /// a full run file written now ([`Self::sync_agents`] first) resumes exactly.
    pub fn at_sync_point(&self) -> bool {
        self.unread.iter().all(Vec::is_empty)
    }

    /// The seeds' trainers, in the order of the configs.
    pub fn trainers(&self) -> &[Trainer] {
        &self.trainers
    }

    pub fn is_done(&self) -> bool {
        self.trainers.iter().all(Trainer::is_done)
    }

    /// One environment step of every seed still training and the updates it makes due;
    /// returns each seed's records, as [`Trainer::step`] would.
    pub fn step(&mut self) -> Result<Vec<Vec<Record>>> {
        pollster::block_on(self.step_async())
    }

    async fn step_async(&mut self) -> Result<Vec<Vec<Record>>> {
        let n = self.trainers.len();
        let mut out: Vec<Vec<Record>> = vec![Vec::new(); n];
        let mut live: Vec<bool> = self.trainers.iter().map(|t| !t.is_done()).collect();

        // 1. Act: random during the warm-up, else every seed's policy in one forward, each
        //    seed's exploration noise from its own RNG (as `Agent::act`).
        let mut actions: Vec<Option<Vec<f32>>> =
            self.trainers.iter_mut().zip(&live).map(|(t, &l)| if l { t.random_action() } else { None }).collect();
        if (0..n).any(|i| live[i] && actions[i].is_none()) {
            if self.learner.policy_missing() {
                self.sync(&mut out);
            }
            let obs: Vec<f32> = self.trainers.iter().flat_map(|t| t.observation().iter().copied()).collect();
            let policy = self.learner.policy(&obs)?;
            let act_dim = self.trainers[0].env().act_dim();
            for (i, t) in self.trainers.iter_mut().enumerate() {
                if live[i] && actions[i].is_none() {
                    let row = &policy[i * 2 * act_dim..(i + 1) * 2 * act_dim];
                    actions[i] = Some(squash_action(row, act_dim, false, t.exploration_rng()));
                }
            }
        }
        for (i, t) in self.trainers.iter_mut().enumerate() {
            if let Some(a) = &actions[i] {
                t.env_step(a, &mut out[i]);
            }
        }

        // 2. Updates: the seeds share their config, so the same number falls due for each.
        let due: Vec<u32> =
            self.trainers.iter_mut().zip(&live).map(|(t, &l)| if l { t.updates_due() } else { 0 }).collect();
        for round in 0..due.iter().copied().max().unwrap_or(0) {
            let updating: Vec<bool> = (0..n).map(|i| live[i] && due[i] > round).collect();
            let batches: Vec<Batch> =
                (0..n).map(|i| if updating[i] { self.trainers[i].sample_batch() } else { self.idle_batch() }).collect();
            let states: Vec<_> = self.trainers.iter().map(|t| t.agent().handler().state()).collect();
            for (i, result) in self.learner.update(&batches, &states, &updating)?.into_iter().enumerate() {
                let t = &mut self.trainers[i];
                match result {
                    SeedUpdate::Idle => {}
                    SeedUpdate::Done(stats) => self.unread[i].push(stats),
                    SeedUpdate::Diverged { error, last_good, updates } => {
                        // Its good updates since the last sync still count, as they would in
                        // a single run whose guard checks every update.
                        let unread = std::mem::take(&mut self.unread[i]);
                        let first = updates + 1 - unread.len() as u64;
                        for (k, stats) in unread.iter().enumerate() {
                            t.agent_mut().handler_mut().observe_violation(stats.violation);
                            t.record_update(stats, first + k as u64, &mut out[i]);
                        }
                        t.agent_mut().set_nets(*last_good);
                        t.agent_mut().set_updates(updates);
                        t.stop_diverged(error.to_string(), &mut out[i]);
                        live[i] = false;
                    }
                }
            }
            if self.unread.iter().any(|u| u.len() as u64 >= self.sync_every()) {
                self.sync(&mut out);
            }
        }
        // As a single run: the last step and every evaluation or probe read what is left.
        let finishing = (0..n).any(|i| {
            live[i]
                && (self.trainers[i].steps_done() >= self.trainers[i].config().total_steps
                    || self.trainers[i].periodic_due())
        });
        if finishing && self.unread.iter().any(|u| !u.is_empty()) {
            self.sync(&mut out);
        }

        // 3. Evaluation and probe, per seed, on its own agent with its networks written back.
        for (i, t) in self.trainers.iter_mut().enumerate() {
            if live[i] && t.periodic_due() {
                self.learner.write_seed(i, t.agent_mut());
                out[i] = t.periodic_records(std::mem::take(&mut out[i])).await?;
            }
        }
        Ok(out)
    }

    fn sync_every(&self) -> u64 {
        self.trainers[0].config().sync_every
    }

    /// What [`crate::agent::Agent::sync`] does for one run, for every seed at once: the
    /// statistics since the last sync go to each seed's handler and records, and the acting
    /// policy becomes the current actor (natively the guard has checked every update already).
    fn sync(&mut self, out: &mut [Vec<Record>]) {
        let updates = self.learner.updates();
        for (i, t) in self.trainers.iter_mut().enumerate() {
            let unread = std::mem::take(&mut self.unread[i]);
            let first = updates + 1 - unread.len() as u64;
            for (k, stats) in unread.iter().enumerate() {
                t.agent_mut().handler_mut().observe_violation(stats.violation);
                t.record_update(stats, first + k as u64, &mut out[i]);
            }
            if t.diverged().is_none() {
                t.agent_mut().set_updates(updates);
            }
        }
        self.learner.sync_policy();
    }

    /// A stand-in batch for a seed that no longer trains: its slice is updated on it and
    /// never read again.
    fn idle_batch(&self) -> Batch {
        let t = &self.trainers[0];
        let (rows, obs, act) = (t.config().batch_size, t.env().obs_dim(), t.env().act_dim());
        Batch {
            obs: vec![0.0; rows * obs],
            act: vec![0.0; rows * act],
            reward: vec![0.0; rows],
            cost: vec![0.0; rows],
            next_obs: vec![0.0; rows * obs],
            done: vec![0.0; rows],
        }
    }

    /// Writes every seed's current networks into its trainer's agent (before saving); a
    /// diverged seed's agent already holds its last good networks.
    pub fn sync_agents(&mut self) {
        for (i, t) in self.trainers.iter_mut().enumerate() {
            if t.diverged().is_none() {
                self.learner.write_seed(i, t.agent_mut());
            }
        }
    }
}
