//! The symmetric group S₅ of docs/runs.md: its 120 permutations of {0, …, 4} numbered in
//! lexicographic order of their one-line notation [σ(0), …, σ(4)] (index 0 is the identity,
//! 119 is the reversal), composed right to left: (x∘y)(i) = x(y(i)).
//!
//! The index of a permutation is its Lehmer code read in the factorial number system, which
//! is exactly its rank in lexicographic order, so no table is needed to go either way.

/// The number of symbols permuted.
pub const DEGREE: usize = 5;
/// |S₅| = 5!.
pub const ORDER: u32 = 120;

type Perm = [u8; DEGREE];

/// The permutation with index `k` (0 ≤ k < 120) in one-line notation.
pub fn permutation(k: u32) -> Perm {
    assert!(k < ORDER, "S₅ has {ORDER} elements, index {k} is out of range");
    let mut left: Vec<u8> = (0..DEGREE as u8).collect();
    let mut rest = k as usize;
    let mut perm = [0u8; DEGREE];
    for (i, slot) in perm.iter_mut().enumerate() {
        let block = factorial(DEGREE - 1 - i);
        *slot = left.remove(rest / block);
        rest %= block;
    }
    perm
}

/// The index of a permutation in one-line notation (the inverse of [`permutation`]).
pub fn index(perm: &Perm) -> u32 {
    let mut k = 0;
    for i in 0..DEGREE {
        let smaller_later = perm[i + 1..].iter().filter(|&&v| v < perm[i]).count();
        k += smaller_later * factorial(DEGREE - 1 - i);
    }
    k as u32
}

fn factorial(n: usize) -> usize {
    (1..=n).product()
}

/// x∘y: apply y first, then x.
pub fn compose(x: u32, y: u32) -> u32 {
    let (a, b) = (permutation(x), permutation(y));
    index(&std::array::from_fn(|i| a[b[i] as usize]))
}

/// y⁻¹.
pub fn inverse(y: u32) -> u32 {
    let perm = permutation(y);
    let mut inv = [0u8; DEGREE];
    for (i, &v) in perm.iter().enumerate() {
        inv[v as usize] = i as u8;
    }
    index(&inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDENTITY: u32 = 0;

    #[test]
    fn indices_are_lexicographic_ranks() {
        assert_eq!(permutation(0), [0, 1, 2, 3, 4]);
        assert_eq!(permutation(1), [0, 1, 2, 4, 3]);
        assert_eq!(permutation(2), [0, 1, 3, 2, 4]);
        assert_eq!(permutation(119), [4, 3, 2, 1, 0]);
        let all: Vec<Perm> = (0..ORDER).map(permutation).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "strictly increasing, so all distinct");
        for k in 0..ORDER {
            assert_eq!(index(&permutation(k)), k);
        }
    }

    #[test]
    fn composition_applies_the_right_factor_first() {
        // x = (0 1) swaps 0 and 1; y = (1 2) swaps 1 and 2. x∘y sends 2 → 1 → 0.
        let x = index(&[1, 0, 2, 3, 4]);
        let y = index(&[0, 2, 1, 3, 4]);
        assert_eq!(permutation(compose(x, y)), [1, 2, 0, 3, 4]);
        assert_eq!(permutation(compose(y, x)), [2, 0, 1, 3, 4]);
    }

    #[test]
    fn identity_and_inverses() {
        for x in 0..ORDER {
            assert_eq!(compose(IDENTITY, x), x);
            assert_eq!(compose(x, IDENTITY), x);
            assert_eq!(compose(x, inverse(x)), IDENTITY);
            assert_eq!(compose(inverse(x), x), IDENTITY);
            assert_eq!(inverse(inverse(x)), x);
        }
    }

    #[test]
    fn associativity() {
        for x in (0..ORDER).step_by(7) {
            for y in 0..ORDER {
                for z in (0..ORDER).step_by(11) {
                    assert_eq!(compose(compose(x, y), z), compose(x, compose(y, z)), "x {x} y {y} z {z}");
                }
            }
        }
    }

    #[test]
    fn each_row_and_column_of_the_table_is_a_permutation_of_the_group() {
        for x in 0..ORDER {
            let mut row: Vec<u32> = (0..ORDER).map(|y| compose(x, y)).collect();
            let mut column: Vec<u32> = (0..ORDER).map(|y| compose(y, x)).collect();
            row.sort_unstable();
            column.sort_unstable();
            assert_eq!(row, (0..ORDER).collect::<Vec<u32>>());
            assert_eq!(column, row);
        }
    }

    #[test]
    fn the_group_is_not_abelian() {
        let commuting = (0..ORDER).flat_map(|x| (0..ORDER).map(move |y| (x, y))).filter(|&(x, y)| compose(x, y) == compose(y, x)).count();
        // Σ over x of |centralizer(x)| = |G| · (number of conjugacy classes) = 120 · 7.
        assert_eq!(commuting, 120 * 7);
    }
}
