//! Number theory mod p: primality, powers, inverses, primitive roots, discrete-log order.

/// Whether n is prime (trial division by 2, 3 and 6k ± 1; p is small in practice).
pub fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n.is_multiple_of(2) || n.is_multiple_of(3) {
        return false;
    }
    let mut k = 5u64;
    while k.saturating_mul(k) <= n {
        if n.is_multiple_of(k) || n.is_multiple_of(k + 2) {
            return false;
        }
        k += 6;
    }
    true
}

/// b^e mod m (u128 products, so any u64 modulus is exact).
pub fn mod_pow(b: u64, mut e: u64, m: u64) -> u64 {
    let m128 = m as u128;
    let mut base = b as u128 % m128;
    let mut acc = 1 % m128;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * base % m128;
        }
        base = base * base % m128;
        e >>= 1;
    }
    acc as u64
}

/// y⁻¹ mod p for prime p and y ≢ 0 (Fermat: y^(p−2)). Panics on y ≡ 0.
pub fn mod_inverse(y: u64, p: u64) -> u64 {
    assert!(!y.is_multiple_of(p), "0 has no inverse mod {p}");
    mod_pow(y, p - 2, p)
}

/// The distinct prime factors of n, ascending.
fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut f = vec![];
    let mut q = 2;
    while q * q <= n {
        if n.is_multiple_of(q) {
            f.push(q);
            while n.is_multiple_of(q) {
                n /= q;
            }
        }
        q += 1;
    }
    if n > 1 {
        f.push(n);
    }
    f
}

/// The smallest generator of the multiplicative group mod prime p: g has order p − 1 iff
/// g^((p−1)/q) ≠ 1 for every prime q dividing p − 1. Panics unless p is prime.
pub fn primitive_root(p: u64) -> u64 {
    assert!(is_prime(p), "primitive_root: {p} is not prime");
    if p == 2 {
        return 1;
    }
    let factors = prime_factors(p - 1);
    (2..p)
        .find(|&g| factors.iter().all(|&q| mod_pow(g, (p - 1) / q, p) != 1))
        .expect("every prime has a primitive root")
}

/// The nonzero residues in discrete-log order: [g⁰, g¹, …, g^(p−2)] for g the smallest
/// primitive root. Multiplication mod p is addition mod p − 1 in this order.
pub fn discrete_log_order(p: u64) -> Vec<u64> {
    let g = primitive_root(p);
    let mut v = Vec::with_capacity(p as usize - 1);
    let mut a = 1u64;
    for _ in 0..p - 1 {
        v.push(a);
        a = ((a as u128 * g as u128) % p as u128) as u64;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_below_fifty() {
        let got: Vec<u64> = (0..50).filter(|&n| is_prime(n)).collect();
        assert_eq!(got, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]);
        assert!(is_prime(97) && is_prime(113) && is_prime(65_537));
        assert!(!is_prime(91) && !is_prime(1) && !is_prime(25) && !is_prime(65_535));
    }

    #[test]
    fn inverse_times_value_is_one() {
        for p in [3u64, 47, 97, 113] {
            for y in 1..p {
                assert_eq!(y * mod_inverse(y, p) % p, 1, "y {y} p {p}");
            }
        }
    }

    #[test]
    fn known_smallest_primitive_roots() {
        // OEIS A001918.
        let want = [(3, 2), (5, 2), (7, 3), (11, 2), (13, 2), (17, 3), (19, 2), (23, 5), (41, 6), (47, 5), (97, 5), (113, 3)];
        for (p, g) in want {
            assert_eq!(primitive_root(p), g, "p {p}");
        }
    }

    #[test]
    fn discrete_log_order_visits_every_nonzero_residue_once() {
        for p in [5u64, 97, 113] {
            let mut v = discrete_log_order(p);
            assert_eq!(v[0], 1);
            assert_eq!(v[1], primitive_root(p));
            v.sort_unstable();
            assert_eq!(v, (1..p).collect::<Vec<u64>>());
        }
    }
}
