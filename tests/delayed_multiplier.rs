//! A delayed multiplier (m = 1000) must not leak: every update's λ pass used to keep an autodiff
//! graph that was never backpropagated when no multiplier step was due, so memory and the time
//! per update grew with every update (docs/method.md §3c; 1,000 updates took 12.8 s at m = 10⁶
//! against 1.1 s at m = 1). One test alone in its process, since it reads the process's memory.

use alam::agent::population::PopulationAgent;
use alam::agent::Agent;
use alam::replay::Batch;
use alam::{Algo, EnvKind, TrainConfig};
use burn::tensor::Device;
use rand::SeedableRng;
use std::time::Instant;

/// Resident memory of this process, in MB (Linux: /proc/self/statm, pages of 4 kB).
fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: f64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096.0 / 1e6
}

#[test]
fn a_delayed_multiplier_keeps_update_time_and_memory_flat() {
    let (obs_dim, act_dim, rows) = (3, 1, 16);
    for (algo, anchor) in [(Algo::Fac, false), (Algo::Alam, true), (Algo::Alam, false)] {
        let cfg = TrainConfig {
            hidden: 16,
            batch_size: rows,
            multiplier_every: 1000,
            alam_anchor: anchor,
            ..TrainConfig::preset(EnvKind::DoubleIntegrator, algo)
        };
        // A single run's learner: a population of one.
        let agent = Agent::new(&cfg, obs_dim, act_dim, &Device::flex());
        let states = [agent.handler().state()];
        let mut learner = PopulationAgent::from_agents(&[&agent]).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let batches: Vec<Batch> = (0..8).map(|_| Batch::random(&mut rng, rows, obs_dim, act_dim)).collect();
        // 5,000 updates in five blocks of 1,000: the time and the resident memory after each.
        let mut blocks = Vec::new();
        for block in 0..5 {
            let start = Instant::now();
            for u in 0..1000 {
                learner.update(std::slice::from_ref(&batches[(block * 1000 + u) % batches.len()]), &states);
                if learner.unread_updates() as u64 >= cfg.sync_every {
                    pollster::block_on(learner.sync()).unwrap();
                }
            }
            blocks.push((start.elapsed().as_secs_f64(), rss_mb()));
        }
        eprintln!("{algo} anchor={anchor}: (seconds, MB) per 1,000 updates: {blocks:?}");
        // From the second block on (the first warms allocators up): memory grows by less than
        // 8 MB in 3,000 updates (the leak grew by ~70 MB per 1,000 at hidden 32), and the last
        // block takes at most 3× the fastest earlier one (the leak made the time per update grow
        // superlinearly, ~12× by 1,000 updates; 3× leaves room for a loaded machine's noise).
        let (_, m1) = blocks[1];
        let (t4, m4) = blocks[4];
        let fastest = blocks[1..4].iter().map(|b| b.0).fold(f64::INFINITY, f64::min);
        assert!(m4 - m1 < 8.0, "{algo}: resident memory grew {:.1} MB over 3,000 updates", m4 - m1);
        assert!(t4 < 3.0 * fastest, "{algo}: 1,000 updates took {t4:.2} s at the end, {fastest:.2} s at best before");
    }
}
