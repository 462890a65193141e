//! Atomic file replacement: a reader (or a run killed at any instant) sees either the old
//! file or the complete new one, never a torn one.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (so the
/// rename cannot cross file systems), fsync, rename over `path`, fsync the directory (so the
/// rename itself survives a crash). The temporary file is removed if anything fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let result = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(Error::msg(format!("cannot write {}: {e}", path.display())));
    }
    sync_dir(path).map_err(|e| Error::msg(format!("cannot sync the directory of {}: {e}", path.display())))
}

/// `dir/.name.tmp-<pid>`: hidden, unique per process, recognizably not a finished file.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Removes the temporary files that writers killed mid-write left in `dir` (names made by
/// [`temp_path`]); the caller must be the directory's only writer. Returns their names.
pub fn remove_leftover_temporaries(dir: &Path) -> Result<Vec<String>> {
    let mut removed = vec![];
    let Ok(entries) = fs::read_dir(dir) else { return Ok(removed) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_temporary = name.starts_with('.') && name.rsplit_once(".tmp-").is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
        if is_temporary && entry.file_type().is_ok_and(|t| t.is_file()) {
            fs::remove_file(entry.path()).map_err(|e| Error::msg(format!("cannot remove {}: {e}", entry.path().display())))?;
            removed.push(name);
        }
    }
    removed.sort();
    Ok(removed)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes a rename in `path`'s directory durable. Only Unix can open a directory to sync it;
/// elsewhere the rename's own guarantees are all there is.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_dir;

    #[test]
    fn writes_replaces_and_leaves_no_temporary_file() {
        let dir = test_dir("atomic_write");
        let path = dir.join("a.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<String> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["a.json"]);
    }

    #[test]
    fn leftover_temporaries_are_removed_and_nothing_else() {
        let dir = test_dir("atomic_leftovers");
        for name in [".a.json.tmp-123", ".state.safetensors.tmp-9", "a.json", ".hidden", "notes.tmp-1", ".b.tmp-x1"] {
            fs::write(dir.join(name), b"x").unwrap();
        }
        assert_eq!(remove_leftover_temporaries(&dir).unwrap(), [".a.json.tmp-123", ".state.safetensors.tmp-9"]);
        let mut left: Vec<String> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, [".b.tmp-x1", ".hidden", "a.json", "notes.tmp-1"]);
    }

    #[test]
    fn failure_names_the_file_and_cleans_up() {
        let dir = test_dir("atomic_fail");
        let path = dir.join("missing_subdir").join("a.json");
        let e = write_atomic(&path, b"x").unwrap_err().to_string();
        assert!(e.starts_with("cannot write ") && e.contains("a.json"), "{e}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
    }
}
