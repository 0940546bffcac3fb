//! `report::` — write into the run directory: scalar metrics (`metrics.csv` and TensorBoard
//! events, shared with training), Markdown or text files, JSON values, PNG line charts; and
//! read a logged metric back as `[[step, value], …]` (`report::series(dir, tag)`, `dir`
//! relative to the run directory, e.g. a pretraining's subfolder, or `"."` for the run's own).
//!
//! ```rhai
//! report::log("final/accuracy", r.metrics["val/accuracy"]);
//! report::write("summary.md", `# Result\n\naccuracy ${r.metrics["val/accuracy"]}`);
//! let loss = report::series("pretrain", "loss");
//! report::plot("loss.png", [#{name: "loss", points: loss}], #{title: "Pretraining loss",
//!     x_label: "step", y_label: "loss"});
//! ```

use rhai::{Array, Dynamic, Map, Module};

use super::{fail, RhaiResult};
use crate::error::Error;
use crate::report::metrics::{read_metrics_csv, METRICS_CSV};
use crate::report::plot::{plot_series, PlotOptions, Series};
use crate::script::error::to_rhai;
use crate::script::session::{write_atomic, Session};

/// Chart texts of `report::plot` (missing ones are empty).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PlotTexts {
    title: String,
    x_label: String,
    y_label: String,
}

/// One series of `report::plot`: `#{name, points: [[x, y], …]}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SeriesArg {
    name: String,
    points: Vec<(Number, Number)>,
}

/// A script number: Rhai keeps integers and floats apart, a chart does not.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn value(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
        }
    }
}

fn plot(session: &Session, name: &str, series: Array, texts: Map) -> RhaiResult<String> {
    let texts: PlotTexts = super::from_map("report::plot options", texts)?;
    let mut lines = Vec::with_capacity(series.len());
    for (i, s) in series.into_iter().enumerate() {
        let what =
            format!("report::plot: series {i} must be #{{name: \"…\", points: [[x, y], …]}}");
        let s: SeriesArg = crate::config_error::from_dynamic(&what, &s).map_err(to_rhai)?;
        let points = s.points.iter().map(|(x, y)| (x.value(), y.value())).collect();
        lines.push(Series { name: s.name, points });
    }
    if !name.ends_with(".png") {
        return fail(format!("report::plot: '{name}' must end in .png"));
    }
    let path = session.output_path(name).map_err(to_rhai)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| to_rhai(Error::io(dir, e)))?;
    }
    let opts = PlotOptions { title: texts.title, x_label: texts.x_label, y_label: texts.y_label };
    plot_series(&lines, &path, &opts).map_err(to_rhai)?;
    Ok(path.display().to_string())
}

fn series(session: &Session, dir: &str, tag: &str) -> RhaiResult<Array> {
    let path = if dir.is_empty() || dir == "." {
        // The run's own metrics: what `report::log` wrote so far must be on disk first.
        session.with_metrics(|l| l.flush()).map_err(to_rhai)?;
        session.output_path(METRICS_CSV)
    } else {
        session.output_path(&format!("{dir}/{METRICS_CSV}"))
    }
    .map_err(to_rhai)?;
    let rows = read_metrics_csv(&path).map_err(to_rhai)?;
    Ok(rows
        .iter()
        .filter(|r| r.tag == tag)
        .map(|r| {
            Dynamic::from_array(vec![Dynamic::from(r.step as i64), Dynamic::from_float(r.value)])
        })
        .collect())
}

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
    let s = session.clone();
    api_fn!(m, "plot", |name: &str, lines: Array, texts: Map| plot(&s, name, lines, texts));
    let s = session.clone();
    api_fn!(m, "series", |dir: &str, tag: &str| series(&s, dir, tag));
    m
}
