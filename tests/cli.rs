//! The `alam` binary as a user meets it: bad input exits non-zero with a message (never a
//! panic), a run writes its files, and the same seed writes the same metrics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn alam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alam")).args(args).output().expect("the alam binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alam-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Fails unless the command failed cleanly with a message containing `needle`.
fn refused(out: Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(!stderr.contains("panicked at"), "a panic is a bug: {stderr}");
    assert!(stderr.contains(needle), "expected `{needle}` in: {stderr}");
}

const TINY: [&str; 12] = [
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
];

fn train(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--env", "double-integrator", "--algo", "alam", "--steps", "400", "--quiet", "--out"];
    let out = out.to_str().unwrap();
    args.push(out);
    args.extend_from_slice(&TINY);
    args.extend_from_slice(extra);
    alam(&args)
}

#[test]
fn bad_flags_and_values_are_refused() {
    refused(alam(&["train", "--env", "moon-lander"]), "moon-lander");
    refused(alam(&["train", "--algo", "ppo"]), "ppo");
    refused(alam(&["train", "--set", "rho=-1"]), "`rho`");
    refused(alam(&["train", "--set", "batch_size=0"]), "`batch_size`");
    refused(alam(&["train", "--set", "actor_lr=NaN"]), "actor_lr");
    refused(alam(&["train", "--set", "rhoo=1"]), "rhoo");
    refused(alam(&["sweep", "--shard", "4/4"]), "shard");
    refused(alam(&["sweep", "--population", "0"]), "population");
}

#[test]
fn bad_config_files_are_refused() {
    let dir = tmp("config");
    let missing = dir.join("missing-field.json");
    let mut cfg: serde_json::Value = serde_json::from_slice(&alam(&["config"]).stdout).unwrap();
    cfg.as_object_mut().unwrap().remove("multiplier_lr");
    std::fs::write(&missing, cfg.to_string()).unwrap();
    refused(alam(&["train", "--config", missing.to_str().unwrap()]), "missing field `multiplier_lr`");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{ not json").unwrap();
    refused(alam(&["train", "--config", garbage.to_str().unwrap()]), "garbage.json");
    refused(alam(&["train", "--config", dir.join("absent.json").to_str().unwrap()]), "absent.json");
}

#[test]
fn bad_weights_are_refused() {
    let dir = tmp("weights");
    let junk = dir.join("junk.alam");
    std::fs::write(&junk, b"definitely not weights").unwrap();
    refused(alam(&["eval", "--weights", junk.to_str().unwrap()]), "bad weights file");
    refused(alam(&["eval", "--weights", dir.join("absent.alam").to_str().unwrap()]), "absent.alam");

    let run = dir.join("run");
    assert!(train(&run, &[]).status.success());
    let bytes = std::fs::read(run.join("weights.alam")).unwrap();
    let truncated = dir.join("truncated.alam");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    refused(alam(&["eval", "--weights", truncated.to_str().unwrap()]), "truncated or corrupted");
}

#[test]
fn train_writes_its_files_and_eval_reads_them() {
    let run = tmp("train");
    let out = train(&run, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for f in ["metrics.jsonl", "config.json", "weights.alam"] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let kinds: Vec<String> = metrics
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    for k in ["episode", "update", "eval", "probe"] {
        assert!(kinds.iter().any(|x| x == k), "no `{k}` record");
    }
    let out = alam(&["eval", "--weights", run.join("weights.alam").to_str().unwrap(), "--episodes", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["episodes"], 2);
    assert!(v["return_mean"].as_f64().unwrap().is_finite());
}

/// Throughput fields are wall-clock measurements; everything else must match bit for bit.
fn without_timing(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("updates_per_s");
            o.remove("env_steps_per_s");
            v
        })
        .collect()
}

#[test]
fn same_seed_same_metrics() {
    let (a, b, c) = (tmp("seed-a"), tmp("seed-b"), tmp("seed-c"));
    for (dir, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        assert!(train(dir, &["--seed", seed]).status.success());
    }
    let (ma, mb, mc) = (
        without_timing(&a.join("metrics.jsonl")),
        without_timing(&b.join("metrics.jsonl")),
        without_timing(&c.join("metrics.jsonl")),
    );
    assert!(ma.len() > 10);
    assert_eq!(ma, mb, "same seed, different metrics");
    assert_ne!(ma, mc, "a different seed should give a different run");
}

#[test]
fn sweep_shards_split_the_grid_and_resume() {
    let out = tmp("sweep");
    let o = out.to_str().unwrap();
    let base =
        ["sweep", "--envs", "double-integrator", "--algos", "sac,alam", "--seeds", "0,1", "--steps", "150", "--out", o];
    for shard in ["0/2", "1/2"] {
        let mut args = base.to_vec();
        args.extend_from_slice(&["--shard", shard]);
        args.extend_from_slice(&TINY);
        let r = alam(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    }
    let mut runs: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    runs.sort();
    assert_eq!(
        runs,
        [
            "double-integrator-alam-s0",
            "double-integrator-alam-s1",
            "double-integrator-sac-s0",
            "double-integrator-sac-s1"
        ]
    );
    // Running shard 0 again skips what is done.
    let mut args = base.to_vec();
    args.extend_from_slice(&["--shard", "0/2"]);
    args.extend_from_slice(&TINY);
    let r = alam(&args);
    assert!(String::from_utf8_lossy(&r.stderr).contains("already done"));
}

#[test]
fn report_scores_a_sweep_and_draws_its_figures() {
    let runs = tmp("report-runs");
    let out = tmp("report-out");
    let r = runs.to_str().unwrap();
    let mut args = vec![
        "sweep",
        "--envs",
        "double-integrator",
        "--algos",
        "sac,fac,alam",
        "--seeds",
        "0,1",
        "--steps",
        "400",
        "--out",
        r,
    ];
    args.extend_from_slice(&TINY);
    assert!(alam(&args).status.success());
    // An unfinished run (metrics stop early) is left out, not scored.
    let partial = runs.join("double-integrator-alam-s9");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::copy(runs.join("double-integrator-alam-s0/config.json"), partial.join("config.json")).unwrap();
    std::fs::write(
        partial.join("metrics.jsonl"),
        "{\"kind\":\"eval\",\"step\":200,\"return_mean\":1,\"cost_mean\":0,\"violations_mean\":0,\"episodes\":1}\n",
    )
    .unwrap();

    let done = alam(&["report", "--runs", r, "--out", out.to_str().unwrap()]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stderr).contains("unfinished"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let groups = summary["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    let alam_group = groups.iter().find(|g| g["algo"] == "alam").unwrap();
    assert_eq!(alam_group["seeds"], 2);
    let auc = alam_group["calibration_auc"]["mean"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&auc), "{auc}");
    // SAC has no multiplier: its λ ≡ 0 ranks nothing, chance exactly.
    let sac = groups.iter().find(|g| g["algo"] == "sac").unwrap();
    assert_eq!(sac["calibration_auc"]["mean"].as_f64(), Some(0.5));
    for fig in ["curves-double-integrator.svg", "roc-double-integrator.svg", "heatmaps-double-integrator.svg"] {
        let svg = std::fs::read_to_string(out.join(fig)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("alam"), "{fig}");
    }
    refused(alam(&["report", "--runs", out.to_str().unwrap()]), "no runs");
}

/// Every number of two metrics files, timing apart, agrees to `tol` (relative), kind by kind.
fn assert_close_metrics(a: &Path, b: &Path, tol: f64) {
    fn walk(x: &serde_json::Value, y: &serde_json::Value, tol: f64, at: &str) {
        match (x, y) {
            (serde_json::Value::Object(p), serde_json::Value::Object(q)) => {
                assert_eq!(p.keys().collect::<Vec<_>>(), q.keys().collect::<Vec<_>>(), "{at}");
                for (k, v) in p {
                    if k != "updates_per_s" && k != "env_steps_per_s" {
                        walk(v, &q[k], tol, &format!("{at}.{k}"));
                    }
                }
            }
            (serde_json::Value::Array(p), serde_json::Value::Array(q)) => {
                assert_eq!(p.len(), q.len(), "{at}");
                p.iter().zip(q).for_each(|(v, w)| walk(v, w, tol, at));
            }
            (serde_json::Value::Number(p), serde_json::Value::Number(q)) => {
                let (p, q) = (p.as_f64().unwrap(), q.as_f64().unwrap());
                assert!((p - q).abs() <= tol * (1.0 + p.abs()), "{at}: {p} vs {q}");
            }
            _ => assert_eq!(x, y, "{at}"),
        }
    }
    let read = |p: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let (ra, rb) = (read(a), read(b));
    assert_eq!(ra.len(), rb.len(), "{} vs {}: record counts", a.display(), b.display());
    for (k, (x, y)) in ra.iter().zip(&rb).enumerate() {
        walk(x, y, tol, &format!("{}: record {k}", a.display()));
    }
}

#[test]
fn a_batched_sweep_writes_the_runs_a_sweep_of_separate_runs_writes() {
    let (batched, separate, report) = (tmp("pop-batched"), tmp("pop-separate"), tmp("pop-report"));
    let base = ["sweep", "--envs", "double-integrator", "--algos", "pid-lag,alam", "--seeds", "0,1", "--steps", "400"];
    for (dir, mode) in [(&batched, "auto"), (&separate, "off")] {
        let mut args = base.to_vec();
        args.extend_from_slice(&["--out", dir.to_str().unwrap(), "--population", mode]);
        args.extend_from_slice(&TINY);
        let r = alam(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let said_population = String::from_utf8_lossy(&r.stderr).contains("(one population)");
        assert_eq!(said_population, mode == "auto", "{}", String::from_utf8_lossy(&r.stderr));
    }
    let runs = [
        "double-integrator-alam-s0",
        "double-integrator-alam-s1",
        "double-integrator-pid-lag-s0",
        "double-integrator-pid-lag-s1",
    ];
    for run in runs {
        let dir = batched.join(run);
        for f in ["config.json", "metrics.jsonl", "weights.alam", "done"] {
            assert!(dir.join(f).exists(), "{run}: {f} missing");
        }
        // The same records as the run trained alone: the same seed, the same initial weights and
        // noise, one batched update instead of one per seed (so equal to float rounding).
        assert_close_metrics(&dir.join("metrics.jsonl"), &separate.join(run).join("metrics.jsonl"), 1e-2);
        let out = alam(&["eval", "--weights", dir.join("weights.alam").to_str().unwrap(), "--episodes", "2"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["return_mean"].as_f64().unwrap().is_finite());
    }
    let done = alam(&["report", "--runs", batched.to_str().unwrap(), "--out", report.to_str().unwrap()]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    let groups = summary["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert!(groups.iter().all(|g| g["seeds"] == 2), "{groups:?}");
    // A second run of the sweep finds every run done.
    let mut args = base.to_vec();
    args.extend_from_slice(&["--out", batched.to_str().unwrap()]);
    args.extend_from_slice(&TINY);
    let r = String::from_utf8_lossy(&alam(&args).stderr).to_string();
    assert_eq!(r.matches("already done").count(), 4, "{r}");
}

/// `alam config --explain`: every field of `alam config`, one a line, with its default for the
/// env × algo asked for, the range the config's own check enforces, and its doc line.
#[test]
fn config_explain_lists_every_field_with_default_range_and_doc() {
    let line_of = |text: &str, field: &str| -> String {
        let found = text.lines().find(|l| l.split_whitespace().next() == Some(field));
        found.unwrap_or_else(|| panic!("no line for `{field}` in:\n{text}")).to_string()
    };
    let allowed_of = |field: &str, bad: serde_json::Value| match alam::TrainConfig::from_partial_json(
        &serde_json::json!({ field: bad }),
    ) {
        Err(alam::AlamError::Config { allowed, .. }) => allowed,
        other => panic!("{field} = {bad} should be refused by validate: {other:?}"),
    };
    for (env, d) in [("point-goal", "1.0"), ("double-integrator", "0.0")] {
        let out = alam(&["config", "--explain", "--env", env, "--algo", "fac"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let json = alam(&["config", "--env", env, "--algo", "fac"]).stdout;
        let config: serde_json::Value = serde_json::from_slice(&json).unwrap();
        for (field, default) in config.as_object().unwrap() {
            let line = line_of(&text, field);
            let shown = default.as_str().map_or_else(|| default.to_string(), str::to_string);
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words.get(1), Some(&shown.as_str()), "default of `{field}`: {line}");
            assert!(words.len() > 3, "`{field}` has a range and a doc: {line}");
        }
        let threshold = line_of(&text, "cost_threshold");
        assert_eq!(threshold.split_whitespace().nth(1), Some(d), "{threshold}");
        assert!(threshold.contains(allowed_of("cost_threshold", serde_json::json!(-1.0))), "{threshold}");
        assert!(threshold.contains("Threshold d of the state-wise constraint"), "{threshold}");
        for (field, bad) in [
            ("lambda_max", serde_json::json!(0.0)),
            ("multiplier_every", serde_json::json!(0)),
            ("multiplier_steps", serde_json::json!(0)),
            ("cost_budget", serde_json::json!(-1.0)),
        ] {
            assert!(line_of(&text, field).contains(allowed_of(field, bad)), "{field}: {}", line_of(&text, field));
        }
        assert!(line_of(&text, "algo").contains("sac, lag, pid-lag, fac, alam"));
    }
}
