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

fn stored_config(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap()
}

#[test]
fn a_config_files_values_stand_unless_a_flag_overrides_them() {
    let dir = tmp("precedence");
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&alam(&["config", "--env", "point-goal", "--algo", "fac"]).stdout).unwrap();
    for (k, v) in [
        ("seed", 7),
        ("total_steps", 300),
        ("hidden", 16),
        ("batch_size", 32),
        ("learning_starts", 100),
        ("eval_every", 300),
        ("eval_episodes", 1),
        ("probe_every", 100),
        ("log_every", 20),
    ] {
        cfg[k] = v.into();
    }
    let file = dir.join("c.json");
    std::fs::write(&file, cfg.to_string()).unwrap();
    let f = file.to_str().unwrap();
    let run = |name: &str, extra: &[&str]| -> serde_json::Value {
        let out = dir.join(name);
        let mut args = vec!["train", "--config", f, "--quiet", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let r = alam(&args);
        assert!(r.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&r.stderr));
        stored_config(&out)
    };
    // No flag: every value is the file's.
    assert_eq!(run("file", &[]), cfg);
    // A flag given wins over the file; the file's other values stand; --set wins over both.
    let c = run("flags", &["--env", "double-integrator", "--algo", "alam", "--seed", "3", "--steps", "250"]);
    assert_eq!(
        (&c["env"], &c["algo"], &c["seed"], &c["total_steps"]),
        (&"double-integrator".into(), &"alam".into(), &3.into(), &250.into())
    );
    assert_eq!((&c["hidden"], &c["cost_threshold"]), (&16.into(), &cfg["cost_threshold"]));
    let c = run("set", &["--set", "hidden=8", "--set", "total_steps=200", "--steps", "250"]);
    assert_eq!(
        (&c["hidden"], &c["total_steps"], &c["seed"], &c["env"]),
        (&8.into(), &200.into(), &7.into(), &"point-goal".into())
    );

    // A sweep's axes default to the file's env, algo and seed; given ones win.
    let sweep = |name: &str, extra: &[&str]| -> Vec<String> {
        let out = dir.join(name);
        let mut args = vec!["sweep", "--config", f, "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let r = alam(&args);
        assert!(r.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&r.stderr));
        let mut runs: Vec<String> =
            std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        runs.sort();
        runs
    };
    assert_eq!(sweep("sweep-file", &[]), ["point-goal-fac-s7"]);
    assert_eq!(stored_config(&dir.join("sweep-file/point-goal-fac-s7")), cfg);
    assert_eq!(
        sweep("sweep-flags", &["--algos", "alam", "--seeds", "1,2"]),
        ["point-goal-alam-s1", "point-goal-alam-s2"]
    );
    // The help says the precedence.
    let help = String::from_utf8_lossy(&alam(&["train", "--help"]).stdout).into_owned();
    assert!(help.contains("overrides the file's value") && help.contains("--set overrides both"), "{help}");
}

#[test]
fn values_a_run_cannot_use_are_refused_by_their_setting_and_range() {
    for (set, says) in [
        ("actor_lr=1e300", "`actor_lr` = 1e300 (must be in (0, 1]"),
        ("critic_lr=1e300", "`critic_lr` = 1e300 (must be in (0, 1]"),
        ("alpha_lr=2", "`alpha_lr` = 2 (must be in (0, 1]"),
        ("multiplier_lr=1e300", "`multiplier_lr` = 1e300 (must be in (0, 1]"),
        ("init_alpha=1e300", "`init_alpha` = 1e300 (must be in (0, 1000]"),
        ("cost_threshold=1e300", "`cost_threshold` = 1e300 with cost_gamma = 0.97 (1/(1 − cost_gamma) = 33.3333)"),
        ("rho=1e300", "`rho` = 1e300 (must be in [0, 1e6])"),
        ("rho_max=1e300", "`rho_max` = 1e300 (must be ≥ rho and ≤ 1e6)"),
    ] {
        refused(alam(&["train", "--set", set]), says);
        // A sweep's variant and a config file are checked by the same rule.
        refused(alam(&["sweep", "--variant", &format!("v:{set}")]), says);
    }
    let dir = tmp("ranges");
    let mut cfg: serde_json::Value = serde_json::from_slice(&alam(&["config"]).stdout).unwrap();
    cfg["init_alpha"] = 5000.into();
    std::fs::write(dir.join("c.json"), cfg.to_string()).unwrap();
    refused(alam(&["train", "--config", dir.join("c.json").to_str().unwrap()]), "`init_alpha` = 5000");
}

#[test]
fn a_divergence_names_the_unusual_settings() {
    let run = tmp("diverge-hint");
    // Three learning rates at their largest allowed value, 8 updates a step: the run blows up
    // (measured: within 50 updates), and says which settings are unusual.
    let hot = ["actor_lr=1", "critic_lr=1", "alpha_lr=1", "utd_ratio=8"];
    let out = train(&run, &hot.iter().flat_map(|kv| ["--set", kv]).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let says = "Likely cause, outside the usual range: actor_lr = 1 (usual: 1e-5 to 1e-2), critic_lr = 1 (usual: \
                1e-5 to 1e-2), alpha_lr = 1 (usual: 1e-5 to 1e-2)\n";
    assert!(err.contains(says), "{err}");
}

#[test]
fn negative_and_malformed_numbers_are_refused_with_a_sentence() {
    for (args, says) in [
        (&["sweep", "--shard", "-1/2"][..], "'--shard <SHARD>': must be i/n with 0 ≤ i < n"),
        (&["sweep", "--shard", "2/-1"], "'--shard <SHARD>': must be i/n with 0 ≤ i < n"),
        (&["sweep", "--seeds", "-1"], "a seed must be a whole number in 0..=9007199254740991"),
        (&["sweep", "--seeds", "-1,2"], "'--seeds <SEEDS>': a seed must be a whole number"),
        (&["sweep", "--population", "-1"], "must be auto, off or a number of seeds ≥ 1"),
        (&["train", "--seed", "-1"], "'--seed <SEED>': a seed must be"),
        (&["train", "--steps", "-5"], "'--steps <STEPS>': must be a whole number ≥ 0, not negative"),
        (&["train", "--steps", "1e3"], "'--steps <STEPS>': must be a whole number ≥ 0 (digits only"),
        (&["sweep", "--steps", "-5"], "'--steps <STEPS>': must be a whole number ≥ 0, not negative"),
        (&["eval", "--weights", "w.alam", "--episodes", "-1"], "'--episodes <EPISODES>': must be a whole number ≥ 0"),
        (&["eval", "--weights", "w.alam", "--seed", "-3"], "'--seed <SEED>': a seed must be"),
        (&["bench", "--batch", "-3"], "'--batch <BATCH>': must be a whole number ≥ 0, not negative"),
        (&["bench", "--updates", "99999999999999999999999"], "'--updates <UPDATES>': is too large"),
    ] {
        let out = alam(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says) && !err.contains("unexpected argument"), "{args:?}: {err}");
    }
}

#[test]
fn seeds_take_one_range_everywhere() {
    let too_big = "9007199254740992";
    for args in [
        vec!["train", "--seed", too_big],
        vec!["train", "--seed", "18446744073709551615"],
        vec!["sweep", "--seeds", &format!("0,{too_big}")],
        vec!["eval", "--weights", "w.alam", "--seed", too_big],
    ] {
        refused(alam(&args), "0..=9007199254740991");
    }
    let dir = tmp("seed-range");
    let mut cfg: serde_json::Value = serde_json::from_slice(&alam(&["config"]).stdout).unwrap();
    cfg["seed"] = serde_json::json!(9_007_199_254_740_993u64);
    std::fs::write(dir.join("c.json"), cfg.to_string()).unwrap();
    refused(
        alam(&["train", "--config", dir.join("c.json").to_str().unwrap()]),
        "`seed` = 9007199254740993 (must be a whole number in 0..=9007199254740991",
    );
    // The largest seed trains, and its run file is read back.
    let run = dir.join("max");
    let out = train(&run, &["--seed", "9007199254740991"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stored_config(&run)["seed"], 9_007_199_254_740_991u64);
    let out = alam(&["eval", "--weights", run.join("weights.alam").to_str().unwrap(), "--episodes", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_run_file_from_a_newer_version_says_so() {
    let dir = tmp("newer");
    let run = dir.join("run");
    assert!(train(&run, &[]).status.success());
    for (file, newest) in [("weights.alam", 3), ("checkpoint.alam", 9)] {
        let mut bytes = std::fs::read(run.join(file)).unwrap();
        bytes[7] = b'0' + newest;
        let path = dir.join(format!("newer-{file}"));
        std::fs::write(&path, &bytes).unwrap();
        refused(
            alam(&["eval", "--weights", path.to_str().unwrap()]),
            &format!("written by a newer version of ALaM Playground (format {newest}; this one reads up to 2)"),
        );
    }
    let mut bytes = std::fs::read(run.join("weights.alam")).unwrap();
    bytes[..8].copy_from_slice(b"ALAMRUN0");
    std::fs::write(dir.join("zero.alam"), &bytes).unwrap();
    refused(alam(&["eval", "--weights", dir.join("zero.alam").to_str().unwrap()]), "not an ALaM Playground run file");
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
