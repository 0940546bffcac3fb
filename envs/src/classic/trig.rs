//! Sine and cosine for CartPole's step, three ways, all within 1 ulp of glibc's `sin`/`cos`
//! (what Gymnasium's numpy calls):
//!
//! * `libm_sin_cos`: glibc's `sincos` — exactly `sin` and `cos`, one call.
//! * `sin_cos_fast`: the single env's step: fdlibm's kernels inline for |theta| < pi/4 (every
//!   angle of a running episode), `libm_sin_cos` beyond.
//! * [`sin_cos`]: branch-free and call-free, so that `CartPoleVectorEnv`'s loop over a batch
//!   vectorises; fdlibm's reduction and kernels (Sun Microsystems, 1993).
//!
//! On |theta| < pi/4 the last two give the same bits, so a `CartPole` and a sub-env of
//! `CartPoleVectorEnv` step alike.

/// `(theta.sin(), theta.cos())` in one call to the C library's `sincos`, which shares the
/// argument reduction between the two. glibc computes each result exactly as its `sin` and
/// `cos` do (checked by `sincos_matches_sin_and_cos`), so trajectories keep matching
/// numpy's (which calls `sin` and `cos`) bit for bit. `f64::sin_cos` calls `sin` and `cos`
/// separately. The step uses it for |theta| >= pi/4 (see `sin_cos_fast`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[inline]
pub(crate) fn libm_sin_cos(theta: f64) -> (f64, f64) {
    extern "C" {
        fn sincos(x: libc::c_double, sin: *mut libc::c_double, cos: *mut libc::c_double);
    }
    let (mut s, mut c) = (0.0, 0.0);
    // SAFETY: glibc's `sincos` writes one double through each pointer, which point to locals.
    unsafe { sincos(theta, &mut s, &mut c) };
    (s, c)
}

/// `(theta.sin(), theta.cos())` (no `sincos` in this C library).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
#[inline]
pub(crate) fn libm_sin_cos(theta: f64) -> (f64, f64) {
    (theta.sin(), theta.cos())
}

/// `(theta.sin(), theta.cos())` for the step: for |theta| < pi/4 (every angle of a running
/// episode, which ends past 12 degrees) fdlibm's sine and cosine kernels inline, with no call
/// and no argument reduction, so the step's dependency chain is short; beyond that the C
/// library's [`libm_sin_cos`]. The kernels are within 1 ulp of glibc's results (both are within
/// 1 ulp of the exact values; see `fast_sin_cos_is_within_one_ulp_of_libm`), and they give the
/// same bits as the vectorised [`sin_cos`] on this range (its reduction is
/// the identity there), so a `CartPole` and a sub-env of `CartPoleVectorEnv` step alike.
#[inline(always)]
pub(crate) fn sin_cos_fast(theta: f64) -> (f64, f64) {
    if theta.abs() < std::f64::consts::FRAC_PI_4 {
        kernel_sin_cos(theta)
    } else {
        libm_sin_cos(theta)
    }
}

/// fdlibm's `__kernel_sin(x, 0, 1)` and `__kernel_cos(x, 0)` for |x| <= pi/4, evaluated as
/// [`sin_cos`] evaluates them (there with a reduction tail that is zero here).
#[inline(always)]
fn kernel_sin_cos(x: f64) -> (f64, f64) {
    let z = x * x;
    let w = z * z;
    let rs = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let v = z * x;
    let s = x - ((z * (0.0 - v * rs) - 0.0) - v * S1);
    let rc = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let one_minus = 1.0 - hz;
    let c = one_minus + (((1.0 - one_minus) - hz) + (z * rc - x * 0.0));
    (s, c)
}

/// |x| up to which [`sin_cos`] is accurate: fdlibm's medium-size reduction holds below
/// 2^20 * pi/2 (the multiple of pi/2 times the 33-bit parts of pi/2 stays exact).
pub const SIN_COS_RANGE: f64 = 1_600_000.0;

/// [`sin_cos`] within its range, the C library's beyond it (and for NaN and infinities):
/// the slow path, taken for a whole batch when any `theta` is out of range. Lanes within range
/// get the same bits as on the fast path.
#[inline(always)]
pub(crate) fn sin_cos_any(x: f64) -> (f64, f64) {
    if (x.to_bits() & !(1 << 63)) > SIN_COS_RANGE.to_bits() {
        libm_sin_cos(x)
    } else {
        sin_cos(x)
    }
}

// fdlibm's constants (Sun Microsystems, 1993; as in musl's `__rem_pio2`, `__sin`, `__cos`),
// written as bit patterns so that they are exactly fdlibm's doubles.
const TOINT: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52: adding it rounds to an integer
const INVPIO2: f64 = std::f64::consts::FRAC_2_PI;
const PIO2_1: f64 = f64::from_bits(0x3FF9_21FB_5440_0000); // first 33 bits of pi/2
const PIO2_2: f64 = f64::from_bits(0x3DD0_B461_1A60_0000); // next 33 bits
const PIO2_3: f64 = f64::from_bits(0x3BA3_198A_2E00_0000); // next 33 bits
const PIO2_3T: f64 = f64::from_bits(0x397B_839A_2520_49C1); // pi/2 - PIO2_1 - PIO2_2 - PIO2_3
                                                            // __kernel_sin: sin(x) ~ x + S1 x^3 + ... + S6 x^13 on [-pi/4, pi/4].
const S1: f64 = f64::from_bits(0xBFC5_5555_5555_5549); // -1.66666666666666324348e-01
const S2: f64 = f64::from_bits(0x3F81_1111_1110_F8A6); // 8.33333333332248946124e-03
const S3: f64 = f64::from_bits(0xBF2A_01A0_19C1_61D5); // -1.98412698298579493134e-04
const S4: f64 = f64::from_bits(0x3EC7_1DE3_57B1_FE7D); // 2.75573137070700676789e-06
const S5: f64 = f64::from_bits(0xBE5A_E5E6_8A2B_9CEB); // -2.50507602534068634195e-08
const S6: f64 = f64::from_bits(0x3DE5_D93A_5ACF_D57C); // 1.58969099521155010221e-10
                                                       // __kernel_cos: cos(x) ~ 1 - x^2/2 + C1 x^4 + ... + C6 x^14 on [-pi/4, pi/4].
const C1: f64 = f64::from_bits(0x3FA5_5555_5555_554C); // 4.16666666666666019037e-02
const C2: f64 = f64::from_bits(0xBF56_C16C_16C1_5177); // -1.38888888888741095749e-03
const C3: f64 = f64::from_bits(0x3EFA_01A0_19CB_1590); // 2.48015872894767294178e-05
const C4: f64 = f64::from_bits(0xBE92_7E4F_809C_52AD); // -2.75573143513906633035e-07
const C5: f64 = f64::from_bits(0x3E21_EE9E_BDB4_B1C4); // 2.08757232129817482790e-09
const C6: f64 = f64::from_bits(0xBDA8_FAE9_BE88_38D4); // -1.13596475577881948265e-11

/// `(sin x, cos x)` without branches or calls, so that a loop over it vectorises: fdlibm's
/// algorithm with every branch taken unconditionally. Cody–Waite reduction by pi/2 in three
/// 33-bit parts (exact for |x| < 2^20 pi/2, and the identity for |x| < pi/4), then fdlibm's
/// degree-13 / degree-14 minimax kernels on the reduced argument and its tail.
///
/// Accuracy against glibc's `sin` / `cos`: at most 1 ulp apart for |x| <= [`SIN_COS_RANGE`]
/// (both are within 1 ulp of the true value), and bit-identical on most inputs; see the
/// tests. Beyond the range the result is meaningless; NaN and infinities give NaN.
#[inline(always)]
pub fn sin_cos(x: f64) -> (f64, f64) {
    // Reduction: x = k pi/2 + (y0 + y1), |y0| <= ~pi/4.
    let t = x * INVPIO2 + TOINT;
    let k = t - TOINT;
    let quadrant = t.to_bits(); // low bits hold k mod 4 (two's complement for k < 0)
                                // fdlibm's first round (x - k PIO2_1 - k PIO2_1T, 85 bits) is superseded by its second
                                // and third (118 and 151 bits), which it takes only after cancellation and this always
                                // takes; each keeps only the leading part of the previous one.
    let r1 = x - k * PIO2_1;
    let w2 = k * PIO2_2;
    let r2 = r1 - w2;
    let w3 = k * PIO2_3;
    let r3 = r2 - w3;
    let tail = k * PIO2_3T - ((r2 - r3) - w3);
    let y0 = r3 - tail;
    let y1 = (r3 - y0) - tail;

    // fdlibm's __kernel_sin(y0, y1, 1) and __kernel_cos(y0, y1).
    let z = y0 * y0;
    let w = z * z;
    let rs = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    let v = z * y0;
    let s = y0 - ((z * (0.5 * y1 - v * rs) - y1) - v * S1);
    let rc = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    let hz = 0.5 * z;
    let one_minus = 1.0 - hz;
    let c = one_minus + (((1.0 - one_minus) - hz) + (z * rc - y0 * y1));

    // Quadrant: odd k swaps sine and cosine; signs as sin(x + k pi/2).
    let swap = quadrant & 1 != 0;
    let (a, b) = if swap { (c, s) } else { (s, c) };
    let sin_sign = (quadrant & 2) << 62;
    let cos_sign = (quadrant.wrapping_add(1) & 2) << 62;
    (f64::from_bits(a.to_bits() ^ sin_sign), f64::from_bits(b.to_bits() ^ cos_sign))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::EnvRng;

    /// `libm_sin_cos` must give the bits of `sin` and `cos` called separately (what numpy does), on
    /// CartPole's range, a wide range, and random bit patterns of every magnitude.
    #[test]
    fn sincos_matches_sin_and_cos() {
        let mut rng = EnvRng::seed_from(11);
        let mut xs: Vec<f64> = (0..200_000).map(|_| rng.uniform(-0.5, 0.5)).collect();
        xs.extend((0..200_000).map(|_| rng.uniform(-1e4, 1e4)));
        xs.extend((0..200_000).map(|_| f64::from_bits(rng.next_u64())));
        xs.extend([0.0, -0.0, 1e-300, f64::MIN_POSITIVE, 1e22, f64::MAX, f64::INFINITY, f64::NAN]);
        for x in xs {
            let (s, c) = libm_sin_cos(x);
            assert_eq!(s.to_bits(), x.sin().to_bits(), "sin({x:e})");
            assert_eq!(c.to_bits(), x.cos().to_bits(), "cos({x:e})");
        }
    }

    /// Distance in ulps between two finite doubles.
    fn ulps(a: f64, b: f64) -> u64 {
        let key = |x: f64| {
            let b = x.to_bits() as i64;
            if b < 0 {
                i64::MIN - b
            } else {
                b
            }
        };
        key(a).abs_diff(key(b))
    }

    /// The inline kernels used for |theta| < pi/4 stay within 1 ulp of glibc's `sin` / `cos`
    /// (what Gymnasium's numpy calls), give the vectorised [`sin_cos`]'s bits, and the C library's
    /// results are used beyond pi/4.
    #[test]
    fn fast_sin_cos_is_within_one_ulp_of_libm() {
        let mut rng = EnvRng::seed_from(12);
        let quarter = std::f64::consts::FRAC_PI_4;
        let mut xs: Vec<f64> = (0..200_000).map(|_| rng.uniform(-0.25, 0.25)).collect();
        xs.extend((0..200_000).map(|_| rng.uniform(-quarter, quarter)));
        xs.extend((0..1000).map(|_| rng.uniform(-1e-8, 1e-8)));
        xs.extend([0.0, -0.0, 1e-300, -1e-300, quarter, -quarter, 0.8, -3.0, 1e22]);
        let (mut differ, mut n) = (0, 0);
        for x in xs {
            let (s, c) = sin_cos_fast(x);
            assert!(ulps(s, x.sin()) <= 1 && ulps(c, x.cos()) <= 1, "{x:e}");
            differ += (s != x.sin() || c != x.cos()) as usize;
            n += 1;
            if x.abs() < quarter {
                let (vs, vc) = sin_cos(x);
                assert_eq!((s.to_bits(), c.to_bits()), (vs.to_bits(), vc.to_bits()), "{x:e}");
            } else {
                assert_eq!((s.to_bits(), c.to_bits()), (x.sin().to_bits(), x.cos().to_bits()));
            }
        }
        assert!(differ * 5 < n, "{differ} of {n} differ from libm");
        assert!(sin_cos_fast(f64::NAN).0.is_nan() && sin_cos_fast(f64::INFINITY).1.is_nan());
    }

    #[test]
    fn sin_cos_edge_values() {
        assert_eq!(sin_cos(0.0), (0.0, 1.0));
        assert_eq!(sin_cos(-0.0).0.to_bits(), (-0.0f64).to_bits());
        let (s, c) = sin_cos(f64::NAN);
        assert!(s.is_nan() && c.is_nan());
        // Near multiples of pi/2, where a one-part reduction would lose every digit.
        for k in [1.0, 2.0, 3.0, 4.0, 100.0, 12345.0] {
            let x = k * std::f64::consts::FRAC_PI_2;
            for y in [x, f64::from_bits(x.to_bits() + 1), f64::from_bits(x.to_bits() - 1)] {
                let (s, c) = sin_cos(y);
                assert!(ulps(s, y.sin()) <= 1 && ulps(c, y.cos()) <= 1, "{y}");
            }
        }
    }

    #[test]
    fn sin_cos_is_within_one_ulp_of_libm() {
        let mut rng = EnvRng::seed_from(5);
        for (lo, hi, n) in
            [(-0.8, 0.8, 400_000), (-10.0, 10.0, 200_000), (-SIN_COS_RANGE, SIN_COS_RANGE, 200_000)]
        {
            let (mut worst, mut differ) = (0, 0);
            for _ in 0..n {
                let x: f64 = rng.uniform(lo, hi);
                let (s, c) = sin_cos(x);
                let e = ulps(s, x.sin()).max(ulps(c, x.cos()));
                worst = worst.max(e);
                differ += (e > 0) as usize;
            }
            eprintln!("[{lo}, {hi}]: max {worst} ulp, {differ} of {n} differ");
            assert!(worst <= 1, "[{lo}, {hi}]: {worst} ulp");
        }
    }
}
