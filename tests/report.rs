//! `alam report` and `alam eval` as a user reads them: per group a table of scores with 95%
//! intervals and per-seed values, ALaM's comparisons with Welch's and permutation p-values,
//! a report folder that never mixes two reports (issue 21.4), and `eval`'s spread over episodes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

fn alam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alam")).args(args).output().expect("the alam binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alam-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(out: Output) -> (String, String) {
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "should succeed: {stderr}");
    (stdout, stderr)
}

fn report(runs: &Path, out: &Path) -> Output {
    alam(&["report", "--runs", runs.to_str().unwrap(), "--out", out.to_str().unwrap()])
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// One tiny sweep for every test here: SAC, SAC-Lag, FAC and ALaM on the double integrator,
/// seeds 0–2, 250 steps of 16-unit networks.
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tmp("base");
        let mut args = vec!["sweep", "--envs", "double-integrator", "--algos", "sac,lag,fac,alam", "--seeds", "0,1,2"];
        args.extend_from_slice(&["--steps", "250", "--out", dir.to_str().unwrap()]);
        for set in ["hidden=16", "batch_size=16", "learning_starts=64", "eval_every=125", "probe_every=50"] {
            args.extend_from_slice(&["--set", set]);
        }
        ok(alam(&args));
        dir
    })
}

/// The base sweep's runs of `algos`, copied into a new folder.
fn runs_of(name: &str, algos: &[&str]) -> PathBuf {
    let dir = tmp(name);
    for e in std::fs::read_dir(base()).unwrap() {
        let e = e.unwrap();
        let run = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() && algos.iter().any(|a| run.starts_with(&format!("double-integrator-{a}-s"))) {
            copy_dir(&e.path(), &dir.join(&run));
        }
    }
    dir
}

#[test]
fn the_report_gives_intervals_per_seed_values_and_tests() {
    let (runs, out) = (runs_of("table", &["sac", "lag", "fac", "alam"]), tmp("table-out"));
    let (stdout, _) = ok(report(&runs, &out));
    let s = summary(&out);
    // summary.json: per group and score the mean, its interval around it and the values.
    for g in s["groups"].as_array().unwrap() {
        assert_eq!(g["seeds"], 3, "{g}");
        assert_eq!(g["scored_runs"].as_array().unwrap().len(), 3);
        let r = &g["final_return"];
        let (mean, lo, hi) =
            (r["mean"].as_f64().unwrap(), r["ci95"][0].as_f64().unwrap(), r["ci95"][1].as_f64().unwrap());
        let values: Vec<f64> = r["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(values.len(), 3);
        assert!((values.iter().sum::<f64>() / 3.0 - mean).abs() < 1e-9 * (1.0 + mean.abs()), "{r}");
        let (min, max) = values.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let eps = 1e-9 * (1.0 + mean.abs());
        assert!(min - eps <= lo && lo <= mean + eps && mean <= hi + eps && hi <= max + eps, "{r}");
    }
    // The claims ALaM is judged on: C1 against FAC and SAC-Lag (no PID-Lag here), C2–C4
    // against FAC. SAC is no rival and `cost_value_auc` is compared with nothing.
    let comparisons = s["comparisons"].as_array().unwrap();
    let pairs: BTreeSet<(String, String)> = comparisons
        .iter()
        .map(|c| (c["score"].as_str().unwrap().to_string(), c["b"].as_str().unwrap().to_string()))
        .collect();
    for (score, rival) in [
        ("final_return", "lag"),
        ("final_return", "fac"),
        ("final_violations", "lag"),
        ("train_violations_last10", "fac"),
        ("cost_std_second_half", "fac"),
        ("lambda_std_second_half", "fac"),
        ("lambda_change_second_half", "fac"),
        ("calibration_auc", "fac"),
    ] {
        assert!(pairs.contains(&(score.into(), format!("double-integrator-{rival}"))), "{score} vs {rival}: {pairs:?}");
    }
    assert_eq!(comparisons.len(), 3 * 2 + 4, "{pairs:?}");
    let group = |name: &str| s["groups"].as_array().unwrap().iter().find(|g| g["group"] == name).unwrap().clone();
    for c in comparisons {
        assert_eq!(c["a"], "double-integrator-alam");
        assert_eq!((c["n_a"].as_u64(), c["n_b"].as_u64()), (Some(3), Some(3)));
        let score = c["score"].as_str().unwrap();
        let (ma, mb) = (c["mean_a"].as_f64().unwrap(), c["mean_b"].as_f64().unwrap());
        assert_eq!(group("double-integrator-alam")[score]["mean"].as_f64(), Some(ma));
        assert_eq!(group(c["b"].as_str().unwrap())[score]["mean"].as_f64(), Some(mb));
        assert!((c["diff"].as_f64().unwrap() - (ma - mb)).abs() < 1e-12);
        // 3 vs 3 seeds: an exact permutation test over C(6, 3) = 20 splits, never below 2/20.
        let p = c["p_permutation"].as_f64().unwrap();
        assert!((p * 20.0 - (p * 20.0).round()).abs() < 1e-9 && p >= 0.1 - 1e-12, "{c}");
        if let Some(p) = c["p_welch"].as_f64() {
            assert!((0.0..=1.0).contains(&p), "{c}");
        }
    }
    // The printed table: a block per group, each score with its interval and seeds, the
    // comparisons and the small-sample warning.
    assert!(stdout.contains("double-integrator-alam  n = 3\n"), "{stdout}");
    let line = stdout.lines().find(|l| l.trim_start().starts_with("final_return")).unwrap();
    assert!(line.contains('[') && line.contains("seeds: "), "{line}");
    assert_eq!(line.split("seeds: ").nth(1).unwrap().split_whitespace().count(), 3, "{line}");
    assert!(stdout.contains("double-integrator-alam vs double-integrator-fac, final_violations"), "{stdout}");
    assert!(stdout.contains("(Welch)") && stdout.contains("(permutation)"), "{stdout}");
    assert!(
        stdout.contains(
            "warning: n = 3 per group: a difference smaller than ~2.3 pooled SDs cannot be told from noise at 5%"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("wrote ") && stdout.contains("scores-double-integrator.svg"), "{stdout}");
    let svg = std::fs::read_to_string(out.join("scores-double-integrator.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("calibration_auc") && svg.contains("alam"), "scores figure");
    // Reproducible to the last digit: the resampling RNG has a fixed seed.
    let again = tmp("table-again");
    ok(report(&runs, &again));
    assert_eq!(summary(&out)["comparisons"], summary(&again)["comparisons"]);
    assert_eq!(summary(&out)["groups"], summary(&again)["groups"]);
}

/// A group's per-seed values are in seed order, as a number: seeds 8, 9, 10 read 8, 9, 10, not
/// 10, 8, 9 as their folder names sort.
#[test]
fn per_seed_values_are_in_seed_order() {
    let (plain, plain_out) = (runs_of("order-plain", &["alam"]), tmp("order-plain-out"));
    let (plain_stdout, _) = ok(report(&plain, &plain_out));
    // The same three runs as seeds 8, 9 and 10.
    let (renamed, renamed_out) = (tmp("order"), tmp("order-out"));
    for (from, to) in [(0, 8), (1, 9), (2, 10)] {
        let run = |seed: u32| format!("double-integrator-alam-s{seed}");
        copy_dir(&plain.join(run(from)), &renamed.join(run(to)));
    }
    let (stdout, _) = ok(report(&renamed, &renamed_out));
    let group = summary(&renamed_out)["groups"][0].clone();
    let scored: Vec<&str> = group["scored_runs"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(scored, ["double-integrator-alam-s8", "double-integrator-alam-s9", "double-integrator-alam-s10"]);
    // Seed 0's run is seed 8's now, and so on: the values, and the printed line, as before.
    let values = &summary(&plain_out)["groups"][0]["final_return"]["values"];
    assert_eq!(&group["final_return"]["values"], values);
    let line = |s: &str| s.lines().find(|l| l.trim_start().starts_with("final_return")).map(str::to_string);
    assert_eq!(line(&stdout), line(&plain_stdout), "{stdout}");
}

/// Issue 21.4: files of an older report that the new one does not write are gone; what is
/// not a report file (another report's folder) is kept.
#[test]
fn a_new_report_leaves_no_stale_figure() {
    let (with_maps, sac_only, out) = (runs_of("stale-a", &["alam", "sac"]), runs_of("stale-b", &["sac"]), tmp("stale"));
    let out = out.join("reports");
    ok(report(&with_maps, &out));
    assert!(out.join("heatmaps-double-integrator.svg").is_file(), "the case under test: {:?}", names(&out));
    std::fs::create_dir(out.join("batched")).unwrap();
    std::fs::write(out.join("batched/summary.json"), "another report").unwrap();
    ok(report(&sac_only, &out));
    let want: BTreeSet<String> = [
        "batched",
        "curves-double-integrator.svg",
        "roc-double-integrator.svg",
        "scores-double-integrator.svg",
        "summary.json",
    ]
    .map(String::from)
    .into();
    assert_eq!(names(&out), want);
    assert_eq!(std::fs::read_to_string(out.join("batched/summary.json")).unwrap(), "another report");
    assert_eq!(summary(&out)["runs_dir"], sac_only.to_str().unwrap());
    assert_eq!(names(out.parent().unwrap()), ["reports".to_string()].into(), "no working folder is left");
}

/// Issue 21.4: a report stopped by SIGTERM at any point leaves the previous complete report
/// or the new one, never a mix. The new report is made slow (600 runs): it is killed at tenths
/// of its measured duration, and, since writing is its last few percent, also as soon as
/// anything beside or in the report folder changes (a file of the new report being written).
/// Kills must land while it runs, and some while it writes.
#[test]
fn a_killed_report_leaves_one_consistent_report() {
    let (old_runs, out_root) = (runs_of("kill-old", &["alam", "sac"]), tmp("kill"));
    let out = out_root.join("reports");
    ok(report(&old_runs, &out));
    let old_files: Vec<(String, Vec<u8>)> =
        names(&out).into_iter().map(|n| (n.clone(), std::fs::read(out.join(&n)).unwrap())).collect();
    // The new report: SAC's three seeds copied into 200 variant groups (no heat maps).
    let new_runs = runs_of("kill-new", &["sac"]);
    for v in 0..200 {
        for s in 0..3 {
            let run = format!("double-integrator-sac-v{v}-s{s}");
            copy_dir(&base().join(format!("double-integrator-sac-s{s}")), &new_runs.join(run));
        }
    }
    let reference = tmp("kill-reference").join("reports");
    let t0 = Instant::now();
    ok(report(&new_runs, &reference));
    let full = t0.elapsed();
    let new_files: Vec<(String, Vec<u8>)> =
        names(&reference).into_iter().map(|n| (n.clone(), std::fs::read(reference.join(&n)).unwrap())).collect();
    assert!(!new_files.iter().any(|(n, _)| n.starts_with("heatmaps")));
    assert!(old_files.iter().any(|(n, _)| n.starts_with("heatmaps")), "the case under test");
    let is = |files: &[(String, Vec<u8>)]| {
        names(&out) == files.iter().map(|(n, _)| n.clone()).collect()
            && files.iter().all(|(n, bytes)| std::fs::read(out.join(n)).ok().as_ref() == Some(bytes))
    };
    let restore_old = || {
        std::fs::remove_dir_all(&out).unwrap();
        std::fs::create_dir(&out).unwrap();
        for (name, bytes) in &old_files {
            std::fs::write(out.join(name), bytes).unwrap();
        }
    };
    let (mut landed, mut landed_writing) = (0, 0);
    for attempt in 1..=15 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_alam"))
            .args(["report", "--runs", new_runs.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let on_write = attempt > 9;
        if on_write {
            let started = Instant::now();
            while is(&old_files) && names(&out_root).len() == 1 && started.elapsed() < full * 10 {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        } else {
            std::thread::sleep(full * attempt / 10);
        }
        let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success();
        if killed && !child.wait().unwrap().success() {
            landed += 1;
            landed_writing += on_write as usize;
        }
        let _ = child.wait();
        // Whatever the moment, `out` holds one whole report, byte for byte.
        assert!(
            is(&old_files) || is(&new_files),
            "attempt {attempt}: a mix of two reports: {:?}, summary of {}",
            names(&out),
            summary(&out)["runs_dir"]
        );
        if is(&new_files) {
            restore_old();
        }
    }
    assert!(landed > 0 && landed_writing > 0, "kills while running: {landed}, while writing: {landed_writing}");
    // The next report finishes what a killed one left.
    ok(report(&new_runs, &out));
    assert!(is(&new_files));
    assert_eq!(names(&out_root), ["reports".to_string()].into());
}

#[test]
fn eval_gives_the_spread_over_episodes() {
    let weights = base().join("double-integrator-alam-s0/weights.alam");
    let w = weights.to_str().unwrap();
    let (stdout, _) = ok(alam(&["eval", "--weights", w, "--episodes", "4", "--per-episode", "--seed", "7"]));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let each = v["per_episode"].as_array().unwrap();
    assert_eq!(each.len(), 4);
    for key in ["return", "cost", "violations"] {
        let xs: Vec<f64> = each.iter().map(|e| e[key].as_f64().unwrap()).collect();
        let mean = xs.iter().sum::<f64>() / 4.0;
        let std = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 4.0).sqrt();
        let got = |stat: &str| v[format!("{key}_{stat}")].as_f64().unwrap();
        assert!((got("mean") - mean).abs() < 1e-9 * (1.0 + mean.abs()), "{key}: {v}");
        assert!((got("std") - std).abs() < 1e-9 * (1.0 + std), "{key}: {v}");
        assert_eq!(got("min"), xs.iter().copied().fold(f64::MAX, f64::min), "{key}");
        assert_eq!(got("max"), xs.iter().copied().fold(f64::MIN, f64::max), "{key}");
    }
    // Without --per-episode: the same episodes, no list.
    let (plain, _) = ok(alam(&["eval", "--weights", w, "--episodes", "4", "--seed", "7"]));
    let p: serde_json::Value = serde_json::from_str(&plain).unwrap();
    assert!(p.get("per_episode").is_none());
    assert_eq!(p["return_mean"], v["return_mean"]);
    assert_eq!(p["violations_std"], v["violations_std"]);
}
