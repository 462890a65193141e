//! The tasks of docs/runs.md and their full tables: binary operations mod a prime p, and
//! composition in the symmetric group S₅, whose p is the group's order.

use crate::choice_enum;
use crate::data::modular::{is_prime, mod_inverse};
use crate::data::symmetric;
use crate::{bail, Result};

choice_enum!(
    /// The binary operation whose answer c(x, y) the model learns: mod p, or in S₅ (p = 120,
    /// its elements numbered as in docs/runs.md).
    Task, "task", {
        /// x + y
        Add = "add",
        /// x − y
        Sub = "sub",
        /// x · y
        Mul = "mul",
        /// x · y⁻¹, y ≠ 0
        Div = "div",
        /// x² + y²
        SqSum = "sq_sum",
        /// x² + xy + y²
        Quad = "quad",
        /// x³ + xy
        Cubic = "cubic",
        /// x∘y in S₅ (p = 120)
        S5Compose = "s5_compose",
        /// x∘y⁻¹ in S₅ (p = 120)
        S5ComposeInv = "s5_compose_inv",
    }
);

impl Task {
    /// The p a group task is defined for (its group's order); None for the modular tasks,
    /// whose p is the modulus a run chooses.
    pub fn group_order(self) -> Option<u32> {
        match self {
            Task::S5Compose | Task::S5ComposeInv => Some(symmetric::ORDER),
            _ => None,
        }
    }

    /// Whether the numbers are residues mod p, the cyclic group Z_p the Fourier analyses
    /// (docs/analyses.md §§ 1–8) are built on.
    pub fn is_modular(self) -> bool {
        self.group_order().is_none()
    }

    /// Why the analyses built on the Fourier basis of Z_p do not apply to the task, as the
    /// end of a message; None for the modular tasks.
    pub fn not_modular(self) -> Option<String> {
        (!self.is_modular()).then(|| format!("task {self} is not arithmetic mod p"))
    }

    /// How a title names the task and p: "add mod 97", "s5_compose in S₅".
    pub fn with_p(self, p: u32) -> String {
        match self.group_order() {
            Some(_) => format!("{self} in S₅"),
            None => format!("{self} mod {p}"),
        }
    }

    /// The rule for p: a group task's order, or a prime ≥ 3 for the modular tasks.
    pub fn check_p(self, p: u32) -> Result<()> {
        match self.group_order() {
            Some(order) if p != order => bail!("p is the group order for task {self}: it must be {order}, got {p}"),
            Some(_) => Ok(()),
            None => check_modulus(p),
        }
    }

    /// Number of examples N of the full table (`div` leaves out y = 0).
    pub fn examples(self, p: u32) -> usize {
        let p = p as usize;
        if self == Task::Div {
            p * (p - 1)
        } else {
            p * p
        }
    }

    /// c(x, y) for x, y in 0..p, or None where the pair is not in the task's table
    /// (y = 0 for `div`). p must satisfy [`Task::check_p`] (the inverse needs a prime).
    pub fn answer(self, x: u64, y: u64, p: u64) -> Option<u64> {
        let m = |a: u64, b: u64| ((a as u128 * b as u128) % p as u128) as u64;
        Some(match self {
            Task::Add => (x + y) % p,
            Task::Sub => (x + p - y) % p,
            Task::Mul => m(x, y),
            Task::Div if y == 0 => return None,
            Task::Div => m(x, mod_inverse(y, p)),
            Task::SqSum => (m(x, x) + m(y, y)) % p,
            Task::Quad => (m(x, x) + m(x, y) + m(y, y)) % p,
            Task::Cubic => (m(m(x, x), x) + m(x, y)) % p,
            Task::S5Compose => symmetric::compose(x as u32, y as u32) as u64,
            Task::S5ComposeInv => symmetric::compose(x as u32, symmetric::inverse(y as u32)) as u64,
        })
    }
}

/// Every valid (x, y) pair of a task, ordered by x then y, with its answer.
/// Index i of these vectors is example i everywhere (dataset.safetensors, train_mask).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub task: Task,
    pub p: u32,
    pub x: Vec<u32>,
    pub y: Vec<u32>,
    pub target: Vec<u32>,
}

impl Table {
    /// The full table; p must satisfy [`Task::check_p`].
    pub fn new(task: Task, p: u32) -> Result<Table> {
        task.check_p(p)?;
        let (mut x, mut y, mut target) = (vec![], vec![], vec![]);
        for a in 0..p {
            for b in 0..p {
                if let Some(c) = task.answer(a as u64, b as u64, p as u64) {
                    x.push(a);
                    y.push(b);
                    target.push(c as u32);
                }
            }
        }
        Ok(Table { task, p, x, y, target })
    }

    /// Number of examples N.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// The modulus rule of docs/runs.md: a prime, at least 3 (p = 2 leaves nothing to learn).
fn check_modulus(p: u32) -> Result<()> {
    if p < 3 {
        bail!("p must be a prime ≥ 3, got {p}");
    }
    if !is_prime(p as u64) {
        bail!("p must be prime, got {p} (try {})", (p..).find(|&q| is_prime(q as u64)).unwrap_or(p));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes() {
        for task in Task::ALL.iter().filter(|t| t.is_modular()) {
            let t = Table::new(*task, 97).unwrap();
            let want = if *task == Task::Div { 97 * 96 } else { 97 * 97 };
            assert_eq!((t.len(), task.examples(97)), (want, want), "{task}");
        }
        for task in [Task::S5Compose, Task::S5ComposeInv] {
            let t = Table::new(task, 120).unwrap();
            assert_eq!((t.len(), task.examples(120)), (120 * 120, 120 * 120), "{task}");
            assert!(t.target.iter().all(|&c| c < 120));
        }
    }

    #[test]
    fn s5_tables_compose_and_divide() {
        let compose = Table::new(Task::S5Compose, 120).unwrap();
        let divide = Table::new(Task::S5ComposeInv, 120).unwrap();
        assert_eq!((compose.x[..3].to_vec(), compose.y[..3].to_vec()), (vec![0, 0, 0], vec![0, 1, 2]));
        for i in 0..divide.len() {
            let (x, y) = (divide.x[i], divide.y[i]);
            // (x∘y⁻¹)∘y = x, and the compose table holds x∘y.
            assert_eq!(symmetric::compose(divide.target[i], y), x, "x {x} y {y}");
            assert_eq!(compose.target[i], symmetric::compose(x, y));
        }
    }

    #[test]
    fn p_of_a_group_task_is_its_order() {
        assert_eq!(Task::S5Compose.group_order(), Some(120));
        assert!(Task::S5ComposeInv.check_p(120).is_ok() && !Task::S5Compose.is_modular() && Task::Div.is_modular());
        assert_eq!(Task::S5Compose.check_p(97).unwrap_err().to_string(), "p is the group order for task s5_compose: it must be 120, got 97");
        assert_eq!(Table::new(Task::S5ComposeInv, 113).unwrap_err().to_string(), "p is the group order for task s5_compose_inv: it must be 120, got 113");
        assert_eq!(Task::Add.check_p(120).unwrap_err().to_string(), "p must be prime, got 120 (try 127)");
    }

    #[test]
    fn table_is_ordered_by_x_then_y() {
        let t = Table::new(Task::Sub, 5).unwrap();
        let pairs: Vec<(u32, u32)> = t.x.iter().copied().zip(t.y.iter().copied()).collect();
        let mut sorted = pairs.clone();
        sorted.sort_unstable();
        assert_eq!(pairs, sorted);
        assert_eq!(pairs[..6], [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (1, 0)]);
    }

    #[test]
    fn div_excludes_zero_and_inverts_mul() {
        let p = 97;
        let t = Table::new(Task::Div, p).unwrap();
        assert!(t.y.iter().all(|&y| y != 0));
        for i in 0..t.len() {
            assert_eq!(t.target[i] as u64 * t.y[i] as u64 % p as u64, t.x[i] as u64, "example {i}");
        }
    }

    #[test]
    fn answers_by_hand() {
        let p = 7;
        assert_eq!(Task::Add.answer(5, 4, p), Some(2));
        assert_eq!(Task::Sub.answer(2, 5, p), Some(4));
        assert_eq!(Task::Mul.answer(3, 5, p), Some(1));
        assert_eq!(Task::Div.answer(1, 3, p), Some(5));
        assert_eq!(Task::Div.answer(1, 0, p), None);
        assert_eq!(Task::SqSum.answer(3, 4, p), Some(4));
        assert_eq!(Task::Quad.answer(3, 4, p), Some(2));
        assert_eq!(Task::Cubic.answer(3, 4, p), Some(4));
    }

    #[test]
    fn bad_moduli_are_errors() {
        let e = Table::new(Task::Add, 91).unwrap_err().to_string();
        assert_eq!(e, "p must be prime, got 91 (try 97)");
        let e = Table::new(Task::Add, 2).unwrap_err().to_string();
        assert_eq!(e, "p must be a prime ≥ 3, got 2");
        assert!(Table::new(Task::Add, 0).is_err());
    }

    #[test]
    fn task_names_round_trip_and_unknown_is_an_error() {
        for t in Task::ALL {
            assert_eq!(t.as_str().parse::<Task>().unwrap(), *t);
        }
        let e = "pow".parse::<Task>().unwrap_err().to_string();
        assert_eq!(e, "unknown task 'pow' (expected one of: add, sub, mul, div, sq_sum, quad, cubic, s5_compose, s5_compose_inv)");
    }
}
