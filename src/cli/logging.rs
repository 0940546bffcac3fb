//! The binary's `tracing` subscriber: where the library's diagnostics go.
//!
//! The library emits events (progress lines, a script's `print`, warnings, debug detail) and
//! prints nothing itself; the `graft` binary shows them on stderr. Results a command was asked
//! for (tables, reports, paths) are printed on stdout by the command, not through here.
//!
//! Levels: info and above for Graft's own events by default; `-v` adds debug, `-vv` trace;
//! `-q` keeps warnings and errors only, `-qq` errors only. `RUST_LOG` (an `EnvFilter`
//! directive such as `graft=debug` or `graft::script=off`), when set, replaces the flags.
//!
//! Format: an info line is its message alone, so a script's `print("hello")` shows as
//! `hello`; warnings read `graft: warning: …`, errors `graft: error: …`, debug and trace lines
//! `graft: debug: <target>: …`. Structured fields (`step=…`) are appended only from `-v` on:
//! the message already says the same in words.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The crates whose events `-v`/`-q` set the level of (others: warnings).
const OWN_CRATES: [&str; 2] = ["graft", "graft_envs"];

/// The level `-v`/`-q` counts ask for: info by default, each `-v` one finer, each `-q` one
/// coarser (`None`: off).
pub fn level(verbose: u8, quiet: u8) -> Option<Level> {
    match i16::from(verbose) - i16::from(quiet) {
        i16::MIN..=-3 => None,
        -2 => Some(Level::ERROR),
        -1 => Some(Level::WARN),
        0 => Some(Level::INFO),
        1 => Some(Level::DEBUG),
        _ => Some(Level::TRACE),
    }
}

/// The filter: `RUST_LOG` when set and valid, else Graft's crates at `level` and everything
/// else at warnings (or quieter when `level` is).
fn filter(rust_log: Option<&str>, level: Option<Level>) -> (EnvFilter, Option<String>) {
    match rust_log.map(EnvFilter::try_new) {
        Some(Ok(f)) => (f, None),
        Some(Err(e)) => {
            let spec = rust_log.unwrap_or_default();
            let note = format!("RUST_LOG='{spec}' is not a valid filter ({e}); using the flags");
            (default_filter(level), Some(note))
        }
        None => (default_filter(level), None),
    }
}

/// `RUST_LOG`, when set to something.
fn rust_log() -> Option<String> {
    std::env::var(EnvFilter::DEFAULT_ENV).ok().filter(|s| !s.trim().is_empty())
}

fn default_filter(level: Option<Level>) -> EnvFilter {
    let name = |l: Option<Level>| l.map_or("off".to_string(), |l| l.as_str().to_ascii_lowercase());
    let others = match level {
        Some(l) if l > Level::WARN => Some(Level::WARN),
        l => l,
    };
    let mut spec = name(others);
    for c in OWN_CRATES {
        spec.push_str(&format!(",{c}={}", name(level)));
    }
    EnvFilter::new(spec)
}

/// Install the subscriber (stderr). `verbose`/`quiet` are the counts of `-v` and `-q`.
pub fn init(verbose: u8, quiet: u8) {
    let level = level(verbose, quiet);
    let rust_log = rust_log();
    let (filter, note) = filter(rust_log.as_deref(), level);
    let detailed = rust_log.is_some() || verbose > quiet;
    let installed = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .event_format(Lines { detailed })
        .with_env_filter(filter)
        .try_init();
    if installed.is_ok() {
        if let Some(note) = note {
            tracing::warn!("{note}");
        }
    }
}

/// One line per event (see the module header).
struct Lines {
    /// Append the structured fields, and name the target of debug lines.
    detailed: bool,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        match *meta.level() {
            Level::ERROR => writer.write_str("graft: error: ")?,
            Level::WARN => writer.write_str("graft: warning: ")?,
            Level::INFO => {}
            Level::DEBUG => write!(writer, "graft: debug: {}: ", meta.target())?,
            Level::TRACE => write!(writer, "graft: trace: {}: ", meta.target())?,
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        writer.write_str(&fields.message)?;
        if self.detailed && !fields.rest.is_empty() {
            write!(writer, "  [{}]", fields.rest.trim_start())?;
        }
        writeln!(writer)
    }
}

/// An event's message, and its other fields as `key=value`.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_move_the_level_one_step_each() {
        assert_eq!(level(0, 0), Some(Level::INFO));
        assert_eq!(level(1, 0), Some(Level::DEBUG));
        assert_eq!(level(3, 0), Some(Level::TRACE));
        assert_eq!(level(0, 1), Some(Level::WARN));
        assert_eq!(level(0, 2), Some(Level::ERROR));
        assert_eq!(level(0, 3), None);
        assert_eq!(level(1, 1), Some(Level::INFO));
    }
}
