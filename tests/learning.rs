//! Learning, measured: plain SAC violates the double integrator's wall, SAC-ALaM learns to
//! stop violating, and point-goal's return rises. Seeds are fixed; thresholds come from runs
//! measured on the 2-core CI machine and keep a wide margin (each test's doc says how wide).

mod single;
use alam::config::{Algo, TrainConfig};
use alam::metrics::Record;
use alam::EnvKind;
use burn::tensor::Device;
use single::Single;

struct Episodes {
    returns: Vec<f64>,
    violations: Vec<f64>,
}

impl Episodes {
    /// Means over the first and the last quarter of the episodes.
    fn quarters(v: &[f64]) -> (f64, f64) {
        let q = (v.len() / 4).max(1);
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        (mean(&v[..q]), mean(&v[v.len() - q..]))
    }
}

fn run(env: EnvKind, algo: Algo, steps: u64) -> Episodes {
    run_batch(env, algo, steps, TrainConfig::preset(env, algo).batch_size)
}

fn run_batch(env: EnvKind, algo: Algo, steps: u64, batch: usize) -> Episodes {
    let mut cfg = TrainConfig::preset(env, algo);
    (cfg.hidden, cfg.batch_size, cfg.total_steps, cfg.eval_every) = (64, batch, steps, 0);
    let mut t = Single::new(cfg, &Device::flex()).unwrap();
    let mut e = Episodes { returns: vec![], violations: vec![] };
    while !t.is_done() {
        for r in t.step().unwrap() {
            if let Record::Episode { ret, violations, .. } = r {
                e.returns.push(ret);
                e.violations.push(violations as f64);
            }
        }
    }
    assert!(t.seed().diverged().is_none(), "{:?}", t.seed().diverged());
    e
}

/// Measured (seed 0, hidden 64, 16000 steps, this 2-core machine; last quarter of episodes):
/// SAC ends at 155 violating steps per episode (return 173.9); ALaM falls from 29.3 to
/// 0.0 violations per episode with return 95.5. Asserted: SAC ≥ 20 (a wide margin), ALaM's last
/// quarter ≤ 2 and below a tenth of its first, and ALaM's return ≥ 40% of SAC's (measured 55%) — SAC earns its
/// return by sitting on and past the wall, which a safe policy may only approach.
#[test]
fn alam_stops_violating_where_sac_does_not() {
    let sac = run(EnvKind::DoubleIntegrator, Algo::Sac, 16_000);
    let alam = run(EnvKind::DoubleIntegrator, Algo::Alam, 16_000);
    let (_, sac_viol) = Episodes::quarters(&sac.violations);
    let (_, sac_return) = Episodes::quarters(&sac.returns);
    let (alam_first, alam_last) = Episodes::quarters(&alam.violations);
    let (_, alam_return) = Episodes::quarters(&alam.returns);
    assert!(sac_viol >= 20.0, "plain SAC should violate: {sac_viol}");
    assert!(alam_last <= 2.0 && alam_last < 0.1 * alam_first, "ALaM violations {alam_first} → {alam_last}");
    assert!(alam_return >= 0.4 * sac_return, "ALaM return {alam_return} vs SAC {sac_return}");
}

/// Measured (seed 0, hidden 64, 10000 steps): SAC's mean episode return rises from 7.9 in
/// the first quarter of episodes to 191.7 in the last. Asserted: the last quarter is at least
/// 50 higher and above 100.
#[test]
fn point_goal_return_rises() {
    let sac = run(EnvKind::PointGoal, Algo::Sac, 10_000);
    let (first, last) = Episodes::quarters(&sac.returns);
    assert!(last >= first + 50.0 && last >= 100.0, "return {first} → {last}");
}

/// Measured (seed 0, 2×64 networks, batch 64, 20000 steps; last quarter of episodes), with
/// ALaM's anchored multiplier (docs/method.md §3c): SAC runs through hazards 17.9 steps per
/// episode at return 202.3; ALaM 6.9 steps at return 109.9 (a random policy earns ~5). Seed 0 is
/// ALaM's least safe seed of the pilot study's eight at 30k steps (REPRODUCTION.md); with the
/// re-anchored step before it measured 0.95 at return 82.8. Asserted: SAC ≥ 10, ALaM at most half
/// of SAC's violations (measured 39%), and ALaM's return above 40 and a quarter of SAC's (it still
/// reaches goals; measured 54%).
#[test]
fn alam_cuts_point_goal_violations_and_still_reaches_goals() {
    let sac = run_batch(EnvKind::PointGoal, Algo::Sac, 20_000, 64);
    let alam = run_batch(EnvKind::PointGoal, Algo::Alam, 20_000, 64);
    let (_, sac_viol) = Episodes::quarters(&sac.violations);
    let (_, sac_return) = Episodes::quarters(&sac.returns);
    let (_, alam_viol) = Episodes::quarters(&alam.violations);
    let (_, alam_return) = Episodes::quarters(&alam.returns);
    eprintln!(
        "point-goal, last quarter: SAC {sac_viol:.2} violations, return {sac_return:.1}; \
         ALaM {alam_viol:.2}, {alam_return:.1}"
    );
    assert!(sac_viol >= 10.0, "plain SAC should run through hazards: {sac_viol}");
    assert!(alam_viol <= 0.5 * sac_viol, "ALaM violations {alam_viol} vs SAC {sac_viol}");
    assert!(alam_return >= 0.25 * sac_return && alam_return > 40.0, "ALaM return {alam_return} vs SAC {sac_return}");
}
