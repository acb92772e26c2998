//! The divergence guard: a non-finite loss stops training, is reported, and the weights in
//! hand are the last good ones (every network output still finite).

use alam::agent::read_floats;
use alam::config::{Algo, TrainConfig};
use alam::metrics::Record;
use alam::trainer::Trainer;
use alam::EnvKind;
use burn::tensor::Device;

#[test]
fn a_blown_up_critic_stops_training_and_keeps_finite_weights() {
    let mut cfg = TrainConfig::preset(EnvKind::DoubleIntegrator, Algo::Alam);
    // A critic step of 1e30 overflows within a few updates.
    (cfg.hidden, cfg.batch_size, cfg.learning_starts, cfg.total_steps, cfg.critic_lr) = (16, 32, 64, 2_000, 1e30);
    let mut t = Trainer::new(cfg, &Device::flex()).unwrap();
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
    assert_eq!(t.diverged(), Some(message.as_str()));
    // The weights in hand are the ones before the bad update: everything they compute is finite.
    let obs = [0.1f32, -0.4, 0.8, 0.3];
    let (mean, log_std) = t.agent().policy_tensor(&obs);
    let values = [read_floats(mean).unwrap(), read_floats(log_std).unwrap(), read_floats(t.agent().lambda_tensor(&obs)).unwrap(), read_floats(t.agent().cost_value_tensor(&obs)).unwrap()].concat();
    assert!(values.iter().all(|v| v.is_finite()), "{values:?}");
}
