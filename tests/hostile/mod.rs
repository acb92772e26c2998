//! What the `hostile_*.rs` tests share: a sandbox folder in which the `alam` binary is run
//! with bad inputs. Each call must end (a timeout per call), never panic, never be silently
//! accepted (a refusal exits 2 with a message), and nothing may be written outside the `--out`
//! folders given.

// Each hostile_*.rs test file uses a part of this module.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Per call: every bad input here is refused before training, or reports a tiny sweep.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A fresh folder of its own per test (tests of one file run in parallel threads).
pub struct Sandbox {
    pub root: PathBuf,
    /// The calls' stderr, outside `root` (so that it is not a stray file).
    stderr: PathBuf,
    /// Top-level names the calls were allowed to write (their --out folders).
    outs: BTreeSet<String>,
    pub calls: usize,
}

/// How a call ended: its exit code (None: killed by a signal) and its stderr.
pub struct Ran {
    pub code: Option<i32>,
    pub stderr: String,
}

impl Sandbox {
    /// `name`: the test's, so that parallel tests never share a folder.
    pub fn new(name: &str) -> Self {
        let tag = format!("alam-hostile-{}-{name}", std::process::id());
        let root = std::env::temp_dir().join(&tag);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Sandbox { root, stderr: std::env::temp_dir().join(format!("{tag}-stderr")), outs: BTreeSet::new(), calls: 0 }
    }

    /// A fresh --out path (relative to the sandbox, where every call runs).
    pub fn out(&mut self, prefix: &str) -> String {
        let name = format!("{prefix}-{}", self.outs.len());
        self.outs.insert(name.clone());
        name
    }

    /// Runs the binary in the sandbox with a timeout; stderr through a file (no pipe to fill).
    ///
    /// # Panics
    /// On a hang, a panic of the binary, or more than 20 kB of stderr.
    pub fn run(&mut self, args: &[String]) -> Ran {
        self.calls += 1;
        let mut child = Command::new(env!("CARGO_BIN_EXE_alam"))
            .args(args)
            .current_dir(&self.root)
            .stdout(Stdio::null())
            .stderr(File::create(&self.stderr).unwrap())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if t0.elapsed() > TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hang (> {TIMEOUT:?}): alam {}", shown(args));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = String::from_utf8_lossy(&std::fs::read(&self.stderr).unwrap()).into_owned();
        assert!(!stderr.contains("panicked") && status.code() != Some(101), "panic: alam {}\n{stderr}", shown(args));
        assert!(stderr.len() < 20_000, "{} bytes of stderr for alam {}", stderr.len(), shown(args));
        Ran { code: status.code(), stderr }
    }

    /// A bad input: refused (exit 2) with a message, and its --out (if any) never created.
    pub fn refused(&mut self, args: &[String], out: Option<&str>) {
        let r = self.run(args);
        assert_eq!(r.code, Some(2), "silently accepted (exit {:?}): alam {}\n{}", r.code, shown(args), r.stderr);
        assert!(
            r.stderr.starts_with("error") || r.stderr.contains("\nerror"),
            "no message: alam {}\n{}",
            shown(args),
            r.stderr
        );
        if let Some(out) = out {
            assert!(!self.root.join(out).exists(), "a refused call wrote {out}: alam {}", shown(args));
        }
    }

    /// Checks that nothing was written outside the --out folders given, then removes the sandbox.
    pub fn finish(self) {
        let stray: Vec<String> = std::fs::read_dir(&self.root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !self.outs.contains(n))
            .collect();
        assert!(stray.is_empty(), "written outside --out: {stray:?}");
        let _ = std::fs::remove_dir_all(&self.root);
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// The arguments as a person would read them, each cut to 80 characters.
pub fn shown(args: &[String]) -> String {
    args.iter().map(|a| if a.len() > 80 { format!("{}…", &a[..80]) } else { a.clone() }).collect::<Vec<_>>().join(" ")
}

pub fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Tiny settings first: a bad value given after them is the one that counts.
pub const TINY: [&str; 12] = [
    "--set",
    "hidden=16",
    "--set",
    "batch_size=16",
    "--set",
    "learning_starts=64",
    "--set",
    "eval_every=200",
    "--set",
    "probe_every=100",
    "--set",
    "log_every=20",
];

/// Deterministic "random" numbers (no dependency): a 64-bit LCG.
pub struct Lcg(pub u64);
impl Lcg {
    /// A number in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
