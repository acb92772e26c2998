//! Edited run files: a small sweep's run folder, copied and edited (records cut or garbled,
//! config changed, weights damaged, files removed; weights and full run files edited past their
//! checksum), then given to `alam report`, `alam eval` and `alam train --resume`. An edited run
//! is never scored as if it were sound, and no call panics.

mod hostile;

use std::path::Path;

use hostile::{copy_dir, s, Lcg, Sandbox, TINY};

/// The run that is edited; the sweep's other seed of the same group stays sound.
const VICTIM: &str = "double-integrator-alam-s0";

/// A finished sweep (double-integrator × sac, alam × seeds 0, 1; 250 steps) in the sandbox.
struct Base {
    /// The sweep's --out, relative to the sandbox.
    dir: String,
    /// The victim's metrics.jsonl, whole and by line.
    metrics: String,
    lines: Vec<String>,
    /// The line of the victim's first evaluation record.
    eval_line: usize,
}

impl Base {
    fn new(sb: &mut Sandbox) -> Self {
        let dir = sb.out("base");
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
            &dir,
        ]);
        args.extend(s(&TINY));
        let r = sb.run(&args);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        let metrics = std::fs::read_to_string(sb.root.join(&dir).join(VICTIM).join("metrics.jsonl")).unwrap();
        let lines: Vec<String> = metrics.lines().map(str::to_string).collect();
        let eval_line = lines.iter().position(|l| l.contains("\"kind\":\"eval\"")).unwrap();
        Base { dir, metrics, lines, eval_line }
    }

    /// The victim's file `name`.
    fn read(&self, sb: &Sandbox, name: &str) -> Vec<u8> {
        std::fs::read(sb.root.join(&self.dir).join(VICTIM).join(name)).unwrap()
    }

    /// The first `n` lines of the victim's metrics, as a file.
    fn first_lines(&self, n: usize) -> String {
        self.lines[..n].iter().map(|l| format!("{l}\n")).collect()
    }
}

/// What an edit does to the victim's run folder, and what it is called in a failure.
type Edit = (String, Box<dyn Fn(&Path)>);

fn write(run: &Path, file: &str, text: String) {
    std::fs::write(run.join(file), text).unwrap()
}

/// Each edit on a fresh copy of the sweep, then `alam report`: it refuses (exit 2), or lists
/// the victim under `diverged`, `unfinished` or `unreadable` with a warning that names it, and
/// scores the group's sound seed alone.
fn report_never_scores(sb: &mut Sandbox, base: &Base, edits: &[Edit]) {
    for (what, edit) in edits {
        let runs = sb.out("runs");
        copy_dir(&sb.root.join(&base.dir), &sb.root.join(&runs));
        edit(&sb.root.join(&runs).join(VICTIM));
        let rep = sb.out("rep");
        let r = sb.run(&s(&["report", "--runs", &runs, "--out", &rep]));
        if r.code != Some(0) {
            assert_eq!(r.code, Some(2), "{what}\n{}", r.stderr);
            continue;
        }
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(sb.root.join(&rep).join("summary.json")).unwrap()).unwrap();
        let groups = summary["groups"].as_array().unwrap();
        let listed = groups.iter().any(|g| {
            ["diverged", "unfinished", "unreadable"]
                .iter()
                .any(|k| g[*k].as_array().is_some_and(|a| a.iter().any(|n| n["run"] == VICTIM)))
        });
        assert!(listed, "{what}: the edited run was scored as sound\n{}", r.stderr);
        assert!(r.stderr.contains(VICTIM), "{what}: no warning names the run\n{}", r.stderr);
        let alam = groups.iter().find(|g| g["group"] == "double-integrator-alam").unwrap();
        assert_eq!(alam["seeds"], 1, "{what}: the sound seed is still scored");
    }
}

#[test]
fn report_never_scores_a_run_whose_records_were_cut_garbled_or_inflated() {
    let mut sb = Sandbox::new("files-records");
    let base = Base::new(&mut sb);
    let mut rng = Lcg(13);
    let mut edits: Vec<Edit> = Vec::new();
    for _ in 0..8 {
        // Cut mid-line (a torn write), anywhere.
        let cut = rng.below(base.metrics.len() - 2) + 1;
        let cut = if base.metrics.as_bytes()[cut - 1] == b'\n' { cut + 1 } else { cut };
        let m = base.metrics[..cut].to_string();
        edits.push((
            format!("metrics cut at byte {cut}"),
            Box::new(move |p: &Path| write(p, "metrics.jsonl", m.clone())),
        ));
    }
    for _ in 0..6 {
        // Cut at a line boundary before the first evaluation: records lost without a trace.
        let keep = rng.below(base.eval_line);
        let m = base.first_lines(keep);
        edits.push((
            format!("metrics cut to {keep} lines"),
            Box::new(move |p: &Path| write(p, "metrics.jsonl", m.clone())),
        ));
    }
    for _ in 0..6 {
        let at = rng.below(base.lines.len());
        let garbage =
            ["{", "null", "[]", "{\"kind\":\"episode\"}", "\u{0}\u{1}", "{\"kind\":\"nope\",\"step\":1}"][rng.below(6)];
        let mut l = base.lines.clone();
        l[at] = garbage.to_string();
        let m: String = l.iter().map(|x| format!("{x}\n")).collect();
        edits.push((
            format!("metrics line {at} = {garbage:?}"),
            Box::new(move |p: &Path| write(p, "metrics.jsonl", m.clone())),
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
        let m: String = base
            .lines
            .iter()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["kind"] == kind {
                    v[key] = value.clone();
                }
                format!("{v}\n")
            })
            .collect();
        edits.push((format!("{kind}.{key} = {value}"), Box::new(move |p: &Path| write(p, "metrics.jsonl", m.clone()))));
    }
    edits.push(("metrics emptied".into(), Box::new(|p: &Path| write(p, "metrics.jsonl", String::new()))));
    let m = base.metrics.clone() + "{\"kind\":\"diverged\",\"step\":120,\"message\":\"x\"}\n";
    edits.push(("a diverged record appended".into(), Box::new(move |p: &Path| write(p, "metrics.jsonl", m.clone()))));
    edits.push(("metrics removed".into(), Box::new(|p: &Path| std::fs::remove_file(p.join("metrics.jsonl")).unwrap())));
    report_never_scores(&mut sb, &base, &edits);
    sb.finish();
}

#[test]
fn report_never_scores_a_run_whose_config_was_changed_garbled_or_removed() {
    let mut sb = Sandbox::new("files-config");
    let base = Base::new(&mut sb);
    let mut edits: Vec<Edit> = Vec::new();
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
                // A value serde_json cannot hold (1e400) is written as it is, in place of null.
                v[key] = serde_json::from_str(value).unwrap_or(serde_json::Value::Null);
                write(p, "config.json", v.to_string().replace("null", value))
            }),
        ));
    }
    edits.push(("config garbage".into(), Box::new(|p: &Path| write(p, "config.json", "{ not json".into()))));
    edits.push(("config removed".into(), Box::new(|p: &Path| std::fs::remove_file(p.join("config.json")).unwrap())));
    report_never_scores(&mut sb, &base, &edits);
    sb.finish();
}

#[test]
fn report_never_scores_a_run_whose_weights_were_damaged_or_removed() {
    let mut sb = Sandbox::new("files-weights");
    let base = Base::new(&mut sb);
    let weights_len = base.read(&sb, "weights.alam").len();
    let mut rng = Lcg(17);
    let mut edits: Vec<Edit> = Vec::new();
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
        Box::new(|p: &Path| {
            let b = std::fs::read(p.join("weights.alam")).unwrap();
            std::fs::write(p.join("weights.alam"), &b[..b.len() / 3]).unwrap();
        }),
    ));
    let m = base.first_lines(base.eval_line);
    edits.push((
        "weights and done removed, records cut".into(),
        Box::new(move |p: &Path| {
            std::fs::remove_file(p.join("weights.alam")).unwrap();
            std::fs::remove_file(p.join("done")).unwrap();
            write(p, "metrics.jsonl", m.clone());
        }),
    ));
    report_never_scores(&mut sb, &base, &edits);
    sb.finish();
}

#[test]
fn eval_refuses_weights_with_a_changed_byte() {
    let mut sb = Sandbox::new("files-eval");
    let base = Base::new(&mut sb);
    let pristine = base.read(&sb, "weights.alam");
    let mut rng = Lcg(19);
    for _ in 0..4 {
        let at = rng.below(pristine.len());
        let mut b = pristine.clone();
        b[at] = b[at].wrapping_add(1);
        let dir = sb.out("w");
        std::fs::create_dir_all(sb.root.join(&dir)).unwrap();
        std::fs::write(sb.root.join(&dir).join("weights.alam"), b).unwrap();
        sb.refused(&s(&["eval", "--weights", &format!("{dir}/weights.alam"), "--episodes", "1"]), None);
    }
    sb.finish();
}

/// Weights edited past the checksum (recomputed): header JSON, burnpack metadata and tensor
/// bytes. Every field is checked before burn reads the record: a clean refusal, or (an edit
/// that leaves a valid file, e.g. one weight changed) an evaluation; never a panic.
#[test]
fn eval_refuses_or_evaluates_weights_edited_past_their_checksum() {
    let mut sb = Sandbox::new("files-checksum");
    let base = Base::new(&mut sb);
    let pristine = base.read(&sb, "weights.alam");
    let body = pristine.len() - 4;
    let mut rng = Lcg(23);
    let mut evaluated = 0;
    for k in 0..40 {
        let mut b = pristine[..body].to_vec();
        // Half the edits in the first 2 KiB (the header JSON and the burnpack metadata).
        let at = if k % 2 == 0 { 12 + rng.below(2048.min(body - 12)) } else { 12 + rng.below(body - 12) };
        b[at] = [b'0', b'9', b'-', b'"', b'{', 0xFF, 0x00, b[at] ^ 0x10][rng.below(8)];
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        let dir = sb.out("crc");
        std::fs::create_dir_all(sb.root.join(&dir)).unwrap();
        std::fs::write(sb.root.join(&dir).join("w.alam"), &b).unwrap();
        let r = sb.run(&s(&["eval", "--weights", &format!("{dir}/w.alam"), "--episodes", "1"]));
        assert!(matches!(r.code, Some(0) | Some(2)), "byte {at}: exit {:?}\n{}", r.code, r.stderr);
        evaluated += (r.code == Some(0)) as usize;
    }
    assert!(evaluated < 40, "every edit past the checksum was accepted");
    sb.finish();
}

/// Full run files (`checkpoint.alam`: ALAMRUN2) edited past the checksum — the header JSON, and
/// the decompressed body (burnpack metadata, tensors, replay rows), recompressed and
/// re-checksummed — given to `eval --weights` and to `train --resume`: a clean refusal or a
/// run, never a panic.
#[test]
fn eval_and_resume_refuse_or_run_full_run_files_edited_past_their_checksum() {
    let mut sb = Sandbox::new("files-full");
    let base = Base::new(&mut sb);
    let full = base.read(&sb, "checkpoint.alam");
    let (header_json, body) = alam::checkpoint::unpack_full(&full).unwrap();
    let mut rng = Lcg(29);
    let edit = |v: &mut Vec<u8>, at: usize, rng: &mut Lcg| {
        v[at] = [b'0', b'9', b'-', b'"', b'{', 0xFF, 0x00, v[at] ^ 0x10][rng.below(8)]
    };
    let mut resumed = 0;
    for k in 0..24 {
        let (mut h, mut b) = (header_json.clone(), body.clone());
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
        copy_dir(&sb.root.join(&base.dir).join(VICTIM), &sb.root.join(&dir));
        std::fs::remove_file(sb.root.join(&dir).join("done")).unwrap();
        std::fs::write(sb.root.join(&dir).join("checkpoint.alam"), &bytes).unwrap();
        let r = sb.run(&s(&["eval", "--weights", &format!("{dir}/checkpoint.alam"), "--episodes", "1"]));
        assert!(matches!(r.code, Some(0) | Some(2)), "full file, edit {k}: exit {:?}\n{}", r.code, r.stderr);
        let r = sb.run(&s(&["train", "--resume", &dir, "--steps", "300", "--quiet"]));
        assert!(matches!(r.code, Some(0) | Some(2) | Some(3)), "resume, edit {k}: exit {:?}\n{}", r.code, r.stderr);
        resumed += (r.code == Some(0)) as usize;
    }
    assert!(resumed < 24, "every edit of a full file was resumed");
    sb.finish();
}
