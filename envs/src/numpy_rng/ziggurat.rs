//! numpy's standard normal sampler for doubles: a 256-layer ziggurat.
//!
//! G. Marsaglia and W. W. Tsang, "The Ziggurat Method for Generating Random Variables",
//! J. Stat. Softw. 5(8), 2000, in the form numpy's `random_standard_normal` gives it. One 64-bit
//! draw supplies everything the common case needs: the low 8 bits pick a layer, the next bit
//! the sign, the next 52 bits a magnitude. If the magnitude falls inside the part of the layer
//! that lies wholly under the density, it is returned at once (about 99.3% of draws).
//! Otherwise:
//! - in the base layer (0), a draw beyond the tail start `R` comes from Marsaglia's tail method
//!   (two uniforms per try, through `log1p(-u)` so that `u = 0` is harmless); its sign is bit 8
//!   of the magnitude, not the sign bit drawn before;
//! - in any other layer, one uniform places a point in the layer's wedge, accepted if it lies
//!   under `exp(-x^2 / 2)`;
//!
//! and a rejected draw starts over with a fresh 64-bit draw.
//!
//! The tail and wedge tests call the C library's `log1p` and `exp`, as numpy does, so the two
//! agree exactly where they share a C library (glibc here); elsewhere a one-ulp difference in
//! those functions could, very rarely, flip a test.

use super::pcg64::Pcg64;
use super::ziggurat_tables::{FI, KI, WI};

/// Where the tail begins (numpy's `ziggurat_nor_r`, written there as
/// 3.6541528853610087963519472518; this is the same double).
const R: f64 = 3.654_152_885_361_009;
/// `1 / R` (numpy's `ziggurat_nor_inv_r`, written there as 0.27366123732975827203338247596).
const INV_R: f64 = 0.273_661_237_329_758_3;

/// One standard normal draw, as `Generator.standard_normal()`.
pub(super) fn standard_normal(bits: &mut Pcg64) -> f64 {
    loop {
        let r = bits.next_u64();
        let layer = (r & 0xff) as usize;
        let r = r >> 8;
        let negative = r & 1 == 1;
        let magnitude = (r >> 1) & 0x000f_ffff_ffff_ffff;
        let x = magnitude as f64 * WI[layer];
        let x = if negative { -x } else { x };
        if magnitude < KI[layer] {
            return x;
        }
        if layer == 0 {
            loop {
                let xx = -INV_R * (-bits.next_f64()).ln_1p();
                let yy = -(-bits.next_f64()).ln_1p();
                if yy + yy > xx * xx {
                    return if (magnitude >> 8) & 1 == 1 { -(R + xx) } else { R + xx };
                }
            }
        }
        let y = (FI[layer - 1] - FI[layer]) * bits.next_f64() + FI[layer];
        if y < (-0.5 * x * x).exp() {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layer area, 0.0049286732339746519.
    const V: f64 = 0.004_928_673_233_974_652;
    const SCALE: f64 = 4_503_599_627_370_496.0; // 2^52

    fn density(x: f64) -> f64 {
        (-0.5 * x * x).exp()
    }

    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    /// The tables are Marsaglia & Tsang's ziggurat for `R` and `V`: each entry is checked
    /// against its neighbour through the construction, so a wrong digit anywhere fails here.
    #[test]
    fn tables_follow_the_construction() {
        let x: Vec<f64> = WI.iter().map(|w| w * SCALE).collect();
        assert_eq!(x[255], R);
        assert_eq!(WI[0], V / density(R) / SCALE);
        assert_eq!(KI[0], (R * density(R) / V * SCALE).round_ties_even() as u64);
        assert_eq!((KI[1], FI[0]), (0, 1.0));
        for i in 1..256 {
            // The edge density, from the abscissa; one entry (38) is an ulp off glibc's `exp`.
            assert!(ulps(FI[i], density(x[i])) <= 1, "FI[{i}]");
            if i >= 2 {
                // The quick-accept bound is the ratio of the layer's and the next layer's width.
                assert_eq!(KI[i], (x[i - 1] / x[i] * SCALE).round_ties_even() as u64, "KI[{i}]");
                // Each layer has area V: x_{i-1} = sqrt(-2 ln(f(x_i) + V / x_i)).
                let up = (-2.0 * (density(x[i]) + V / x[i]).ln()).sqrt();
                assert!((up - x[i - 1]).abs() <= 4e-15 * x[i - 1], "x[{}]: {up}", i - 1);
            }
        }
        // The top layer reaches the mode: its area V is a rectangle of height 1 - f(x_1).
        assert!((x[1] * (1.0 - density(x[1])) - V).abs() < 1e-12);
    }

    #[test]
    fn moments_are_standard() {
        let mut bits = Pcg64::from_seed_sequence(&super::super::SeedSequence::from_u64(5));
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut bits)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let beyond_r = xs.iter().filter(|x| x.abs() > R).count();
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
        // P(|X| > R) = 2.58e-4: about 52 of 200 000.
        assert!((20..100).contains(&beyond_r), "{beyond_r}");
    }
}
