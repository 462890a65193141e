//! One writer per run directory: an exclusive OS file lock on `.grokgpu.lock`, held for the
//! life of the command. The operating system releases it whenever the process ends, however
//! it ends (SIGKILL included), so a stale lock cannot outlive its holder. The file holds the
//! holder's process id, for the message a second writer gets. The lock file itself is never
//! removed (removing it would let two processes lock two different files).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::CHECKPOINT_DIR;
use crate::io::remove_leftover_temporaries;
use crate::{bail, Error, Result};

pub const LOCK_FILE: &str = ".grokgpu.lock";

/// A held lock; dropping it (or exiting) releases it.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock of the existing directory `dir`, then removes the temporary files that
    /// a writer killed mid-write left there (only the lock holder may). Refuses, naming the
    /// holder's process id, when another process holds it.
    pub fn acquire(dir: &Path) -> Result<RunLock> {
        let (mut file, path) = open(dir)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let who = match holder.trim() {
                    "" => "another process".to_string(),
                    pid => format!("process {pid}"),
                };
                bail!("{} is in use by {who}, another grokgpu command writing there; wait for it to finish or stop it", dir.display());
            }
            Err(TryLockError::Error(e)) => bail!("cannot lock {}: {e}", path.display()),
        }
        RunLock::held(dir, file, &path)
    }

    /// Takes the lock of `dir`, waiting while another process holds it: for a short write
    /// that several commands may need in turn (a multi-run's sweep.json, which every shard of
    /// a sweep writes alike). Creates `dir` if needed: the first writer of a multi-run does.
    pub fn wait(dir: &Path) -> Result<RunLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::msg(format!("cannot create {}: {e}", dir.display())))?;
        let (file, path) = open(dir)?;
        file.lock().map_err(|e| Error::msg(format!("cannot lock {}: {e}", path.display())))?;
        RunLock::held(dir, file, &path)
    }

    /// Records the holder and clears what killed writers left.
    fn held(dir: &Path, mut file: File, path: &Path) -> Result<RunLock> {
        let pid = std::process::id().to_string();
        let written = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(pid.as_bytes()));
        written.map_err(|e| Error::msg(format!("cannot write {}: {e}", path.display())))?;
        for sub in [dir.to_path_buf(), dir.join(CHECKPOINT_DIR)] {
            remove_leftover_temporaries(&sub)?;
        }
        Ok(RunLock { _file: file })
    }
}

/// The lock file of `dir`, created if needed (never truncated: it may be another's lock).
fn open(dir: &Path) -> Result<(File, PathBuf)> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::msg(format!("cannot open {}: {e}", path.display())))?;
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir;

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_released() {
        let dir = test_dir("run_lock");
        std::fs::create_dir(dir.join(CHECKPOINT_DIR)).unwrap();
        std::fs::write(dir.join(CHECKPOINT_DIR).join(".step_00000010.safetensors.tmp-77"), b"torn").unwrap();
        let first = RunLock::acquire(&dir).unwrap();
        assert_eq!(std::fs::read_dir(dir.join(CHECKPOINT_DIR)).unwrap().count(), 0, "the leftover is removed");
        let e = RunLock::acquire(&dir).unwrap_err().to_string();
        assert!(e.contains(&format!("is in use by process {}", std::process::id())), "{e}");
        drop(first);
        let waited = RunLock::wait(&dir).unwrap();
        assert!(RunLock::acquire(&dir).is_err());
        drop(waited);
        RunLock::acquire(&dir).unwrap();
        assert!(RunLock::acquire(&dir.join("missing")).is_err());
    }
}
