//! One process per run folder: `RUN/lock`, held by the process that trains, resumes or rewrites
//! the run in it, so that a second `alam` process on the same folder is refused (or, in a
//! sweep, skips that run) instead of writing the same files at once.
//!
//! The file says who holds it (pid, host, start time, command) for the messages; the hold itself
//! is an OS lock on the open file (`flock` on Linux), which the kernel lets go however the
//! process ends: a normal exit, an error, Ctrl-C, SIGKILL, a crash. The holder removes the file
//! when it lets go ([`RunLock`]'s `Drop`); a file left behind by a process that ended without
//! removing it (killed) is *stale*: the next process takes it over and says whose it was. So a
//! lock never outlives its process, and a reused pid can never keep a folder locked. Shards on
//! several machines sharing one `--out` over NFS exclude each other too: Linux's NFS client
//! emulates `flock` as a byte-range lock on the server (flock(2), since Linux 2.6.12).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{AlamError, Result};
use crate::run::io_context;
use crate::sweep::clip;

/// The lock file in a run folder.
pub const LOCK_FILE: &str = "lock";

/// Who holds (or held) a run folder: what its lock file says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    /// When it took the lock, in seconds since the Unix epoch.
    pub started: u64,
    /// Its command line, the program by file name (clipped to 160 characters).
    pub command: String,
}

impl Holder {
    /// This process.
    fn this_process() -> Holder {
        let host = fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "an unknown host".into());
        Holder { pid: std::process::id(), host, started: unix_now(), command: clip(&command_line(), 160) }
    }
}

impl std::fmt::Display for Holder {
    /// `pid 4242 on node7 (`alam sweep --out runs/s`, started 35 s ago)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ago = unix_now().saturating_sub(self.started);
        write!(f, "pid {} on {} (`{}`, started {ago} s ago)", self.pid, self.host, self.command)
    }
}

/// This process's command line, its program by file name (`alam sweep --out runs/s`).
fn command_line() -> String {
    let mut args = std::env::args();
    let program =
        args.next().map(|p| Path::new(&p).file_name().map_or_else(|| p.clone(), |n| n.to_string_lossy().into_owned()));
    program.into_iter().chain(args).collect::<Vec<_>>().join(" ")
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A run folder's lock, held until dropped (which removes the lock file).
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    /// Open and OS-locked for as long as this value lives.
    _file: File,
    stale: Option<Holder>,
}

/// What [`RunLock::try_acquire`] found.
#[derive(Debug)]
pub enum Claim {
    Taken(RunLock),
    /// Another live process holds the folder; `None` when its lock file could not be read
    /// (it is being written at this moment).
    HeldBy(Option<Holder>),
}

impl RunLock {
    /// Takes the lock of the existing folder `dir`, or says who holds it. A stale lock file
    /// (its process has ended) is taken over: [`RunLock::stale`] says whose it was.
    ///
    /// # Errors
    /// [`AlamError::Io`] naming the lock file when it cannot be opened, read or written, or the
    /// file system refuses file locks.
    pub fn try_acquire(dir: &Path) -> Result<Claim> {
        let path = dir.join(LOCK_FILE);
        // The holder removes the file as it lets go: a file locked just after that is no longer
        // the one at `path`, and the lock is taken again on the new one.
        for _ in 0..8 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io_context(&path, "cannot open the run's lock"))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Ok(Claim::HeldBy(read_holder(&mut file))),
                Err(fs::TryLockError::Error(e)) => {
                    return Err(io_context(&path, "cannot lock (does this file system support file locks?)")(e))
                }
            }
            if !is_same_file(&file, &path) {
                continue;
            }
            let stale = read_holder(&mut file);
            let me = serde_json::to_string(&Holder::this_process()).unwrap_or_default() + "\n";
            file.set_len(0)
                .and_then(|_| file.rewind())
                .and_then(|_| file.write_all(me.as_bytes()))
                .and_then(|_| file.flush())
                .map_err(io_context(&path, "cannot write the run's lock"))?;
            return Ok(Claim::Taken(RunLock { path, _file: file, stale }));
        }
        Err(AlamError::Io(std::io::Error::other(format!(
            "cannot lock {}: it was replaced 8 times while this process tried",
            path.display()
        ))))
    }

    /// [`RunLock::try_acquire`], a folder another process holds refused with who holds it.
    ///
    /// # Errors
    /// [`AlamError::Locked`], or as [`RunLock::try_acquire`].
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        match Self::try_acquire(dir)? {
            Claim::Taken(lock) => Ok(lock),
            Claim::HeldBy(holder) => {
                Err(AlamError::Locked { dir: dir.display().to_string(), holder: describe(holder.as_ref()) })
            }
        }
    }

    /// The process that held the lock before and ended without letting go of it (killed), if any.
    pub fn stale(&self) -> Option<&Holder> {
        self.stale.as_ref()
    }

    /// A sentence about the stale lock taken over, if there was one.
    pub fn stale_note(&self) -> Option<String> {
        self.stale
            .as_ref()
            .map(|h| format!("note: {} was left by {h}, which has ended: taken over", self.path.display()))
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked: no other process can have taken it meanwhile. The OS lock
        // goes with the file handle, just after.
        let _ = fs::remove_file(&self.path);
    }
}

/// Who holds a lock, for a message.
pub fn describe(holder: Option<&Holder>) -> String {
    match holder {
        Some(h) => h.to_string(),
        None => "another process (its lock file is being written)".into(),
    }
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// Whether `path` still names the file `file` has open.
#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Elsewhere a file open in one process cannot be removed by another.
#[cfg(not(unix))]
fn is_same_file(_file: &File, path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("alam-lock-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_held_folder_is_refused_until_let_go() {
        let dir = tmp("held");
        let lock = RunLock::acquire(&dir).unwrap();
        assert!(lock.stale().is_none());
        let on_disk: Holder = serde_json::from_str(&fs::read_to_string(dir.join(LOCK_FILE)).unwrap()).unwrap();
        assert_eq!(on_disk.pid, std::process::id());
        // A second open file description of the same file is refused, as another process would be.
        match RunLock::try_acquire(&dir).unwrap() {
            Claim::HeldBy(Some(h)) => assert_eq!(h, on_disk),
            other => panic!("{other:?}"),
        }
        let err = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(err.contains(&format!("pid {}", std::process::id())) && err.contains("in use"), "{err}");
        drop(lock);
        assert!(!dir.join(LOCK_FILE).exists(), "the lock file goes with the lock");
        let again = RunLock::acquire(&dir).unwrap();
        assert!(again.stale().is_none());
    }

    #[test]
    fn a_lock_file_nobody_holds_is_taken_over_with_a_note() {
        let dir = tmp("stale");
        let dead = Holder { pid: 999_999_999, host: "node7".into(), started: 1, command: "alam sweep".into() };
        fs::write(dir.join(LOCK_FILE), serde_json::to_string(&dead).unwrap()).unwrap();
        let lock = RunLock::acquire(&dir).unwrap();
        assert_eq!(lock.stale(), Some(&dead));
        let note = lock.stale_note().unwrap();
        assert!(note.contains("pid 999999999 on node7") && note.contains("taken over"), "{note}");
        // Garbage in a lock file nobody holds is taken over too, silently.
        drop(lock);
        fs::write(dir.join(LOCK_FILE), "garbage").unwrap();
        assert!(RunLock::acquire(&dir).unwrap().stale().is_none());
    }
}
