//! Issue 13: a research workflow you can trust. `sweep`, `report`, `train`, `eval` and `bench`
//! never lose, hide or invent a result: each fault of the issue as a test that failed before
//! its fix.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn alam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_alam")).args(args).output().expect("the alam binary runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alam-workflow-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails unless the command failed cleanly (exit 2) with a message containing `needle`.
fn refused(out: Output, needle: &str) -> String {
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "should be refused: {err}");
    assert!(!err.contains("panicked"), "a panic is a bug: {err}");
    assert!(err.contains(needle), "expected `{needle}` in: {err}");
    err
}

fn ok(out: Output) -> String {
    let err = stderr(&out);
    assert!(out.status.success(), "should succeed: {err}");
    err
}

/// Tiny networks, few steps: `probe_every` 100 and `eval_every` 200 do not divide 250.
const TINY: [&str; 12] = [
    "--set",
    "hidden=16",
    "--set",
    "batch_size=16",
    "--set",
    "learning_starts=64",
    "--set",
    "eval_every=200",
    "--set",
    "probe_every=100",
    "--set",
    "log_every=20",
];

/// Every learning rate at its largest allowed value, 8 updates per step: a run blows up within
/// about 50 updates (measured: update 47 on both seeds).
const HOT: &str = "actor_lr=1,critic_lr=1,alpha_lr=1,multiplier_lr=1,utd_ratio=8";

fn sweep(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["sweep", "--envs", "double-integrator", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&TINY);
    alam(&args)
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn group<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == name)
        .unwrap_or_else(|| panic!("no group {name} in {summary}"))
}

fn last_step(metrics: &Path) -> u64 {
    std::fs::read_to_string(metrics)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].as_u64())
        .max()
        .unwrap()
}

/// Item 1: a run that reached total_steps is finished even if no record fell on its last step.
#[test]
fn finished_runs_whose_last_record_is_not_on_the_last_step_are_scored() {
    let (runs, rep) = (tmp("finished"), tmp("finished-report"));
    ok(sweep(&runs, &["--algos", "alam", "--seeds", "0,1", "--steps", "251"]));
    for s in ["s0", "s1"] {
        assert!(
            last_step(&runs.join(format!("double-integrator-alam-{s}/metrics.jsonl"))) < 251,
            "the case under test"
        );
    }
    ok(alam(&["report", "--runs", runs.to_str().unwrap(), "--out", rep.to_str().unwrap()]));
    let g = summary(&rep);
    let g = group(&g, "double-integrator-alam");
    assert_eq!(g["seeds"], 2, "{g}");
    assert_eq!(g["complete"], true, "{g}");
}

/// Item 2: diverged runs are counted and named in their group, never dropped; a diverged
/// `train` and a sweep with a diverged run exit non-zero (3).
#[test]
fn diverged_runs_are_counted_per_group_and_exit_non_zero() {
    let (runs, rep) = (tmp("diverged"), tmp("diverged-report"));
    let out = sweep(
        &runs,
        &[
            "--algos",
            "alam",
            "--seeds",
            "0,1",
            "--steps",
            "300",
            "--variant",
            "ok:tau=0.005",
            "--variant",
            &format!("hot:{HOT}"),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 run(s) diverged"), "{}", stderr(&out));
    let r = alam(&["report", "--runs", runs.to_str().unwrap(), "--out", rep.to_str().unwrap()]);
    assert!(stderr(&r).contains("diverged"), "{}", stderr(&r));
    assert!(r.status.success(), "{}", stderr(&r));
    let s = summary(&rep);
    assert_eq!(s["diverged"], 2);
    let hot = group(&s, "double-integrator-alam-hot");
    assert_eq!(
        (hot["seeds"].as_u64(), hot["runs_found"].as_u64(), &hot["complete"]),
        (Some(0), Some(2), &serde_json::json!(false)),
        "{hot}"
    );
    let names: Vec<&str> = hot["diverged"].as_array().unwrap().iter().map(|d| d["run"].as_str().unwrap()).collect();
    assert_eq!(names, ["double-integrator-alam-hot-s0", "double-integrator-alam-hot-s1"]);
    assert!(hot["diverged"][0]["step"].as_u64().unwrap() < 300);
    assert_eq!(group(&s, "double-integrator-alam-ok")["seeds"], 2);

    let t = tmp("diverged-train");
    let mut args = vec!["train", "--steps", "300", "--quiet", "--out", t.to_str().unwrap()];
    args.extend_from_slice(&TINY);
    let hot: Vec<String> = HOT.split(',').flat_map(|kv| ["--set".to_string(), kv.to_string()]).collect();
    args.extend(hot.iter().map(String::as_str));
    let out = alam(&args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(t.join("weights.alam").exists(), "the last good weights are kept");
}

/// Item 3: a torn last line skips that run with a warning naming the file; a bad line in the
/// middle is labelled by its file and line, not as a config error; neither aborts the report.
#[test]
fn a_torn_metrics_file_skips_its_run_by_name() {
    let (runs, rep) = (tmp("torn"), tmp("torn-report"));
    ok(sweep(&runs, &["--algos", "alam", "--seeds", "0,1,2", "--steps", "250"]));
    let torn = runs.join("double-integrator-alam-s1/metrics.jsonl");
    let text = std::fs::read_to_string(&torn).unwrap();
    std::fs::write(&torn, &text[..text.len() - 7]).unwrap();
    let bad = runs.join("double-integrator-alam-s2/metrics.jsonl");
    let mut lines: Vec<&str> = std::fs::read_to_string(&bad).unwrap().leak().lines().collect();
    lines.insert(3, "{\"kind\":\"episode\",\"step\":");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let err = ok(alam(&["report", "--runs", runs.to_str().unwrap(), "--out", rep.to_str().unwrap()]));
    assert!(err.contains("double-integrator-alam-s1/metrics.jsonl") && err.contains("torn last line"), "{err}");
    assert!(err.contains("double-integrator-alam-s2/metrics.jsonl: line 4"), "{err}");
    assert!(!err.contains("cannot read config"), "{err}");
    let s = summary(&rep);
    let g = group(&s, "double-integrator-alam");
    assert_eq!(g["seeds"], 1);
    assert_eq!(g["unfinished"][0]["run"], "double-integrator-alam-s1");
    assert_eq!(g["unreadable"][0]["run"], "double-integrator-alam-s2");
}

/// Items 4 and 12: every bench number is checked with its flag's name, before anything runs.
#[test]
fn bench_numbers_are_checked_by_flag() {
    for flag in ["--updates", "--env-steps", "--batch", "--hidden", "--obs-dim", "--act-dim", "--population"] {
        refused(alam(&["bench", flag, "0"]), &format!("`{flag}`"));
    }
    refused(alam(&["bench", "--obs-dim", "100000000"]), "`--obs-dim`");
    refused(alam(&["eval", "--weights", "x", "--episodes", "0"]), "`--episodes`");
    // A negative number for an integer flag names the flag.
    refused(alam(&["train", "--seed", "-1"]), "--seed");
    refused(alam(&["bench", "--batch", "-5"]), "--batch");
    refused(alam(&["sweep", "--seeds", "0,-1"]), "--seeds");
}

/// Items 5 and 6: duplicates (after aliases) and unsafe variant names are refused, with
/// nothing written.
#[test]
fn duplicate_runs_and_escaping_variants_are_refused() {
    let root = tmp("dups");
    let out = root.join("sweep");
    refused(sweep(&out, &["--algos", "alam", "--seeds", "0,0"]), "`seeds`");
    refused(sweep(&out, &["--algos", "alam,sac-alam"]), "`algos`");
    refused(sweep(&out, &["--algos", "alam", "--variant", "a:rho=1", "--variant", "a:rho=10"]), "`variant`");
    refused(sweep(&out, &["--algos", "alam", "--variant", "/../../escaped:rho=1"]), "`variant`");
    refused(sweep(&out, &["--algos", "alam", "--set", "seed=5"]), "`seed`");
    assert!(!out.exists(), "a refused sweep writes nothing");
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
}

/// Item 7: `train` refuses a folder holding a run unless --force; a sweep checks its whole
/// grid before training anything.
#[test]
fn train_refuses_to_overwrite_and_sweeps_validate_first() {
    let run = tmp("overwrite");
    let train = |seed: &str, force: bool| {
        let mut args = vec!["train", "--steps", "150", "--quiet", "--seed", seed, "--out", run.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        args.extend_from_slice(&TINY);
        alam(&args)
    };
    ok(train("0", false));
    let before = std::fs::read(run.join("metrics.jsonl")).unwrap();
    let err = refused(train("1", false), "--force");
    assert!(err.contains(run.to_str().unwrap()), "{err}");
    assert_eq!(std::fs::read(run.join("metrics.jsonl")).unwrap(), before, "the first run is untouched");
    ok(train("1", true));
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["seed"], 1);
    // --out that is a file: the path and what failed.
    let file = run.join("config.json");
    let mut args = vec!["train", "--steps", "150", "--out", file.to_str().unwrap()];
    args.extend_from_slice(&TINY);
    let err = refused(alam(&args), "not a folder");
    assert!(err.contains("config.json"), "{err}");

    let out = tmp("validate-first").join("s");
    refused(
        sweep(&out, &["--algos", "alam", "--steps", "150", "--variant", "good:rho=2", "--variant", "bad:rho=-1"]),
        "`rho`",
    );
    assert!(!out.exists(), "the good variant must not train before the bad one is refused");
}

/// Item 8: a re-run sweep compares the stored config with the one asked for, and a done run
/// missing its weights is trained again.
#[test]
fn a_rerun_sweep_checks_config_and_files() {
    let out = tmp("rerun");
    ok(sweep(&out, &["--algos", "lag", "--seeds", "0", "--steps", "150"]));
    let err = refused(
        sweep(&out, &["--algos", "lag", "--seeds", "0", "--steps", "300", "--set", "lag_lr=0.5"]),
        "another config",
    );
    assert!(err.contains("total_steps") && err.contains("lag_lr") && err.contains("--force"), "{err}");
    let err = ok(sweep(&out, &["--algos", "lag", "--seeds", "0", "--steps", "150"]));
    assert!(err.contains("already done"), "{err}");
    let err = ok(sweep(&out, &["--algos", "lag", "--seeds", "0", "--steps", "300", "--set", "lag_lr=0.5", "--force"]));
    assert!(err.contains("training it again"), "{err}");
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("double-integrator-lag-s0/config.json")).unwrap())
            .unwrap();
    assert_eq!((cfg["total_steps"].as_u64(), cfg["lag_lr"].as_f64()), (Some(300), Some(0.5)));
    std::fs::remove_file(out.join("double-integrator-lag-s0/weights.alam")).unwrap();
    let err = ok(sweep(&out, &["--algos", "lag", "--seeds", "0", "--steps", "300", "--set", "lag_lr=0.5"]));
    assert!(err.contains("weights.alam is missing"), "{err}");
    assert!(out.join("double-integrator-lag-s0/weights.alam").exists());
}

/// Item 9 and the messages: a config that trains nothing is refused, one that does part of
/// nothing warned about; bounds are the real ones; long values are clipped.
#[test]
fn no_op_configs_are_refused_and_messages_are_exact() {
    let out = tmp("noop");
    let o = out.join("o");
    let err = refused(
        alam(&["train", "--env", "point-goal", "--algo", "alam", "--steps", "1500", "--out", o.to_str().unwrap()]),
        "`learning_starts`",
    );
    assert!(err.contains("total_steps"), "{err}");
    assert!(!o.exists());
    refused(
        alam(&["train", "--set", "utd_ratio=0.001", "--steps", "1100", "--out", o.to_str().unwrap()]),
        "`utd_ratio`",
    );
    let err = refused(alam(&["train", "--set", "tau=1e-7"]), "`tau`");
    assert!(err.contains("[1e-6, 1]"), "{err}");
    refused(alam(&["train", "--steps", "18446744073709551615"]), "`total_steps`");
    let huge = "7".repeat(100_000);
    let err = refused(alam(&["train", "--set", &format!("hidden=\"{huge}\"")]), "`hidden`");
    assert!(err.len() < 2000, "{} bytes echoed", err.len());
    let err = refused(alam(&["train", "--seed", &huge]), "--seed");
    assert!(err.len() < 2000, "{} bytes echoed", err.len());
    let mut args = vec!["train", "--steps", "150", "--quiet", "--out", o.to_str().unwrap(), "--set", "eval_every=5000"];
    args.extend_from_slice(&TINY[..6]);
    let err = ok(alam(&args));
    assert!(err.contains("warning: eval_every"), "{err}");
}

/// Item 13: huge values do not hang the report: the run is refused by name, the rest scored.
#[test]
fn huge_values_are_refused_by_run_not_drawn() {
    let (runs, rep) = (tmp("huge"), tmp("huge-report"));
    ok(sweep(&runs, &["--algos", "sac,alam", "--seeds", "0,1", "--steps", "250"]));
    for s in ["s0", "s1"] {
        let m = runs.join(format!("double-integrator-alam-{s}/metrics.jsonl"));
        let text = std::fs::read_to_string(&m).unwrap();
        let edited: Vec<String> = text
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["kind"] == "episode" {
                    v["return"] = serde_json::json!(1e200);
                }
                v.to_string()
            })
            .collect();
        std::fs::write(&m, edited.join("\n") + "\n").unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_alam"))
        .args(["report", "--runs", runs.to_str().unwrap(), "--out", rep.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed().as_secs() > 60 {
            child.kill().unwrap();
            panic!("report hangs on huge values");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err = ok(out);
    assert!(err.contains("double-integrator-alam-s0") && err.contains("1e12"), "{err}");
    let s = summary(&rep);
    assert_eq!(group(&s, "double-integrator-alam")["unreadable"].as_array().unwrap().len(), 2);
    assert_eq!(group(&s, "double-integrator-sac")["seeds"], 2);
}

/// Item 11: weights whose tensors are stored as another dtype (checksum recomputed), or with
/// another shape, or holding NaN, are refused before burn sees them.
#[test]
fn weights_of_another_dtype_or_shape_are_refused() {
    use alam::checkpoint;
    use burn_pack::{Bytes, DType, Reader, Tensor, Writer};
    let run = tmp("dtype");
    let mut args = vec!["train", "--algo", "fac", "--steps", "100", "--quiet", "--out", run.to_str().unwrap()];
    args.extend_from_slice(&TINY);
    ok(alam(&args));
    let bytes = std::fs::read(run.join("weights.alam")).unwrap();
    let (_, record) = checkpoint::read_header(&bytes).unwrap();
    let head = bytes[..bytes.len() - 4 - record.len()].to_vec();
    let rebuild = |edit: &dyn Fn(usize, Tensor) -> Tensor| -> Vec<u8> {
        let tensors = Reader::from_bytes(Bytes::from_bytes_vec(record.to_vec())).unwrap().into_tensors().unwrap();
        let edited: Vec<Tensor> = tensors.into_iter().enumerate().map(|(i, t)| edit(i, t)).collect();
        let pack = Writer::new(edited).into_bytes().unwrap();
        let mut file = head.clone();
        file.extend_from_slice(&pack);
        let crc = crc32fast::hash(&file);
        file.extend_from_slice(&crc.to_le_bytes());
        file
    };
    let with = |t: Tensor, dtype: DType, shape: Vec<usize>, data: Vec<u8>| {
        Tensor::new(t.name.clone(), dtype, shape, t.param_id, Bytes::from_bytes_vec(data))
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "I32",
            rebuild(&|_, t| {
                let (s, d) = (t.shape.to_vec(), t.to_bytes().unwrap().to_vec());
                with(t, DType::I32, s, d)
            }),
        ),
        (
            "U32",
            rebuild(&|i, t| {
                let (s, d) = (t.shape.to_vec(), t.to_bytes().unwrap().to_vec());
                if i == 0 {
                    with(t, DType::U32, s, d)
                } else {
                    t
                }
            }),
        ),
        (
            "shape",
            rebuild(&|i, t| {
                let mut s = t.shape.to_vec();
                let d = t.to_bytes().unwrap().to_vec();
                if i == 1 {
                    s.reverse();
                    s.push(1);
                }
                with(t, DType::F32, s, d)
            }),
        ),
        (
            "non-finite",
            rebuild(&|i, t| {
                let s = t.shape.to_vec();
                let mut d = t.to_bytes().unwrap().to_vec();
                if i == 2 {
                    d[..4].copy_from_slice(&f32::NAN.to_le_bytes());
                }
                with(t, DType::F32, s, d)
            }),
        ),
    ];
    for (what, file) in cases {
        let p = run.join(format!("{what}.alam"));
        std::fs::write(&p, &file).unwrap();
        let err = refused(alam(&["eval", "--weights", p.to_str().unwrap(), "--episodes", "1"]), "bad weights file");
        assert!(err.contains("tensor"), "{what}: {err}");
        assert!(checkpoint::load(&file, &burn::tensor::Device::flex(), None).is_err(), "{what}");
    }
    // The untouched record, rebuilt the same way, still loads.
    let same = rebuild(&|_, t| t);
    assert!(checkpoint::load(&same, &burn::tensor::Device::flex(), None).is_ok());
}
