//! Saved weights come back exactly, and every kind of bad file is refused with a message.

mod single;
use alam::agent::read_floats;
use alam::checkpoint;
use alam::config::{Algo, TrainConfig};
use alam::trainer::Trainer;
use alam::EnvKind;
use burn::tensor::Device;
use single::Single;

fn small(env: EnvKind, algo: Algo, hidden: usize) -> TrainConfig {
    let mut cfg = TrainConfig::preset(env, algo);
    (cfg.hidden, cfg.batch_size, cfg.learning_starts, cfg.total_steps, cfg.log_every) = (hidden, 32, 64, 120, 10);
    cfg
}

/// A briefly trained agent's file (so weights differ from a fresh init).
fn trained_file(env: EnvKind, algo: Algo, hidden: usize) -> (Vec<u8>, Trainer) {
    let mut t = Single::new(small(env, algo, hidden), &Device::flex()).unwrap();
    t.run_to_end().unwrap();
    let t = t.into_trainer();
    (checkpoint::save(t.agent(), t.steps_done()).unwrap(), t)
}

#[test]
fn save_then_load_gives_the_same_policy_and_multiplier() {
    let (bytes, t) = trained_file(EnvKind::DoubleIntegrator, Algo::Alam, 16);
    let (agent, header) = checkpoint::load(&bytes, &Device::flex(), Some((2, 1))).unwrap();
    assert_eq!(header.config, *t.agent().config());
    assert_eq!(header.steps, 120);
    assert_eq!(agent.updates(), t.agent().updates());
    let obs = [0.3f32, -0.2, 0.9, 0.8, -1.0, 0.1];
    let (m0, s0) = t.agent().policy_tensor(&obs);
    let (m1, s1) = agent.policy_tensor(&obs);
    assert_eq!(read_floats(m0).unwrap(), read_floats(m1).unwrap());
    assert_eq!(read_floats(s0).unwrap(), read_floats(s1).unwrap());
    assert_eq!(read_floats(t.agent().lambda_tensor(&obs)).unwrap(), read_floats(agent.lambda_tensor(&obs)).unwrap());
}

#[test]
fn scalar_multiplier_state_survives_a_save() {
    let (bytes, t) = trained_file(EnvKind::DoubleIntegrator, Algo::PidLag, 8);
    let (agent, _) = checkpoint::load(&bytes, &Device::flex(), None).unwrap();
    assert_eq!(agent.handler().state(), t.agent().handler().state());
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    let (bytes, _) = trained_file(EnvKind::DoubleIntegrator, Algo::Fac, 8);
    let dev = Device::flex();
    let err = |b: &[u8], expect| checkpoint::load(b, &dev, expect).err().expect("must be refused").to_string();

    assert!(err(&bytes[..bytes.len() / 2], None).contains("truncated or corrupted"));
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    assert!(err(&flipped, None).contains("truncated or corrupted"));
    assert!(err(b"{\"not\": \"weights\"}", None).contains("magic"));
    assert!(err(&[], None).contains("magic"));
    // A file for the double integrator (obs 2, act 1) offered to point-goal (obs 36, act 2).
    assert!(err(&bytes, Some((36, 2))).contains("obs/act dims"));
}

#[test]
fn weights_of_another_width_are_refused() {
    // Same env and header, but the weights of a wider network spliced in: the header's
    // config says hidden 8, the record holds hidden 16 tensors.
    let (narrow, _) = trained_file(EnvKind::DoubleIntegrator, Algo::Sac, 8);
    let (wide, _) = trained_file(EnvKind::DoubleIntegrator, Algo::Sac, 16);
    let (_, w_narrow) = checkpoint::read_header(&narrow).unwrap();
    let (_, w_wide) = checkpoint::read_header(&wide).unwrap();
    let head_len = narrow.len() - 4 - w_narrow.len();
    let mut spliced = narrow[..head_len].to_vec();
    spliced.extend_from_slice(w_wide);
    let crc = crc32fast::hash(&spliced);
    spliced.extend_from_slice(&crc.to_le_bytes());
    let msg = checkpoint::load(&spliced, &Device::flex(), None).err().expect("must be refused").to_string();
    assert!(msg.contains("do not fit"), "{msg}");
}

/// A loaded weights-only run goes on where it stopped: no random warm-up (its step count is
/// kept), updates wait until the loaded policy has refilled the replay with `learning_starts`
/// steps, and a finished run gets another `total_steps`.
#[test]
fn a_loaded_run_trains_on_from_its_step() {
    let (bytes, t) = trained_file(EnvKind::DoubleIntegrator, Algo::Alam, 16);
    let updates = t.agent().updates();
    let (agent, header) = checkpoint::load(&bytes, &Device::flex(), None).unwrap();
    let resumed = Trainer::resume(agent, header.steps, &Device::flex()).unwrap();
    assert_eq!(resumed.steps_done(), 120);
    assert_eq!(resumed.config().total_steps, 240, "a finished run gets another total_steps");
    assert!(!resumed.is_done());
    let mut resumed = Single::from(resumed).unwrap();
    for _ in 0..63 {
        resumed.step().unwrap();
    }
    assert_eq!(resumed.0.updates(), updates, "no update before the replay is refilled (learning_starts 64)");
    resumed.step().unwrap();
    assert_eq!(resumed.0.updates(), updates + 1);
}

/// A header that names another env than its networks were made for (edited by hand, or a bug)
/// is refused before any weight is read.
#[test]
fn a_header_for_another_env_is_refused() {
    let (bytes, _) = trained_file(EnvKind::DoubleIntegrator, Algo::Sac, 8);
    let (mut header, weights) = checkpoint::read_header(&bytes).unwrap();
    header.config.env = EnvKind::PointGoal;
    let json = serde_json::to_vec(&header).unwrap();
    let mut edited = b"ALAMRUN1".to_vec();
    edited.extend_from_slice(&(json.len() as u32).to_le_bytes());
    edited.extend_from_slice(&json);
    edited.extend_from_slice(weights);
    let crc = crc32fast::hash(&edited);
    edited.extend_from_slice(&crc.to_le_bytes());
    let msg = checkpoint::load(&edited, &Device::flex(), None).err().expect("must be refused").to_string();
    assert!(msg.contains("says env point-goal") && msg.contains("2/1"), "{msg}");
}

/// The page saves its charts' records with the run; they come back as they went in.
#[test]
fn the_metrics_history_survives_a_save() {
    let mut t = Single::new(small(EnvKind::DoubleIntegrator, Algo::Alam, 8), &Device::flex()).unwrap();
    let records = t.run_to_end().unwrap();
    let t = t.trainer();
    assert!(records.iter().any(|r| matches!(r, alam::metrics::Record::Episode { .. })));
    let bytes = checkpoint::save_with_history(t.agent(), t.steps_done(), records.clone()).unwrap();
    let (_, header) = checkpoint::load(&bytes, &Device::flex(), None).unwrap();
    assert_eq!(header.history.len(), records.len());
    for (back, sent) in header.history.iter().zip(&records) {
        let (back, sent) = (serde_json::to_value(back).unwrap(), serde_json::to_value(sent).unwrap());
        assert!(same_json(&back, &sent), "{back} != {sent}");
    }
    let (_, plain) = checkpoint::load(&checkpoint::save(t.agent(), 120).unwrap(), &Device::flex(), None).unwrap();
    assert!(plain.history.is_empty());
}

/// The page's pretrained demo (made by scripts/pretrain.sh) is a safe, goal-reaching policy in
/// the current file format: deterministic episodes reach goals (a random policy earns ~5) and
/// never enter a hazard. It fails if the format or the env changes under the shipped file.
#[test]
fn the_shipped_pretrained_demo_is_safe_and_reaches_goals() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/pretrained/point-goal-alam.alam")).unwrap();
    let (agent, header) = checkpoint::load(&bytes, &Device::flex(), None).unwrap();
    assert_eq!((header.config.env, header.config.algo, header.config.hidden), (EnvKind::PointGoal, Algo::Alam, 64));
    let mut env = alam::env::make_env(EnvKind::PointGoal, 12345);
    let e = pollster::block_on(alam::evaluation::evaluate_policy(&agent, env.as_mut(), 10)).unwrap();
    assert!(e.return_mean >= 50.0, "return {}", e.return_mean);
    assert!(e.violations_mean <= 0.5, "violating steps per episode {}", e.violations_mean);
}

/// Equal JSON, numbers to 1e-12 relative (JSON text does not round-trip the last bit of an f64).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Number, Object};
    match (a, b) {
        (Number(x), Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
