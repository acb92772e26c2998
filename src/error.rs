//! Errors a person can act on: each names what was wrong and what is allowed.

use thiserror::Error;

/// Everything that can go wrong outside a bug.
#[derive(Debug, Error)]
pub enum AlamError {
    /// A hyper-parameter is out of its range; `field` is its name in the config file.
    #[error("invalid config: `{field}` = {value} ({allowed})")]
    Config { field: &'static str, value: String, allowed: &'static str },
    /// One setting of a partial config (the page's form, a widget's attribute) refused: the
    /// field it names (`env`, `algo` or a config field) and why.
    #[error("invalid setting `{field}`: {message}")]
    Setting { field: String, message: String },
    /// A config file that is not valid JSON for [`crate::config::TrainConfig`].
    #[error("cannot read config: {0}")]
    ConfigParse(String),
    /// A weights file that is corrupt, truncated, or made for another env or network shape.
    #[error("bad weights file: {0}")]
    Weights(String),
    /// Training produced a non-finite loss; the last good weights were kept.
    #[error("training diverged at update {update}: {what} is not finite; kept the last good weights")]
    Diverged { update: u64, what: String },
    /// Reading a tensor back from the device failed.
    #[error("device readback failed: {0}")]
    Device(String),
    /// `alam train --resume` found nothing it can continue (no checkpoint, a finished or
    /// diverged run, a metrics file that does not match).
    #[error("cannot resume: {0}")]
    Resume(String),
    /// Another live process holds a run folder ([`crate::lock`]): who, and the folder.
    #[error("{dir} is in use by {holder}: wait until it ends, or choose another folder")]
    Locked { dir: String, holder: String },
    /// `alam report` found no runs it can read, or could not draw a figure.
    #[error("report: {0}")]
    Report(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl AlamError {
    /// The config field a refusal names, when it names one ([`AlamError::Config`],
    /// [`AlamError::Setting`]): the page shows the message beside that field's input.
    pub fn field(&self) -> Option<&str> {
        match self {
            AlamError::Config { field, .. } => Some(field),
            AlamError::Setting { field, .. } => Some(field),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, AlamError>;
