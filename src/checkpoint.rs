//! One file per run, in two kinds. The same bytes are written by the CLI and (in the browser)
//! by the page.
//!
//! - **Weights only** (`ALAMRUN1`, small and shareable; every file of older versions): `ALAMRUN1`
//!   | u32 header length | header JSON (config, counters and, from the page, the metrics history
//!   its charts show) | burnpack record of [`AgentNets`](crate::agent::AgentNets) | u32 CRC-32 of everything before it.
//!   A run resumed from it refills its replay first ([`Trainer::resume`]).
//! - **Full state** (`ALAMRUN2`): `ALAMRUN2` | u32 header length | header JSON (as above, plus
//!   [`FullState`]: the agent's and the loop's host state, RNGs, env states with the episode in
//!   progress, counters) | deflate( burnpack record of [`crate::agent::AgentRecord`] (networks and Adam
//!   moments) | replay rows, byte planes split ) | u32 CRC-32. A run resumed from it goes on
//!   exactly as if it had never stopped ([`load_run`]).
//!
//! - **Population** (`ALAMPOP1`, the page's run of several seeds): `ALAMPOP1` | u32 number of
//!   seeds | for each seed, u64 length | that seed's full file (`ALAMRUN2`, as above, each
//!   checked as a file of its own when read): [`pack_population`], [`unpack_population`].
//!
//! The header comes first so a reader can check env and network shape *before* touching
//! weights; the checksum turns a truncated or corrupted download into a clear error rather than
//! silently wrong weights; every tensor is checked against the config's networks before burn
//! reads it. Deflate (miniz_oxide: pure Rust, builds for wasm32) shrinks the replay's floats;
//! splitting them into byte planes first puts the similar exponent bytes side by side.

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use crate::agent::handler::HandlerState;
use crate::agent::readback::copy_module;
use crate::agent::{Agent, AgentScalars};
use crate::config::TrainConfig;
use crate::env::make_env;
use crate::error::{AlamError, Result};
use crate::metrics::Record;
use crate::trainer::{Trainer, TrainerState};

const MAGIC: &[u8; 8] = b"ALAMRUN1";
const MAGIC_FULL: &[u8; 8] = b"ALAMRUN2";
/// Every run file's magic is `ALAMRUN` and its format's number, one digit: the newest this
/// version reads is the last digit of [`MAGIC_FULL`].
const MAGIC_STEM: &[u8; 7] = b"ALAMRUN";
/// A full file's body, decompressed, may not be larger than this (a replay of 1M point-goal
/// transitions is ~300 MiB).
pub const MAX_BODY_BYTES: u64 = 1 << 30;
/// Larger files are refused before parsing: no network here comes near this.
pub const MAX_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub config: TrainConfig,
    pub obs_dim: usize,
    pub act_dim: usize,
    pub handler: HandlerState,
    pub updates: u64,
    pub steps: u64,
    /// The run's records so far (bounded, probe grids dropped), so a loaded run shows its
    /// curves; empty in files from older versions and from the CLI (which keeps metrics.jsonl).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Record>,
    /// The rest of the training state: present in full files (`ALAMRUN2`) only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<FullState>,
}

/// What a full run file adds to the header: everything but the tensors and the replay's rows,
/// and where those are in the body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FullState {
    pub agent: AgentScalars,
    pub trainer: TrainerState,
    /// Bytes of the burnpack record at the start of the decompressed body; the replay's rows
    /// follow, up to `body_len`.
    pub record_len: u64,
    pub body_len: u64,
    /// `alam train`: the byte length of the run's `metrics.jsonl` when this was saved (records
    /// after it are dropped on resume: they will be written again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_len: Option<u64>,
}

/// Which kind of run file was loaded, and what that means for the resumed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    /// `ALAMRUN2`: goes on exactly where it stopped.
    Full,
    /// `ALAMRUN1`: networks and counters only; the replay is refilled before any update.
    WeightsOnly,
}

impl RunKind {
    /// A sentence for the page and the CLI.
    pub fn note(self, learning_starts: u64) -> String {
        match self {
            RunKind::Full => "full training state loaded: the run goes on exactly where it stopped".into(),
            RunKind::WeightsOnly => format!(
                "weights-only file: optimiser moments start from zero and the replay is refilled with \
                 {learning_starts} steps of the loaded policy before any update"
            ),
        }
    }
}

fn bad(msg: impl Into<String>) -> AlamError {
    AlamError::Weights(msg.into())
}

/// Serialises an agent with its config and progress counters (native: blocks on the read).
#[cfg(not(target_arch = "wasm32"))]
pub fn save(agent: &Agent, steps: u64) -> Result<Vec<u8>> {
    save_with_history(agent, steps, Vec::new())
}

/// [`save`], with the records the run's charts show (native: blocks on the read).
#[cfg(not(target_arch = "wasm32"))]
pub fn save_with_history(agent: &Agent, steps: u64, history: Vec<Record>) -> Result<Vec<u8>> {
    pollster::block_on(save_async(agent, steps, history))
}

/// The run file of `agent`, on any device: every network comes to the host in one packed
/// async read and is encoded there (a synchronous read of a WebGPU tensor panics in wasm).
///
/// # Errors
/// [`AlamError::Device`] when the read fails; [`AlamError::Weights`] when encoding fails.
pub async fn save_async(agent: &Agent, steps: u64, history: Vec<Record>) -> Result<Vec<u8>> {
    let header = Header::of(agent, agent.config(), steps, history, None);
    let header = serde_json::to_vec(&header).map_err(|e| bad(e.to_string()))?;
    let nets = copy_module(agent.nets().valid(), &Device::flex()).await?;
    let record = nets.into_record().into_bytes().map_err(|e| bad(e.to_string()))?;
    Ok(frame(MAGIC, &header, &record))
}

impl Header {
    /// The header of `agent`'s run under `config` at `steps` environment steps.
    fn of(agent: &Agent, config: &TrainConfig, steps: u64, history: Vec<Record>, state: Option<FullState>) -> Header {
        Header {
            config: config.clone(),
            obs_dim: agent.obs_dim(),
            act_dim: agent.act_dim(),
            handler: agent.handler().state(),
            updates: agent.updates(),
            steps,
            history,
            state,
        }
    }
}

/// A run file: `magic`, the header's length (u32 LE), the header JSON, `body`, and the CRC-32
/// of all of that (u32 LE).
fn frame(magic: &[u8], header_json: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + header_json.len() + body.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&(header_json.len() as u32).to_le_bytes());
    out.extend_from_slice(header_json);
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks magic, length and checksum and returns the header and the weights' bytes.
pub fn read_header(bytes: &[u8]) -> Result<(Header, &[u8])> {
    if bytes.len() > MAX_BYTES {
        return Err(bad(format!("{} bytes is larger than the {} MiB limit", bytes.len(), MAX_BYTES >> 20)));
    }
    if bytes.len() < MAGIC.len() + 8 || (&bytes[..MAGIC.len()] != MAGIC && &bytes[..MAGIC.len()] != MAGIC_FULL) {
        let newest = MAGIC_FULL[7] - b'0';
        return Err(bad(match newer_format(bytes) {
            Some(n) => format!(
                "written by a newer version of ALaM Playground (format {n}; this one reads up to {newest}): update it to read this file"
            ),
            None => "not an ALaM Playground run file (wrong magic bytes)".into(),
        }));
    }
    let full = &bytes[..MAGIC.len()] == MAGIC_FULL;
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(body) != stored {
        return Err(bad("checksum mismatch: the file is truncated or corrupted"));
    }
    let len = u32::from_le_bytes([body[8], body[9], body[10], body[11]]) as usize;
    let rest = &body[12..];
    if len > rest.len() {
        return Err(bad("header length runs past the end of the file"));
    }
    let header: Header = serde_json::from_slice(&rest[..len]).map_err(|e| bad(format!("header: {e}")))?;
    header.config.validate()?;
    if full != header.state.is_some() {
        return Err(bad("header: the training state must be present in a full file (ALAMRUN2) and only there"));
    }
    Ok((header, &rest[len..]))
}

/// The format number of a run file from a newer version than this one (`ALAMRUN3` and up).
fn newer_format(bytes: &[u8]) -> Option<u8> {
    match bytes.get(..8)? {
        [stem @ .., d] if stem == MAGIC_STEM && d.is_ascii_digit() && *d > MAGIC_FULL[7] => Some(d - b'0'),
        _ => None,
    }
}

const MAGIC_POPULATION: &[u8; 8] = b"ALAMPOP1";

/// A population's file from its seeds' full run files, in seed order (format: module docs).
pub fn pack_population(files: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + files.iter().map(|f| 8 + f.len()).sum::<usize>());
    out.extend_from_slice(MAGIC_POPULATION);
    out.extend_from_slice(&(files.len() as u32).to_le_bytes());
    for f in files {
        out.extend_from_slice(&(f.len() as u64).to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// The seeds' run files inside a population file, in seed order; `None` when `bytes` is not a
/// population file (a single run's file, or none at all).
///
/// # Errors
/// [`AlamError::Weights`] for a population file that is truncated, has bytes left over, or
/// holds a number of seeds outside 1..=[`crate::population::MAX_SEEDS`].
pub fn unpack_population(bytes: &[u8]) -> Result<Option<Vec<&[u8]>>> {
    let Some(rest) = bytes.strip_prefix(MAGIC_POPULATION.as_slice()) else { return Ok(None) };
    let truncated = || bad("population file: truncated (download or copy it again)");
    let (count, mut rest) = rest.split_first_chunk::<4>().ok_or_else(truncated)?;
    let count = u32::from_le_bytes(*count) as usize;
    if !(1..=crate::population::MAX_SEEDS).contains(&count) {
        return Err(bad(format!(
            "population file: {count} seeds (a population has 1 to {})",
            crate::population::MAX_SEEDS
        )));
    }
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, after) = rest.split_first_chunk::<8>().ok_or_else(truncated)?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| truncated())?;
        if len > after.len() {
            return Err(truncated());
        }
        let (file, after) = after.split_at(len);
        files.push(file);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(bad(format!("population file: {} bytes after its last seed's file", rest.len())));
    }
    Ok(Some(files))
}

/// The kind of a run file (from its magic bytes), without checking anything else.
pub fn kind_of(bytes: &[u8]) -> Option<RunKind> {
    match bytes.get(..MAGIC.len()) {
        Some(m) if m == MAGIC => Some(RunKind::WeightsOnly),
        Some(m) if m == MAGIC_FULL => Some(RunKind::Full),
        _ => None,
    }
}

/// The full run file of `trainer` (`ALAMRUN2`), on any device: the agent's device state comes
/// to the host in one packed async read ([`Agent::save_state`]), so the page can save on WebGPU.
/// Saving changes nothing: the run goes on as if never saved. `history`: the records the page's
/// charts show; `metrics_len`: `alam train`'s metrics file length (see [`FullState`]).
///
/// # Errors
/// [`AlamError::Device`] when the read fails; [`AlamError::Weights`] when encoding fails.
pub async fn save_run_async(trainer: &Trainer, history: Vec<Record>, metrics_len: Option<u64>) -> Result<Vec<u8>> {
    let agent = trainer.agent();
    let (scalars, record) = agent.save_state().await?;
    let record = record.into_record().into_bytes().map_err(|e| bad(e.to_string()))?;
    let replay = split_planes(&trainer.replay().to_bytes());
    let mut body = Vec::with_capacity(record.len() + replay.len());
    body.extend_from_slice(&record);
    body.extend_from_slice(&replay);
    let state = FullState {
        agent: scalars,
        trainer: trainer.state(),
        record_len: record.len() as u64,
        body_len: body.len() as u64,
        metrics_len,
    };
    // The trainer's config: a resumed run may have been given another length.
    let header = Header::of(agent, trainer.config(), trainer.steps_done(), history, Some(state));
    let header = serde_json::to_vec(&header).map_err(|e| bad(e.to_string()))?;
    Ok(pack_full(&header, &body))
}

/// A full file from its header JSON and its decompressed body (record, then the replay's byte
/// planes): compressed, framed and checksummed. With [`unpack_full`], what tools (and the
/// hostile-input tests) use to edit a file's contents past its checksum.
pub fn pack_full(header_json: &[u8], body: &[u8]) -> Vec<u8> {
    // Level 1: most of the gain at a fraction of the time (the page saves on its main thread).
    frame(MAGIC_FULL, header_json, &miniz_oxide::deflate::compress_to_vec(body, 1))
}

/// The header JSON and the decompressed body of a full file (checksum and header checked).
///
/// # Errors
/// As [`read_header`]; a weights-only file; a body that does not inflate to its stated size.
pub fn unpack_full(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let (header, payload) = read_header(bytes)?;
    let Some(state) = &header.state else { return Err(bad("a weights-only file has no full body")) };
    if state.body_len > MAX_BODY_BYTES {
        return Err(bad("header: body too large"));
    }
    let body = miniz_oxide::inflate::decompress_to_vec_with_limit(payload, state.body_len as usize)
        .map_err(|e| bad(format!("the compressed body does not inflate: {e:?}")))?;
    let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    Ok((bytes[12..12 + len].to_vec(), body))
}

/// [`save_run_async`], blocking: the native path.
#[cfg(not(target_arch = "wasm32"))]
pub fn save_run(trainer: &Trainer, history: Vec<Record>, metrics_len: Option<u64>) -> Result<Vec<u8>> {
    pollster::block_on(save_run_async(trainer, history, metrics_len))
}

/// Little-endian f32s as four byte planes (all first bytes, then all second bytes, …).
fn split_planes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for k in 0..4 {
        out.extend(bytes.chunks_exact(4).map(|c| c[k]));
    }
    out
}

/// The inverse of [`split_planes`]; `bytes.len()` must be a multiple of 4.
fn join_planes(bytes: &[u8]) -> Vec<u8> {
    let n = bytes.len() / 4;
    let mut out = vec![0u8; n * 4];
    for (k, plane) in bytes.chunks_exact(n.max(1)).take(4).enumerate() {
        for (i, &b) in plane.iter().enumerate() {
            out[i * 4 + k] = b;
        }
    }
    out
}

/// A full file's decompressed body, cut into the record and the replay's rows.
fn body_parts(state: &FullState, compressed: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    if state.body_len > MAX_BODY_BYTES
        || state.record_len > state.body_len
        || !(state.body_len - state.record_len).is_multiple_of(4)
    {
        return Err(bad(format!(
            "header: body of {} bytes with a record of {} is impossible",
            state.body_len, state.record_len
        )));
    }
    let body = miniz_oxide::inflate::decompress_to_vec_with_limit(compressed, state.body_len as usize)
        .map_err(|e| bad(format!("the compressed body does not inflate: {e:?}")))?;
    if body.len() as u64 != state.body_len {
        return Err(bad(format!("the body inflates to {} bytes, the header says {}", body.len(), state.body_len)));
    }
    let (record, replay) = body.split_at(state.record_len as usize);
    Ok((record.to_vec(), join_planes(replay)))
}

/// A trainer for the run a file describes, on `device`, and what kind of file it was: a full
/// file goes on exactly where it stopped; a weights-only file resumes through
/// [`Trainer::resume`] (its replay is refilled first).
///
/// # Errors
/// As [`load`]; [`AlamError::Weights`] when the training state does not fit the config.
pub fn load_run(bytes: &[u8], device: &Device, expect: Option<(usize, usize)>) -> Result<(Trainer, Header, RunKind)> {
    let (agent, header, replay) = decode(bytes, device, expect)?;
    match (&header.state, replay) {
        (Some(state), Some(replay)) => {
            let trainer = Trainer::restore(agent, header.steps, state.trainer.clone(), &replay, device)?;
            Ok((trainer, header, RunKind::Full))
        }
        _ => {
            let trainer = Trainer::resume(agent, header.steps, device)?;
            Ok((trainer, header, RunKind::WeightsOnly))
        }
    }
}

/// Rebuilds the agent a file describes, on `device` (from a full file: with its optimiser
/// moments, RNG and unread statistics). `expect` (env obs/act dims) is checked first so a file
/// for another env or shape is refused before any weight is read.
pub fn load(bytes: &[u8], device: &Device, expect: Option<(usize, usize)>) -> Result<(Agent, Header)> {
    decode(bytes, device, expect).map(|(agent, header, _)| (agent, header))
}

/// [`load`], and a full file's replay rows (little-endian f32 columns).
fn decode(bytes: &[u8], device: &Device, expect: Option<(usize, usize)>) -> Result<(Agent, Header, Option<Vec<u8>>)> {
    let (header, payload) = read_header(bytes)?;
    // The header must agree with itself: its env's observation and action sizes.
    let env = make_env(header.config.env, 0);
    if (env.obs_dim(), env.act_dim()) != (header.obs_dim, header.act_dim) {
        return Err(bad(format!(
            "the file says env {} but its networks take obs/act dims {}/{} (that env has {}/{})",
            header.config.env,
            header.obs_dim,
            header.act_dim,
            env.obs_dim(),
            env.act_dim()
        )));
    }
    if let Some((obs_dim, act_dim)) = expect {
        if (obs_dim, act_dim) != (header.obs_dim, header.act_dim) {
            return Err(bad(format!(
                "made for obs/act dims {}/{} (env {}), this env has {obs_dim}/{act_dim}",
                header.obs_dim, header.act_dim, header.config.env
            )));
        }
    }
    check_handler_state(&header.handler, &header.config)?;
    let mut agent = Agent::new(&header.config, header.obs_dim, header.act_dim, device);
    // The reference modules are built on the CPU device: encoding a record reads every tensor,
    // and a synchronous read of a WebGPU tensor panics in wasm.
    let reference = Agent::new(&header.config, header.obs_dim, header.act_dim, &Device::flex());
    let Some(state) = &header.state else {
        check_tensors(reference.nets(), payload)?;
        let record =
            ModuleRecord::from_bytes(Bytes::from_bytes_vec(payload.to_vec())).map_err(|e| bad(e.to_string()))?;
        let nets =
            agent.nets().try_load_record(record).map_err(|e| bad(format!("weights do not fit the config: {e}")))?;
        agent.set_nets(nets);
        agent.handler_mut().restore_state(header.handler);
        agent.set_updates(header.updates);
        return Ok((agent, header, None));
    };
    check_handler_state(&state.agent.handler, &header.config)?;
    check_handler_state(&state.agent.checked_handler, &header.config)?;
    if state.agent.updates != header.updates {
        return Err(bad("header: the agent's update count disagrees with the file's"));
    }
    let (record_bytes, replay) = body_parts(state, payload)?;
    let checked = !state.agent.unread.is_empty();
    let host_template = reference.record_template(checked);
    check_tensors(host_template.clone(), &record_bytes)?;
    let record =
        || ModuleRecord::from_bytes(Bytes::from_bytes_vec(record_bytes.clone())).map_err(|e| bad(e.to_string()));
    let on_host =
        host_template.try_load_record(record()?).map_err(|e| bad(format!("weights do not fit the config: {e}")))?;
    let on_device = agent
        .record_template(checked)
        .try_load_record(record()?)
        .map_err(|e| bad(format!("weights do not fit the config: {e}")))?;
    // The acting policy is the actor as of the last good sync, on the CPU device.
    let policy = state.agent.policy.then(|| on_host.checked.unwrap_or(on_host.learner).nets.actor.valid());
    agent.restore_state(state.agent.clone(), on_device, policy)?;
    Ok((agent, header, Some(replay)))
}

/// The handler's saved scalars are within what the config allows (a hand-edited header with
/// λ = 1e300 would otherwise drive every penalty).
fn check_handler_state(s: &HandlerState, cfg: &TrainConfig) -> Result<()> {
    let fields = [
        ("lambda", s.lambda, 0.0, cfg.lambda_max),
        // Files from before the PID integral's anti-windup may hold an integral above λ_max;
        // it is still a finite, non-negative number.
        ("integral", s.integral, 0.0, f64::MAX),
        ("prev_cost", s.prev_cost, 0.0, f64::MAX),
        ("rho", s.rho, 0.0, cfg.rho_max.max(cfg.rho)),
        ("window_sum", s.window_sum, 0.0, f64::MAX),
        ("prev_window_mean", s.prev_window_mean.unwrap_or(0.0), 0.0, f64::MAX),
    ];
    for (name, v, lo, hi) in fields {
        if !(v.is_finite() && v >= lo && v <= hi) {
            return Err(bad(format!("header: handler.{name} = {v} is outside [{lo}, {hi}]")));
        }
    }
    Ok(())
}

/// Every tensor of the weights' record against the networks this header's config builds:
/// the same names, each F32 with the same shape, its bytes exactly that long and every value
/// finite. Checked here, before burn reads the record: burn panics on a float parameter
/// recorded as I32 or U32 ("Expected float dtype").
fn check_tensors<M: Module>(reference: M, weights: &[u8]) -> Result<()> {
    use burn_pack::{DType, Reader};
    let read = |b: Bytes, what: &str| -> Result<Vec<burn_pack::Tensor>> {
        Reader::from_bytes(b).and_then(|r| r.into_tensors()).map_err(|e| bad(format!("{what}: {e}")))
    };
    // `reference` is on the CPU device: encoding a record reads every tensor.
    let reference = reference.into_record().into_bytes().map_err(|e| bad(e.to_string()))?;
    let expected = read(reference, "reference networks")?;
    let found = read(Bytes::from_bytes_vec(weights.to_vec()), "weights record")?;
    if found.len() != expected.len() {
        return Err(bad(format!(
            "weights record holds {} tensors, the config's networks have {}",
            found.len(),
            expected.len()
        )));
    }
    for want in &expected {
        let Some(t) = found.iter().find(|t| t.name == want.name) else {
            return Err(bad(format!("weights record has no tensor `{}`", want.name)));
        };
        if t.dtype != want.dtype {
            return Err(bad(format!("tensor `{}` is stored as {:?}, must be {:?}", t.name, t.dtype, want.dtype)));
        }
        if t.shape.to_vec() != want.shape.to_vec() {
            return Err(bad(format!(
                "tensor `{}` has shape {:?}, the config's networks need {:?} (weights do not fit the config)",
                t.name,
                t.shape.to_vec(),
                want.shape.to_vec()
            )));
        }
        let want_bytes = want.byte_len();
        let bytes = t.to_bytes().map_err(|e| bad(format!("tensor `{}`: {e}", t.name)))?;
        if bytes.len() != want_bytes {
            return Err(bad(format!("tensor `{}` holds {} bytes, its shape needs {want_bytes}", t.name, bytes.len())));
        }
        if t.dtype == DType::F32 {
            if let Some(k) =
                bytes.chunks_exact(4).position(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite())
            {
                return Err(bad(format!("tensor `{}` holds a non-finite value at index {k}", t.name)));
            }
        }
    }
    Ok(())
}
