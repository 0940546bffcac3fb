//! `report::` — write into the run directory: scalar metrics (`metrics.csv` and TensorBoard
//! events, shared with training), Markdown or text files, JSON values.
//!
//! ```rhai
//! report::log("final/accuracy", r.metrics["val/accuracy"]);
//! report::write("summary.md", `# Result\n\naccuracy ${r.metrics["val/accuracy"]}`);
//! ```

use rhai::{Dynamic, Module};

use super::RhaiResult;
use crate::error::Error;
use crate::script::error::to_rhai;
use crate::script::session::{write_atomic, Session};

/// The `report` module.
pub fn module(session: &Session) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    api_fn!(m, "log", |tag: &str, value: f64| -> RhaiResult<()> {
        let step = s.next_report_step();
        s.with_metrics(|l| l.log(step, tag, value)).map_err(to_rhai)
    });
    let s = session.clone();
    api_fn!(m, "log", |step: i64, tag: &str, value: f64| -> RhaiResult<()> {
        if step < 0 {
            return Err(to_rhai(Error::Invalid(format!("report::log: step {step} is negative"))));
        }
        s.with_metrics(|l| l.log(step as u64, tag, value)).map_err(to_rhai)
    });
    let s = session.clone();
    api_fn!(m, "write", |name: &str, text: &str| -> RhaiResult<String> {
        let path = s.output_path(name).map_err(to_rhai)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| to_rhai(Error::io(dir, e)))?;
        }
        write_atomic(&path, text.as_bytes()).map_err(to_rhai)?;
        Ok(path.display().to_string())
    });
    let s = session.clone();
    api_fn!(m, "json", |name: &str, value: Dynamic| -> RhaiResult<String> {
        let json: serde_json::Value = rhai::serde::from_dynamic(&value)?;
        let text = serde_json::to_string_pretty(&json)
            .map_err(|e| to_rhai(Error::Invalid(format!("report::json: {e}"))))?;
        let path = s.output_path(name).map_err(to_rhai)?;
        write_atomic(&path, text.as_bytes()).map_err(to_rhai)?;
        Ok(path.display().to_string())
    });
    m
}
