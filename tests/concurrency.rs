//! Two `alam` processes on one run folder, for real: a sweep run twice over one `--out` trains
//! each run once (the second skips the runs the first holds and trains the rest); a
//! `train --resume`, `train --out --force` or `embed-history` on a folder another process
//! trains is refused and leaves its files alone; a lock left by a killed process is taken over.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TINY: [&str; 14] = [
    "--set",
    "hidden=8",
    "--set",
    "batch_size=16",
    "--set",
    "learning_starts=64",
    "--set",
    "log_every=20",
    "--set",
    "eval_episodes=1",
    "--set",
    "buffer_size=2000",
    "--set",
    "checkpoint_every=500",
];

fn alam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alam")).args(args).output().unwrap()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_alam")).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
}

fn finish(child: Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("alam-concurrency-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// Waits until `path` exists (a process has taken a lock).
fn wait_for(path: &Path) {
    let t0 = Instant::now();
    while !path.exists() {
        assert!(t0.elapsed() < Duration::from_secs(120), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The pid of a process that has ended.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn stale_lock(dir: &Path) -> u32 {
    let pid = dead_pid();
    std::fs::create_dir_all(dir).unwrap();
    let lock = serde_json::json!({"pid": pid, "host": "this-host", "started": 1, "command": "alam sweep (killed)"});
    std::fs::write(dir.join("lock"), lock.to_string()).unwrap();
    pid
}

#[test]
fn a_sweep_run_twice_on_one_out_trains_each_run_once() {
    let (runs, rep) = (tmp("twice"), tmp("twice-report"));
    let r = runs.to_str().unwrap();
    let mut args = vec!["sweep", "--algos", "sac,alam", "--seeds", "0,1", "--steps", "3000", "--out", r];
    args.extend(TINY);
    // The first takes the sac group (both seeds, one population), the second starts meanwhile.
    let first = spawn(&args);
    let first_pid = first.id();
    wait_for(&runs.join("double-integrator-sac-s1/lock"));
    let second = spawn(&args);
    let ((ok1, err1), (ok2, err2)) = (finish(first), finish(second));
    assert!(ok1 && ok2, "both exit 0:\n--- first:\n{err1}\n--- second:\n{err2}");
    for seed in [0, 1] {
        let name = format!("double-integrator-sac-s{seed}");
        assert!(
            err2.contains(&format!("{name} is being trained by pid {first_pid} on ")),
            "the second names the holder:\n{err2}"
        );
    }
    assert!(err2.contains("2 run(s) held by other processes were skipped"), "{err2}");
    // Each run trained by exactly one process (its `[k/n]` line printed by one of them).
    for name in ["double-integrator-sac-s0", "double-integrator-alam-s0"] {
        let trained =
            [&err1, &err2].iter().filter(|e| e.lines().any(|l| l.starts_with('[') && l.contains(name))).count();
        assert_eq!(trained, 1, "{name}:\n--- first:\n{err1}\n--- second:\n{err2}");
    }
    for run in std::fs::read_dir(&runs).unwrap() {
        let run = run.unwrap().path();
        assert!(run.join("done").exists() && !run.join("lock").exists(), "{}", run.display());
    }
    let out = alam(&["report", "--runs", r, "--out", rep.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("skipped"), "{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rep.join("summary.json")).unwrap()).unwrap();
    for g in summary["groups"].as_array().unwrap() {
        assert_eq!((g["seeds"].as_u64(), g["runs_found"].as_u64()), (Some(2), Some(2)), "{g}");
    }
    // Run a third time, it finds every run done.
    let err = String::from_utf8_lossy(&alam(&args).stderr).into_owned();
    assert_eq!(err.matches("already done, skipped").count(), 4, "{err}");
}

#[test]
fn a_stale_lock_is_taken_over_by_a_sweep_and_a_new_run() {
    let runs = tmp("stale-sweep");
    let dead = stale_lock(&runs.join("double-integrator-alam-s0"));
    let mut args = vec!["sweep", "--algos", "alam", "--steps", "300", "--out", runs.to_str().unwrap()];
    args.extend(TINY);
    let out = alam(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("was left by pid {dead} on this-host")) && err.contains("taken over"), "{err}");
    let run = runs.join("double-integrator-alam-s0");
    assert!(run.join("done").exists() && !run.join("lock").exists());

    // A folder holding nothing but a stale lock is a new run's folder.
    let fresh = tmp("stale-train");
    let dead = stale_lock(&fresh);
    let mut args = vec!["train", "--steps", "300", "--quiet", "--out", fresh.to_str().unwrap()];
    args.extend(TINY);
    let out = alam(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("was left by pid {dead}")), "{err}");
    assert!(fresh.join("weights.alam").exists() && !fresh.join("lock").exists());
}

#[test]
fn a_run_being_trained_is_not_resumed_or_replaced_by_another_process() {
    let run = tmp("resume");
    let d = run.to_str().unwrap();
    let mut args = vec!["train", "--steps", "600", "--quiet", "--out", d];
    args.extend(TINY);
    let out = alam(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!run.join("lock").exists(), "a finished run lets go of its folder");

    let first = spawn(&["train", "--resume", d, "--steps", "4000", "--quiet"]);
    let first_pid = first.id();
    wait_for(&run.join("lock"));
    let metrics_before = std::fs::metadata(run.join("metrics.jsonl")).unwrap().len();
    let holder = format!("in use by pid {first_pid} on ");
    let mut replace = vec!["train", "--steps", "600", "--quiet", "--force", "--out", d];
    replace.extend(TINY);
    for args in [vec!["train", "--resume", d, "--steps", "5000", "--quiet"], replace, vec!["embed-history", "--run", d]]
    {
        let out = alam(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&holder) && err.contains("train --resume"), "{args:?}: {err}");
    }
    let (ok, err) = finish(first);
    assert!(ok, "{err}");
    assert!(!run.join("lock").exists());
    // The refused processes wrote nothing: the run is the first's, whole.
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(metrics.len() as u64 > metrics_before);
    for line in metrics.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let header = alam::checkpoint::read_header(&std::fs::read(run.join("checkpoint.alam")).unwrap()).unwrap().0;
    assert_eq!(header.steps, 4000);

    // A lock its process left behind (killed) is taken over by the next resume.
    let dead = stale_lock(&run);
    let out = alam(&["train", "--resume", d, "--steps", "4200", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("was left by pid {dead}")) && err.contains("taken over"), "{err}");
    // A refused command lets go of the folder too.
    let out = alam(&["train", "--resume", d, "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!run.join("lock").exists(), "{}", String::from_utf8_lossy(&out.stderr));
}
