//! Constraint handlers: how each algorithm turns the cost critic into a policy penalty and
//! how it learns its multiplier (docs/method.md §5). One file each, one shape each, so that a diff
//! between `fac.rs` and `alam.rs` shows exactly what ALaM changes.

mod alam;
mod fac;
mod lag;
mod pid_lag;
mod sac;

pub use alam::{dual_target, psi, regression_loss_per_sample, AlamHandler};
pub use fac::{ascent_loss_per_sample, FacHandler};
pub use lag::LagHandler;
pub use pid_lag::PidLagHandler;
pub use sac::NoConstraint;

use crate::Rng64;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::adam::Adam;
use super::nets::MultiplierNet;
use crate::config::{Algo, TrainConfig};

/// The scalar state a handler carries besides its network, saved with the weights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HandlerState {
    /// The scalar multiplier (Lag, PID-Lag).
    pub lambda: f64,
    /// The PID integral term.
    pub integral: f64,
    /// Last episode cost seen (PID derivative term).
    pub prev_cost: f64,
    /// Current ρ (ALaM).
    pub rho: f64,
    /// ALaM's ρ schedule (§3d): the current window's summed violation and its length, and the
    /// previous window's mean. Absent from older files (they restart the window).
    #[serde(default)]
    pub window_sum: f64,
    #[serde(default)]
    pub window_n: u64,
    #[serde(default)]
    pub prev_window_mean: Option<f64>,
}

/// What one algorithm adds to SAC.
pub trait ConstraintHandler: Send {
    fn algo(&self) -> Algo;

    /// N stacked seeds of this algorithm (a population, `agent/population.rs`): λ(s) `[N, b, 1]`
    /// when the multiplier is a scalar — each seed's own, from its `states` (0 for plain SAC);
    /// `None` when it is a network, which the population runs itself.
    fn stacked_scalar_lambda(&self, states: &[HandlerState], batch: usize, device: &Device) -> Option<Tensor<3>> {
        let _ = (states, batch, device);
        None
    }

    /// The term added per sample to the actor loss for N stacked seeds (one for a single run): given h
    /// and the λ used `[N, b, 1]`, each seed with its own scalars (`states`). By default the
    /// plain Lagrangian term λ·h (Lag, PID-Lag, FAC); `None` for plain SAC.
    fn stacked_penalty(&self, h: Tensor<3>, lambda: Tensor<3>, states: &[HandlerState]) -> Option<Tensor<3>> {
        let _ = states;
        Some(lambda * h)
    }

    /// The multiplier network's loss for N stacked seeds, built once per update from the λ the
    /// penalty used and h (detached) `[N, b, 1]`: a function of the network's output λ_ξ(s)
    /// `[N, b, 1]` (with gradient) giving the loss per sample `[N, b, 1]`, whose batch mean is
    /// each seed's loss (FAC's ascent, ALaM's regression to the dual target), called on each of
    /// the k multiplier steps. `None` for algorithms without a multiplier network.
    fn stacked_multiplier_loss(
        &self,
        lambda_used: Tensor<3>,
        h: Tensor<3>,
        states: &[HandlerState],
    ) -> Option<StackedLoss> {
        let _ = (lambda_used, h, states);
        None
    }

    /// Called with each finished training episode's total cost (the scalar baselines' signal).
    fn end_episode(&mut self, episode_cost: f64) {
        let _ = episode_cost;
    }

    /// Called with the mean positive violation of a batch once it has been read back (ρ schedule).
    fn observe_violation(&mut self, mean_violation: f64) {
        let _ = mean_violation;
    }

    /// λ(s) for any states `[n, 1]`, without gradient: the heat map and calibration read this.
    fn lambda(&self, obs: Tensor<2>) -> Tensor<2>;

    fn state(&self) -> HandlerState;
    fn restore_state(&mut self, state: HandlerState);

    fn multiplier_net(&self) -> Option<&MultiplierNet> {
        None
    }
    fn set_multiplier_net(&mut self, net: MultiplierNet) {
        let _ = net;
    }
    /// ALaM's anchor λ_old (docs/method.md §3b), a frozen copy of the multiplier network; `None`
    /// for every other algorithm and for ALaM's re-anchored ablation.
    fn multiplier_anchor(&self) -> Option<&MultiplierNet> {
        None
    }
    fn set_multiplier_anchor(&mut self, anchor: MultiplierNet) {
        let _ = anchor;
    }
    /// The multiplier network's Adam state (FAC, ALaM), saved with the run.
    fn multiplier_optimiser(&self) -> Option<&Adam<MultiplierNet>> {
        None
    }
    fn set_multiplier_optimiser(&mut self, optimiser: Adam<MultiplierNet>) {
        let _ = optimiser;
    }

    fn box_clone(&self) -> Box<dyn ConstraintHandler>;
}

/// [`ConstraintHandler::stacked_multiplier_loss`]: λ_ξ(s) `[N, b, 1]` ↦ the loss per sample `[N, b, 1]`.
pub type StackedLoss = Box<dyn Fn(Tensor<3>) -> Tensor<3>>;

/// Builds the handler of `cfg.algo`; network handlers draw their initial weights from `rng`.
pub fn make_handler(cfg: &TrainConfig, obs_dim: usize, rng: &mut Rng64, device: &Device) -> Box<dyn ConstraintHandler> {
    match cfg.algo {
        Algo::Sac => Box::new(NoConstraint),
        Algo::Lag => Box::new(LagHandler::new(cfg)),
        Algo::PidLag => Box::new(PidLagHandler::new(cfg)),
        Algo::Fac => Box::new(FacHandler::new(cfg, MultiplierTrainer::new(cfg, obs_dim, rng, device))),
        Algo::Alam => Box::new(AlamHandler::new(cfg, MultiplierTrainer::new(cfg, obs_dim, rng, device))),
    }
}

/// Each seed's scalar λ broadcast over its batch, `[N, batch, 1]`.
fn stacked_constants(lambdas: &[f64], batch: usize, device: &Device) -> Tensor<3> {
    let v: Vec<f32> = lambdas.iter().flat_map(|&l| std::iter::repeat_n(l as f32, batch)).collect();
    Tensor::from_data(burn::tensor::TensorData::new(v, [lambdas.len(), batch, 1]), device)
}

/// A scalar λ broadcast to a batch: what the expected-cost baselines report as λ(s).
fn constant_lambda(lambda: f64, obs: &Tensor<2>) -> Tensor<2> {
    let [n, _] = obs.dims();
    Tensor::<2>::ones([n, 1], &obs.device()).mul_scalar(lambda)
}

/// One agent's multiplier network with its anchor and optimiser state: shared by FAC and ALaM,
/// which differ in the loss they minimise (ascent vs regression) and in the schedule
/// ([`MultiplierSchedule`]). The population's stacked learner trains it (`agent/population.rs`); this
/// is what a seed's agent holds to act, probe and save.
#[derive(Clone)]
pub struct MultiplierTrainer {
    pub net: MultiplierNet,
    /// λ_old of docs/method.md §3b–c: a frozen copy of `net`, refreshed every m policy updates
    /// ([`MultiplierSchedule::Anchored`]); `None` under [`MultiplierSchedule::Periodic`].
    pub(crate) anchor: Option<MultiplierNet>,
    pub(crate) optim: Adam<MultiplierNet>,
    pub lambda_max: f64,
    pub cost_threshold: f64,
}

/// When the multiplier network trains (m = `multiplier_every`, k = `multiplier_steps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiplierSchedule {
    /// FAC, and ALaM's re-anchored ablation: k steps on every m-th policy update, the loss built
    /// from the network being trained (docs/method.md §2, §3c).
    Periodic { every: u64, steps: u64 },
    /// ALaM, the method of multipliers (docs/method.md §3b–c): k regression steps on every policy
    /// update toward a target built from the anchor λ_old, and λ_old ← λ_ξ every m updates (one
    /// dual period).
    Anchored { period: u64, steps: u64 },
}

impl MultiplierSchedule {
    /// The schedule `cfg` asks for: anchored for ALaM with `alam_anchor`, periodic otherwise.
    pub fn of(cfg: &TrainConfig) -> Self {
        let (m, k) = (cfg.multiplier_every, cfg.multiplier_steps);
        if cfg.algo == Algo::Alam && cfg.alam_anchor {
            MultiplierSchedule::Anchored { period: m, steps: k }
        } else {
            MultiplierSchedule::Periodic { every: m, steps: k }
        }
    }

    /// The gradient steps due at policy update `update` (counted from 1).
    pub fn steps_at(self, update: u64) -> u64 {
        match self {
            MultiplierSchedule::Periodic { every, steps } => {
                if update.is_multiple_of(every) {
                    steps
                } else {
                    0
                }
            }
            MultiplierSchedule::Anchored { steps, .. } => steps,
        }
    }

    /// Whether the anchor λ_old is refreshed after policy update `update` (counted from 1).
    pub fn refresh_at(self, update: u64) -> bool {
        matches!(self, MultiplierSchedule::Anchored { period, .. } if update.is_multiple_of(period))
    }

    pub fn anchored(self) -> bool {
        matches!(self, MultiplierSchedule::Anchored { .. })
    }
}

impl MultiplierTrainer {
    pub fn new(cfg: &TrainConfig, obs_dim: usize, rng: &mut Rng64, device: &Device) -> Self {
        let net = MultiplierNet::new(rng, obs_dim, cfg.hidden, device);
        let schedule = MultiplierSchedule::of(cfg);
        MultiplierTrainer {
            optim: Adam::new(&net),
            anchor: schedule.anchored().then(|| net.clone()),
            net,
            lambda_max: cfg.lambda_max,
            cost_threshold: cfg.cost_threshold,
        }
    }

    /// λ(s) of the network being trained, without gradient (the heat map, the probe).
    pub fn lambda(&self, obs: Tensor<2>) -> Tensor<2> {
        self.net.forward(obs, self.lambda_max).detach()
    }

    /// Replaces the network (a loaded run); the anchor becomes a copy of it, until
    /// [`Self::set_anchor`] puts the saved one back.
    pub fn set_net(&mut self, net: MultiplierNet) {
        if self.anchor.is_some() {
            self.anchor = Some(net.clone());
        }
        self.net = net;
    }

    pub fn set_anchor(&mut self, anchor: MultiplierNet) {
        if self.anchor.is_some() {
            self.anchor = Some(anchor);
        }
    }
}

#[cfg(test)]
mod tests {
    //! What one dual period does to λ, measured on fixed states with a fixed h (docs/method.md
    //! §3c): ALaM's regression reaches its dual target, its step is ρh, and a capped state can
    //! come back down.
    use super::*;
    use crate::agent::population::PopulationAgent;
    use crate::agent::readback::read_floats;
    use crate::agent::Agent;
    use crate::env::EnvKind;
    use rand::{Rng, SeedableRng};

    const STATES: usize = 128;
    const OBS_DIM: usize = 6;

    fn device() -> Device {
        Device::flex().autodiff()
    }

    fn column(values: Vec<f32>) -> Tensor<2> {
        let n = values.len();
        Tensor::from_data(burn::tensor::TensorData::new(values, [n, 1]), &device())
    }

    /// Fixed states in [−1, 1]^6 and a fixed h in [lo, hi] per state, a smooth function of the
    /// state as a cost critic's is: h = lo + (hi − lo)·σ(2·w·s) for a fixed direction w.
    fn fixture(lo: f32, hi: f32) -> (Tensor<2>, Tensor<2>) {
        let mut rng = Rng64::seed_from_u64(11);
        let obs: Vec<f32> = (0..STATES * OBS_DIM).map(|_| rng.random_range(-1.0..1.0)).collect();
        let w: Vec<f32> = (0..OBS_DIM).map(|_| rng.random_range(-1.0..1.0)).collect();
        let h = obs
            .chunks(OBS_DIM)
            .map(|s| {
                let z: f32 = s.iter().zip(&w).map(|(x, w)| x * w).sum();
                lo + (hi - lo) / (1.0 + (-2.0 * z).exp())
            })
            .collect();
        (Tensor::from_data(burn::tensor::TensorData::new(obs, [STATES, OBS_DIM]), &device()), column(h))
    }

    fn cfg(algo: Algo, rho: f64) -> TrainConfig {
        TrainConfig { rho, hidden: 64, ..TrainConfig::preset(EnvKind::PointGoal, algo) }
    }

    /// An agent of `cfg` whose multiplier network is drawn from one fixed RNG (the same for
    /// every algorithm and ρ), `raise` added to its output layer's bias, as a population of
    /// one: the learner every run trains through.
    fn learner(cfg: &TrainConfig, raise: f32) -> (PopulationAgent, Vec<HandlerState>) {
        let mut agent = Agent::new(cfg, OBS_DIM, 2, &Device::flex());
        let mut net = MultiplierNet::new(&mut Rng64::seed_from_u64(3), OBS_DIM, cfg.hidden, &device());
        let bias = net.net.l3.bias.take().unwrap();
        net.net.l3.bias = Some(burn::module::Param::from_tensor(bias.val().inner().add_scalar(raise).autodiff()));
        agent.handler_mut().set_multiplier_net(net);
        let states = vec![agent.handler().state()];
        (PopulationAgent::from_agents(&[&agent]).unwrap(), states)
    }

    /// λ on `obs` before, the penalty's λ at the first update, and λ after `updates` policy
    /// updates of `cfg`'s multiplier on the same states and h (the multiplier's part of the
    /// update only, [`PopulationAgent::multiplier_only`]), with `raise` added to λ's raw output.
    fn run_raised(cfg: &TrainConfig, obs: &Tensor<2>, h: &Tensor<2>, updates: u64, raise: f32) -> [Vec<f32>; 3] {
        let (mut learner, states) = learner(cfg, raise);
        let (obs, h) = (obs.clone().unsqueeze::<3>(), h.clone().inner().unsqueeze::<3>());
        let lambda = |l: &PopulationAgent| read_floats(l.multiplier_now(obs.clone()).unwrap()).unwrap();
        let before = lambda(&learner);
        let mut used = None;
        for _ in 0..updates {
            let (l, _) = learner.multiplier_only(obs.clone(), h.clone(), &states);
            used.get_or_insert_with(|| read_floats(l).unwrap());
        }
        [before, used.unwrap(), lambda(&learner)]
    }

    fn run(cfg: &TrainConfig, obs: &Tensor<2>, h: &Tensor<2>, updates: u64) -> [Vec<f32>; 3] {
        run_raised(cfg, obs, h, updates, 0.0)
    }

    fn rms(v: impl Iterator<Item = f32>) -> f32 {
        let (s, n) = v.fold((0.0, 0), |(s, n), x| (s + x * x, n + 1));
        (s / n as f32).sqrt()
    }

    /// The dual step each state should take, max(0, λ_old + ρh) − λ_old, and the step taken.
    fn steps(before: &[f32], after: &[f32], h: &Tensor<2>, rho: f64) -> (Vec<f32>, Vec<f32>) {
        let h = read_floats(h.clone()).unwrap();
        let want = before.iter().zip(&h).map(|(l, h)| (l + rho as f32 * h).max(0.0) - l).collect();
        let took = before.iter().zip(after).map(|(b, a)| a - b).collect();
        (want, took)
    }

    /// Tolerance: after one dual period the fit leaves at most 10% of the dual step's RMS as
    /// error — λ has made ≥ 90% of the method-of-multipliers step, where a single Adam step at
    /// the same learning rate moves it by a few hundredths whatever the step asks (the
    /// re-anchored ablation below).
    const TOLERANCE: f32 = 0.1;

    #[test]
    fn one_dual_period_reaches_the_dual_target() {
        for (rho, lo, hi) in [(1.0, -0.5, 1.0), (3.0, -0.2, 0.5), (1.0, -2.0, 0.5)] {
            let c = cfg(Algo::Alam, rho);
            let (obs, h) = fixture(lo, hi);
            let [before, used, after] = run(&c, &obs, &h, c.multiplier_every);
            assert_eq!(before, used, "the penalty uses the anchor λ_old, which is the network at the period's start");
            let (want, took) = steps(&before, &after, &h, rho);
            let err = rms(want.iter().zip(&took).map(|(w, t)| w - t));
            let step = rms(want.iter().copied());
            assert!(err <= TOLERANCE * step, "ρ = {rho}, h in [{lo}, {hi}]: error {err} against a dual step of {step}");
        }
    }

    #[test]
    #[ignore]
    fn explore_schedules() {
        for hidden in [64, 256] {
            for (lr, m, k) in [
                (1e-3, 100, 1),
                (3e-3, 100, 1),
                (1e-3, 200, 1),
                (1e-3, 50, 4),
                (3e-3, 50, 1),
                (3e-3, 200, 1),
                (1e-2, 100, 1),
                (3e-4, 100, 4),
            ] {
                let mut worst: f32 = 0.0;
                for (rho, lo, hi) in
                    [(1.0, -0.5, 1.0), (3.0, -0.2, 0.5), (1.0, -2.0, 0.5), (1.0, 0.0, 5.0), (10.0, -0.1, 0.3)]
                {
                    let c = TrainConfig {
                        multiplier_lr: lr,
                        multiplier_every: m,
                        multiplier_steps: k,
                        hidden,
                        ..cfg(Algo::Alam, rho)
                    };
                    let (obs, h) = fixture(lo, hi);
                    let [before, _, after] = run(&c, &obs, &h, c.multiplier_every);
                    let (want, took) = steps(&before, &after, &h, rho);
                    let err = rms(want.iter().zip(&took).map(|(w, t)| w - t)) / rms(want.iter().copied());
                    worst = worst.max(err);
                    eprint!("{err:.3} ");
                }
                eprintln!(" hidden {hidden} lr {lr} m {m} k {k}: worst {worst:.3}");
            }
        }
    }

    #[test]
    fn doubling_rho_doubles_the_dual_step() {
        // λ_old ≈ 1 at initialisation and h ≥ −0.4: every state stays active (λ + ρh ≥ 0) at ρ = 2.
        let (obs, h) = fixture(-0.4, 1.0);
        let [b1, _, a1] = run(&cfg(Algo::Alam, 1.0), &obs, &h, cfg(Algo::Alam, 1.0).multiplier_every);
        let [b2, _, a2] = run(&cfg(Algo::Alam, 2.0), &obs, &h, cfg(Algo::Alam, 2.0).multiplier_every);
        assert_eq!(b1, b2);
        let (_, s1) = steps(&b1, &a1, &h, 1.0);
        let (_, s2) = steps(&b2, &a2, &h, 2.0);
        // Least-squares slope of the ρ = 2 step on the ρ = 1 step: 2 within 10%.
        let slope = s1.iter().zip(&s2).map(|(x, y)| x * y).sum::<f32>() / s1.iter().map(|x| x * x).sum::<f32>();
        assert!((slope - 2.0).abs() <= 0.2, "doubling ρ scaled the dual step by {slope}");
    }

    /// ALaM's update is no longer dual ascent up to a factor: the re-anchored step (the crate's
    /// step before the anchor, kept as the ablation `alam_anchor = false`) moves λ the same
    /// whatever ρ, because Adam divides the factor 2ρ out — the step the tests above require is
    /// out of its reach.
    #[test]
    fn the_reanchored_ablation_is_ascent_up_to_scale() {
        // h > 0 everywhere: every state stays active (λ + ρh ≥ 0), where the factor is exact.
        let (obs, h) = fixture(0.1, 1.0);
        let ablation = |rho| TrainConfig { alam_anchor: false, multiplier_every: 1, ..cfg(Algo::Alam, rho) };
        let updates = cfg(Algo::Alam, 1.0).multiplier_every;
        let [b1, _, a1] = run(&ablation(1.0), &obs, &h, updates);
        let [_, _, a2] = run(&ablation(2.0), &obs, &h, updates);
        let fac =
            TrainConfig { multiplier_every: 1, multiplier_lr: ablation(1.0).multiplier_lr, ..cfg(Algo::Fac, 1.0) };
        let [_, _, a_fac] = run(&fac, &obs, &h, updates);
        let close = |x: &[f32], y: &[f32]| x.iter().zip(y).all(|(a, b)| (a - b).abs() <= 1e-3 * (1.0 + a.abs()));
        assert!(close(&a1, &a2), "the re-anchored step should not depend on ρ");
        assert!(close(&a1, &a_fac), "the re-anchored step should be FAC's");
        let (want, took) = steps(&b1, &a1, &h, 1.0);
        let err = rms(want.iter().zip(&took).map(|(w, t)| w - t));
        assert!(err > TOLERANCE * rms(want.iter().copied()), "the ablation reached the target: the test cannot tell");
    }

    /// States near the cap (raw output + 8: λ = λ_max·σ(f + 8 − ln λ_max) > 0.95·λ_max) whose
    /// constraint is slack (h < 0) are pushed down by FAC's ascent and ALaM's regression alike; a
    /// hard min(softplus(f), λ_max) gives them no gradient at all.
    #[test]
    fn a_state_above_the_cap_comes_back_down() {
        for algo in [Algo::Fac, Algo::Alam] {
            let c = TrainConfig { multiplier_every: 1, ..cfg(algo, 1.0) };
            let (obs, h) = fixture(-1.0, -0.5);
            let [before, _, after] = run_raised(&c, &obs, &h, 20, 8.0);
            assert!(before.iter().all(|&l| l > 0.95 * c.lambda_max as f32), "not above the cap: {:?}", &before[..4]);
            let fell = before.iter().zip(&after).filter(|(b, a)| a < b).count();
            assert_eq!(fell, STATES, "{algo}: λ fell in {fell} of {STATES} capped slack states");
        }
    }
}
