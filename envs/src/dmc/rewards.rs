//! dm_control's `rewards.tolerance` (`dm_control/utils/rewards.py`): 1 inside a target interval,
//! falling off outside it along one of eight sigmoids, the shaping every suite task's reward
//! is built from.

use std::f64::consts::PI;

/// The shape of the fall-off outside the bounds, each equal to 1 at distance 0 and to
/// `value_at_margin` at distance `margin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sigmoid {
    /// `exp(-(x s)^2 / 2)`
    Gaussian,
    /// `1 / cosh(x s)`
    Hyperbolic,
    /// `1 / ((x s)^2 + 1)`
    LongTail,
    /// `1 / (|x| s + 1)`
    Reciprocal,
    /// `(1 + cos(pi x s)) / 2` for `|x s| < 1`, else 0
    Cosine,
    /// `1 - x s` for `|x s| < 1`, else 0
    Linear,
    /// `1 - (x s)^2` for `|x s| < 1`, else 0
    Quadratic,
    /// `1 - tanh(x s)^2`
    TanhSquared,
}

impl Sigmoid {
    /// dm_control's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Sigmoid::Gaussian => "gaussian",
            Sigmoid::Hyperbolic => "hyperbolic",
            Sigmoid::LongTail => "long_tail",
            Sigmoid::Reciprocal => "reciprocal",
            Sigmoid::Cosine => "cosine",
            Sigmoid::Linear => "linear",
            Sigmoid::Quadratic => "quadratic",
            Sigmoid::TanhSquared => "tanh_squared",
        }
    }

    /// Every sigmoid, in dm_control's order.
    pub const ALL: [Sigmoid; 8] = [
        Sigmoid::Gaussian,
        Sigmoid::Hyperbolic,
        Sigmoid::LongTail,
        Sigmoid::Reciprocal,
        Sigmoid::Cosine,
        Sigmoid::Linear,
        Sigmoid::Quadratic,
        Sigmoid::TanhSquared,
    ];

    /// Whether `value_at_1` is allowed: in `[0, 1)` for the three that reach 0 (cosine,
    /// linear, quadratic), in `(0, 1)` for the others.
    fn accepts(self, value_at_1: f64) -> bool {
        match self {
            Sigmoid::Cosine | Sigmoid::Linear | Sigmoid::Quadratic => {
                (0.0..1.0).contains(&value_at_1)
            }
            _ => value_at_1 > 0.0 && value_at_1 < 1.0,
        }
    }

    /// `_sigmoids(x, value_at_1, sigmoid)`: 1 at `x == 0`, `value_at_1` at `x == 1`.
    pub fn eval(self, x: f64, value_at_1: f64) -> f64 {
        match self {
            Sigmoid::Gaussian => {
                let scale = (-2.0 * value_at_1.ln()).sqrt();
                (-0.5 * (x * scale) * (x * scale)).exp()
            }
            Sigmoid::Hyperbolic => {
                let scale = (1.0 / value_at_1).acosh();
                1.0 / (x * scale).cosh()
            }
            Sigmoid::LongTail => {
                let scale = (1.0 / value_at_1 - 1.0).sqrt();
                1.0 / ((x * scale) * (x * scale) + 1.0)
            }
            Sigmoid::Reciprocal => {
                let scale = 1.0 / value_at_1 - 1.0;
                1.0 / (x.abs() * scale + 1.0)
            }
            Sigmoid::Cosine => {
                let scaled = x * ((2.0 * value_at_1 - 1.0).acos() / PI);
                if scaled.abs() < 1.0 {
                    (1.0 + (PI * scaled).cos()) / 2.0
                } else {
                    0.0
                }
            }
            Sigmoid::Linear => {
                let scaled = x * (1.0 - value_at_1);
                if scaled.abs() < 1.0 {
                    1.0 - scaled
                } else {
                    0.0
                }
            }
            Sigmoid::Quadratic => {
                let scaled = x * (1.0 - value_at_1).sqrt();
                if scaled.abs() < 1.0 {
                    1.0 - scaled * scaled
                } else {
                    0.0
                }
            }
            Sigmoid::TanhSquared => {
                let scale = (1.0 - value_at_1).sqrt().atanh();
                let t = (x * scale).tanh();
                1.0 - t * t
            }
        }
    }
}

/// `rewards.tolerance`'s settings: the target interval `[lower, upper]` (either end may be
/// infinite, or both equal), how far outside it the value falls to `value_at_margin`, and
/// along which sigmoid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub lower: f64,
    pub upper: f64,
    pub margin: f64,
    pub sigmoid: Sigmoid,
    pub value_at_margin: f64,
}

impl Tolerance {
    /// dm_control's defaults: bounds `(0, 0)`, margin 0, gaussian, value 0.1 at the margin.
    pub const DEFAULT: Tolerance = Tolerance {
        lower: 0.0,
        upper: 0.0,
        margin: 0.0,
        sigmoid: Sigmoid::Gaussian,
        value_at_margin: 0.1,
    };

    /// The defaults with the target interval `[lower, upper]`.
    pub const fn bounds(lower: f64, upper: f64) -> Tolerance {
        Tolerance { lower, upper, ..Tolerance::DEFAULT }
    }

    /// The same with `margin`.
    pub const fn margin(self, margin: f64) -> Tolerance {
        Tolerance { margin, ..self }
    }

    /// The same with `sigmoid` reaching `value_at_margin` at the margin.
    pub const fn sigmoid(self, sigmoid: Sigmoid, value_at_margin: f64) -> Tolerance {
        Tolerance { sigmoid, value_at_margin, ..self }
    }

    /// The settings dm_control refuses, as its `ValueError` messages: bounds the wrong way
    /// round, a negative margin, a `value_at_margin` the sigmoid cannot take.
    pub fn check(&self) -> Result<(), String> {
        if self.lower > self.upper {
            return Err(format!(
                "lower bound {} must be <= upper bound {}",
                self.lower, self.upper
            ));
        }
        if self.margin < 0.0 || self.margin.is_nan() {
            return Err(format!("margin must be non-negative, got {}", self.margin));
        }
        if self.margin > 0.0 && !self.sigmoid.accepts(self.value_at_margin) {
            return Err(format!(
                "value_at_margin {} is out of range for the {} sigmoid",
                self.value_at_margin,
                self.sigmoid.name()
            ));
        }
        Ok(())
    }

    /// `tolerance(x, ...)`: 1 for `x` in the bounds; otherwise 0 with no margin, else the
    /// sigmoid at the distance to the nearer bound in units of the margin.
    pub fn eval(&self, x: f64) -> f64 {
        let in_bounds = self.lower <= x && x <= self.upper;
        if in_bounds {
            return 1.0;
        }
        if self.margin == 0.0 {
            return 0.0;
        }
        let distance = if x < self.lower { self.lower - x } else { x - self.upper };
        self.sigmoid.eval(distance / self.margin, self.value_at_margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sigmoid_is_one_at_zero_and_value_at_one() {
        for s in Sigmoid::ALL {
            assert!((s.eval(0.0, 0.3) - 1.0).abs() < 1e-15, "{s:?}");
            assert!((s.eval(1.0, 0.3) - 0.3).abs() < 1e-12, "{s:?}: {}", s.eval(1.0, 0.3));
            // Past twice the margin the bounded ones reach 0; the others keep falling.
            assert!(s.eval(3.0, 0.3) < 0.3, "{s:?}");
        }
        // dm_control's linear sigmoid is `1 - x s` without an absolute value: only tolerance's
        // distances (never negative) reach it, so a negative argument gives more than 1.
        assert!((Sigmoid::Linear.eval(-1.0, 0.3) - 1.7).abs() < 1e-12);
    }

    #[test]
    fn tolerance_by_hand() {
        // Inside the bounds, inclusive.
        let t = Tolerance::bounds(1.0, 2.0).margin(0.5).sigmoid(Sigmoid::Linear, 0.0);
        assert_eq!((t.eval(1.0), t.eval(2.0), t.eval(1.5)), (1.0, 1.0, 1.0));
        // 0.25 below: half the margin, linear to 0 -> 0.5.
        assert_eq!(t.eval(0.75), 0.5);
        assert_eq!(t.eval(0.5), 0.0);
        // No margin: a step.
        assert_eq!(Tolerance::bounds(0.0, 1.0).eval(1.0 + 1e-12), 0.0);
        // cheetah-run's reward: speed 5 of 10 with margin 10 -> 0.5.
        let run = Tolerance::bounds(10.0, f64::INFINITY).margin(10.0).sigmoid(Sigmoid::Linear, 0.0);
        assert_eq!(run.eval(5.0), 0.5);
        assert_eq!(run.eval(25.0), 1.0);
        // The gaussian default: 0.1 at the margin.
        let g = Tolerance::bounds(0.0, 0.0).margin(2.0);
        assert!((g.eval(2.0) - 0.1).abs() < 1e-15);
    }

    #[test]
    fn bad_settings_are_refused_with_dm_controls_reasons() {
        assert!(Tolerance::bounds(1.0, 0.0).check().unwrap_err().contains("lower bound"));
        assert!(Tolerance::bounds(0.0, 1.0).margin(-1.0).check().unwrap_err().contains("margin"));
        let zero_gauss = Tolerance::bounds(0.0, 1.0).margin(1.0).sigmoid(Sigmoid::Gaussian, 0.0);
        assert!(zero_gauss.check().is_err());
        let zero_linear = Tolerance::bounds(0.0, 1.0).margin(1.0).sigmoid(Sigmoid::Linear, 0.0);
        assert!(zero_linear.check().is_ok());
    }
}
