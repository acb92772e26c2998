//! `alam embed-history`: a run folder's records written into its run file's header, so that the
//! page shows the run's curves as soon as the file loads (the page's own saves carry them; a
//! file from `alam train` carries none, its records being in `metrics.jsonl`).

use std::path::{Path, PathBuf};

use alam::lock::RunLock;
use alam::metrics::bounded_history;
use alam::run::{io_context, read_metrics, CHECKPOINT_FILE, METRICS_FILE, WEIGHTS_FILE};
use alam::{checkpoint, AlamError, Result};
use burn::tensor::Device;

use super::Outcome;

pub(super) fn run(run: PathBuf, out: Option<PathBuf>, full: bool) -> Result<Outcome> {
    // A run another process is training is refused: its records and files are still changing.
    // A missing folder is refused below, by the file it lacks.
    let _lock = if run.is_dir() { Some(RunLock::acquire(&run)?) } else { None };
    let weights = run.join(if full { CHECKPOINT_FILE } else { WEIGHTS_FILE });
    let out = out.unwrap_or_else(|| weights.clone());
    let (kept, of) = embed(&run.join(METRICS_FILE), &weights, &out, full)?;
    eprintln!("{}: history of {kept} records (of {of} in {METRICS_FILE})", out.display());
    Ok(Outcome::Done)
}

/// Writes `weights` (a weights-only file, or with `full` a full run file) with the records of
/// `metrics` made up to the file's own step as its history (bounded as the page's saves are:
/// the newest `HISTORY_CAP`, probe grids dropped) to `out`, atomically (temp file + rename).
/// Everything else is the file's own, unchanged: networks, config, counters and, in a full
/// file, the whole training state. Returns (records kept, records read).
fn embed(metrics: &Path, weights: &Path, out: &Path, full: bool) -> Result<(usize, usize)> {
    let bytes = std::fs::read(weights).map_err(io_context(weights, "cannot read"))?;
    let named = |e: AlamError| match e {
        AlamError::Weights(m) => AlamError::Weights(format!("{}: {m}", weights.display())),
        other => other,
    };
    let records = read_metrics(metrics).map_err(|e| AlamError::Io(std::io::Error::other(e.message)))?;
    // A file saved before the run went on (an interrupted run's last evaluation) gets only the
    // records of what it has seen.
    let history_to = |steps: u64| bounded_history(records.iter().filter(|r| r.step() <= steps));
    let (bytes, kept) = if full {
        let (trainer, header, kind) = checkpoint::load_run(&bytes, &Device::flex(), None).map_err(named)?;
        if kind != checkpoint::RunKind::Full {
            return Err(AlamError::Weights(format!("{}: not a full run file (ALAMRUN2)", weights.display())));
        }
        let history = history_to(header.steps);
        let kept = history.len();
        (checkpoint::save_run(&trainer, history, header.state.and_then(|s| s.metrics_len))?, kept)
    } else {
        let (agent, header) = checkpoint::load(&bytes, &Device::flex(), None).map_err(named)?;
        let history = history_to(header.steps);
        let kept = history.len();
        (checkpoint::save_with_history(&agent, header.steps, history)?, kept)
    };
    let tmp = out.with_extension("alam.tmp");
    std::fs::write(&tmp, bytes).map_err(io_context(&tmp, "cannot write"))?;
    std::fs::rename(&tmp, out).map_err(io_context(out, "cannot write"))?;
    Ok((kept, records.len()))
}
