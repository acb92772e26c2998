//! Exact resume (issue 12): on the CPU device, `train N steps → save → load → train M steps`
//! writes the same records as one uninterrupted run of N + M steps (timing fields aside), bit
//! for bit, for every algorithm — stopped in the warm-up, in the middle of an episode, and with
//! updates whose statistics are not read yet. A weights-only file refills its replay first.

mod single;
use alam::checkpoint::{self, RunKind};
use alam::config::{Algo, TrainConfig};
use alam::EnvKind;
use burn::tensor::Device;
use single::{comparable, tiny_run as tiny, Single};

fn run_to_end(t: &mut Single, out: &mut Vec<String>) {
    while !t.is_done() {
        out.extend(t.step().unwrap().iter().map(comparable));
    }
}

/// Stops at each of `stops` (save, drop, load) and compares with the run that never stopped.
fn resumes_exactly(env: EnvKind, algo: Algo, stops: &[u64]) {
    let dev = Device::flex();
    let mut want = Vec::new();
    run_to_end(&mut Single::new(tiny(env, algo), &dev).unwrap(), &mut want);
    let mut got = Vec::new();
    let mut t = Single::new(tiny(env, algo), &dev).unwrap();
    let (mut mid_episode, mut unread) = (false, false);
    for &stop in stops {
        while t.seed().steps_done() < stop {
            got.extend(t.step().unwrap().iter().map(comparable));
        }
        let saved = t.trainer();
        let bytes = checkpoint::save_run(saved, Vec::new(), None).unwrap();
        mid_episode |= saved.counters().ep_len > 0;
        unread |= saved.agent().unread_updates() > 0;
        drop(t);
        let (loaded, header, kind) = checkpoint::load_run(&bytes, &dev, None).unwrap();
        assert_eq!((kind, header.steps), (RunKind::Full, stop));
        t = Single::from(loaded).unwrap();
    }
    run_to_end(&mut t, &mut got);
    assert!(
        mid_episode && unread,
        "{algo}: no stop in the middle of an episode ({mid_episode}) or with unread updates ({unread})"
    );
    assert!(want.len() > 20, "{algo}: only {} records", want.len());
    assert!(want.iter().any(|r| r.contains("\"update\"")), "{algo}: no update record");
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(w, g, "{env} {algo}: record {i} differs after resuming at {stops:?}");
    }
    assert_eq!(want.len(), got.len(), "{env} {algo}: record counts differ");
}

// Stops: in the warm-up (30 < learning_starts 48), mid-episode with unread updates (137: 89
// updates, 89 mod sync_every 7 ≠ 0), and late (301).
#[test]
fn sac_resumes_exactly() {
    resumes_exactly(EnvKind::DoubleIntegrator, Algo::Sac, &[30, 137, 301]);
}
#[test]
fn lag_resumes_exactly() {
    resumes_exactly(EnvKind::DoubleIntegrator, Algo::Lag, &[30, 137, 301]);
}
#[test]
fn pid_lag_resumes_exactly() {
    resumes_exactly(EnvKind::CarFollowing, Algo::PidLag, &[30, 137, 301]);
}
#[test]
fn fac_resumes_exactly() {
    resumes_exactly(EnvKind::DoubleIntegrator, Algo::Fac, &[30, 137, 301]);
}
#[test]
fn alam_resumes_exactly() {
    resumes_exactly(EnvKind::DoubleIntegrator, Algo::Alam, &[30, 137, 301]);
    resumes_exactly(EnvKind::PointGoal, Algo::Alam, &[45, 211]);
}

/// A weights-only file (what older versions wrote) goes on from its step with fresh Adam and
/// an empty replay, refilled with `learning_starts` steps of the loaded policy before any update.
#[test]
fn a_weights_only_file_refills_the_replay_first() {
    let dev = Device::flex();
    let mut t = Single::new(tiny(EnvKind::DoubleIntegrator, Algo::Alam), &dev).unwrap();
    while t.seed().steps_done() < 200 {
        t.step().unwrap();
    }
    let updates = t.0.updates();
    let t = t.trainer();
    let bytes = checkpoint::save(t.agent(), t.steps_done()).unwrap();
    let (r, _, kind) = checkpoint::load_run(&bytes, &dev, None).unwrap();
    assert_eq!(kind, RunKind::WeightsOnly);
    assert!(kind.note(48).contains("refilled with 48 steps"));
    let mut r = Single::from(r).unwrap();
    for _ in 0..47 {
        assert!(r.seed().refilling());
        r.step().unwrap();
    }
    assert_eq!(r.0.updates(), updates, "no update while the replay refills");
    // The 48th refill step stores the 48th transition and makes the first update due (as the
    // first update of a fresh run comes with its `learning_starts`-th step).
    r.step().unwrap();
    assert!(!r.seed().refilling());
    assert_eq!(r.0.updates(), updates + 1);
}

/// The batched population (`alam sweep --population`) saved at a sync point, each seed to its
/// own full file, and stacked again from those files goes on exactly as if never stopped.
#[test]
fn a_population_resumes_exactly_from_its_seeds_files() {
    use alam::population::PopulationTrainer;
    let dev = Device::flex();
    let cfgs: Vec<TrainConfig> =
        (0..3).map(|seed| TrainConfig { seed, ..tiny(EnvKind::DoubleIntegrator, Algo::Alam) }).collect();
    let run = |p: &mut PopulationTrainer, out: &mut Vec<Vec<String>>, until: Option<u64>| {
        while !p.is_done() {
            if until.is_some_and(|u| p.trainers()[0].steps_done() >= u && p.at_sync_point()) {
                break;
            }
            for (o, rs) in out.iter_mut().zip(p.step().unwrap()) {
                o.extend(rs.iter().map(comparable));
            }
        }
    };
    let mut want = vec![Vec::new(); 3];
    run(&mut PopulationTrainer::new(&cfgs, &dev).unwrap(), &mut want, None);
    let mut got = vec![Vec::new(); 3];
    let mut p = PopulationTrainer::new(&cfgs, &dev).unwrap();
    run(&mut p, &mut got, Some(200));
    let stop = p.trainers()[0].steps_done();
    assert!((200..420).contains(&stop), "{stop}");
    p.sync_agents();
    let files: Vec<Vec<u8>> = p.trainers().iter().map(|t| checkpoint::save_run(t, Vec::new(), None).unwrap()).collect();
    drop(p);
    let trainers = files.iter().map(|b| checkpoint::load_run(b, &dev, None).unwrap().0).collect();
    let mut p = PopulationTrainer::from_trainers(trainers).unwrap();
    run(&mut p, &mut got, None);
    assert_eq!(want, got, "the resumed population's records differ (stopped at step {stop})");
}

/// BENCHMARKS.md's run-file sizes: each env's preset with a full replay (`buffer_size`
/// transitions of random warm-up actions) and a few updates (so Adam's moments are dense),
/// saved as a full file and as weights only. Slow-ish: run by hand with
/// `cargo test --release --test resume run_file_sizes -- --ignored --nocapture`.
#[test]
#[ignore]
fn run_file_sizes() {
    let dev = Device::flex();
    for env in EnvKind::ALL {
        let mut cfg = TrainConfig::preset(env, Algo::Alam);
        cfg.total_steps = cfg.buffer_size as u64 + 20;
        cfg.learning_starts = cfg.buffer_size as u64;
        (cfg.eval_every, cfg.probe_every) = (0, 1_000_000);
        let mut t = Single::new(cfg.clone(), &dev).unwrap();
        t.run_to_end().unwrap();
        let t = t.trainer();
        let t0 = std::time::Instant::now();
        let full = checkpoint::save_run(t, Vec::new(), None).unwrap();
        let save_s = t0.elapsed().as_secs_f64();
        let t0 = std::time::Instant::now();
        checkpoint::load_run(&full, &dev, None).unwrap();
        let load_s = t0.elapsed().as_secs_f64();
        let weights = checkpoint::save(t.agent(), t.steps_done()).unwrap();
        let raw = t.replay().to_bytes().len();
        println!(
            "| {env} | {} | {} | {:.1} MB | {:.1} MB | {:.2} MB | {save_s:.2} s | {load_s:.2} s |",
            cfg.hidden,
            cfg.buffer_size,
            raw as f64 / 1e6,
            full.len() as f64 / 1e6,
            weights.len() as f64 / 1e6
        );
    }
}

/// The shipped demo (an `ALAMRUN1` file of an older version) loads as weights only, in the
/// library and through `alam train --resume` on a folder holding it as `weights.alam`.
#[test]
fn the_shipped_old_demo_resumes_as_weights_only() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/pretrained/point-goal-alam.alam")).unwrap();
    let (t, header, kind) = checkpoint::load_run(&bytes, &Device::flex(), None).unwrap();
    assert_eq!(kind, RunKind::WeightsOnly);
    assert!(t.refilling() && t.steps_done() == header.steps);
    let dir = std::env::temp_dir().join(format!("alam-resume-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("weights.alam"), &bytes).unwrap();
    std::fs::write(dir.join("metrics.jsonl"), "").unwrap();
    let steps = (header.steps + 10).to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_alam"))
        .args(["train", "--resume", dir.to_str().unwrap(), "--steps", &steps, "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("weights-only") && stderr.contains("refilled"), "{stderr}");
    assert!(dir.join("checkpoint.alam").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
