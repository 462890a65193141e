//! Shares of a sweep for several machines (`--shard I/N`): which runs the I-th of N processes
//! trains into the common output directory.
//!
//! The runs are laid out group by group (runs of a group share every dispatch) and cut into N
//! contiguous, near-equal shares, so a share keeps its runs' groups together as far as the
//! counts allow and every run is trained by exactly one share. The share depends only on the
//! plan and N, so every process computes the same assignment, and sweep.json records it.

use std::str::FromStr;

use crate::{bail, Error, Result};

/// The I-th (from 0) of N shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn new(index: usize, count: usize) -> Result<Shard> {
        if count == 0 {
            bail!("--shard I/N needs N ≥ 1");
        }
        if index >= count {
            bail!("--shard {index}/{count}: I counts from 0 and must be below N");
        }
        Ok(Shard { index, count })
    }

    /// The share of a Slurm array task, from `SLURM_ARRAY_TASK_ID` and
    /// `SLURM_ARRAY_TASK_COUNT` (arrays numbered from 0, as the examples submit them).
    pub fn from_slurm(task_id: Option<&str>, task_count: Option<&str>) -> Result<Shard> {
        let (Some(id), Some(count)) = (task_id, task_count) else {
            bail!("--shard slurm needs SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT: submit it as an array job (sbatch --array=0-N)");
        };
        let number = |name: &str, v: &str| v.trim().parse::<usize>().map_err(|_| Error::msg(format!("{name}={v:?} is not a task number")));
        Shard::new(number("SLURM_ARRAY_TASK_ID", id)?, number("SLURM_ARRAY_TASK_COUNT", count)?)
            .map_err(|e| Error::msg(format!("{e} (Slurm arrays for --shard slurm are numbered 0..N-1)")))
    }

    /// The share of every run: runs in group order, cut into `count` contiguous shares whose
    /// sizes differ by at most one. Indexed like the runs.
    pub fn assignment(count: usize, groups: &[Vec<usize>]) -> Vec<usize> {
        let order: Vec<usize> = groups.iter().flatten().copied().collect();
        let mut share = vec![0; order.len()];
        for (position, &run) in order.iter().enumerate() {
            share[run] = position * count / order.len().max(1);
        }
        share
    }
}

impl FromStr for Shard {
    type Err = Error;

    /// `I/N`; `slurm` is resolved from the environment by the command line.
    fn from_str(s: &str) -> Result<Shard> {
        let parsed = s.split_once('/').and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) => Shard::new(index, count),
            None => bail!("--shard takes I/N (the I-th of N shares, I from 0) or slurm, not {s:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_contiguous_in_group_order_and_near_equal() {
        // Two groups interleaved in plan order: runs 0, 2, 4 and 1, 3.
        let groups = vec![vec![0, 2, 4], vec![1, 3]];
        assert_eq!(Shard::assignment(2, &groups), [0, 1, 0, 1, 0]);
        assert_eq!(Shard::assignment(1, &groups), [0; 5]);
        // More shares than runs: some shares are empty, every run has one.
        assert_eq!(Shard::assignment(7, &groups), [0, 4, 1, 5, 2]);
        let sizes = |count| {
            let a = Shard::assignment(count, &[(0..10).collect()]);
            (0..count).map(|s| a.iter().filter(|&&x| x == s).count()).collect::<Vec<_>>()
        };
        assert_eq!(sizes(3), [4, 3, 3]);
        assert_eq!(sizes(4), [3, 2, 3, 2]);
    }

    #[test]
    fn shard_arguments() {
        assert_eq!("2/5".parse::<Shard>().unwrap(), Shard { index: 2, count: 5 });
        assert!("5/5".parse::<Shard>().unwrap_err().to_string().contains("must be below N"));
        assert!("0/0".parse::<Shard>().unwrap_err().to_string().contains("N ≥ 1"));
        assert!("half".parse::<Shard>().unwrap_err().to_string().starts_with("--shard takes I/N"));
        assert_eq!(Shard::from_slurm(Some("3"), Some("4")).unwrap(), Shard { index: 3, count: 4 });
        assert!(Shard::from_slurm(None, Some("4")).unwrap_err().to_string().contains("array job"));
        assert!(Shard::from_slurm(Some("4"), Some("4")).unwrap_err().to_string().contains("numbered 0..N-1"));
        assert!(Shard::from_slurm(Some("x"), Some("4")).unwrap_err().to_string().contains("not a task number"));
    }
}
