//! A few hundred generated bad inputs thrown at the `alam` binary: config values of every
//! field, CLI numbers, sweep grids and edited run files. Each call must end (a timeout per
//! call), never panic, never be silently accepted (a refusal exits non-zero; an edited run is
//! not scored as if sound), and nothing may be written outside the `--out` folders given.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Per call: every bad input here is refused before training, or reports a tiny sweep.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Sandbox {
    root: PathBuf,
    /// Top-level names the calls were allowed to write (their --out folders).
    outs: BTreeSet<String>,
    calls: usize,
}

struct Ran {
    code: Option<i32>,
    stderr: String,
}

impl Sandbox {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!("alam-hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Sandbox { root, outs: BTreeSet::new(), calls: 0 }
    }

    /// A fresh --out path (relative to the sandbox, where every call runs).
    fn out(&mut self, prefix: &str) -> String {
        let name = format!("{prefix}-{}", self.outs.len());
        self.outs.insert(name.clone());
        name
    }

    /// Runs the binary in the sandbox with a timeout; stderr through a file (no pipe to fill).
    fn run(&mut self, args: &[String]) -> Ran {
        self.calls += 1;
        let err_path = std::env::temp_dir().join(format!("alam-hostile-{}-stderr", std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_alam"))
            .args(args)
            .current_dir(&self.root)
            .stdout(Stdio::null())
            .stderr(File::create(&err_path).unwrap())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if t0.elapsed() > TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hang (> {TIMEOUT:?}): alam {}", shown(args));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap()).into_owned();
        assert!(!stderr.contains("panicked") && status.code() != Some(101), "panic: alam {}\n{stderr}", shown(args));
        assert!(stderr.len() < 20_000, "{} bytes of stderr for alam {}", stderr.len(), shown(args));
        Ran { code: status.code(), stderr }
    }

    /// A bad input: refused (exit 2) with a message, and its --out (if any) never created.
    fn refused(&mut self, args: &[String], out: Option<&str>) {
        let r = self.run(args);
        assert_eq!(r.code, Some(2), "silently accepted (exit {:?}): alam {}\n{}", r.code, shown(args), r.stderr);
        assert!(
            r.stderr.starts_with("error") || r.stderr.contains("\nerror"),
            "no message: alam {}\n{}",
            shown(args),
            r.stderr
        );
        if let Some(out) = out {
            assert!(!self.root.join(out).exists(), "a refused call wrote {out}: alam {}", shown(args));
        }
    }
}

fn shown(args: &[String]) -> String {
    args.iter().map(|a| if a.len() > 80 { format!("{}…", &a[..80]) } else { a.clone() }).collect::<Vec<_>>().join(" ")
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Tiny settings first: a bad value given after them is the one that counts.
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

/// Bad values for a config field, by the type of its default.
fn bad_values(field: &str, default: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    match default {
        serde_json::Value::Bool(_) => v.extend(s(&["2", "\"yes\"", "null", "[]"])),
        serde_json::Value::Number(n) if n.is_u64() => {
            v.extend(s(&["-1", "1.5", "\"x\"", "18446744073709551616", "null", "1e400", "[1]"]));
            if field != "eval_every" {
                v.push("0".into());
            }
            if !["eval_every", "log_every", "probe_every", "multiplier_every", "buffer_size", "seed"].contains(&field) {
                v.push("18446744073709551615".into());
            }
        }
        serde_json::Value::Number(_) => v.extend(s(&["NaN", "-1", "1e400", "\"x\"", "inf", "null", "true", "-1e308"])),
        _ => v.extend(s(&["\"moon\"", "3", "null"])),
    }
    if ["env", "algo", "seed"].contains(&field) {
        // The fields a run is named by are never set with --set.
        v.push(match field {
            "env" => "\"point-goal\"".into(),
            "algo" => "\"fac\"".into(),
            _ => "5".into(),
        });
    }
    v
}

/// Deterministic "random" numbers (no dependency): a 64-bit LCG.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
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

#[test]
fn hostile_inputs_are_refused_cleanly() {
    let mut sb = Sandbox::new();
    let t0 = Instant::now();

    // 1. Every config field with values of the wrong type, out of range, or naming the run.
    let defaults = {
        let out = Command::new(env!("CARGO_BIN_EXE_alam")).arg("config").output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let mut config_inputs = 0;
    for (field, default) in defaults.as_object().unwrap() {
        for bad in bad_values(field, default) {
            let out = sb.out("o");
            let mut args = s(&["train", "--steps", "150", "--quiet", "--out", &out]);
            args.extend(s(&TINY));
            args.extend(s(&["--set", &format!("{field}={bad}")]));
            sb.refused(&args, Some(&out));
            config_inputs += 1;
        }
    }
    // Relations between fields, and a config file with a bad value.
    for set in ["learning_starts=150", "batch_size=100", "buffer_size=8", "utd_ratio=0.001", "rho_max=0.5", "tau=1e-7"]
    {
        let out = sb.out("o");
        let mut args = s(&["train", "--steps", "150", "--quiet", "--out", &out]);
        args.extend(s(&TINY));
        args.extend(s(&["--set", set]));
        sb.refused(&args, Some(&out));
        config_inputs += 1;
    }
    assert!(config_inputs >= 200, "{config_inputs} config inputs");

    // 2. CLI numbers and strings, every subcommand.
    let huge = "9".repeat(100_000);
    let mut cli: Vec<Vec<String>> = Vec::new();
    for steps in ["0", "-1", "x", "1.5", "99999999999999999999", "2000000000", "", &huge] {
        cli.push(s(&["train", "--steps", steps]));
    }
    for seed in ["-1", "x", "1e3", "18446744073709551616", ""] {
        cli.push(s(&["train", "--steps", "150", "--seed", seed]));
    }
    for episodes in ["0", "-1", "x", "1000000"] {
        cli.push(s(&["eval", "--weights", "absent.alam", "--episodes", episodes]));
    }
    cli.push(s(&["eval", "--weights", "absent.alam"]));
    for flag in ["--updates", "--env-steps", "--obs-dim", "--act-dim", "--batch", "--hidden", "--population"] {
        for v in ["0", "-1", "x", "18446744073709551616", "100000000000"] {
            cli.push(s(&["bench", flag, v]));
        }
    }
    cli.push(s(&["bench", "--device", "tpu"]));
    let mut inputs_cli = 0;
    for args in &cli {
        let mut a = args.clone();
        let out = if a[0] == "train" {
            let o = sb.out("o");
            a.extend(s(&["--out", &o]));
            Some(o)
        } else {
            None
        };
        sb.refused(&a, out.as_deref());
        inputs_cli += 1;
    }

    // 3. Sweep grids: duplicates, aliases, unsafe names, bad overrides, shards, batching.
    let grids: Vec<Vec<&str>> = vec![
        vec!["--seeds", "0,0"],
        vec!["--seeds", "-1"],
        vec!["--seeds", "x"],
        vec!["--seeds", ""],
        vec!["--algos", "alam,sac-alam"],
        vec!["--algos", "alam,ALAM"],
        vec!["--algos", "ppo"],
        vec!["--envs", "double-integrator,double-integrator"],
        vec!["--envs", "moon"],
        vec!["--shard", "1/1"],
        vec!["--shard", "-1/2"],
        vec!["--shard", "a/b"],
        vec!["--shard", "0/0"],
        vec!["--shard", ""],
        vec!["--population", "0"],
        vec!["--population", "-3"],
        vec!["--population", "many"],
        vec!["--variant", "a:rho=1", "--variant", "a:rho=10"],
        vec!["--variant", "/../../escaped:rho=1"],
        vec!["--variant", "../up:rho=1"],
        vec!["--variant", "a/b:rho=1"],
        vec!["--variant", ":rho=1"],
        vec!["--variant", "-lead:rho=1"],
        vec!["--variant", "sp ace:rho=1"],
        vec!["--variant", "a"],
        vec!["--variant", "a:"],
        vec!["--variant", "a:rho"],
        vec!["--variant", "a:rho=-1"],
        vec!["--variant", "a:rhoo=1"],
        vec!["--variant", "a:seed=1"],
        vec!["--variant", "a:env=\"point-goal\""],
        vec!["--variant", "a:algo=\"fac\""],
        vec!["--variant", "a:rho=1,rho=2"],
        vec!["--variant", "good:rho=2", "--variant", "bad:tau=0"],
        vec!["--set", "seed=3"],
        vec!["--set", "learning_starts=1000"],
    ];
    let mut long_name = String::from("--variant=");
    long_name.push_str(&"n".repeat(100));
    long_name.push_str(":rho=1");
    let mut inputs_grid = 0;
    for g in grids.iter().map(|g| s(g)).chain([vec![long_name]]) {
        let out = sb.out("sweep");
        let mut args = s(&["sweep", "--envs", "double-integrator", "--algos", "alam", "--steps", "150", "--out", &out]);
        args.extend(s(&TINY));
        args.extend(g);
        sb.refused(&args, Some(&out));
        inputs_grid += 1;
    }
    assert!(!sb.root.join("escaped").exists() && !sb.root.parent().unwrap().join("escaped").exists());

    // 4. Edited run files: one small sweep, copied and edited; the edited run must not be
    // scored as if it were sound.
    let base = sb.out("base");
    let mut args = s(&[
        "sweep",
        "--envs",
        "double-integrator",
        "--algos",
        "sac,alam",
        "--seeds",
        "0,1",
        "--steps",
        "250",
        "--out",
        &base,
    ]);
    args.extend(s(&TINY));
    let r = sb.run(&args);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let victim = "double-integrator-alam-s0";
    let metrics = std::fs::read_to_string(sb.root.join(&base).join(victim).join("metrics.jsonl")).unwrap();
    let lines: Vec<&str> = metrics.lines().collect();
    let eval_line = lines.iter().position(|l| l.contains("\"kind\":\"eval\"")).unwrap();
    let weights_len = std::fs::metadata(sb.root.join(&base).join(victim).join("weights.alam")).unwrap().len() as usize;
    let mut rng = Lcg(13);
    type Edit = Box<dyn Fn(&Path)>;
    let mut edits: Vec<(String, Edit)> = Vec::new();
    fn w(p: &Path, f: &str, text: String) {
        std::fs::write(p.join(f), text).unwrap()
    }
    for _ in 0..8 {
        // Cut mid-line (a torn write), anywhere.
        let cut = rng.below(metrics.len() - 2) + 1;
        let cut = if metrics.as_bytes()[cut - 1] == b'\n' { cut + 1 } else { cut };
        let m = metrics.clone();
        edits.push((
            format!("metrics cut at byte {cut}"),
            Box::new(move |p: &Path| w(p, "metrics.jsonl", m[..cut].to_string())),
        ));
    }
    for _ in 0..6 {
        // Cut at a line boundary before the last evaluation: records lost without a trace.
        let keep = rng.below(eval_line);
        let m: String = lines[..keep].iter().map(|l| format!("{l}\n")).collect();
        edits
            .push((format!("metrics cut to {keep} lines"), Box::new(move |p: &Path| w(p, "metrics.jsonl", m.clone()))));
    }
    for _ in 0..6 {
        let at = rng.below(lines.len());
        let garbage =
            ["{", "null", "[]", "{\"kind\":\"episode\"}", "\u{0}\u{1}", "{\"kind\":\"nope\",\"step\":1}"][rng.below(6)];
        let mut l = lines.clone();
        l[at] = garbage;
        let m: String = l.iter().map(|x| format!("{x}\n")).collect();
        edits.push((
            format!("metrics line {at} = {garbage:?}"),
            Box::new(move |p: &Path| w(p, "metrics.jsonl", m.clone())),
        ));
    }
    for (kind, key, value) in [
        ("episode", "return", serde_json::json!(1e200)),
        ("episode", "cost", serde_json::json!(-1e300)),
        ("episode", "step", serde_json::json!(1u64 << 62)),
        ("eval", "return_mean", serde_json::json!(1e30)),
        ("probe", "lambda_mean", serde_json::json!(1e200)),
        ("probe", "lambda_grid", serde_json::json!([1e30, 0.0])),
        ("probe", "step", serde_json::json!(u64::MAX)),
    ] {
        let m: String = lines
            .iter()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["kind"] == kind {
                    v[key] = value.clone();
                }
                format!("{v}\n")
            })
            .collect();
        edits.push((format!("{kind}.{key} = {value}"), Box::new(move |p: &Path| w(p, "metrics.jsonl", m.clone()))));
    }
    edits.push(("metrics emptied".into(), Box::new(move |p: &Path| w(p, "metrics.jsonl", String::new()))));
    edits.push((
        "a diverged record appended".into(),
        Box::new({
            let m = metrics.clone();
            move |p: &Path| {
                w(p, "metrics.jsonl", m.clone() + "{\"kind\":\"diverged\",\"step\":120,\"message\":\"x\"}\n")
            }
        }),
    ));
    for (key, value) in [
        ("total_steps", "500"),
        ("rho", "3.0"),
        ("hidden", "0"),
        ("tau", "1e-9"),
        ("seed", "9"),
        ("lambda_max", "1e400"),
    ] {
        edits.push((
            format!("config {key} = {value}"),
            Box::new(move |p: &Path| {
                let text = std::fs::read_to_string(p.join("config.json")).unwrap();
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                v[key] = serde_json::from_str(value).unwrap_or(serde_json::Value::Null);
                let out = v.to_string().replace("null", value);
                w(p, "config.json", out)
            }),
        ));
    }
    edits.push(("config garbage".into(), Box::new(|p: &Path| w(p, "config.json", "{ not json".into()))));
    edits.push(("config removed".into(), Box::new(|p: &Path| std::fs::remove_file(p.join("config.json")).unwrap())));
    edits.push(("metrics removed".into(), Box::new(|p: &Path| std::fs::remove_file(p.join("metrics.jsonl")).unwrap())));
    edits.push((
        "weights and done removed, records cut".into(),
        Box::new({
            let m: String = lines[..eval_line].iter().map(|l| format!("{l}\n")).collect();
            move |p: &Path| {
                std::fs::remove_file(p.join("weights.alam")).unwrap();
                std::fs::remove_file(p.join("done")).unwrap();
                w(p, "metrics.jsonl", m.clone());
            }
        }),
    ));
    for _ in 0..8 {
        let at = rng.below(weights_len);
        let bit = 1u8 << rng.below(8);
        edits.push((
            format!("weights byte {at} ^ {bit}"),
            Box::new(move |p: &Path| {
                let mut b = std::fs::read(p.join("weights.alam")).unwrap();
                b[at] ^= bit;
                std::fs::write(p.join("weights.alam"), b).unwrap();
            }),
        ));
    }
    edits.push((
        "weights truncated".into(),
        Box::new(move |p: &Path| {
            let b = std::fs::read(p.join("weights.alam")).unwrap();
            std::fs::write(p.join("weights.alam"), &b[..b.len() / 3]).unwrap();
        }),
    ));
    let mut inputs_files = 0;
    for (what, edit) in &edits {
        let runs = sb.out("runs");
        copy_dir(&sb.root.join(&base), &sb.root.join(&runs));
        edit(&sb.root.join(&runs).join(victim));
        let rep = sb.out("rep");
        let r = sb.run(&s(&["report", "--runs", &runs, "--out", &rep]));
        if r.code == Some(0) {
            let summary: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(sb.root.join(&rep).join("summary.json")).unwrap())
                    .unwrap();
            let listed = summary["groups"].as_array().unwrap().iter().any(|g| {
                ["diverged", "unfinished", "unreadable"]
                    .iter()
                    .any(|k| g[*k].as_array().is_some_and(|a| a.iter().any(|n| n["run"] == victim)))
            });
            assert!(listed, "{what}: the edited run was scored as sound\n{}", r.stderr);
            assert!(r.stderr.contains(victim), "{what}: no warning names the run\n{}", r.stderr);
            let alam =
                summary["groups"].as_array().unwrap().iter().find(|g| g["group"] == "double-integrator-alam").unwrap();
            assert_eq!(alam["seeds"], 1, "{what}: the sound seed is still scored");
        } else {
            assert_eq!(r.code, Some(2), "{what}\n{}", r.stderr);
        }
        // The report may write only into its --out.
        inputs_files += 1;
    }
    // The same edited files given to eval: refused or evaluated, never a panic.
    for _ in 0..4 {
        let at = rng.below(weights_len);
        let runs = sb.out("w");
        copy_dir(&sb.root.join(&base).join(victim), &sb.root.join(&runs));
        let p = sb.root.join(&runs).join("weights.alam");
        let mut b = std::fs::read(&p).unwrap();
        b[at] = b[at].wrapping_add(1);
        std::fs::write(&p, b).unwrap();
        sb.refused(&s(&["eval", "--weights", &format!("{runs}/weights.alam"), "--episodes", "1"]), None);
        inputs_files += 1;
    }

    // Weights edited past the checksum (recomputed): header JSON, burnpack metadata and
    // tensor bytes. Every field is checked before burn reads the record: a clean refusal, or
    // (an edit that leaves a valid file, e.g. one weight changed) an evaluation; never a panic.
    let pristine = std::fs::read(sb.root.join(&base).join(victim).join("weights.alam")).unwrap();
    let body = pristine.len() - 4;
    let mut evaluated = 0;
    for k in 0..40 {
        let mut b = pristine[..body].to_vec();
        // Half the edits in the first 2 KiB (the header JSON and the burnpack metadata).
        let at = if k % 2 == 0 { 12 + rng.below(2048.min(body - 12)) } else { 12 + rng.below(body - 12) };
        b[at] = [b'0', b'9', b'-', b'"', b'{', 0xFF, 0x00, b[at] ^ 0x10][rng.below(8)];
        let crc = crc32fast_hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        let dir = sb.out("crc");
        std::fs::create_dir_all(sb.root.join(&dir)).unwrap();
        std::fs::write(sb.root.join(&dir).join("w.alam"), &b).unwrap();
        let r = sb.run(&s(&["eval", "--weights", &format!("{dir}/w.alam"), "--episodes", "1"]));
        assert!(matches!(r.code, Some(0) | Some(2)), "byte {at}: exit {:?}\n{}", r.code, r.stderr);
        evaluated += (r.code == Some(0)) as usize;
        inputs_files += 1;
    }
    assert!(evaluated < 40, "every edit past the checksum was accepted");

    // Full run files (`checkpoint.alam`: ALAMRUN2) edited past the checksum — the header JSON,
    // and the decompressed body (burnpack metadata, tensors, replay rows), recompressed and
    // re-checksummed — given to `eval --weights` and to `train --resume`: a clean refusal or a
    // run, never a panic.
    let full = std::fs::read(sb.root.join(&base).join(victim).join("checkpoint.alam")).unwrap();
    let (header_json, body) = alam::checkpoint::unpack_full(&full).unwrap();
    let mut resumed = 0;
    for k in 0..24 {
        let (mut h, mut b) = (header_json.clone(), body.clone());
        let edit = |v: &mut Vec<u8>, at: usize, rng: &mut Lcg| {
            v[at] = [b'0', b'9', b'-', b'"', b'{', 0xFF, 0x00, v[at] ^ 0x10][rng.below(8)]
        };
        match k % 3 {
            0 => {
                let at = rng.below(h.len());
                edit(&mut h, at, &mut rng)
            }
            1 => {
                let at = rng.below(2048.min(b.len()));
                edit(&mut b, at, &mut rng)
            }
            _ => {
                let at = rng.below(b.len());
                edit(&mut b, at, &mut rng)
            }
        }
        let bytes = alam::checkpoint::pack_full(&h, &b);
        let dir = sb.out("full");
        copy_dir(&sb.root.join(&base).join(victim), &sb.root.join(&dir));
        std::fs::remove_file(sb.root.join(&dir).join("done")).unwrap();
        std::fs::write(sb.root.join(&dir).join("checkpoint.alam"), &bytes).unwrap();
        let r = sb.run(&s(&["eval", "--weights", &format!("{dir}/checkpoint.alam"), "--episodes", "1"]));
        assert!(matches!(r.code, Some(0) | Some(2)), "full file, edit {k}: exit {:?}\n{}", r.code, r.stderr);
        let r = sb.run(&s(&["train", "--resume", &dir, "--steps", "300", "--quiet"]));
        assert!(matches!(r.code, Some(0) | Some(2) | Some(3)), "resume, edit {k}: exit {:?}\n{}", r.code, r.stderr);
        resumed += (r.code == Some(0)) as usize;
        inputs_files += 2;
    }
    assert!(resumed < 24, "every edit of a full file was resumed");

    // Nothing outside the --out folders given.
    let stray: Vec<String> = std::fs::read_dir(&sb.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !sb.outs.contains(n))
        .collect();
    assert!(stray.is_empty(), "written outside --out: {stray:?}");
    let total = config_inputs + inputs_cli + inputs_grid + inputs_files;
    eprintln!("{total} hostile inputs in {} calls, {:.1} s", sb.calls, t0.elapsed().as_secs_f64());
    assert!(total >= 300, "{total} inputs");
    let _ = std::fs::remove_dir_all(&sb.root);
}

/// CRC-32 (IEEE), as the weights file's trailer: bitwise, no dependency.
fn crc32fast_hash(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
