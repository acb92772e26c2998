//! ALaM Playground: safe reinforcement learning with state-wise constraints.
//!
//! SAC-ALaM ("Augmented Lagrangian Multiplier Network for State-wise Safety in Reinforcement
//! Learning", arXiv 2605.00667) and its baselines on burn, for the CPU, wasm and WebGPU.
//! Data flows one way: [`env`](mod@env) → [`agent`] (act) → [`replay`] → [`trainer`] (update) →
//! [`metrics`] → the CLI or the page.

pub mod agent;
/// `alam bench` (native only: it times blocking reads).
#[cfg(not(target_arch = "wasm32"))]
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod env;
pub mod error;
/// A run's evaluation episodes and probes, and `alam eval`'s episodes.
pub mod evaluation;
/// One process per run folder (native only: files and OS locks).
#[cfg(not(target_arch = "wasm32"))]
pub mod lock;
pub mod metrics;
/// N seeds' trainers driven as one population (`alam sweep`, the page's seeds): envs and replay
/// per seed, acting and updates batched through [`agent::population`].
pub mod population;
pub mod replay;
/// `alam report` (native CLI only: plotters).
#[cfg(all(feature = "cli", not(target_arch = "wasm32")))]
pub mod report;
#[cfg(not(target_arch = "wasm32"))]
pub mod run;
pub mod stats;
pub mod sweep;
pub mod trainer;
/// Watching a policy act without learning (the page's pretrained demo).
pub mod watch;
#[cfg(target_arch = "wasm32")]
pub mod web;

/// The one RNG of the crate: ChaCha8 gives the same stream on every platform (rand's
/// SmallRng does not: it is a different generator on wasm32), so a seed fixes a run natively
/// and in the browser alike.
pub type Rng64 = rand_chacha::ChaCha8Rng;

pub use config::{Algo, TrainConfig};
pub use env::EnvKind;
pub use error::{AlamError, Result};
