//! The cost critic's two forms (`cost_critic`, docs/method.md §4) through the one update every
//! run trains with: on transitions that all violate, the discounted count of violations ahead
//! grows past 1 towards 1/(1 − γ_c), while the probability of a first violation is 1 and stays 1.

use alam::agent::population::{PopulationAgent, SeedSync};
use alam::agent::Agent;
use alam::config::CostCritic;
use alam::replay::Batch;
use alam::{Algo, EnvKind, Rng64, TrainConfig};
use burn::tensor::Device;
use rand::SeedableRng;

/// Mean Q_c(s, π(s)) over the batch after `updates` updates on one batch whose every step
/// violates (c = 1, not done).
fn cost_value_after(form: CostCritic, updates: usize) -> f64 {
    let (obs_dim, act_dim, rows) = (3, 1, 32);
    let cfg = TrainConfig {
        hidden: 32,
        batch_size: rows,
        cost_critic: form,
        cost_threshold: 0.1,
        // A fast target network, so the bootstrapped part of the target shows within a few
        // hundred updates.
        tau: 0.05,
        critic_lr: 3e-3,
        ..TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam)
    };
    let agent = Agent::new(&cfg, obs_dim, act_dim, &Device::flex());
    let states = [agent.handler().state()];
    let mut learner = PopulationAgent::from_agents(&[&agent]).unwrap();
    let batch = Batch {
        cost: vec![1.0; rows],
        done: vec![0.0; rows],
        ..Batch::random(&mut Rng64::seed_from_u64(3), rows, obs_dim, act_dim)
    };
    let mut last = f64::NAN;
    for _ in 0..updates {
        learner.update(std::slice::from_ref(&batch), &states);
        if learner.unread_updates() as u64 >= cfg.sync_every {
            match pollster::block_on(learner.sync()).unwrap().remove(0) {
                SeedSync::Done(stats) => last = stats.last().unwrap().cost_value,
                other => panic!("{form:?}: {other:?}"),
            }
        }
    }
    last
}

#[test]
fn a_probability_cost_critic_stays_in_0_1_where_the_discounted_one_counts_on() {
    let (discounted, probability) =
        (cost_value_after(CostCritic::Discounted, 480), cost_value_after(CostCritic::Probability, 480));
    eprintln!("Q_c after 480 updates on all-violating steps: discounted {discounted:.3}, probability {probability:.3}");
    // Target 1 + 0.97·Q'_c: past 1 as soon as the target network has moved (1/(1 − 0.97) = 33
    // in the limit).
    assert!(discounted > 2.0, "discounted Q_c = {discounted}");
    // Target clip(1 + 0·…, 0, 1) = 1 on every row.
    assert!((probability - 1.0).abs() < 0.1, "probability Q_c = {probability}");
}
