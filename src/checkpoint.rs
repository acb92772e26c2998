//! One file per run: the config, the handler's scalar state and every network's weights.
//!
//! Layout: `ALAMRUN1` | u32 header length | header JSON (config, counters and, from the page, the
//! metrics history its charts show) | burnpack record of [`AgentNets`] |
//! u32 CRC-32 of everything before it. The header lets a reader check env and network shape
//! *before* touching weights, and the checksum turns a truncated or corrupted download into a
//! clear error rather than silently wrong weights. The same bytes are written by the CLI and
//! (in the browser) by the page.

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use crate::agent::handler::HandlerState;
use crate::agent::readback::copy_module;
use crate::agent::Agent;
use crate::config::TrainConfig;
use crate::env::make_env;
use crate::error::{AlamError, Result};
use crate::metrics::Record;

const MAGIC: &[u8; 8] = b"ALAMRUN1";
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
    let header = Header {
        config: agent.config().clone(),
        obs_dim: agent.obs_dim(),
        act_dim: agent.act_dim(),
        handler: agent.handler().state(),
        updates: agent.updates(),
        steps,
        history,
    };
    let header = serde_json::to_vec(&header).map_err(|e| bad(e.to_string()))?;
    let nets = copy_module(agent.nets().valid(), &Device::flex()).await?;
    let record = nets.into_record().into_bytes().map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::with_capacity(16 + header.len() + record.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&record);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// Checks magic, length and checksum and returns the header and the weights' bytes.
pub fn read_header(bytes: &[u8]) -> Result<(Header, &[u8])> {
    if bytes.len() > MAX_BYTES {
        return Err(bad(format!("{} bytes is larger than the {} MiB limit", bytes.len(), MAX_BYTES >> 20)));
    }
    if bytes.len() < MAGIC.len() + 8 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("not an ALaM Playground run file (wrong magic bytes)"));
    }
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
    Ok((header, &rest[len..]))
}

/// Rebuilds the agent a file describes, on `device`. `expect` (env obs/act dims) is checked
/// first so a file for another env or shape is refused before any weight is read.
pub fn load(bytes: &[u8], device: &Device, expect: Option<(usize, usize)>) -> Result<(Agent, Header)> {
    let (header, weights) = read_header(bytes)?;
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
    check_handler_state(&header)?;
    let mut agent = Agent::new(&header.config, header.obs_dim, header.act_dim, device);
    check_tensors(&agent, weights)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec())).map_err(|e| bad(e.to_string()))?;
    let nets = agent.nets().try_load_record(record).map_err(|e| bad(format!("weights do not fit the config: {e}")))?;
    agent.set_nets(nets);
    agent.handler_mut().restore_state(header.handler);
    agent.set_updates(header.updates);
    Ok((agent, header))
}

/// The handler's saved scalars are within what the config allows (a hand-edited header with
/// λ = 1e300 would otherwise drive every penalty).
fn check_handler_state(header: &Header) -> Result<()> {
    let (s, cfg) = (&header.handler, &header.config);
    let fields = [
        ("lambda", s.lambda, 0.0, cfg.lambda_max),
        // Files from before the PID integral's anti-windup may hold an integral above λ_max;
        // it is still a finite, non-negative number.
        ("integral", s.integral, 0.0, f64::MAX),
        ("prev_cost", s.prev_cost, 0.0, f64::MAX),
        ("rho", s.rho, 0.0, cfg.rho_max.max(cfg.rho)),
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
fn check_tensors(agent: &Agent, weights: &[u8]) -> Result<()> {
    use burn_pack::{DType, Reader};
    let read = |b: Bytes, what: &str| -> Result<Vec<burn_pack::Tensor>> {
        Reader::from_bytes(b)
            .and_then(|r| r.into_tensors())
            .map_err(|e| bad(format!("{what}: {e}")))
    };
    // The reference networks are built on the CPU device: encoding a record reads every tensor,
    // and a synchronous read of a WebGPU tensor panics in wasm.
    let reference = Agent::new(agent.config(), agent.obs_dim(), agent.act_dim(), &Device::flex()).nets();
    let reference = reference.into_record().into_bytes().map_err(|e| bad(e.to_string()))?;
    let expected = read(reference, "reference networks")?;
    let found = read(Bytes::from_bytes_vec(weights.to_vec()), "weights record")?;
    if found.len() != expected.len() {
        return Err(bad(format!("weights record holds {} tensors, the config's networks have {}", found.len(), expected.len())));
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
            if let Some(k) = bytes.chunks_exact(4).position(|c| !f32::from_le_bytes([c[0], c[1], c[2], c[3]]).is_finite()) {
                return Err(bad(format!("tensor `{}` holds a non-finite value at index {k}", t.name)));
            }
        }
    }
    Ok(())
}
