//! `alam bench`: update and env throughput, one JSON object on stdout.

use alam::config::Algo;
use alam::env::EnvKind;
use alam::{bench, AlamError, Result};

use super::{flag_in, Outcome};

// One parameter per flag of the subcommand.
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    updates: u64,
    obs_dim: usize,
    act_dim: usize,
    batch: usize,
    hidden: usize,
    env_steps: u64,
    device: String,
    population: Option<usize>,
    sync_every: u64,
    algo: Algo,
) -> Result<Outcome> {
    // Checked like config fields, before anything is allocated: a zero count would
    // print a throughput as if measured, a zero size panics in the networks.
    flag_in("--updates", updates, 1, 1_000_000, "must be in 1..=1000000")?;
    flag_in("--env-steps", env_steps, 1, 10_000_000_000, "must be in 1..=10000000000")?;
    flag_in("--obs-dim", obs_dim as u64, 1, 1024, "must be in 1..=1024")?;
    flag_in("--act-dim", act_dim as u64, 1, 64, "must be in 1..=64")?;
    flag_in("--batch", batch as u64, 1, 65_536, "must be in 1..=65536 (as batch_size)")?;
    flag_in("--hidden", hidden as u64, 1, 4096, "must be in 1..=4096 (as hidden)")?;
    flag_in("--sync-every", sync_every, 1, 1024, "must be in 1..=1024 (as sync_every)")?;
    if let Some(n) = population {
        flag_in("--population", n as u64, 1, 64, "must be in 1..=64")?;
    }
    let (device, device_name) = bench_device(&device)?;
    if let Some(n) = population {
        let p = bench::population_throughput(n, obs_dim, act_dim, batch, hidden, updates, &device)?;
        let mut out = serde_json::to_value(&p).unwrap_or_default();
        out["impl"] = "burn".into();
        out["device"] = device_name.into();
        out["machine"] = machine().into();
        println!("{out}");
        return Ok(Outcome::Done);
    }
    let upd = bench::update_throughput(obs_dim, act_dim, batch, hidden, updates, sync_every, algo, &device)?;
    let envs: serde_json::Map<String, serde_json::Value> =
        EnvKind::ALL.iter().map(|&k| (k.name().to_string(), bench::env_throughput(k, env_steps).into())).collect();
    let out = serde_json::json!({
        "impl": "burn",
        "device": device_name,
        "machine": machine(),
        "fusion": cfg!(feature = "fusion"),
        "obs_dim": upd.obs_dim, "act_dim": upd.act_dim, "batch": upd.batch, "hidden": upd.hidden,
        "algo": upd.algo, "sync_every": upd.sync_every,
        "updates": upd.updates,
        "sac_alam_updates_per_s": upd.sac_alam_updates_per_s,
        "env_steps_per_s": envs,
    });
    println!("{out}");
    Ok(Outcome::Done)
}

fn bench_device(name: &str) -> Result<(burn::tensor::Device, &'static str)> {
    match name {
        "cpu" => Ok((burn::tensor::Device::flex(), "flex (pure-Rust CPU)")),
        #[cfg(feature = "vulkan")]
        "vulkan" => {
            let d = burn::tensor::Device::wgpu_options()
                .init()
                .map_err(|e| AlamError::Device(format!("Vulkan device: {e}")))?;
            Ok((d, "wgpu on Vulkan"))
        }
        other => Err(AlamError::Device(format!(
            "unknown or not built-in device `{other}` (cpu; vulkan needs `--features vulkan`)"
        ))),
    }
}

/// CPU model and core count, so every bench figure names its machine.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cpu}, {cores} cores")
}
