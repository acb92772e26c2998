//! The report folder replaced in one step (issue 21.4): a report is written whole into a
//! hidden sibling folder, then renamed into place, so that an interrupted `alam report` leaves
//! the previous complete report or the new one, never a mix of the two.
//!
//! The sibling folders of `--out reports` are `.reports.report-new` (the report being written)
//! and `.reports.report-old` (the previous one, between the swap and its removal). Two reports
//! into the same folder at once are not supported.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{AlamError, Result};
use crate::run::io_context;

/// Whether a file at the top of a report folder is the report's: its `summary.json` and its
/// figures. Everything else there (a subfolder such as `reports/batched/`, a README) is not,
/// and is carried over to each new report untouched.
fn is_report_file(path: &Path) -> bool {
    path.is_file() && path.file_name().is_some_and(|n| n == "summary.json" || n.to_string_lossy().ends_with(".svg"))
}

/// The working folders of a report into `out`: (new, old).
fn siblings(out: &Path) -> Result<(PathBuf, PathBuf)> {
    let name = out
        .file_name()
        .ok_or_else(|| AlamError::Report(format!("--out {}: must end in a folder name", out.display())))?
        .to_string_lossy();
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Ok((parent.join(format!(".{name}.report-new")), parent.join(format!(".{name}.report-old"))))
}

/// Calls `write` with an empty folder to write a report into, then makes that folder `out`:
/// the report files of the previous report in `out` are gone, every other entry of `out` is
/// kept. Whenever `out` exists it holds one complete report. If `write` fails, `out` is left
/// as it was.
pub fn replace_report<T>(out: &Path, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    if out.exists() && !out.is_dir() {
        return Err(AlamError::Report(format!("--out {} is not a folder", out.display())));
    }
    let (new, old) = siblings(out)?;
    if let Some(parent) = new.parent() {
        fs::create_dir_all(parent).map_err(io_context(parent, "--out: cannot create"))?;
    }
    recover(out, &new, &old)?;
    fs::create_dir(&new).map_err(io_context(&new, "cannot create the report's working folder"))?;
    let value = match write(&new) {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_dir_all(&new);
            return Err(e);
        }
    };
    let swap = || -> Result<()> {
        if out.exists() {
            move_entries(out, &new, |p| !is_report_file(p))?;
            fs::rename(out, &old).map_err(io_context(out, "cannot move aside the previous report in"))?;
        }
        // Between these two renames `out` is absent for an instant; `recover` finishes the
        // swap if a report was stopped there.
        fs::rename(&new, out).map_err(io_context(out, "cannot move the new report into"))
    };
    if let Err(e) = swap() {
        // The previous report and the other entries back in `out`; what cannot be put back now
        // is left for the next report's `recover`.
        let _ = recover(out, &new, &old);
        return Err(e);
    }
    if old.exists() {
        fs::remove_dir_all(&old).map_err(io_context(&old, "cannot remove the previous report"))?;
    }
    Ok(value)
}

/// Undoes what an interrupted report left beside `out`: the previous report back in place if
/// the swap was cut between its renames, the entries that are not report files back in `out`,
/// and the working folders removed.
fn recover(out: &Path, new: &Path, old: &Path) -> Result<()> {
    if !out.exists() && old.exists() {
        fs::rename(old, out).map_err(io_context(out, "cannot restore the previous report into"))?;
    }
    if new.exists() {
        if fs::read_dir(new)
            .map_err(io_context(new, "cannot read"))?
            .any(|e| e.is_ok_and(|e| !is_report_file(&e.path())))
        {
            fs::create_dir_all(out).map_err(io_context(out, "cannot create"))?;
            move_entries(new, out, |p| !is_report_file(p))?;
        }
        fs::remove_dir_all(new).map_err(io_context(new, "cannot remove an interrupted report's folder"))?;
    }
    if old.exists() {
        fs::remove_dir_all(old).map_err(io_context(old, "cannot remove the previous report"))?;
    }
    Ok(())
}

/// Moves (renames) the entries of `from` that `pick` selects into `to`; on a failure, moves
/// back those already moved and says which entry failed.
fn move_entries(from: &Path, to: &Path, pick: impl Fn(&Path) -> bool) -> Result<()> {
    let entries: Vec<PathBuf> = fs::read_dir(from)
        .map_err(io_context(from, "cannot read"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| pick(p))
        .collect();
    for (k, path) in entries.iter().enumerate() {
        let target = to.join(path.file_name().unwrap_or_default());
        if let Err(e) = fs::rename(path, &target) {
            for moved in &entries[..k] {
                let _ = fs::rename(to.join(moved.file_name().unwrap_or_default()), moved);
            }
            return Err(io_context(path, &format!("cannot move into {}:", to.display()))(e));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("alam-output-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    fn write(files: &'static [&'static str]) -> impl FnOnce(&Path) -> Result<()> {
        move |dir| {
            for f in files {
                fs::write(dir.join(f), f).unwrap();
            }
            Ok(())
        }
    }

    #[test]
    fn a_new_report_replaces_the_old_files_and_keeps_the_rest() {
        let root = tmp("replace");
        let out = root.join("reports");
        replace_report(&out, write(&["summary.json", "curves.svg", "heatmaps.svg"])).unwrap();
        fs::create_dir(out.join("batched")).unwrap();
        fs::write(out.join("batched/summary.json"), "kept").unwrap();
        fs::write(out.join("README.md"), "kept").unwrap();
        replace_report(&out, write(&["summary.json", "curves.svg"])).unwrap();
        assert_eq!(names(&out), ["README.md", "batched", "curves.svg", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("batched/summary.json")).unwrap(), "kept");
        assert_eq!(names(&root), ["reports"], "no working folder left behind");
        // A failed report leaves the folder as it was.
        let failed = replace_report(&out, |dir| {
            fs::write(dir.join("summary.json"), "half").unwrap();
            Err::<(), _>(AlamError::Report("drawing failed".into()))
        });
        assert!(failed.is_err());
        assert_eq!(names(&out), ["README.md", "batched", "curves.svg", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "summary.json");
        assert_eq!(names(&root), ["reports"]);
    }

    /// Each point where a report can be stopped, set up by hand: the next report starts from
    /// the previous complete report, with every entry that is not a report file in place.
    #[test]
    fn an_interrupted_swap_is_finished_by_the_next_report() {
        let root = tmp("recover");
        let out = root.join("reports");
        let (new, old) = siblings(&out).unwrap();
        // Stopped while writing: the new folder is dropped.
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("summary.json"), "previous").unwrap();
        fs::create_dir_all(&new).unwrap();
        fs::write(new.join("summary.json"), "half").unwrap();
        recover(&out, &new, &old).unwrap();
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "previous");
        assert_eq!(names(&root), ["reports"]);
        // Stopped between the renames: the previous report (moved aside) comes back, and the
        // entries that had been carried into the new folder return to it.
        fs::create_dir_all(out.join("batched")).unwrap();
        fs::create_dir_all(&new).unwrap();
        move_entries(&out, &new, |p| !is_report_file(p)).unwrap();
        fs::write(new.join("summary.json"), "new").unwrap();
        fs::rename(&out, &old).unwrap();
        recover(&out, &new, &old).unwrap();
        assert_eq!(names(&out), ["batched", "summary.json"]);
        assert_eq!(fs::read_to_string(out.join("summary.json")).unwrap(), "previous");
        assert_eq!(names(&root), ["reports"]);
        // Stopped after the swap, before the old folder was removed.
        fs::create_dir_all(&old).unwrap();
        recover(&out, &new, &old).unwrap();
        assert_eq!(names(&root), ["reports"]);
    }

    #[test]
    fn out_must_be_a_folder_name() {
        assert!(siblings(Path::new("/")).is_err());
        assert!(siblings(Path::new("..")).is_err());
        let (new, _) = siblings(Path::new("reports")).unwrap();
        assert_eq!(new, Path::new("./.reports.report-new"));
        let file = tmp("file").join("f");
        fs::write(&file, "x").unwrap();
        assert!(replace_report(&file, write(&["summary.json"])).is_err());
    }
}
