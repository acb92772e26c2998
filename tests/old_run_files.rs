//! Run files written by an earlier version go on exactly: `tests/fixtures/` holds a single
//! run's full file (`ALAMRUN2`, stopped mid-episode with updates whose statistics are not read
//! yet) and a population's file (`ALAMPOP1`, three seeds at a sync point), each with the
//! records the version that wrote it made after loading it. This version must load them, write
//! them again alike (the trainer's state byte for byte, the same body; config fields added
//! since are the only change allowed) and make the same records bit for bit (timing fields
//! aside).
//!
//! The fixtures were written by commit 775a24e (before the trainer's counters became one
//! struct); `cargo test --release --test old_run_files -- --ignored write_fixtures` writes them
//! again with the code as it is (only when the format changes on purpose).

mod single;
use alam::checkpoint::{self, RunKind};
use alam::config::{Algo, TrainConfig};
use alam::population::PopulationTrainer;
use alam::EnvKind;
use burn::tensor::Device;
use single::comparable;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const SINGLE: &str = "double-integrator-alam-step137.alam";
const POPULATION: &str = "double-integrator-alam-3-seeds.alam";

/// resume.rs's tiny run (the fixtures were written with it), seed `seed`.
fn tiny(seed: u64) -> TrainConfig {
    TrainConfig { seed, ..single::tiny_run(EnvKind::DoubleIntegrator, Algo::Alam) }
}

/// Steps `p` to its end: each seed's records.
fn run_to_end(p: &mut PopulationTrainer) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); p.trainers().len()];
    while !p.is_done() {
        for (o, rs) in out.iter_mut().zip(p.step().unwrap()) {
            o.extend(rs.iter().map(comparable));
        }
    }
    out
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// The records stored beside a fixture (one list per seed).
fn records_after(name: &str) -> Vec<Vec<String>> {
    serde_json::from_slice(&fixture(&format!("{name}.records.json"))).unwrap()
}

/// A population's (or a single run's) file loaded, each seed's file checked to save again
/// alike ([`saved_alike`]).
fn load(bytes: &[u8]) -> PopulationTrainer {
    let files = checkpoint::unpack_population(bytes).unwrap().unwrap_or_else(|| vec![bytes]);
    let mut trainers = Vec::new();
    for file in files {
        let (t, _, kind) = checkpoint::load_run(file, &Device::flex(), None).unwrap();
        assert_eq!(kind, RunKind::Full);
        saved_alike(file, &checkpoint::save_run(&t, Vec::new(), None).unwrap());
        trainers.push(t);
    }
    PopulationTrainer::from_trainers(trainers).unwrap()
}

/// The header JSON's text of the trainer's state, as written (`"trainer":{…}`).
fn trainer_text(header: &[u8]) -> String {
    let header = String::from_utf8(header.to_vec()).unwrap();
    let start = header.find("\"trainer\":").unwrap();
    let end = start + header[start..].find(",\"record_len\":").unwrap();
    header[start..end].to_string()
}

/// A file saved again holds what the old one held, written the same way: the trainer's state
/// byte for byte, the same body (networks, Adam moments, replay), the same header but for
/// config fields added since (their defaults).
fn saved_alike(old: &[u8], again: &[u8]) {
    let ((old_header, old_body), (header, body)) =
        (checkpoint::unpack_full(old).unwrap(), checkpoint::unpack_full(again).unwrap());
    assert_eq!(trainer_text(&old_header), trainer_text(&header), "the trainer's state is written differently");
    assert!(old_body == body, "the body differs");
    let parse = |h: &[u8]| -> serde_json::Map<String, serde_json::Value> { serde_json::from_slice(h).unwrap() };
    let (mut old_header, mut header) = (parse(&old_header), parse(&header));
    let (old_config, config) = (old_header.remove("config").unwrap(), header.remove("config").unwrap());
    assert_eq!(old_header, header);
    for (key, value) in old_config.as_object().unwrap() {
        assert_eq!(Some(value), config.get(key), "config field {key}");
    }
}

fn goes_on_exactly(name: &str, seeds: usize, step: u64) {
    let mut p = load(&fixture(name));
    assert_eq!(p.trainers().len(), seeds);
    assert!(p.trainers().iter().all(|t| t.steps_done() == step), "{name}: not at step {step}");
    let got = run_to_end(&mut p);
    let want = records_after(name);
    assert!(want.iter().all(|w| w.len() > 20 && w.iter().any(|r| r.contains("\"eval\""))));
    for (seed, (w, g)) in want.iter().zip(&got).enumerate() {
        for (i, (w, g)) in w.iter().zip(g).enumerate() {
            assert_eq!(w, g, "{name}: seed {seed}'s record {i} after loading differs from the old version's");
        }
        assert_eq!(w.len(), g.len(), "{name}: seed {seed}'s record count differs");
    }
}

#[test]
fn a_full_run_file_from_before_goes_on_exactly() {
    goes_on_exactly(SINGLE, 1, 137);
}

#[test]
fn a_population_file_from_before_goes_on_exactly() {
    goes_on_exactly(POPULATION, 3, 200);
}

/// Writes the fixtures and their records with the code as it is (see the module docs).
#[test]
#[ignore]
fn write_fixtures() {
    let dev = Device::flex();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::create_dir_all(FIXTURES).unwrap();
        std::fs::write(format!("{FIXTURES}/{name}"), bytes).unwrap();
        let mut p = load(bytes);
        let records = serde_json::to_vec_pretty(&run_to_end(&mut p)).unwrap();
        std::fs::write(format!("{FIXTURES}/{name}.records.json"), records).unwrap();
    };
    // One run stopped at step 137: mid-episode, 89 updates (89 mod 7 ≠ 0: some unread).
    let mut t = single::Single::new(tiny(0), &dev).unwrap();
    while t.seed().steps_done() < 137 {
        t.step().unwrap();
    }
    let saved = t.trainer();
    assert!(saved.counters().ep_len > 0 && saved.agent().unread_updates() > 0);
    write(SINGLE, &checkpoint::save_run(saved, Vec::new(), None).unwrap());
    // Three seeds stopped at the first sync point from step 200 (step 200 itself: its probe reads).
    let cfgs: Vec<TrainConfig> = (0..3).map(tiny).collect();
    let mut p = PopulationTrainer::new(&cfgs, &dev).unwrap();
    while p.trainers()[0].steps_done() < 200 || !p.at_sync_point() {
        p.step().unwrap();
    }
    p.sync_agents();
    let files: Vec<Vec<u8>> = p.trainers().iter().map(|t| checkpoint::save_run(t, Vec::new(), None).unwrap()).collect();
    write(POPULATION, &checkpoint::pack_population(&files));
}
