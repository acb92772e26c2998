//! The page's pretrained demo: its run file carries the run's history (`alam embed-history`),
//! and watching its policy act (`watch::Watcher`) shows `alam eval`'s episodes and changes
//! nothing of the run.

mod single;
use single::Single;
use std::path::PathBuf;
use std::process::{Command, Output};

use alam::checkpoint;
use alam::config::{Algo, TrainConfig};
use alam::evaluation::evaluate_policy;
use alam::metrics::{Record, HISTORY_CAP};
use alam::run::read_metrics;
use alam::trainer::Trainer;
use alam::watch::{Watcher, WATCH_SEED};
use alam::EnvKind;
use burn::tensor::Device;

fn alam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alam")).args(args).output().expect("the alam binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alam-demo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "failed: {stderr}");
    stderr
}

fn small(env: EnvKind, total_steps: u64) -> TrainConfig {
    let mut cfg = TrainConfig::preset(env, Algo::Alam);
    (cfg.hidden, cfg.batch_size, cfg.learning_starts, cfg.total_steps, cfg.log_every) = (16, 32, 64, total_steps, 10);
    (cfg.eval_every, cfg.probe_every) = (100, 50);
    cfg
}

/// A record with its timing fields zeroed (they differ between two runs of the same seed).
fn untimed(r: &Record) -> Record {
    let mut r = r.clone();
    if let Record::Update { updates_per_s, env_steps_per_s, .. } = &mut r {
        (*updates_per_s, *env_steps_per_s) = (0.0, 0.0);
    }
    r
}

/// The same records, numbers to 1e-12 relative (JSON text does not round-trip the last bit of
/// an f64 through serde_json's default parser).
fn assert_same(got: &[Record], want: &[Record]) {
    fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        use serde_json::Value::{Array, Number, Object};
        match (a, b) {
            (Number(x), Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
            }
            (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
            (Object(x), Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w))),
            _ => a == b,
        }
    }
    assert_eq!(got.len(), want.len(), "every record");
    for (g, w) in got.iter().zip(want) {
        let (g, w) = (serde_json::to_value(g).unwrap(), serde_json::to_value(w).unwrap());
        assert!(same(&g, &w), "{g} != {w}");
    }
}

#[test]
fn embed_history_writes_the_runs_records_into_its_file_and_keeps_the_networks() {
    let dir = tmp("embed");
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    ok(alam(&[
        "train",
        "--env",
        "double-integrator",
        "--algo",
        "alam",
        "--steps",
        "400",
        "--quiet",
        "--out",
        run_s,
        "--set",
        "hidden=16",
        "--set",
        "batch_size=32",
        "--set",
        "learning_starts=100",
        "--set",
        "eval_every=200",
        "--set",
        "probe_every=100",
        "--set",
        "log_every=20",
    ]));
    let weights = run.join("weights.alam");
    let before = std::fs::read(&weights).unwrap();
    let (_, plain) = checkpoint::load(&before, &Device::flex(), None).unwrap();
    assert!(plain.history.is_empty(), "alam train's file has no history of its own");

    // --out: a copy with the history; the run's own file is left as it was.
    let copy = dir.join("demo.alam");
    let said = ok(alam(&["embed-history", "--run", run_s, "--out", copy.to_str().unwrap()]));
    assert_eq!(std::fs::read(&weights).unwrap(), before);
    let records = read_metrics(&run.join("metrics.jsonl")).unwrap();
    assert!(said.contains(&format!("history of {} records (of {} in", records.len(), records.len())), "{said}");
    let (agent, header) = checkpoint::load(&std::fs::read(&copy).unwrap(), &Device::flex(), None).unwrap();
    let want: Vec<Record> = records.iter().map(Record::for_history).collect();
    assert_same(&header.history, &want);
    assert!(records.iter().any(|r| matches!(r, Record::Probe { lambda_grid, .. } if !lambda_grid.is_empty())));
    assert!(header.history.iter().all(|r| !matches!(r, Record::Probe { lambda_grid, .. } if !lambda_grid.is_empty())));
    for kind in ["episode", "update", "eval", "probe"] {
        assert!(
            header.history.iter().any(|r| r.to_json_line().contains(&format!("\"kind\":\"{kind}\""))),
            "no {kind} record"
        );
    }
    // The networks, config and counters are the file's own: the same file once the history is
    // taken out again.
    assert_eq!((header.config, header.steps, header.updates), (plain.config.clone(), plain.steps, plain.updates));
    assert_eq!(checkpoint::save(&agent, header.steps).unwrap(), before);
    // `alam eval` reads it as before.
    ok(alam(&["eval", "--weights", copy.to_str().unwrap(), "--episodes", "1"]));

    // Without --out the run's file is replaced; records after the file's step are left out.
    let mut lines = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    lines.push_str(
        &Record::Episode { step: 401, episode: 99, ret: 0.0, cost: 0.0, violations: 0, length: 1 }.to_json_line(),
    );
    lines.push('\n');
    std::fs::write(run.join("metrics.jsonl"), lines).unwrap();
    let said = ok(alam(&["embed-history", "--run", run_s]));
    assert!(said.contains(&format!("history of {} records (of {} in", records.len(), records.len() + 1)), "{said}");
    let (_, header) = checkpoint::load(&std::fs::read(&weights).unwrap(), &Device::flex(), None).unwrap();
    assert_same(&header.history, &want);
    assert!(!run.join("weights.alam.tmp").exists());
}

#[test]
fn embed_history_refuses_a_folder_without_a_run_by_name() {
    let dir = tmp("refuse");
    let out = alam(&["embed-history", "--run", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && !stderr.contains("panicked at"), "{stderr}");
    assert!(stderr.contains("weights.alam"), "{stderr}");
}

#[test]
fn a_history_keeps_the_newest_records_without_probe_grids() {
    let records: Vec<Record> = (0..HISTORY_CAP as u64 + 10)
        .map(|step| Record::Probe {
            step,
            lambda_mean: 1.0,
            lambda_std: 0.0,
            lambda_max: 1.0,
            cost_value_mean: 0.0,
            flagged_frac: 0.0,
            calibration_auc: None,
            cost_value_auc: None,
            lambda_grid: vec![1.0; 4],
            cost_value_grid: vec![0.0; 4],
        })
        .collect();
    let history = alam::metrics::bounded_history(&records);
    assert_eq!(history.len(), HISTORY_CAP);
    assert_eq!(history[0].step(), 10);
    assert!(history.iter().all(|r| matches!(
        r,
        Record::Probe { lambda_grid, cost_value_grid, .. } if lambda_grid.is_empty() && cost_value_grid.is_empty()
    )));
}

/// The watched episodes are `alam eval`'s on its default seed: the page shows what the CLI scores.
#[test]
fn watching_shows_the_deterministic_episodes_alam_eval_scores() {
    let mut t = Single::new(small(EnvKind::DoubleIntegrator, 300), &Device::flex()).unwrap();
    t.run_to_end().unwrap();
    let t = t.trainer();
    let mut watcher = Watcher::new(EnvKind::DoubleIntegrator, WATCH_SEED);
    let mut episodes = Vec::new();
    while episodes.len() < 3 {
        episodes.extend(watcher.step_blocking(t.agent()).unwrap());
    }
    let mut env = alam::env::make_env(EnvKind::DoubleIntegrator, WATCH_SEED);
    let e = pollster::block_on(evaluate_policy(t.agent(), env.as_mut(), 3)).unwrap();
    let mean = |f: fn(&alam::watch::WatchedEpisode) -> f64| episodes.iter().map(f).sum::<f64>() / 3.0;
    assert!((mean(|w| w.ret) - e.return_mean).abs() < 1e-9, "{episodes:?} vs {e:?}");
    assert_eq!(mean(|w| w.violations as f64), e.violations_mean);
    assert_eq!(episodes.iter().map(|w| w.episode).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(watcher.episodes(), 3);
    assert_eq!(watcher.steps(), episodes.iter().map(|w| w.length).sum::<u64>());
    assert_eq!(watcher.violations(), episodes.iter().map(|w| w.violations).sum::<u64>());
}

/// A weights-only file's header (as JSON) and every parameter's value, in order: what it holds,
/// whatever ids its parameters were given.
fn contents(file: &[u8]) -> (String, Vec<f32>) {
    let (agent, header) = checkpoint::load(file, &Device::flex(), None).unwrap();
    let params = alam::agent::readback::flatten_params(&agent.nets());
    let values = alam::agent::read_floats(burn::tensor::Tensor::cat(params, 0)).unwrap();
    (serde_json::to_string(&header).unwrap(), values)
}

/// Watching a loaded run changes nothing of it: the page's order — the settling read that makes
/// the acting policy, then watched steps — followed by training gives the same records and the
/// same file as training the loaded run at once.
#[test]
fn watching_then_training_on_is_training_on_at_once() {
    let mut t = Single::new(small(EnvKind::DoubleIntegrator, 200), &Device::flex()).unwrap();
    t.run_to_end().unwrap();
    let t = t.trainer();
    let file = checkpoint::save(t.agent(), t.steps_done()).unwrap();
    let train_on = |watch: bool| {
        let device = Device::flex();
        let (agent, header) = checkpoint::load(&file, &device, None).unwrap();
        let mut t = Single::from(Trainer::resume(agent, header.steps, &device).unwrap()).unwrap();
        let mut records = Vec::new();
        if watch {
            // The page's order: the read that makes the acting policy, the seed written into
            // its agent, then watched steps.
            records.extend(pollster::block_on(t.0.settle()).unwrap().remove(0));
            let t = t.trainer();
            let mut watcher = Watcher::new(EnvKind::DoubleIntegrator, WATCH_SEED);
            for _ in 0..300 {
                watcher.step_blocking(t.agent()).unwrap();
            }
            assert!(watcher.episodes() >= 1);
            assert_eq!((t.steps_done(), t.agent().updates()), (header.steps, header.updates), "no step, no update");
            let again = checkpoint::save(t.agent(), t.steps_done()).unwrap();
            assert_eq!(contents(&again), contents(&file), "the run is as loaded");
        }
        for _ in 0..250 {
            records.extend(t.step().unwrap());
        }
        assert!(t.0.updates() > header.updates, "it trains on");
        let t = t.trainer();
        (
            records.iter().map(untimed).collect::<Vec<_>>(),
            contents(&checkpoint::save(t.agent(), t.steps_done()).unwrap()),
        )
    };
    let (watched, watched_file) = train_on(true);
    let (direct, direct_file) = train_on(false);
    assert_eq!(watched, direct);
    assert_eq!(watched_file, direct_file);
}

/// The shipped demo (scripts/pretrain.sh) carries its run's curves for the page's charts, and
/// stays safe over many more watched episodes than a visitor's first few: the page watches on
/// `alam eval`'s seed, so these are the episodes it shows.
#[test]
fn the_shipped_demo_carries_its_training_history_and_stays_safe_when_watched() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/pretrained/point-goal-alam.alam")).unwrap();
    let (agent, header) = checkpoint::load(&bytes, &Device::flex(), None).unwrap();
    let mut watcher = Watcher::new(header.config.env, WATCH_SEED);
    let (mut ret, mut violations) = (0.0, 0);
    while watcher.episodes() < 100 {
        if let Some(e) = watcher.step_blocking(&agent).unwrap() {
            (ret, violations) = (ret + e.ret, violations + e.violations);
        }
    }
    assert!(ret / 100.0 >= 60.0, "return {}", ret / 100.0);
    assert!(violations as f64 / 100.0 <= 0.5, "{} violating steps per episode", violations as f64 / 100.0);
    let count = |kind: &str| {
        header.history.iter().filter(|r| r.to_json_line().contains(&format!("\"kind\":\"{kind}\""))).count()
    };
    assert!(count("episode") >= 50, "{} episodes", count("episode"));
    for kind in ["update", "eval", "probe"] {
        assert!(count(kind) >= 1, "no {kind} record");
    }
    assert!(header.history.iter().all(|r| r.step() <= header.steps));
    assert_eq!(header.history.last().map(Record::step), Some(header.steps));
    assert!(bytes.len() < 400_000, "{} bytes: a first visit fetches it", bytes.len());
}
