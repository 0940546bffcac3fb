//! numpy's scalar square, `x ** 2`, with the C library's `pow` bits.

/// `x ** 2` on a numpy `float64` scalar, as numpy computes it: the C library's `pow(x, 2.0)`,
/// which differs from `x * x` in the last bit for about one input in a thousand. The
/// exponent goes through `black_box` so the compiler cannot turn the call into `x * x`;
/// chaotic dynamics (Acrobot) would otherwise drift from Gymnasium's trajectories.
#[inline]
pub(crate) fn pow2(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// `x ** 2` on a numpy `float32` scalar (the C library's `powf(x, 2.0f)`).
#[inline]
pub(crate) fn pow2_f32(x: f32) -> f32 {
    x.powf(std::hint::black_box(2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy's `np.float64(-17.707971766946446) ** 2` is glibc's `pow`, one ulp away from
    /// `x * x` (which is the correctly rounded one); `pow2` must follow numpy.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn pow2_is_numpys_scalar_square() {
        let x = -17.707971766946446f64;
        assert_eq!(pow2(x), 313.5722640989725);
        assert_eq!(x * x, 313.5722640989724);
    }
}
