//! `alam report`: a sweep's runs scored against the paper's claims (summary.json and SVG figures).

use std::path::PathBuf;

use alam::Result;

use super::Outcome;

pub(super) fn run(runs: PathBuf, out: PathBuf) -> Result<Outcome> {
    for path in alam::report::write_report(&runs, &out)? {
        println!("wrote {}", path.display());
    }
    Ok(Outcome::Done)
}
