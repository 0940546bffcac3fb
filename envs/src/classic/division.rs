//! Division by a constant with the bits of the division instruction but half its latency, for
//! the one division on CartPole's critical path.
//!
//! A single CartPole step is bound by the latency of the chain from one step's `theta_dot` to
//! the next (see `CartPole::advance`). Gymnasium's arithmetic puts `... / total_mass` on that
//! chain, and `divsd` takes 13 cycles on the machines measured. The quotient has to stay
//! Gymnasium's bit for bit (open-loop replays of a balancing pole amplify any last-bit
//! difference past 1e-6 within a few hundred steps; `tests/parity_classic.rs`), so a
//! multiplication by the reciprocal, which differs in about 30% of cases, will not do.
//!
//! With fused multiply-add, [`ConstDivisor::divide_fused`] gets the same bits in about 7
//! cycles on the chain:
//! 1. **Candidate** (Brisebarre, Muller & Raina, "Accelerating correctly rounded
//!    floating-point division when the divisor is known in advance", IEEE TC 53(8), 2004):
//!    with `hi = RN(1/d)` and `lo ~ 1/d - hi`, `q = RN(n * hi + RN(n * lo))`. For most
//!    divisors, including CartPole's 1.1, this is `RN(n / d)` for every `n`.
//! 2. **Check, off the chain** (Markstein's theorem): as `hi` is `RN(1/d)` and `q` is within an
//!    ulp of `n / d`, the remainder `r = n - q d` is exact in one FMA, and `RN(q + r hi)` is the
//!    correctly rounded quotient. Where it differs from `q` (or `n` is zero, huge or tiny,
//!    where the theorem's conditions could fail), the result comes from the division
//!    instruction itself, on a cold branch.
//!
//! The check's branch is predicted taken, so the next multiplication starts from `q` while the
//! check runs beside it; the result is the division's bits on every input, whichever path it
//! took (tested on random and edge-case values in `tests`).

/// Below this magnitude (`2^-900`) the remainder could leave the normal range.
const SMALLEST: f64 = f64::from_bits(0x07B0_0000_0000_0000);
/// Above this magnitude (`2^900`) `q * d` could overflow.
const LARGEST: f64 = f64::from_bits(0x7830_0000_0000_0000);

/// A divisor fixed once, with its reciprocal split in two for [`ConstDivisor::divide_fused`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ConstDivisor {
    divisor: f64,
    /// `RN(1 / divisor)`.
    inv_hi: f64,
    /// About `1 / divisor - inv_hi`.
    inv_lo: f64,
}

impl ConstDivisor {
    pub(crate) fn new(divisor: f64) -> Self {
        let inv_hi = 1.0 / divisor;
        // 1 - divisor * inv_hi is exact in one FMA (it is done once, so a software FMA is fine).
        let inv_lo = (-divisor).mul_add(inv_hi, 1.0) / divisor;
        ConstDivisor { divisor, inv_hi, inv_lo }
    }

    /// Whether [`ConstDivisor::divide_fused`] may be used on this CPU for this divisor: the CPU
    /// has FMA, and the divisor is far enough from the ends of the exponent range (2^-512 to
    /// 2^512) for the check's reasoning to hold.
    pub(crate) fn fused_available(self) -> bool {
        let magnitude = self.divisor.abs();
        fma_available()
            && magnitude > f64::from_bits(0x1FF0_0000_0000_0000)
            && magnitude < f64::from_bits(0x5FF0_0000_0000_0000)
            && self.inv_lo.is_finite()
    }

    /// The divisor.
    pub(crate) fn divisor(self) -> f64 {
        self.divisor
    }

    /// `n / divisor`, by the division instruction.
    #[inline(always)]
    pub(crate) fn divide(self, n: f64) -> f64 {
        n / self.divisor
    }

    /// `n / divisor` with the same bits as [`ConstDivisor::divide`], from fused multiply-adds.
    /// Only where [`ConstDivisor::fused_available`], inlined into a
    /// `#[target_feature(enable = "fma")]` function (elsewhere `mul_add` is a library call).
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn divide_fused(self, n: f64) -> f64 {
        let q = n.mul_add(self.inv_hi, n * self.inv_lo);
        let remainder = (-q).mul_add(self.divisor, n);
        let checked = remainder.mul_add(self.inv_hi, q);
        let magnitude = n.abs();
        if checked == q && magnitude > SMALLEST && magnitude < LARGEST {
            q
        } else {
            divide_slowly(n, self.divisor)
        }
    }
}

/// The division instruction, out of line so that the compiler keeps the fused path's check a
/// branch (a select would put the check's latency back on the chain).
#[cold]
#[inline(never)]
fn divide_slowly(n: f64, d: f64) -> f64 {
    n / d
}

/// Whether this CPU executes fused multiply-add in hardware (the fused path is x86-64 only).
fn fma_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::EnvRng;

    /// `divide_fused` compiled with FMA, as CartPole's step uses it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    fn fused(d: ConstDivisor, n: f64) -> f64 {
        d.divide_fused(n)
    }

    fn same_bits(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// The fused path gives the division's bits: random numerators at every magnitude
    /// (and random bit patterns), CartPole's divisor and others, and the edge values.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn fused_division_has_the_bits_of_the_division_instruction() {
        if !fma_available() {
            eprintln!("no FMA on this CPU: the fused path is never taken here");
            return;
        }
        let mut rng = EnvRng::seed_from(21);
        let mut divisors = vec![0.1 + 1.0, 3.0, 10.0, 0.7, 1.0, 2.0, 1e-100, 1e100, -1.1];
        divisors.extend((0..20).map(|_| rng.uniform(0.01, 100.0)));
        let edges = [0.0, -0.0, f64::MIN_POSITIVE, 5e-324, f64::MAX, f64::INFINITY, f64::NAN];
        for &d in &divisors {
            let divisor = ConstDivisor::new(d);
            let mut ns: Vec<f64> = (0..20_000).map(|_| rng.uniform(-20.0, 20.0)).collect();
            ns.extend((0..20_000).map(|_| f64::from_bits(rng.next_u64())));
            ns.extend((0..5_000).map(|_| rng.uniform(1.0, 2.0) * d));
            ns.extend(edges.iter().flat_map(|&e| [e, -e]));
            for n in ns {
                // SAFETY: the CPU has FMA (checked above).
                let got = unsafe { fused(divisor, n) };
                assert!(same_bits(got, n / d), "{n:e} / {d:e}: {got:e}, want {:e}", n / d);
            }
        }
    }

    #[test]
    fn plain_division_is_the_instruction() {
        let d = ConstDivisor::new(1.1);
        assert_eq!(d.divide(10.0), 10.0 / 1.1);
        assert_eq!(d.divisor(), 1.1);
        assert!(!ConstDivisor::new(1e-300).fused_available());
        assert!(!ConstDivisor::new(f64::INFINITY).fused_available());
        assert_eq!(ConstDivisor::new(1.1).fused_available(), fma_available());
    }
}
