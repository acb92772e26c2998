//! Every hyper-parameter in one place, with the defaults the runs use (CleanRL's `Args`).
//!
//! The paper (arXiv 2605.00667) is known to us through its abstract only: where it does not
//! fix a value, the default below is ours and says so. Validation happens before any training
//! so a bad value fails fast with the field's name and its allowed range.

use serde::{Deserialize, Serialize};

use crate::env::EnvKind;
use crate::error::{AlamError, Result};

/// Which constraint handler sits on top of SAC (docs/method.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algo {
    /// Plain SAC: no constraint, shows the unconstrained return and its violations.
    Sac,
    /// SAC-Lag: one scalar λ, dual ascent on mean episode cost − budget.
    Lag,
    /// SAC-PID-Lag: one scalar λ from a PID controller on the same error (Stooke et al. 2020).
    PidLag,
    /// FAC: a multiplier network λ(s) trained by dual gradient ascent (Ma et al. 2021).
    Fac,
    /// SAC-ALaM: augmented Lagrangian policy loss + λ(s) regressed to the dual target.
    Alam,
}

impl Algo {
    pub const ALL: [Algo; 5] = [Algo::Sac, Algo::Lag, Algo::PidLag, Algo::Fac, Algo::Alam];

    pub fn name(self) -> &'static str {
        match self {
            Algo::Sac => "sac",
            Algo::Lag => "lag",
            Algo::PidLag => "pid-lag",
            Algo::Fac => "fac",
            Algo::Alam => "alam",
        }
    }

    /// Whether λ is a network of the state (and so has a heat map and a calibration score).
    pub fn has_multiplier_net(self) -> bool {
        matches!(self, Algo::Fac | Algo::Alam)
    }
}

/// What the cost critic Q_c estimates (docs/method.md §1, §4). Both read a step's cost c ∈ {0, 1}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostCritic {
    /// The discounted count of violations ahead: y_c = c + γ_c(1 − done)·Q'_c, in
    /// [0, 1/(1 − γ_c)]. The paper family's form and the default.
    #[default]
    Discounted,
    /// The discounted probability of a first violation ahead: y_c = c + (1 − c)·γ_c(1 − done)·Q'_c,
    /// clipped to [0, 1] (the authors' group's later convention); its threshold d is a
    /// probability, about 0.1 there.
    Probability,
}

impl CostCritic {
    /// The largest value Q_c can take, so the largest threshold that can bind.
    pub fn max_value(self, cost_gamma: f64) -> f64 {
        match self {
            CostCritic::Discounted => 1.0 / (1.0 - cost_gamma),
            CostCritic::Probability => 1.0,
        }
    }
}

impl std::fmt::Display for Algo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Algo {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.to_ascii_lowercase();
        let s = s.strip_prefix("sac-").filter(|r| !r.is_empty()).unwrap_or(&s);
        Algo::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown algorithm `{s}` (allowed: sac, lag, pid-lag, fac, alam)"))
    }
}

/// One training run. `deny_unknown_fields` turns a typo in a config file into an error
/// instead of a silently ignored setting; every field is required in a file (see
/// [`TrainConfig::from_json`]) so a file always says exactly what ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// The environment (`point-goal`, `double-integrator`, `car-following`).
    pub env: EnvKind,
    /// The constraint handler on top of SAC (`sac`, `lag`, `pid-lag`, `fac`, `alam`).
    pub algo: Algo,
    /// Seeds the networks' initial weights, the environment and every random draw of the run.
    pub seed: u64,
    /// Environment steps in total.
    pub total_steps: u64,

    // --- SAC (docs/method.md §4) ---
    /// Width of both hidden layers of every network (2×256 in the paper's family; the
    /// browser presets use 64).
    pub hidden: usize,
    /// Transitions sampled from the replay for each gradient update.
    pub batch_size: usize,
    /// Replay capacity in transitions; the oldest are overwritten.
    pub buffer_size: usize,
    /// Random-action steps before the first update.
    pub learning_starts: u64,
    /// Gradient updates per environment step (update-to-data ratio); fractions accumulate.
    pub utd_ratio: f64,
    /// Discount of the return (reward critics).
    pub gamma: f64,
    /// Discount of the cost value Q_c; Q_c ≤ 1/(1 − cost_gamma) bounds the constraint's scale.
    pub cost_gamma: f64,
    /// Polyak rate of the target critics.
    pub tau: f64,
    /// Adam learning rate of the policy (actor).
    pub actor_lr: f64,
    /// Adam learning rate of the reward and cost critics.
    pub critic_lr: f64,
    /// Adam learning rate of the entropy temperature α.
    pub alpha_lr: f64,
    /// Initial entropy temperature α (learned; target entropy −|A|).
    pub init_alpha: f64,
    /// Two cost critics and the max of them (pessimistic), mirroring the reward twins' min.
    /// docs/method.md leaves it optional; off by default: on the double integrator it made ALaM
    /// over-cautious (return 63 → −2 between 8k and 16k steps, against 89 → 95 with one).
    pub twin_cost_critic: bool,
    /// What Q_c estimates: `discounted` (the discounted count of violations ahead, the default)
    /// or `probability` (the discounted probability of a first violation, in [0, 1]). Files from
    /// before this field read as `discounted`.
    #[serde(default)]
    pub cost_critic: CostCritic,

    // --- the constraint (docs/method.md §1) ---
    /// Threshold d of the state-wise constraint Q_c(s, a) − d ≤ 0 (0 = no violation ahead); a
    /// count of discounted violations, or a probability with `cost_critic = probability`.
    pub cost_threshold: f64,
    /// Episode-cost budget of the expected-cost baselines (Lag, PID-Lag).
    pub cost_budget: f64,
    /// Cap on every multiplier (docs/method.md §3e): keeps the penalty finite in infeasible states.
    pub lambda_max: f64,
    /// Divide each sample's actor loss by (1 + λ(s)), as common SAC-Lag code does, so the
    /// policy gradient keeps its scale when λ is large. Not in docs/method.md: ours, for all
    /// penalised algorithms alike; false gives the plain loss of §3a.
    pub normalize_penalty: bool,

    // --- ALaM / FAC multiplier network (docs/method.md §3) ---
    /// Penalty coefficient ρ of the augmented Lagrangian (ALaM only). 0 is an ablation: FAC's
    /// policy loss λ·h with ALaM's regression to a unit-step dual target max(0, λ + h).
    pub rho: f64,
    /// ρ ← min(rho_max, rho_growth·ρ) at each multiplier update where the mean violation did
    /// not shrink; 1.0 keeps ρ fixed (the default, §3d).
    pub rho_growth: f64,
    /// Upper bound of ρ when it grows (`rho_growth` > 1).
    pub rho_max: f64,
    /// Learning rate of the multiplier network (regression for ALaM, ascent for FAC).
    pub multiplier_lr: f64,
    /// m. FAC (and ALaM with `alam_anchor` false): policy updates between multiplier updates.
    /// ALaM: the dual period, policy updates between refreshes of the anchor λ_old
    /// (docs/method.md §3c).
    pub multiplier_every: u64,
    /// k. FAC: gradient steps per multiplier update. ALaM: regression steps per policy update.
    pub multiplier_steps: u64,
    /// ALaM's dual target from a frozen anchor λ_old, refreshed every m policy updates and
    /// regressed onto on every update in between: one dual period moves λ by ρh, the method of
    /// multipliers (docs/method.md §3b–c). false: the re-anchored ablation — the target from the
    /// network being trained, k steps every m-th update, whose step is dual ascent's up to a
    /// factor Adam removes (§3c). Files from before this field read as false: their runs were
    /// trained with that step, and go on with it.
    #[serde(default)]
    pub alam_anchor: bool,

    // --- scalar baselines ---
    /// Dual ascent step of SAC-Lag per finished episode.
    pub lag_lr: f64,
    /// Proportional gain of PID-Lag's λ controller on episode cost − budget.
    pub pid_kp: f64,
    /// Integral gain of PID-Lag's λ controller.
    pub pid_ki: f64,
    /// Derivative gain of PID-Lag's λ controller.
    pub pid_kd: f64,

    // --- bookkeeping ---
    /// Environment steps between deterministic evaluations (0 = never).
    pub eval_every: u64,
    /// Deterministic episodes per evaluation.
    pub eval_episodes: u64,
    /// Updates averaged into one `update` metrics record.
    pub log_every: u64,
    /// Environment steps between evaluations of λ on the fixed probe grid (docs/method.md §8).
    pub probe_every: u64,
    /// K: updates between host reads (`docs/method.md` §9). Every K updates the trainer reads
    /// their statistics, a finiteness check of every network and the actor's weights back in
    /// one packed read; the divergence guard judges them there and the acting policy (a CPU
    /// copy of the actor) is refreshed. So on a GPU there is one round trip per K updates and
    /// none per environment step, at the price of a policy that lags the online actor by fewer
    /// than K updates and a rollback of up to K updates on divergence. Files from before this
    /// field read as the default.
    #[serde(default = "default_sync_every")]
    pub sync_every: u64,
    /// Environment steps between the full checkpoints `alam train` writes (`checkpoint.alam`:
    /// networks, optimisers, replay, RNGs, counters; atomically), from which `alam train
    /// --resume` continues a killed run exactly; also written at the end. A point-goal
    /// checkpoint with a full replay is tens of MB (BENCHMARKS.md), so not every step. Set it
    /// above `total_steps` for a checkpoint at the end only. Files from before this field read
    /// as the default.
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: u64,
}

fn default_sync_every() -> u64 {
    16
}

fn default_checkpoint_every() -> u64 {
    25_000
}

/// A refusal of `field`'s `value`, saying what is `allowed`.
fn bad(field: &'static str, value: impl ToString, allowed: &'static str) -> AlamError {
    AlamError::Config { field, value: value.to_string(), allowed }
}

/// The longest run a config may ask for (about 11 days at 1000 steps/s).
pub const MAX_STEPS: u64 = 1_000_000_000;

/// The largest seed: 2^53 − 1, JavaScript's `Number.MAX_SAFE_INTEGER`. Run files move between
/// the CLI and the page, whose numbers are exact up to there, so the CLI, config files, sweeps,
/// the page and a loaded run file all take seeds in 0..=MAX_SEED.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// The largest penalty coefficient ρ (and `rho_max`) a config may ask for.
pub const MAX_RHO: f64 = 1e6;

/// What a seed may be, as every refusal says it.
pub const SEED_RANGE: &str =
    "must be a whole number in 0..=9007199254740991 (2^53 − 1: the page's numbers are exact up to there, and run files move between the CLI and the page)";

/// The learning rates SAC-style runs use (CleanRL, Stable-Baselines3, OmniSafe: 1e-4 to 1e-3):
/// one outside this is valid but the likeliest cause of a divergence.
pub const USUAL_LR: (f64, f64) = (1e-5, 1e-2);

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam)
    }
}

impl TrainConfig {
    /// Defaults for an env × algo. Only the run length and warm-up depend on the env.
    pub fn preset(env: EnvKind, algo: Algo) -> Self {
        // Point-goal's threshold d = 1 tolerates about one discounted violating step ahead:
        // with d = 0 any cost-critic error keeps h > 0, λ(s) climbs everywhere and ALaM stops
        // reaching goals (measured: REPRODUCTION.md). It only moves FAC's and ALaM's multipliers.
        let cost_threshold = if env == EnvKind::PointGoal { 1.0 } else { 0.0 };
        let (total_steps, learning_starts) = match env {
            EnvKind::DoubleIntegrator => (20_000, 1_000),
            EnvKind::PointGoal => (50_000, 2_000),
            EnvKind::CarFollowing => (40_000, 2_000),
        };
        // The multiplier network's schedule (docs/method.md §3c): ALaM's dual period of m
        // policy updates, with one regression step per update, fits the dual target within
        // one period (measured: `one_dual_period_reaches_the_dual_target`); FAC as its authors'
        // group runs it, λ every 10 policy updates (relax's `multiplier_delay`, GOPS).
        let (multiplier_lr, multiplier_every, multiplier_steps) = match algo {
            Algo::Alam => (3e-3, 100, 1),
            _ => (3e-4, 10, 1),
        };
        TrainConfig {
            env,
            algo,
            seed: 0,
            total_steps,
            hidden: 256,
            batch_size: 256,
            buffer_size: 200_000,
            learning_starts,
            utd_ratio: 1.0,
            gamma: 0.99,
            cost_gamma: 0.97,
            tau: 0.005,
            actor_lr: 3e-4,
            critic_lr: 3e-4,
            alpha_lr: 3e-4,
            init_alpha: 0.2,
            twin_cost_critic: false,
            cost_critic: CostCritic::Discounted,
            cost_threshold,
            cost_budget: 0.0,
            lambda_max: 100.0,
            normalize_penalty: false,
            rho: 1.0,
            rho_growth: 1.0,
            rho_max: 100.0,
            multiplier_lr,
            multiplier_every,
            multiplier_steps,
            alam_anchor: true,
            lag_lr: 0.05,
            pid_kp: 0.05,
            pid_ki: 0.01,
            pid_kd: 0.05,
            eval_every: 5_000,
            eval_episodes: 5,
            log_every: 250,
            probe_every: 1_000,
            sync_every: default_sync_every(),
            checkpoint_every: default_checkpoint_every(),
        }
    }

    /// Parses a config file. Every field must be present: a missing one is named.
    pub fn from_json(text: &str) -> Result<Self> {
        let cfg: TrainConfig = serde_json::from_str(text).map_err(|e| AlamError::ConfigParse(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// A config from a partial JSON object (the page's settings, a URL): the preset of its
    /// `env` and `algo` (defaults: double-integrator, alam) overlaid with the fields it gives.
    /// An unknown field or a bad value is refused with the field's name.
    pub fn from_partial_json(value: &serde_json::Value) -> Result<Self> {
        let obj = value.as_object().ok_or_else(|| AlamError::ConfigParse("settings must be a JSON object".into()))?;
        let refuse = |field: &str, message: String| AlamError::Setting { field: field.to_string(), message };
        let pick = |key: &str, default: &str| -> String {
            obj.get(key).and_then(|v| v.as_str()).unwrap_or(default).to_string()
        };
        let env: EnvKind = pick("env", "double-integrator").parse().map_err(|e| refuse("env", e))?;
        let algo: Algo = pick("algo", "alam").parse().map_err(|e| refuse("algo", e))?;
        let mut full =
            serde_json::to_value(TrainConfig::preset(env, algo)).map_err(|e| AlamError::ConfigParse(e.to_string()))?;
        let fields = full.as_object_mut().ok_or_else(|| AlamError::ConfigParse("config is not an object".into()))?;
        for (key, v) in obj {
            if !fields.contains_key(key) {
                return Err(refuse(key, "unknown config field".into()));
            }
            if key != "env" && key != "algo" {
                fields.insert(key.clone(), v.clone());
            }
            serde_json::from_value::<TrainConfig>(serde_json::Value::Object(fields.clone()))
                .map_err(|e| refuse(key, e.to_string()))?;
        }
        let cfg: TrainConfig = serde_json::from_value(full).map_err(|e| AlamError::ConfigParse(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn to_json(&self) -> String {
        // A struct of plain numbers and enums always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The threshold d against the largest value Q_c can take (a larger d can never bind).
    fn check_threshold(&self) -> Result<()> {
        // A step's cost is 0 or 1, so Q_c ≤ 1/(1 − cost_gamma) (a probability: ≤ 1): a larger d
        // can never bind.
        let q_c_max = self.cost_critic.max_value(self.cost_gamma);
        if !(self.cost_threshold.is_finite() && self.cost_threshold >= 0.0 && self.cost_threshold <= q_c_max) {
            Err(match self.cost_critic {
                CostCritic::Discounted => bad(
                    "cost_threshold",
                    format!(
                        "{} with cost_gamma = {} (1/(1 − cost_gamma) = {q_c_max:.4})",
                        num(self.cost_threshold),
                        self.cost_gamma
                    ),
                    "must be in [0, 1/(1 − cost_gamma)]: Q_c never exceeds 1/(1 − cost_gamma), so a larger threshold never binds",
                ),
                CostCritic::Probability => bad(
                    "cost_threshold",
                    format!("{} with cost_critic = probability", num(self.cost_threshold)),
                    "must be in [0, 1]: with cost_critic = probability Q_c is a probability",
                ),
            })
        } else {
            Ok(())
        }
    }

    /// Checks every field against its allowed range before anything runs.
    pub fn validate(&self) -> Result<()> {
        fn pos_int(field: &'static str, v: u64) -> Result<()> {
            if v == 0 {
                Err(bad(field, v, "must be at least 1"))
            } else {
                Ok(())
            }
        }
        fn finite_in(field: &'static str, v: f64, lo: f64, hi: f64, allowed: &'static str) -> Result<()> {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(bad(field, num(v), allowed))
            }
        }
        fn positive(field: &'static str, v: f64) -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(bad(field, num(v), "must be a finite number > 0"))
            }
        }
        /// A learning rate: Adam moves every weight by about `lr` per update, so a rate above 1
        /// blows any network up within a few updates.
        fn rate(field: &'static str, v: f64) -> Result<()> {
            if v.is_finite() && v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(bad(field, num(v), "must be in (0, 1]; usual: 1e-5 to 1e-2"))
            }
        }
        if self.seed > MAX_SEED {
            return Err(bad("seed", self.seed, SEED_RANGE));
        }
        if !(1..=MAX_STEPS).contains(&self.total_steps) {
            return Err(bad("total_steps", self.total_steps, "must be in 1..=1,000,000,000"));
        }
        if !(1..=4096).contains(&self.hidden) {
            return Err(bad("hidden", self.hidden, "must be in 1..=4096"));
        }
        if !(1..=65_536).contains(&self.batch_size) {
            return Err(bad("batch_size", self.batch_size, "must be in 1..=65536"));
        }
        if self.buffer_size < self.batch_size || self.buffer_size > 50_000_000 {
            return Err(bad("buffer_size", self.buffer_size, "must be ≥ batch_size and ≤ 50,000,000"));
        }
        if self.learning_starts < self.batch_size as u64 {
            return Err(bad("learning_starts", self.learning_starts, "must be ≥ batch_size"));
        }
        finite_in("utd_ratio", self.utd_ratio, 1e-3, 64.0, "must be in [0.001, 64]")?;
        finite_in("gamma", self.gamma, 0.0, 0.9999, "must be in [0, 0.9999]")?;
        finite_in("cost_gamma", self.cost_gamma, 0.0, 0.9999, "must be in [0, 0.9999]")?;
        finite_in("tau", self.tau, 1e-6, 1.0, "must be in [1e-6, 1]")?;
        rate("actor_lr", self.actor_lr)?;
        rate("critic_lr", self.critic_lr)?;
        rate("alpha_lr", self.alpha_lr)?;
        // α weighs the entropy against rewards of order 1 per step: 1000 already drowns them.
        if !(self.init_alpha.is_finite() && self.init_alpha > 0.0 && self.init_alpha <= 1e3) {
            return Err(bad("init_alpha", num(self.init_alpha), "must be in (0, 1000]; usual: 0.01 to 1"));
        }
        self.check_threshold()?;
        finite_in("cost_budget", self.cost_budget, 0.0, f64::MAX, "must be a finite number ≥ 0")?;
        positive("lambda_max", self.lambda_max)?;
        // ψ_ρ weighs the squared violation by ρ in 32-bit floats: ρ = 1e20 overflowed in a few
        // hundred updates (measured), 1e12 trained.
        finite_in("rho", self.rho, 0.0, MAX_RHO, "must be in [0, 1e6]")?;
        finite_in("rho_growth", self.rho_growth, 1.0, 100.0, "must be in [1, 100] (1 = fixed ρ)")?;
        if !(self.rho_max.is_finite() && self.rho_max >= self.rho && self.rho_max <= MAX_RHO) {
            return Err(bad("rho_max", num(self.rho_max), "must be ≥ rho and ≤ 1e6"));
        }
        rate("multiplier_lr", self.multiplier_lr)?;
        pos_int("multiplier_every", self.multiplier_every)?;
        if !(1..=1000).contains(&self.multiplier_steps) {
            return Err(bad("multiplier_steps", self.multiplier_steps, "must be in 1..=1000"));
        }
        finite_in("lag_lr", self.lag_lr, 0.0, f64::MAX, "must be a finite number ≥ 0")?;
        finite_in("pid_kp", self.pid_kp, 0.0, f64::MAX, "must be a finite number ≥ 0")?;
        finite_in("pid_ki", self.pid_ki, 0.0, f64::MAX, "must be a finite number ≥ 0")?;
        finite_in("pid_kd", self.pid_kd, 0.0, f64::MAX, "must be a finite number ≥ 0")?;
        if !(1..=10_000).contains(&self.eval_episodes) {
            return Err(bad("eval_episodes", self.eval_episodes, "must be in 1..=10000"));
        }
        pos_int("log_every", self.log_every)?;
        pos_int("probe_every", self.probe_every)?;
        if !(1..=1024).contains(&self.sync_every) {
            return Err(bad("sync_every", self.sync_every, "must be in 1..=1024"));
        }
        if !(1..=MAX_STEPS).contains(&self.checkpoint_every) {
            return Err(bad("checkpoint_every", self.checkpoint_every, "must be in 1..=1,000,000,000"));
        }
        // Relations between fields: a run that could never update trains nothing and would
        // save its initial weights as if trained.
        if self.learning_starts >= self.total_steps {
            return Err(bad(
                "learning_starts",
                format!("{} with total_steps = {}", self.learning_starts, self.total_steps),
                "must be < total_steps: the warm-up would take the whole run and no update would ever run",
            ));
        }
        if self.planned_updates() == 0 {
            return Err(bad(
                "utd_ratio",
                format!("{} with {} steps after the warm-up", self.utd_ratio, self.total_steps - self.learning_starts),
                "makes no update in the whole run: raise utd_ratio or total_steps",
            ));
        }
        Ok(())
    }

    /// The settings a divergence most likely comes from: each learning rate outside
    /// [`USUAL_LR`], as `field = value (usual: …)`. They are valid (a run may want them), so a
    /// run with them is trained; its divergence names them. (Of the other fields, measured at
    /// their largest valid values, none made a run diverge: `init_alpha` 1000, ρ 1e6,
    /// `lambda_max`, `lag_lr` and the PID gains 1e300.)
    pub fn unusual_settings(&self) -> Vec<String> {
        let (lo, hi) = USUAL_LR;
        let rates = [
            ("actor_lr", self.actor_lr),
            ("critic_lr", self.critic_lr),
            ("alpha_lr", self.alpha_lr),
            ("multiplier_lr", self.multiplier_lr),
        ];
        rates
            .iter()
            .filter(|(_, v)| !(lo..=hi).contains(v))
            .map(|(field, v)| format!("{field} = {} (usual: {lo:e} to {hi:e})", num(*v)))
            .collect()
    }

    /// Gradient updates the run will make (the update-to-data ratio after the warm-up).
    pub fn planned_updates(&self) -> u64 {
        (self.total_steps.saturating_sub(self.learning_starts) as f64 * self.utd_ratio).floor() as u64
    }

    /// Settings that are valid but make part of the run do nothing: each a sentence to warn
    /// with before training (a valid config; [`Self::validate`] refuses the ones that make all
    /// of it a no-op).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let updates = self.planned_updates();
        if self.eval_every > self.total_steps {
            w.push(format!(
                "eval_every = {} > total_steps = {}: no evaluation will run (final return and violations stay empty)",
                self.eval_every, self.total_steps
            ));
        }
        if self.probe_every > self.total_steps {
            w.push(format!(
                "probe_every = {} > total_steps = {}: λ is never probed (no calibration or λ scores)",
                self.probe_every, self.total_steps
            ));
        }
        if self.log_every > updates {
            w.push(format!(
                "log_every = {} > the {updates} updates of the run: no update record will be written",
                self.log_every
            ));
        }
        if self.algo.has_multiplier_net() && self.multiplier_every > updates {
            w.push(format!(
                "multiplier_every = {} > the {updates} updates of the run: the multiplier network is never trained",
                self.multiplier_every
            ));
        }
        if self.buffer_size < self.learning_starts as usize {
            w.push(format!(
                "buffer_size = {} < learning_starts = {}: part of the warm-up is overwritten before the first update",
                self.buffer_size, self.learning_starts
            ));
        }
        w
    }
}

/// A number as a message shows it: `1e300` and `1e-6`, not 301 digits or `0.000001`.
fn num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change that breaks a config, paired in the tables below with the field it names.
    type Break = fn(&mut TrainConfig);

    #[test]
    fn every_preset_is_valid_and_round_trips() {
        for env in EnvKind::ALL {
            for algo in Algo::ALL {
                let cfg = TrainConfig::preset(env, algo);
                cfg.validate().unwrap();
                assert_eq!(TrainConfig::from_json(&cfg.to_json()).unwrap(), cfg);
            }
        }
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases: [(&str, Break); 5] = [
            ("rho", |c| c.rho = -1.0),
            ("batch_size", |c| c.batch_size = 0),
            ("actor_lr", |c| c.actor_lr = f64::NAN),
            ("gamma", |c| c.gamma = 1.5),
            ("multiplier_every", |c| c.multiplier_every = 0),
        ];
        for (field, mutate) in cases {
            let mut cfg = TrainConfig::default();
            mutate(&mut cfg);
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(&format!("`{field}`")), "{err}");
        }
    }

    #[test]
    fn no_op_relations_are_refused_and_partial_ones_warned() {
        let mut cfg = TrainConfig::preset(EnvKind::PointGoal, Algo::Alam);
        cfg.total_steps = 1500; // the preset warms up for 2000
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("`learning_starts`") && err.contains("total_steps = 1500"), "{err}");
        cfg.total_steps = 2100;
        cfg.utd_ratio = 0.001; // 100 steps after the warm-up × 0.001: no update
        assert!(cfg.validate().unwrap_err().to_string().contains("`utd_ratio`"));
        cfg.utd_ratio = 1.0;
        cfg.validate().unwrap();
        let w = cfg.warnings().join("\n");
        assert!(w.contains("eval_every") && w.contains("log_every = 250 > the 100 updates"), "{w}");
        assert!(TrainConfig::default().warnings().is_empty());
    }

    #[test]
    fn bounds_are_said_as_checked() {
        let mut cfg = TrainConfig { tau: 1e-7, ..TrainConfig::default() };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("[1e-6, 1]"), "{err}");
        cfg.tau = 1e-6;
        cfg.validate().unwrap();
        let cases: [(&str, Break); 3] = [
            ("total_steps", |c| c.total_steps = u64::MAX),
            ("eval_episodes", |c| c.eval_episodes = u64::MAX),
            ("multiplier_steps", |c| c.multiplier_steps = u64::MAX),
        ];
        for (field, mutate) in cases {
            let mut c = TrainConfig::default();
            mutate(&mut c);
            assert!(c.validate().unwrap_err().to_string().contains(&format!("`{field}`")), "{field}");
        }
    }

    #[test]
    fn seeds_are_whole_numbers_javascript_holds_exactly() {
        let mut cfg = TrainConfig { seed: MAX_SEED, ..TrainConfig::default() };
        cfg.validate().unwrap();
        assert_eq!(MAX_SEED, 9_007_199_254_740_991, "Number.MAX_SAFE_INTEGER");
        for seed in [MAX_SEED + 1, u64::MAX] {
            cfg.seed = seed;
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains("`seed`") && err.contains("0..=9007199254740991"), "{err}");
        }
        // A config file (and so a run file's header) says the same.
        let text = TrainConfig { seed: 9_007_199_254_740_993, ..TrainConfig::default() }.to_json();
        assert!(TrainConfig::from_json(&text).unwrap_err().to_string().contains("0..=9007199254740991"));
        let err = TrainConfig::from_partial_json(&serde_json::json!({ "seed": 9_007_199_254_740_992u64 })).unwrap_err();
        assert_eq!(err.field(), Some("seed"), "{err}");
    }

    #[test]
    fn rates_temperature_and_threshold_are_refused_beyond_what_a_run_can_use() {
        type Mutate = fn(&mut TrainConfig, f64);
        let cases: [(&str, Mutate, f64, f64, &str); 8] = [
            ("actor_lr", |c, v| c.actor_lr = v, 1.0, 1.001, "(0, 1]"),
            ("critic_lr", |c, v| c.critic_lr = v, 1.0, 1e300, "(0, 1]"),
            ("alpha_lr", |c, v| c.alpha_lr = v, 1.0, 2.0, "(0, 1]"),
            ("multiplier_lr", |c, v| c.multiplier_lr = v, 1.0, 1e300, "(0, 1]"),
            ("init_alpha", |c, v| c.init_alpha = v, 1e3, 1e300, "(0, 1000]"),
            // cost_gamma 0.97: Q_c ≤ 1/0.03 = 33.3.
            ("cost_threshold", |c, v| c.cost_threshold = v, 33.3, 33.4, "1/(1 − cost_gamma) = 33.3333"),
            ("rho", |c, v| (c.rho, c.rho_max) = (v, 1e6), 1e6, 1e20, "[0, 1e6]"),
            ("rho_max", |c, v| c.rho_max = v, 1e6, 1e300, "≤ 1e6"),
        ];
        for (field, set, ok, refused, says) in cases {
            let mut cfg = TrainConfig::default();
            set(&mut cfg, ok);
            cfg.validate().unwrap_or_else(|e| panic!("{field} = {ok}: {e}"));
            for v in [refused, -1.0, f64::NAN, f64::INFINITY] {
                set(&mut cfg, v);
                let err = cfg.validate().unwrap_err();
                assert_eq!(err.field(), Some(field), "{field} = {v}: {err}");
                if v == refused {
                    assert!(err.to_string().contains(says), "{field} = {v}: {err}");
                }
            }
        }
        // The threshold's bound follows cost_gamma.
        let cfg = TrainConfig { cost_gamma: 0.99, cost_threshold: 99.0, ..TrainConfig::default() };
        cfg.validate().unwrap();
    }

    #[test]
    fn a_probability_cost_critic_takes_a_threshold_in_0_1_and_old_files_read_as_discounted() {
        let prob =
            |d| TrainConfig { cost_critic: CostCritic::Probability, cost_threshold: d, ..TrainConfig::default() };
        prob(0.1).validate().unwrap();
        prob(1.0).validate().unwrap();
        let err = prob(1.5).validate().unwrap_err();
        assert_eq!(err.field(), Some("cost_threshold"));
        assert!(
            err.to_string().contains("with cost_critic = probability") && err.to_string().contains("[0, 1]"),
            "{err}"
        );
        // The same 1.5 is a count of discounted violations below 1/(1 − 0.97) under the default.
        TrainConfig { cost_threshold: 1.5, ..TrainConfig::default() }.validate().unwrap();
        // The page and URLs name it; a file from before the field reads as the discounted form.
        let page =
            TrainConfig::from_partial_json(&serde_json::json!({"cost_critic": "probability", "cost_threshold": 0.1}));
        assert_eq!(page.unwrap().cost_critic, CostCritic::Probability);
        let mut v: serde_json::Value = serde_json::from_str(&TrainConfig::default().to_json()).unwrap();
        v.as_object_mut().unwrap().remove("cost_critic");
        assert_eq!(TrainConfig::from_json(&v.to_string()).unwrap().cost_critic, CostCritic::Discounted);
        let err = TrainConfig::from_partial_json(&serde_json::json!({"cost_critic": "maybe"})).unwrap_err();
        assert!(err.to_string().contains("cost_critic"), "{err}");
    }

    #[test]
    fn unusual_settings_are_the_likely_causes_of_a_divergence() {
        for env in EnvKind::ALL {
            for algo in Algo::ALL {
                assert!(TrainConfig::preset(env, algo).unusual_settings().is_empty(), "{env} {algo}");
            }
        }
        let cfg = TrainConfig { critic_lr: 0.5, multiplier_lr: 1e-6, ..TrainConfig::default() };
        assert_eq!(
            cfg.unusual_settings(),
            ["critic_lr = 0.5 (usual: 1e-5 to 1e-2)", "multiplier_lr = 1e-6 (usual: 1e-5 to 1e-2)"]
        );
    }

    #[test]
    fn a_missing_or_unknown_field_is_named() {
        let mut v: serde_json::Value = serde_json::from_str(&TrainConfig::default().to_json()).unwrap();
        v.as_object_mut().unwrap().remove("rho");
        let err = TrainConfig::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(err.contains("missing field `rho`"), "{err}");
        let err = TrainConfig::from_json(r#"{"env":"moon-lander"}"#).unwrap_err().to_string();
        assert!(err.contains("moon-lander"), "{err}");
    }

    #[test]
    fn partial_settings_overlay_the_preset_and_name_bad_fields() {
        let cfg = TrainConfig::from_partial_json(
            &serde_json::json!({"env": "point-goal", "algo": "fac", "rho": 3.0, "hidden": 64}),
        )
        .unwrap();
        assert_eq!((cfg.env, cfg.algo, cfg.rho, cfg.hidden), (EnvKind::PointGoal, Algo::Fac, 3.0, 64));
        assert_eq!(cfg.total_steps, TrainConfig::preset(EnvKind::PointGoal, Algo::Fac).total_steps);
        // Every refusal names its field as data (the page puts the message beside that input),
        // and in its message.
        for (settings, field, says) in [
            (serde_json::json!({"hidden": "wide"}), "hidden", "wide"),
            (serde_json::json!({"rho": -1}), "rho", "-1"),
            (serde_json::json!({"env": "mars"}), "env", "mars"),
            (serde_json::json!({"algo": "ppo"}), "algo", "ppo"),
            (serde_json::json!({"warp": 9}), "warp", "unknown config field"),
            (serde_json::json!({"batch_size": 64, "buffer_size": 10}), "buffer_size", "10"),
        ] {
            let err = TrainConfig::from_partial_json(&settings).unwrap_err();
            assert_eq!(err.field(), Some(field), "{settings}: {err}");
            let text = err.to_string();
            assert!(text.contains(&format!("`{field}`")) && text.contains(says), "{settings}: {text}");
        }
        let err = TrainConfig::from_partial_json(&serde_json::json!([1])).unwrap_err();
        assert_eq!(err.field(), None, "not an object names no field");
    }

    #[test]
    fn algo_names_parse_with_or_without_sac_prefix() {
        assert_eq!("sac-alam".parse::<Algo>().unwrap(), Algo::Alam);
        assert_eq!("PID-Lag".parse::<Algo>().unwrap(), Algo::PidLag);
        assert_eq!("sac".parse::<Algo>().unwrap(), Algo::Sac);
        assert!("ppo".parse::<Algo>().unwrap_err().contains("allowed"));
    }
}
