//! `alam report`: a sweep's runs scored against the paper's claims (summary.json and SVG
//! figures), and the table of scores, comparisons and intervals on stdout.

use std::path::PathBuf;

use alam::Result;

use super::Outcome;

pub(super) fn run(runs: PathBuf, out: PathBuf) -> Result<Outcome> {
    let written = alam::report::write_report(&runs, &out)?;
    print!("{}", written.table);
    for path in written.files {
        println!("wrote {}", path.display());
    }
    Ok(Outcome::Done)
}
