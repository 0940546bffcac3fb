//! numpy's float32 reductions, reproduced where Gymnasium's rewards use them.
//!
//! Gymnasium's `control_cost` is `ctrl_cost_weight * np.sum(np.square(action))` on the float32
//! action: numpy squares in float32, sums with its pairwise summation in float32 (eight
//! accumulators for blocks of 8 to 128 elements, halving above), and, under NEP 50, multiplies
//! by the Python-float weight in float32 too. The order of additions decides the last bits, so
//! it is copied here (`numpy/_core/src/umath/loops_utils.h.src`, `pairwise_sum`).

/// numpy's pairwise sum of `xs` in float32, as `np.add.reduce` runs it on a contiguous array
/// (the reduction starts from the identity 0 and adds the pairwise sum of all elements).
pub fn pairwise_sum_f32(xs: &[f32]) -> f32 {
    0.0 + pairwise(xs)
}

/// numpy's pairwise sum of `xs` in float64 (`np.sum` of a contiguous float64 array, e.g. the
/// squared contact forces of Ant and Humanoid).
pub fn pairwise_sum_f64(xs: &[f64]) -> f64 {
    0.0 + pairwise(xs)
}

/// `np.sum(np.square(xs))` in float64.
pub fn sum_of_squares_f64(xs: &[f64]) -> f64 {
    let squares: Vec<f64> = xs.iter().map(|&x| x * x).collect();
    pairwise_sum_f64(&squares)
}

/// `np.linalg.norm(xs)` of a short float64 vector: `sqrt(xs.dot(xs))`, where the dot product
/// (OpenBLAS' `ddot`, below its 32-element vector kernel) adds the squares left to right
/// without fused multiply-adds (checked against numpy 2.4.6 on 40k random 2- and 3-vectors).
pub fn norm(xs: &[f64]) -> f64 {
    let mut dot = 0.0;
    for &x in xs {
        dot += x * x;
    }
    dot.sqrt()
}

/// `np.clip(x, low, high)` on a float64: `min(max(x, low), high)` with numpy's comparisons (a
/// NaN stays NaN; `low > high` gives `high`, where Rust's `clamp` would panic).
pub fn clip(x: f64, low: f64, high: f64) -> f64 {
    let lifted = if x.is_nan() || x > low { x } else { low };
    if lifted.is_nan() || lifted < high {
        lifted
    } else {
        high
    }
}

fn pairwise<T: Copy + Default + std::ops::Add<Output = T>>(a: &[T]) -> T {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = T::default();
        for &x in a {
            res = res + x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [T::default(); 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] = r[j] + a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            res = res + x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// Gymnasium's `control_cost`: `weight * np.sum(np.square(action))`, all in float32.
pub fn control_cost(weight: f64, action: &[f32]) -> f32 {
    let squares: Vec<f32> = action.iter().map(|&x| x * x).collect();
    weight as f32 * pairwise_sum_f32(&squares)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summation order shows in float32, where 1e8 + 4 rounds back to 1e8 (values checked
    /// against numpy 2.4.6's `np.sum` on float32 arrays).
    #[test]
    fn pairwise_sum_follows_numpy_order() {
        // Under 8 elements: left to right from 0, so each 4 vanishes (1e8 + (4 + 4) would not).
        assert_eq!(pairwise_sum_f32(&[1e8, 4.0, 4.0]), 1e8);
        // 8..=128: eight strided accumulators; the ones landing on 1e8's accumulator vanish, the
        // 21 others are summed apart and survive partly: numpy gives 100000016.
        let mut xs = vec![1.0f32; 24];
        xs[0] = 1e8;
        assert_eq!(pairwise_sum_f32(&xs), 100000016.0);
        assert_eq!(pairwise_sum_f32(&[]), 0.0);
        let big: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        assert_eq!(pairwise_sum_f32(&big), 499500.0);
    }

    /// The float64 sums, norm and clip against numpy 2.4.6.
    #[test]
    fn float64_helpers_follow_numpy() {
        let mut xs = vec![1.0f64; 24];
        xs[0] = 1e16;
        assert_eq!(pairwise_sum_f64(&xs), 1.0000000000000022e16);
        assert_eq!(pairwise_sum_f64(&[1e16, 1.0, 1.0]), 1e16);
        assert_eq!(norm(&[0.1, 0.2, 0.3]), 0.37416573867739417);
        // Squares underflow as in `dot` (no scaling as in a hypot).
        assert_eq!(norm(&[3e-200, 4e-200]), 0.0);
        let got: Vec<f64> =
            [f64::NAN, 0.5, 2.0, -3.0, f64::INFINITY].iter().map(|&x| clip(x, -1.0, 1.0)).collect();
        assert!(got[0].is_nan());
        assert_eq!(&got[1..], &[0.5, 1.0, -1.0, 1.0]);
        assert_eq!(clip(-0.0, -1.0, 1.0).to_bits(), (-0.0f64).to_bits());
        // low > high gives high, as np.clip does (Rust's clamp would panic).
        assert_eq!(clip(0.3, 1.0, -1.0), -1.0);
        assert!(clip(f64::NAN, f64::NEG_INFINITY, 10.0).is_nan());
    }

    #[test]
    fn control_cost_is_float32() {
        // 0.1 rounds to float32 before the product, as numpy 2 does with a Python float.
        assert_eq!(control_cost(0.1, &[1.0, 2.0]), 0.1f32 * 5.0f32);
    }
}
