//! A dense row-major f64 matrix: the host form of one checkpoint tensor for the analyses.

/// Row-major `rows × cols` values in f64 (checkpoints are f32; the analyses run in f64).
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Matrix {
        assert_eq!(data.len(), rows * cols, "Matrix: {rows}×{cols} needs {} values", rows * cols);
        Matrix { rows, cols, data }
    }

    /// Widens a checkpoint's f32 tensor.
    pub fn from_f32(rows: usize, cols: usize, data: &[f32]) -> Matrix {
        Matrix::new(rows, cols, data.iter().map(|&v| v as f64).collect())
    }

    /// The matrix with entries f(row, col).
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> f64) -> Matrix {
        Matrix::new(rows, cols, (0..rows * cols).map(|i| f(i / cols, i % cols)).collect())
    }

    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    pub fn at(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    /// The first `n` rows, e.g. the p number rows of `embed.weight` (dropping `op` and `=`).
    pub fn first_rows(&self, n: usize) -> Matrix {
        assert!(n <= self.rows, "first_rows: {n} of {} rows", self.rows);
        Matrix::new(n, self.cols, self.data[..n * self.cols].to_vec())
    }

    /// ‖M‖²_F.
    pub fn frobenius_sq(&self) -> f64 {
        self.data.iter().map(|v| v * v).sum()
    }

    /// The mean row.
    pub fn mean_row(&self) -> Vec<f64> {
        let mut mean = vec![0.0; self.cols];
        for r in 0..self.rows {
            for (m, v) in mean.iter_mut().zip(self.row(r)) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= self.rows as f64);
        mean
    }

    /// ‖column j‖² for every column.
    pub fn column_energies(&self) -> Vec<f64> {
        let mut e = vec![0.0; self.cols];
        for r in 0..self.rows {
            for (acc, v) in e.iter_mut().zip(self.row(r)) {
                *acc += v * v;
            }
        }
        e
    }
}
