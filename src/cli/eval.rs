//! `alam eval`: saved weights scored with the deterministic policy, one JSON object on stdout:
//! the mean, standard deviation, minimum and maximum over the episodes of the return, the cost
//! and the violating steps, and with `--per-episode` each episode's values.

use std::path::{Path, PathBuf};

use alam::env::make_env;
use alam::evaluation::evaluate_policy;
use alam::stats::{mean, std_dev};
use alam::{checkpoint, AlamError, Result};

use super::{flag_in, Outcome};

pub(super) fn run(weights: PathBuf, episodes: u64, seed: u64, per_episode: bool) -> Result<Outcome> {
    flag_in("--episodes", episodes, 1, 100_000, "must be in 1..=100000")?;
    Ok(if eval(&weights, episodes, seed, per_episode)? { Outcome::Done } else { Outcome::Failed })
}

/// One episode's totals.
struct Episode {
    ret: f64,
    cost: f64,
    violations: f64,
}

/// `<name>_mean`, `_std` (population, over the episodes), `_min` and `_max` of one quantity.
fn spread(name: &str, values: &[f64], into: &mut serde_json::Map<String, serde_json::Value>) {
    let (min, max) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    for (stat, v) in [("mean", mean(values)), ("std", std_dev(values)), ("min", min), ("max", max)] {
        into.insert(format!("{name}_{stat}"), v.into());
    }
}

/// Prints the evaluation; `false` when the policy failed (a non-finite action or state).
fn eval(weights: &Path, episodes: u64, seed: u64, per_episode: bool) -> Result<bool> {
    let bytes = std::fs::read(weights).map_err(|e| AlamError::Weights(format!("{}: {e}", weights.display())))?;
    let device = burn::tensor::Device::flex();
    // `load` refuses a file whose networks do not fit its own env.
    // Errors name the file they are about.
    let (agent, header) = checkpoint::load(&bytes, &device, None).map_err(|e| match e {
        AlamError::Weights(m) => AlamError::Weights(format!("{}: {m}", weights.display())),
        other => AlamError::Weights(format!("{}: {other}", weights.display())),
    })?;
    let mut env = make_env(header.config.env, seed);
    // One episode per call: the env carries its RNG from one call to the next and the
    // deterministic policy draws nothing, so these are the episodes of one call for all.
    let (mut runs, mut non_finite) = (Vec::new(), 0);
    for _ in 0..episodes {
        let e = pollster::block_on(evaluate_policy(&agent, env.as_mut(), 1))?;
        non_finite += e.non_finite_episodes;
        runs.push(Episode { ret: e.return_mean, cost: e.cost_mean, violations: e.violations_mean });
    }
    let mut out = serde_json::Map::new();
    out.insert("env".into(), serde_json::json!(header.config.env));
    out.insert("algo".into(), serde_json::json!(header.config.algo));
    out.insert("episodes".into(), episodes.into());
    spread("return", &runs.iter().map(|e| e.ret).collect::<Vec<_>>(), &mut out);
    spread("cost", &runs.iter().map(|e| e.cost).collect::<Vec<_>>(), &mut out);
    spread("violations", &runs.iter().map(|e| e.violations).collect::<Vec<_>>(), &mut out);
    out.insert("non_finite_episodes".into(), non_finite.into());
    out.insert("failed".into(), (non_finite > 0).into());
    if per_episode {
        let each =
            runs.iter().map(|e| serde_json::json!({"return": e.ret, "cost": e.cost, "violations": e.violations}));
        out.insert("per_episode".into(), each.collect::<Vec<_>>().into());
    }
    println!("{}", serde_json::Value::Object(out));
    if non_finite > 0 {
        eprintln!(
            "error: the policy failed: {non_finite} of {episodes} episodes met a non-finite action or state (each counted as a violation)"
        );
    }
    Ok(non_finite == 0)
}
