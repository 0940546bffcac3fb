//! Scalar metrics of a run, written twice: `metrics.csv` (long format, one row per value —
//! easy for pandas and spreadsheets, and new tags need no new columns) and a TensorBoard event
//! file, both in the run directory.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::report::tensorboard::EventWriter;

/// Name of the CSV file in a run directory.
pub const METRICS_CSV: &str = "metrics.csv";
const CSV_HEADER: &str = "step,tag,value,wall_time";

/// Writes scalars to `metrics.csv` and a TensorBoard event file in one directory.
pub struct MetricsLogger {
    dir: PathBuf,
    csv: BufWriter<File>,
    events: EventWriter,
    latest: BTreeMap<String, f64>,
}

impl MetricsLogger {
    /// Start fresh logs in `dir` (created if needed; an existing `metrics.csv` is replaced).
    pub fn create(dir: &Path) -> Result<Self> {
        Self::open(dir, false)
    }

    /// Continue the logs of a run resumed from its checkpoint at `step` in `dir`: first
    /// `metrics.csv` is cut back to the rows up to `step` (rows written after the checkpoint
    /// by the killed run would otherwise appear twice, and a half-written last row would
    /// corrupt the file); then rows are appended and a new event file is started (TensorBoard
    /// reads every event file of a directory). Every loop resumes its log through here; the
    /// killed writer's temporary files are removed where the run claims its directory
    /// ([`crate::report::run_dir::start`]).
    pub fn resume(dir: &Path, step: u64) -> Result<Self> {
        truncate_csv(dir, step)?;
        Self::open(dir, true)
    }

    fn open(dir: &Path, append: bool) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let csv_path = dir.join(METRICS_CSV);
        let existed = csv_path.exists();
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&csv_path)
            .map_err(|e| Error::io(&csv_path, e))?;
        let mut csv = BufWriter::new(file);
        if !(append && existed) {
            writeln!(csv, "{CSV_HEADER}").map_err(|e| Error::io(&csv_path, e))?;
        }
        let now = wall_time();
        let events_path = dir.join(format!(
            "events.out.tfevents.{}.{}.{}.graft",
            now as u64,
            hostname(),
            std::process::id()
        ));
        let events = EventWriter::create(&events_path, now)?;
        Ok(MetricsLogger { dir: dir.to_path_buf(), csv, events, latest: BTreeMap::new() })
    }

    /// The directory it writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the TensorBoard event file being written.
    pub fn events_path(&self) -> &Path {
        self.events.path()
    }

    /// Record `value` for `tag` at `step`. Tags are TensorBoard names such as `train/loss`;
    /// a tag with a comma, quote or newline is refused (it would break the CSV).
    pub fn log(&mut self, step: u64, tag: &str, value: f64) -> Result<()> {
        if tag.is_empty() || tag.contains([',', '"', '\n', '\r']) {
            return Err(Error::Invalid(format!(
                "metric tag {tag:?} must be non-empty and free of commas, quotes and newlines"
            )));
        }
        let now = wall_time();
        let csv_path = self.dir.join(METRICS_CSV);
        writeln!(self.csv, "{step},{tag},{value},{now:.3}").map_err(|e| Error::io(csv_path, e))?;
        self.events.add_scalar(tag, step, value as f32, now)?;
        self.latest.insert(tag.to_string(), value);
        Ok(())
    }

    /// Record several values at one step.
    pub fn log_all(&mut self, step: u64, values: &[(&str, f64)]) -> Result<()> {
        values.iter().try_for_each(|(tag, v)| self.log(step, tag, *v))
    }

    /// Push everything written so far to disk.
    pub fn flush(&mut self) -> Result<()> {
        self.csv.flush().map_err(|e| Error::io(self.dir.join(METRICS_CSV), e))?;
        self.events.flush()
    }

    /// Latest value of every tag logged so far.
    pub fn latest(&self) -> &BTreeMap<String, f64> {
        &self.latest
    }
}

impl Drop for MetricsLogger {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Keep only the header and the complete rows up to `step` of `dir/metrics.csv`, atomically
/// (written beside it, then renamed). A missing file is left missing.
fn truncate_csv(dir: &Path, step: u64) -> Result<()> {
    let path = dir.join(METRICS_CSV);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let mut kept = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let complete = line.ends_with('\n') && line.split(',').count() == 4;
        let in_range =
            line.split(',').next().and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s <= step);
        if complete && (i == 0 || in_range) {
            kept.push_str(line);
        }
    }
    crate::script::session::write_atomic(&path, kept.as_bytes())
}

/// One row of `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Training step.
    pub step: u64,
    /// Metric name.
    pub tag: String,
    /// Value.
    pub value: f64,
}

/// Read a `metrics.csv` written by [`MetricsLogger`] (for reports and plots).
pub fn read_metrics_csv(path: &Path) -> Result<Vec<MetricRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines();
    if lines.next() != Some(CSV_HEADER) {
        return Err(Error::Invalid(format!(
            "{}: not a Graft metrics file (expected header '{CSV_HEADER}')",
            path.display()
        )));
    }
    lines
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, line)| {
            let bad = || {
                Error::Invalid(format!(
                    "{}: line {}: malformed row {line:?}",
                    path.display(),
                    i + 2
                ))
            };
            let mut parts = line.split(',');
            let step = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
            let tag = parts.next().ok_or_else(bad)?.to_string();
            let value = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
            Ok(MetricRow { step, tag, value })
        })
        .collect()
}

fn wall_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    let clean: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if clean.is_empty() {
        "localhost".to_string()
    } else {
        clean
    }
}
