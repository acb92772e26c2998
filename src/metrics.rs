//! What a run reports, one JSON object per line (`metrics.jsonl`): the CLI's progress bar,
//! the report and the page all read these records and nothing else (data flows one way).

use serde::{Deserialize, Serialize};

use crate::agent::UpdateStats;

/// One line of `metrics.jsonl`, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A finished training episode.
    Episode {
        step: u64,
        episode: u64,
        #[serde(rename = "return")]
        ret: f64,
        cost: f64,
        /// Steps with cost > 0.
        violations: u64,
        length: u64,
    },
    /// Means over the last `log_every` updates, with throughput since the previous record.
    Update {
        step: u64,
        updates: u64,
        #[serde(flatten)]
        stats: UpdateStats,
        updates_per_s: f64,
        env_steps_per_s: f64,
    },
    /// Deterministic evaluation episodes on a separate env instance.
    Eval { step: u64, return_mean: f64, cost_mean: f64, violations_mean: f64, episodes: u64 },
    /// λ(s) and Q_c(s, π(s)) on the fixed probe grid (docs/method.md §8): the oscillation measure
    /// uses these, not the noisy per-batch means. The grids (row-major, as the env's
    /// `ProbeGrid`, rounded to 1e-3) let the report draw heat maps at any point of training;
    /// the AUCs score each as a detector of doomed states where the env knows them (C3).
    Probe {
        step: u64,
        lambda_mean: f64,
        lambda_std: f64,
        lambda_max: f64,
        cost_value_mean: f64,
        flagged_frac: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        calibration_auc: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost_value_auc: Option<f64>,
        #[serde(default)]
        lambda_grid: Vec<f32>,
        #[serde(default)]
        cost_value_grid: Vec<f32>,
    },
    /// Training stopped on a non-finite loss; the last good weights were kept.
    Diverged { step: u64, message: String },
}

impl Record {
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The environment step the record was made at.
    pub fn step(&self) -> u64 {
        match self {
            Record::Episode { step, .. }
            | Record::Update { step, .. }
            | Record::Eval { step, .. }
            | Record::Probe { step, .. }
            | Record::Diverged { step, .. } => *step,
        }
    }

    /// The record as a run file's history keeps it: a probe without its grids (the charts
    /// draw the probe's means; the grids are most of `metrics.jsonl`'s bytes).
    pub fn for_history(&self) -> Record {
        let mut r = self.clone();
        if let Record::Probe { lambda_grid, cost_value_grid, .. } = &mut r {
            *lambda_grid = Vec::new();
            *cost_value_grid = Vec::new();
        }
        r
    }
}

/// Records a run file's history keeps (the newest; the page's charts show 500 rows each), so
/// the file of a long run stays small.
pub const HISTORY_CAP: usize = 4000;

/// The history a run file carries for `records` (oldest first): the newest [`HISTORY_CAP`],
/// each [`Record::for_history`] — what the page's saves keep and `alam embed-history` writes.
pub fn bounded_history<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<Record> {
    let records: Vec<&Record> = records.into_iter().collect();
    let skip = records.len().saturating_sub(HISTORY_CAP);
    records[skip..].iter().map(|r| r.for_history()).collect()
}

/// Running mean of update statistics between two `Update` records.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct StatsWindow {
    sum: [f64; 10],
    max_lambda: f64,
    n: u64,
}

impl StatsWindow {
    pub fn push(&mut self, s: &UpdateStats) {
        for (acc, v) in self.sum.iter_mut().zip(s.values()) {
            *acc += v;
        }
        self.max_lambda = self.max_lambda.max(s.lambda_max);
        self.n += 1;
    }

    pub fn len(&self) -> u64 {
        self.n
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The mean of each statistic (λ max: the max over the window), and resets.
    pub fn take(&mut self) -> UpdateStats {
        let n = self.n.max(1) as f64;
        let mut out = UpdateStats::from_values(self.sum.map(|total| total / n));
        out.lambda_max = self.max_lambda;
        *self = StatsWindow::default();
        out
    }
}

/// Rounds to 1e-3 so a grid costs a few bytes a value in `metrics.jsonl`.
pub fn quantize(values: &[f32]) -> Vec<f32> {
    values.iter().map(|v| (v * 1000.0).round() / 1000.0).collect()
}

/// Summary statistics of λ over a probe set.
pub fn summarize(values: &[f32], lambda_max: f64) -> (f64, f64, f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
    let max = values.iter().fold(0.0f64, |m, &v| m.max(v as f64));
    // "At the cap" counts as flagged (docs/method.md §3e); 0.99 leaves room for float rounding.
    let flagged = values.iter().filter(|&&v| v as f64 >= 0.99 * lambda_max).count() as f64 / n;
    (mean, var.sqrt(), max, flagged)
}
