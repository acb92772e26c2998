//! `alam config`: the default config of an env × algo as JSON on stdout.

use alam::config::{Algo, TrainConfig};
use alam::env::EnvKind;
use alam::Result;

use super::Outcome;

pub(super) fn run(env: EnvKind, algo: Algo) -> Result<Outcome> {
    println!("{}", TrainConfig::preset(env, algo).to_json());
    Ok(Outcome::Done)
}
