//! Value parsers for the command line. Each refuses a value with the valid range or the
//! valid choices in its message (clap prints it as `invalid value '0' for '--flag': …` and
//! exits with status 2), so nothing a user types is silently coerced into something else.
//!
//! Closed sets of names come from the library's own lists (`Algo`, `OptimizerKind`,
//! `Backend`, `pretrain::TASKS`, …) so the help text, the parser and the library cannot
//! disagree.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::ValueEnum;

use graft::device::DeviceChoice;

/// A whole number of at least `min`; the refusal names the range (`0 is not in 1..`).
pub fn at_least<T>(min: u64) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64> + Clone + Send + Sync + 'static,
{
    move |text: &str| {
        let n = whole(text, &format!("{min}.."))?;
        if n < min {
            return Err(format!("{n} is not in {min}.. (at least {min})"));
        }
        T::try_from(n).map_err(|_| format!("{n} is too large for this machine"))
    }
}

fn whole(text: &str, range: &str) -> Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| format!("'{text}' is not a whole number in {range}"))
}

fn number(text: &str) -> Result<f64, String> {
    text.trim().parse::<f64>().map_err(|_| format!("'{text}' is not a number"))
}

/// A finite number above 0 (learning rates, clip norms).
pub fn positive(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("must be a finite number above 0, got {x}"))
    }
}

/// A finite number of at least 0 (weight decay).
pub fn non_negative(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("must be a finite number ≥ 0, got {x}"))
    }
}

/// A probability: a number in [0, 1].
pub fn probability(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("must be in [0, 1], got {x}"))
    }
}

/// A fraction strictly between 0 and 1 (a train/test split needs both sides).
pub fn fraction(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if x > 0.0 && x < 1.0 {
        Ok(x)
    } else {
        Err(format!("must be in (0, 1), both ends excluded, got {x}"))
    }
}

/// One of `allowed` (a subset of a library enum's values), by its `ValueEnum` name; help and
/// refusals list exactly those.
pub fn one_of<T>(allowed: &'static [T]) -> impl TypedValueParser<Value = T>
where
    T: ValueEnum + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(allowed.iter().filter_map(ValueEnum::to_possible_value))
        .try_map(|name| T::from_str(&name, false))
}

/// One of the names in `list` (a library's list of names, e.g. `pretrain::TASKS`).
pub fn name_in(list: &'static [&'static str]) -> PossibleValuesParser {
    PossibleValuesParser::new(list.iter().copied())
}

/// `--device`: `auto`, `cpu`, `cuda` or `cuda:N` (any case; `gpu` reads as `cuda`), parsed
/// by [`DeviceChoice`]'s own `FromStr`; `--help` and refusals list the spellings.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceParser;

impl TypedValueParser for DeviceParser {
    type Value = DeviceChoice;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<DeviceChoice, clap::Error> {
        let text = value.to_string_lossy();
        text.parse::<DeviceChoice>().map_err(|_| {
            let mut err = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
            if let Some(arg) = arg {
                err.insert(ContextKind::InvalidArg, ContextValue::String(arg.to_string()));
            }
            err.insert(ContextKind::InvalidValue, ContextValue::String(text.into_owned()));
            err.insert(
                ContextKind::ValidValue,
                ContextValue::Strings(
                    DeviceChoice::SPELLINGS.iter().map(|s| s.to_string()).collect(),
                ),
            );
            err
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(DeviceChoice::SPELLINGS.iter().map(|s| PossibleValue::new(*s))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_below_the_minimum_name_the_range() {
        let p = at_least::<usize>(1);
        assert_eq!(p("3"), Ok(3));
        assert_eq!(p("0").unwrap_err(), "0 is not in 1.. (at least 1)");
        assert!(p("-2").unwrap_err().contains("not a whole number in 1.."));
    }

    #[test]
    fn rates_and_fractions_refuse_non_finite_values() {
        assert_eq!(positive("3e-4"), Ok(3e-4));
        for bad in ["0", "-1", "NaN", "inf"] {
            assert!(positive(bad).unwrap_err().contains("finite number above 0"), "{bad}");
        }
        assert!(non_negative("NaN").is_err() && non_negative("0") == Ok(0.0));
        assert!(probability("1.5").unwrap_err().contains("[0, 1]"));
        assert!(probability("NaN").is_err() && probability("1") == Ok(1.0));
        assert!(fraction("1").is_err() && fraction("0").is_err() && fraction("0.8") == Ok(0.8));
    }
}
