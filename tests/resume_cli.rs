//! `alam train --resume`: a run killed with SIGKILL after a checkpoint and resumed ends with
//! the same records as a run that was never stopped (timing fields aside), and the folders
//! that cannot be resumed are refused with a message.

mod single;
use single::Single;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TINY: [&str; 16] = [
    "--set",
    "hidden=8",
    "--set",
    "batch_size=16",
    "--set",
    "learning_starts=64",
    "--set",
    "log_every=20",
    "--set",
    "eval_every=500",
    "--set",
    "eval_episodes=1",
    "--set",
    "checkpoint_every=300",
    "--set",
    "buffer_size=2000",
];

fn alam(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_alam")).args(args).output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("alam-resume-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// The metrics records with their timing fields removed.
fn records(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            if let Some(o) = v.as_object_mut() {
                o.remove("updates_per_s");
                o.remove("env_steps_per_s");
            }
            v
        })
        .collect()
}

fn train_args<'a>(steps: &'a str, out: &'a str) -> Vec<&'a str> {
    let mut a =
        vec!["train", "--env", "double-integrator", "--algo", "alam", "--steps", steps, "--quiet", "--out", out];
    a.extend(TINY);
    a
}

#[test]
fn a_killed_run_resumes_to_the_same_records() {
    let (whole, killed) = (tmp("whole"), tmp("killed"));
    let (w, k) = (whole.to_str().unwrap(), killed.to_str().unwrap());
    let out = alam(&train_args("4000", w));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let mut child =
        Command::new(env!("CARGO_BIN_EXE_alam")).args(train_args("4000", k)).stderr(Stdio::null()).spawn().unwrap();
    let t0 = Instant::now();
    // Kill it once its second checkpoint is there (and records after it are being written).
    loop {
        let at = std::fs::read(killed.join("checkpoint.alam"))
            .ok()
            .and_then(|b| alam::checkpoint::read_header(&b).ok().map(|(h, _)| h.steps));
        if at.is_some_and(|s| s >= 600) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint written");
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = child.id();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let header = alam::checkpoint::read_header(&std::fs::read(killed.join("checkpoint.alam")).unwrap()).unwrap().0;
    assert!(header.steps < 4000, "the run finished before it was killed");
    assert!(killed.join("lock").exists(), "a killed process leaves its lock file behind");

    let out = alam(&["train", "--resume", k, "--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("resuming") && stderr.contains("full training state"), "{stderr}");
    // Its lock is taken over, naming the killed process.
    let note = format!("{}/lock was left by pid {pid} on ", killed.display());
    assert!(stderr.contains(&note) && stderr.contains("which has ended: taken over"), "{stderr}");
    assert!(!killed.join("lock").exists());
    assert_eq!(records(&whole), records(&killed), "the resumed run's records differ from the uninterrupted run's");

    // Finished: refused with what to do; then trained further with --steps.
    let out = alam(&["train", "--resume", k]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has finished (4000 of 4000 steps)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = alam(&["train", "--resume", k, "--steps", "4100", "--quiet"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(records(&killed).last().unwrap()["step"].as_u64().unwrap() > 4000);
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&killed);
}

#[test]
fn folders_that_cannot_be_resumed_are_refused_with_a_message() {
    let empty = tmp("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = empty.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["train", "--resume", e], "nothing to resume"),
        (vec!["train", "--resume", "/nonexistent/alam-run"], "not a folder"),
        (vec!["train", "--resume", e, "--set", "hidden=4"], "cannot be used with"),
        (vec!["train", "--resume", e, "--algo", "sac"], "cannot be used with"),
    ];
    for (args, want) in cases {
        let out = alam(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want) && !stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // A checkpoint that is not a run file.
    std::fs::write(empty.join("checkpoint.alam"), b"ALAMRUN2 garbage").unwrap();
    std::fs::write(empty.join("metrics.jsonl"), b"").unwrap();
    let out = alam(&["train", "--resume", e]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&empty);
}

/// `alam sweep` killed mid-run and run again resumes its unfinished runs from their
/// checkpoints (one run at a time, and as one population) to the records of a sweep that was
/// never stopped.
#[test]
fn a_killed_sweep_resumes_its_unfinished_runs() {
    for population in ["off", "auto"] {
        let (whole, killed) = (tmp(&format!("sweep-whole-{population}")), tmp(&format!("sweep-killed-{population}")));
        let args = |out: &Path| {
            let mut a: Vec<String> = [
                "sweep",
                "--envs",
                "double-integrator",
                "--algos",
                "alam",
                "--seeds",
                "0,1",
                "--steps",
                "3000",
                "--population",
                population,
                "--out",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            a.push(out.to_str().unwrap().into());
            a.extend(TINY.iter().map(|s| s.to_string()));
            a
        };
        let out = Command::new(env!("CARGO_BIN_EXE_alam")).args(args(&whole)).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut child =
            Command::new(env!("CARGO_BIN_EXE_alam")).args(args(&killed)).stderr(Stdio::null()).spawn().unwrap();
        let victim = killed.join("double-integrator-alam-s0");
        let t0 = Instant::now();
        while std::fs::read(victim.join("checkpoint.alam"))
            .ok()
            .and_then(|b| alam::checkpoint::read_header(&b).ok().map(|(h, _)| h.steps))
            .is_none_or(|s| s < 600)
        {
            assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint written");
            std::thread::sleep(Duration::from_millis(2));
        }
        let pid = child.id();
        child.kill().unwrap();
        child.wait().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_alam")).args(args(&killed)).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("resum"), "{population}: nothing was resumed\n{stderr}");
        let note = format!("{}/lock was left by pid {pid} on ", victim.display());
        assert!(stderr.contains(&note), "{population}: the killed sweep's lock is taken over\n{stderr}");
        for seed in ["s0", "s1"] {
            let name = format!("double-integrator-alam-{seed}");
            assert_eq!(
                records(&whole.join(&name)),
                records(&killed.join(&name)),
                "{population} {name}: records differ"
            );
        }
        let _ = std::fs::remove_dir_all(&whole);
        let _ = std::fs::remove_dir_all(&killed);
    }
}

/// Records as a run file's history keeps them (probe grids dropped), timing fields aside.
fn as_history(mut records: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    for r in &mut records {
        if let Some(o) = r.as_object_mut() {
            for grid in ["lambda_grid", "cost_value_grid"] {
                if o.contains_key(grid) {
                    o.insert(grid.into(), serde_json::json!([]));
                }
            }
        }
    }
    records
}

/// A full run file as the page saves it (`WebTrainer.save`: its records as its history, no
/// metrics file), alone in a folder: `alam train --resume` starts the metrics file from the
/// file's history and goes on exactly where the page stopped.
#[test]
fn a_page_run_file_continues_in_the_cli() {
    let (whole, from_page) = (tmp("whole-page"), tmp("from-page"));
    let w = whole.to_str().unwrap();
    let out = alam(&train_args("1500", w));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The page's run: the same config, 700 steps (mid-episode, after the warm-up), saved.
    let cfg =
        alam::config::TrainConfig::from_json(&std::fs::read_to_string(whole.join("config.json")).unwrap()).unwrap();
    let mut trainer = Single::new(cfg, &burn::tensor::Device::flex()).unwrap();
    let mut history = Vec::new();
    while trainer.seed().steps_done() < 700 {
        history.extend(trainer.step().unwrap());
    }
    let bytes = alam::checkpoint::save_run(trainer.trainer(), alam::metrics::bounded_history(&history), None).unwrap();
    std::fs::create_dir_all(&from_page).unwrap();
    std::fs::write(from_page.join("checkpoint.alam"), bytes).unwrap();

    let out = alam(&["train", "--resume", from_page.to_str().unwrap(), "--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("full training state"), "{stderr}");
    let (a, b) = (as_history(records(&whole)), as_history(records(&from_page)));
    assert!(b.len() > history.len(), "the CLI went on past the page's records");
    assert_eq!(a, b, "the page's file continued in the CLI differs from the uninterrupted run");
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&from_page);
}
