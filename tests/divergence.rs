//! The divergence guard: a non-finite loss stops training, is reported, and the weights in
//! hand are the last good ones (every network output still finite).

mod single;
use alam::agent::{read_floats, Agent};
use alam::config::{Algo, TrainConfig};
use alam::metrics::Record;
use alam::trainer::Trainer;
use alam::EnvKind;
use burn::tensor::Device;
use single::Single;

/// A trainer of `cfg` whose agent updates with `hot`'s settings: learning rates of 1e30, beyond
/// the (0, 1] that `TrainConfig::validate` lets a run ask for, blow a network up within a few
/// updates.
fn hot_trainer(cfg: TrainConfig, hot: impl Fn(&mut TrainConfig)) -> Single {
    let mut t = Trainer::new(cfg.clone(), &Device::flex()).unwrap();
    let mut hot_cfg = cfg;
    hot(&mut hot_cfg);
    let (obs_dim, act_dim) = (t.env().obs_dim(), t.env().act_dim());
    *t.agent_mut() = Agent::new(&hot_cfg, obs_dim, act_dim, &Device::flex());
    Single::from(t).unwrap()
}

#[test]
fn a_blown_up_critic_stops_training_and_keeps_finite_weights() {
    let mut cfg = TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam);
    // A critic step of 1e30 overflows within a few updates.
    (cfg.hidden, cfg.batch_size, cfg.learning_starts, cfg.total_steps) = (16, 32, 64, 2_000);
    let mut t = hot_trainer(cfg, |c| c.critic_lr = 1e30);
    let mut diverged = Vec::new();
    while !t.is_done() {
        for r in t.step().unwrap() {
            if let Record::Diverged { message, step } = r {
                diverged.push((step, message));
            }
        }
    }
    assert_eq!(diverged.len(), 1, "exactly one divergence record: {diverged:?}");
    let (step, message) = &diverged[0];
    assert!(*step < 2_000, "training stopped early");
    assert!(message.contains("not finite") && message.contains("kept the last good weights"), "{message}");
    let t = t.trainer();
    assert_eq!(t.diverged(), Some(message.as_str()));
    // The weights in hand are the ones before the bad update: everything they compute is finite.
    let obs = [0.1f32, -0.4, 0.8, 0.3];
    let (mean, log_std) = t.agent().policy_tensor(&obs);
    let values = [
        read_floats(mean).unwrap(),
        read_floats(log_std).unwrap(),
        read_floats(t.agent().lambda_tensor(&obs)).unwrap(),
        read_floats(t.agent().cost_value_tensor(&obs)).unwrap(),
    ]
    .concat();
    assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
}

/// A blow-up in any step of an update — the actor's, the temperature's, the multiplier's, not
/// only the critics' — is caught where it happens: the guard reads a finiteness probe of every
/// network with the update's statistics, so the weights kept are finite and evaluate to a finite
/// return (docs/method.md §9). Each case also checks the run is reported as diverged.
#[test]
fn a_blow_up_in_any_step_keeps_finite_weights_that_evaluate() {
    type Mutate = fn(&mut TrainConfig);
    let cases: [(&str, Mutate); 4] = [
        ("actor_lr", |c| c.actor_lr = 1e30),
        ("alpha_lr", |c| c.alpha_lr = 1e30),
        ("multiplier_lr", |c| c.multiplier_lr = 1e30),
        ("critic_lr", |c| c.critic_lr = 1e30),
    ];
    for (name, mutate) in cases {
        for sync_every in [1, 16] {
            let mut cfg = TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam);
            (cfg.hidden, cfg.batch_size, cfg.learning_starts, cfg.total_steps, cfg.sync_every) =
                (16, 32, 64, 1_500, sync_every);
            let mut t = hot_trainer(cfg, mutate);
            t.run_to_end().unwrap();
            let t = t.trainer();
            // A temperature step of 1e30 sends log α to +1e30 (α = ∞: a blow-up) or to −1e30
            // (α = 0: finite, no divergence), by the sign of the first entropy gap; the others
            // always overflow. Either way what is kept must evaluate.
            assert!(
                t.diverged().is_some() || name == "alpha_lr",
                "{name} = 1e30, K = {sync_every}: the run must be reported as diverged"
            );
            // (Not through a run file: its header would carry the agent's config, which no
            // reader accepts.)
            let mut env = alam::env::make_env(t.config().env, 7);
            let e = pollster::block_on(alam::evaluation::evaluate_policy(t.agent(), env.as_mut(), 2)).unwrap();
            assert!(e.return_mean.is_finite() && e.cost_mean.is_finite(), "{name}, K = {sync_every}: {e:?}");
        }
    }
}

/// K = `sync_every` updates go by between reads: the statistics of the updates in between
/// wait on the device, and the read after the K-th takes them all.
#[test]
fn statistics_are_read_once_per_sync_every_updates() {
    let mut cfg = TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam);
    (cfg.hidden, cfg.batch_size, cfg.learning_starts, cfg.total_steps, cfg.sync_every, cfg.log_every) =
        (16, 32, 64, 400, 8, 1);
    let mut t = Single::new(cfg, &Device::flex()).unwrap();
    let mut seen = Vec::new();
    while !t.is_done() {
        let unread_before = t.0.unread_updates();
        let records = t.step().unwrap();
        let updates = records.iter().filter(|r| matches!(r, Record::Update { .. })).count();
        if updates > 0 {
            seen.push((unread_before, updates, t.0.unread_updates()));
        }
    }
    assert!(!seen.is_empty());
    for (before, read, after) in &seen {
        assert_eq!(*after, 0, "a read takes every unread update");
        assert!(*read == 8 || (*read <= 8 && *before < 8), "reads come in blocks of K = 8: {seen:?}");
    }
    assert_eq!(t.0.unread_updates(), 0, "a finished run has read everything");
}

/// A policy whose action is not finite is a failed policy, never a safe one: evaluation counts
/// each such step as a violation and ends the episode there (a NaN state would compare as "no
/// violation" in the env's own check).
#[test]
fn a_non_finite_action_counts_as_a_violation_in_evaluation() {
    use alam::agent::readback::{param_count, rebuild_params};
    let mut cfg = TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam);
    (cfg.hidden, cfg.batch_size) = (8, 16);
    let mut t = Trainer::new(cfg, &Device::flex()).unwrap();
    let mut nets = t.agent().nets();
    let n = param_count(&nets.actor);
    nets.actor = rebuild_params(nets.actor, &vec![f32::NAN; n], &Device::flex().autodiff()).unwrap();
    t.agent_mut().set_nets(nets);
    let mut env = alam::env::make_env(EnvKind::DoubleIntegrator, 7);
    let e = pollster::block_on(alam::evaluation::evaluate_policy(t.agent(), env.as_mut(), 3)).unwrap();
    assert_eq!(e.non_finite_episodes, 3, "{e:?}");
    assert!(e.violations_mean >= 1.0 && e.cost_mean >= 1.0, "counted as violations, never safe: {e:?}");
}
