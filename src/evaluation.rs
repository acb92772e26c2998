//! A run's periodic measurements of its policy, apart from training: deterministic evaluation
//! episodes on an environment of their own, and λ(s) and Q_c(s, tanh μ(s)) on a fixed grid of
//! states (docs/method.md §8: the probe, its heat map and the calibration against the
//! double integrator's doomed set). `alam eval` runs the same episodes ([`evaluate_policy`]).

use burn::tensor::Tensor;
use rand::SeedableRng;

use crate::agent::{read_floats_async, Agent};
use crate::config::TrainConfig;
use crate::env::{make_env, Env, ProbeGrid};
use crate::error::Result;
use crate::metrics::{quantize, summarize, Record};
use crate::stats::roc_auc;
use crate::Rng64;

/// Side of the λ probe grid: `PROBE_GRID × PROBE_GRID` states (docs/method.md §8: a fixed set
/// of states, evaluated at intervals).
pub const PROBE_GRID: usize = 21;

/// What a seed evaluates and probes, every `eval_every` and `probe_every` environment steps:
/// its evaluation environment (seeded apart from the training one, its state saved in a full
/// run file) and its probe grid, fixed at the start of the run.
pub struct Evaluator {
    env: Box<dyn Env>,
    probe: Option<ProbeGrid>,
}

impl Evaluator {
    /// The evaluator of a run of `cfg`: its env seeded `cfg.seed + 1_000_003`; the probe grid
    /// ([`PROBE_GRID`]², where the env has one) laid out in `train_env`'s first episode (the
    /// point-goal grid follows its hazards and goal).
    pub fn new(cfg: &TrainConfig, train_env: &dyn Env) -> Self {
        Evaluator {
            env: make_env(cfg.env, cfg.seed.wrapping_add(1_000_003)),
            probe: train_env.probe_grid(PROBE_GRID, PROBE_GRID),
        }
    }

    /// Whether `step` (environment steps done) evaluates or probes.
    pub fn due(cfg: &TrainConfig, step: u64) -> bool {
        Self::eval_due(cfg, step) || step.is_multiple_of(cfg.probe_every)
    }

    fn eval_due(cfg: &TrainConfig, step: u64) -> bool {
        cfg.eval_every > 0 && step.is_multiple_of(cfg.eval_every)
    }

    /// The evaluation ([`Record::Eval`], `cfg.eval_episodes` episodes) and the probe
    /// ([`Record::Probe`]) that `step` makes due, of `agent` (current: its networks written),
    /// appended to `out`.
    ///
    /// # Errors
    /// [`crate::AlamError::Device`] when a read of the device fails.
    pub async fn records(&mut self, agent: &Agent, cfg: &TrainConfig, step: u64, out: &mut Vec<Record>) -> Result<()> {
        if Self::eval_due(cfg, step) {
            let e = evaluate_policy(agent, self.env.as_mut(), cfg.eval_episodes).await?;
            out.push(e.record(step, cfg.eval_episodes));
        }
        if step.is_multiple_of(cfg.probe_every) {
            if let Some(grid) = &self.probe {
                out.push(probe_record(agent, grid, cfg.lambda_max, step).await?);
            }
        }
        Ok(())
    }

    /// The evaluation env's state (its RNG goes on from one evaluation to the next), for a
    /// full run file.
    pub fn save_state(&self) -> serde_json::Value {
        self.env.save_state()
    }

    /// Restores [`Self::save_state`]'s state.
    ///
    /// # Errors
    /// Why the state does not fit this env.
    pub fn load_state(&mut self, state: &serde_json::Value) -> std::result::Result<(), String> {
        self.env.load_state(state)
    }
}

/// Means over deterministic episodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean undiscounted return per episode.
    pub return_mean: f64,
    /// Mean summed cost per episode.
    pub cost_mean: f64,
    /// Mean number of violating steps (cost > 0) per episode.
    pub violations_mean: f64,
    /// Episodes ended by a non-finite action, observation or reward: each such step counted as
    /// a violation (cost 1), the episode ended there. A policy with any is a failed policy,
    /// never a safe one (`alam eval` exits 3).
    pub non_finite_episodes: u64,
}

impl Evaluation {
    /// The evaluation as a metrics record at environment step `step`, of `episodes` episodes.
    pub fn record(&self, step: u64, episodes: u64) -> Record {
        Record::Eval {
            step,
            return_mean: self.return_mean,
            cost_mean: self.cost_mean,
            violations_mean: self.violations_mean,
            episodes,
        }
    }
}

/// Runs `episodes` deterministic episodes (tanh of the mean action) of `agent` on `env`:
/// the trainer's periodic evaluation and `alam eval` alike. A non-finite action, observation
/// or reward is a violation and ends its episode ([`Evaluation::non_finite_episodes`]): a NaN
/// state compares as "no violation" in an env's own check and must never read as safe.
///
/// # Errors
/// [`crate::AlamError::Device`] when reading an action from the device fails.
pub async fn evaluate_policy(agent: &Agent, env: &mut dyn Env, episodes: u64) -> Result<Evaluation> {
    let (mut ret, mut cost, mut viol, mut non_finite) = (0.0, 0.0, 0u64, 0u64);
    let mut obs = vec![0.0; env.obs_dim()];
    // Deterministic actions draw nothing from it; `act` only needs one to hand.
    let mut rng = Rng64::seed_from_u64(0);
    for _ in 0..episodes {
        env.reset(&mut obs);
        loop {
            let a = agent.act(&obs, true, &mut rng).await?;
            if a.iter().any(|v| !v.is_finite()) {
                (cost, viol, non_finite) = (cost + 1.0, viol + 1, non_finite + 1);
                break;
            }
            let o = env.step(&a, &mut obs);
            if !o.reward.is_finite() || obs.iter().any(|v| !v.is_finite()) {
                (cost, viol, non_finite) = (cost + 1.0, viol + 1, non_finite + 1);
                break;
            }
            ret += o.reward as f64;
            cost += o.cost as f64;
            viol += (o.cost > 0.0) as u64;
            if o.terminated || o.truncated {
                break;
            }
        }
    }
    let n = episodes.max(1) as f64;
    Ok(Evaluation {
        return_mean: ret / n,
        cost_mean: cost / n,
        violations_mean: viol as f64 / n,
        non_finite_episodes: non_finite,
    })
}

/// The probe at environment step `step`: λ(s) and Q_c(s, tanh μ(s)) of `agent` on the
/// `grid.nx · grid.ny` states of `grid` (one device read of an [n, 2] tensor) — their means,
/// λ's spread, the share of states with λ near `lambda_max` ([`summarize`]), both grids
/// rounded to 1e-3 ([`quantize`], row-major as `grid.obs`) and, where the env knows its
/// doomed set, how well each ranks doomed states above safe ones (ROC AUC).
///
/// # Errors
/// [`crate::AlamError::Device`] when the read fails.
pub async fn probe_record(agent: &Agent, grid: &ProbeGrid, lambda_max: f64, step: u64) -> Result<Record> {
    // λ and Q_c side by side: one read.
    let both =
        read_floats_async(Tensor::cat(vec![agent.lambda_tensor(&grid.obs), agent.cost_value_tensor(&grid.obs)], 1))
            .await?;
    let lambda: Vec<f32> = both.iter().step_by(2).copied().collect();
    let qc: Vec<f32> = both.iter().skip(1).step_by(2).copied().collect();
    let (mean, std, max, flagged) = summarize(&lambda, lambda_max);
    let cost_value_mean = qc.iter().map(|&v| v as f64).sum::<f64>() / qc.len().max(1) as f64;
    let auc = |scores: &[f32]| {
        let doomed = grid.doomed.as_ref()?;
        roc_auc(&scores.iter().map(|&v| v as f64).collect::<Vec<_>>(), doomed)
    };
    Ok(Record::Probe {
        step,
        lambda_mean: mean,
        lambda_std: std,
        lambda_max: max,
        cost_value_mean,
        flagged_frac: flagged,
        calibration_auc: auc(&lambda),
        cost_value_auc: auc(&qc),
        lambda_grid: quantize(&lambda),
        cost_value_grid: quantize(&qc),
    })
}
