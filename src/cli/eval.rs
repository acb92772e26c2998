//! `alam eval`: saved weights scored with the deterministic policy, one JSON object on stdout.

use std::path::{Path, PathBuf};

use alam::env::make_env;
use alam::trainer::evaluate_policy;
use alam::{checkpoint, AlamError, Result};

use super::{flag_in, Outcome};

pub(super) fn run(weights: PathBuf, episodes: u64, seed: u64) -> Result<Outcome> {
    flag_in("--episodes", episodes, 1, 100_000, "must be in 1..=100000")?;
    Ok(if eval(&weights, episodes, seed)? { Outcome::Done } else { Outcome::Failed })
}

/// Prints the evaluation; `false` when the policy failed (a non-finite action or state).
fn eval(weights: &Path, episodes: u64, seed: u64) -> Result<bool> {
    let bytes = std::fs::read(weights).map_err(|e| AlamError::Weights(format!("{}: {e}", weights.display())))?;
    let device = burn::tensor::Device::flex();
    // `load` refuses a file whose networks do not fit its own env.
    // Errors name the file they are about.
    let (agent, header) = checkpoint::load(&bytes, &device, None).map_err(|e| match e {
        AlamError::Weights(m) => AlamError::Weights(format!("{}: {m}", weights.display())),
        other => AlamError::Weights(format!("{}: {other}", weights.display())),
    })?;
    let mut env = make_env(header.config.env, seed);
    let e = pollster::block_on(evaluate_policy(&agent, env.as_mut(), episodes))?;
    println!(
        "{}",
        serde_json::json!({
            "env": header.config.env, "algo": header.config.algo, "episodes": episodes,
            "return_mean": e.return_mean, "cost_mean": e.cost_mean, "violations_mean": e.violations_mean,
            "non_finite_episodes": e.non_finite_episodes, "failed": e.non_finite_episodes > 0,
        })
    );
    if e.non_finite_episodes > 0 {
        eprintln!(
            "error: the policy failed: {} of {episodes} episodes met a non-finite action or state \
             (each counted as a violation)",
            e.non_finite_episodes
        );
    }
    Ok(e.non_finite_episodes == 0)
}
