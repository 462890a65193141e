//! The (x, y) input grid of the model-based analyses: which dataset row sits at each cell
//! of the n×n grid read in token order (ANALYSES.md § 1 neurons, § 8). For the natural
//! order the grid is p×p in dataset order (row x·p + y); for `mul` and `div` it is the
//! (p − 1)×(p − 1) grid of (g^i, g^j), the pairs with a zero operand left out.

use super::spectrum::TokenOrder;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairGrid {
    /// Side of the grid: p, or p − 1 in discrete-log order.
    pub n: usize,
    /// `rows[i·n + j]` is the dataset row of the pair (tokens[i], tokens[j]).
    pub rows: Vec<usize>,
}

impl PairGrid {
    /// The grid of a dataset's pairs (x, y) read in `order`; None when a cell has no
    /// example (the task's table is not the full product of its tokens) or an operand is
    /// not below p.
    pub fn new(x: &[u32], y: &[u32], p: usize, order: TokenOrder) -> Option<PairGrid> {
        let mut row_of = vec![usize::MAX; p * p];
        for (row, (&a, &b)) in x.iter().zip(y).enumerate() {
            if a as usize >= p || b as usize >= p {
                return None;
            }
            row_of[a as usize * p + b as usize] = row;
        }
        let tokens = order.tokens(p);
        let rows: Vec<usize> = tokens.iter().flat_map(|&a| tokens.iter().map(move |&b| a * p + b)).map(|cell| row_of[cell]).collect();
        rows.iter().all(|&r| r != usize::MAX).then_some(PairGrid { n: tokens.len(), rows })
    }

    /// Values per dataset row [N, width] rearranged into grid order, [n², width].
    pub fn gather(&self, values: &[f32], width: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.rows.len() * width);
        for &r in &self.rows {
            out.extend(values[r * width..(r + 1) * width].iter().map(|&v| v as f64));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Table, Task};

    #[test]
    fn natural_grids_are_the_dataset_order() {
        let table = Table::new(Task::Add, 7).unwrap();
        let grid = PairGrid::new(&table.x, &table.y, 7, TokenOrder::Natural).unwrap();
        assert_eq!(grid.n, 7);
        assert_eq!(grid.rows, (0..49).collect::<Vec<_>>());
        let values: Vec<f32> = (0..98).map(|v| v as f32).collect();
        assert_eq!(grid.gather(&values, 2)[..4], [0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn discrete_log_grids_skip_zero_operands() {
        // div mod 7 has no y = 0: the natural grid is incomplete, the (log x, log y) grid
        // of the nonzero pairs is full.
        let table = Table::new(Task::Div, 7).unwrap();
        assert!(PairGrid::new(&table.x, &table.y, 7, TokenOrder::Natural).is_none());
        assert!(PairGrid::new(&[7], &[0], 7, TokenOrder::Natural).is_none(), "an operand beyond p");
        let order = TokenOrder::for_task("div", 7);
        let grid = PairGrid::new(&table.x, &table.y, 7, order).unwrap();
        assert_eq!(grid.n, 6);
        let tokens = order.tokens(7);
        for i in 0..6 {
            for j in 0..6 {
                let r = grid.rows[i * 6 + j];
                assert_eq!((table.x[r] as usize, table.y[r] as usize), (tokens[i], tokens[j]));
            }
        }
    }
}
