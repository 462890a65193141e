//! `kernels.json`: the matmul variant a run launched for each product shape, so that
//! `--resume` and the analysis of the run launch the same kernels whatever the tune cache
//! holds later (every variant gives the same bits; this keeps the run's speed too).

use std::collections::BTreeMap;
use std::path::Path;

use super::KERNELS_FILE;
use crate::io::atomic::write_atomic;
use crate::tensor::gemm::choice::check_names;
use crate::{Error, Result};

/// Records `choices` (shape → variant) in the run directory `dir`.
pub fn write_kernels(dir: &Path, choices: &BTreeMap<String, String>) -> Result<()> {
    let json = serde_json::to_string_pretty(choices).map_err(|e| Error::msg(format!("cannot encode {KERNELS_FILE}: {e}")))?;
    write_atomic(&dir.join(KERNELS_FILE), json.as_bytes())
}

/// The variants recorded in the run directory `dir`; empty for a run that recorded none.
pub fn read_kernels(dir: &Path) -> Result<BTreeMap<String, String>> {
    let path = dir.join(KERNELS_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(Error::msg(format!("cannot read {}: {e}", path.display()))),
    };
    let choices: BTreeMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|e| Error::msg(format!("{} is not a map of shapes to variants: {e}", path.display())))?;
    check_names(&choices).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
    Ok(choices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_round_trip_and_bad_names_are_refused() {
        let dir = std::env::temp_dir().join(format!("grokgpu-kernels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(read_kernels(&dir).unwrap().is_empty());
        let choices = BTreeMap::from([("R1 A·Bᵀ 2048x512x128".to_string(), "simd-8x8".to_string())]);
        write_kernels(&dir, &choices).unwrap();
        assert_eq!(read_kernels(&dir).unwrap(), choices);
        let bad = BTreeMap::from([("R1 A·Bᵀ 2048x512x128".to_string(), "simd-8x99".to_string())]);
        write_kernels(&dir, &bad).unwrap();
        assert!(read_kernels(&dir).unwrap_err().to_string().contains("simd-8x99"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
