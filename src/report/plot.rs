//! Learning curves as PNG: several named series on one chart, with a title, axis labels and a
//! legend, drawn with `plotters`' bitmap backend. Text uses a font embedded in the binary
//! (DejaVu Sans, assets/fonts, under its own free licence), so plots look the same on
//! machines without system fonts.
//!
//! [`plot_runs`] reads one tag from each run directory's `metrics.csv` (see
//! [`crate::report::MetricsLogger`]) and draws one line per run, named after the directory.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::report::metrics::{read_metrics_csv, METRICS_CSV};

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Chart texts.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Title above the chart.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
}

/// One line: a name for the legend and its `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// Points, in x order.
    pub points: Vec<(f64, f64)>,
}

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("plot {}: {e}", path.display()))
}

/// Draw `series` into a 960x600 PNG at `path` (written atomically: temporary file, rename).
pub fn plot_series(series: &[Series], path: &Path, opts: &PlotOptions) -> Result<()> {
    REGISTER.call_once(|| {
        // Registration only fails on a malformed font, and the embedded one is fixed.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
    let points =
        series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return Err(plot_error(path, "no finite points to plot"));
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.05).max(1e-6);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let tmp: PathBuf = path.with_extension("tmp.png");
    {
        let root = BitMapBackend::new(&tmp, (960, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&opts.title, ("sans-serif", 26))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| plot_error(path, e))?;
        chart
            .configure_mesh()
            .x_desc(&opts.x_label)
            .y_desc(&opts.y_label)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 18))
            .x_label_formatter(&|x| format_number(*x))
            .draw()
            .map_err(|e| plot_error(path, e))?;
        for (i, s) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let pts = s.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite());
            chart
                .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                .map_err(|e| plot_error(path, e))?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 16))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| plot_error(path, e))?;
        root.present().map_err(|e| plot_error(path, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// `12k`, `1.5M`: short tick labels for step counts.
fn format_number(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

/// Plot `tag` from each run directory's `metrics.csv` into `path`, one series per run.
pub fn plot_runs(runs: &[PathBuf], tag: &str, path: &Path, opts: &PlotOptions) -> Result<()> {
    let mut series = Vec::with_capacity(runs.len());
    for dir in runs {
        let rows = read_metrics_csv(&dir.join(METRICS_CSV))?;
        let points: Vec<(f64, f64)> =
            rows.iter().filter(|r| r.tag == tag).map(|r| (r.step as f64, r.value)).collect();
        if points.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: no '{tag}' values in {METRICS_CSV}",
                dir.display()
            )));
        }
        let name = dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
        series.push(Series { name, points });
    }
    plot_series(&series, path, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_png_with_several_series() {
        let dir = std::env::temp_dir().join(format!("graft-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("curve.png");
        let s = |name: &str, k: f64| Series {
            name: name.into(),
            points: (0..50).map(|i| (i as f64 * 1e3, k * i as f64)).collect(),
        };
        let opts = PlotOptions {
            title: "test".into(),
            x_label: "env steps".into(),
            y_label: "return".into(),
        };
        plot_series(&[s("a", 1.0), s("b", 2.0), s("c", 3.0)], &path, &opts).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (960, 600));
        // Not blank: some pixels are neither white nor the background.
        let coloured = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(coloured > 2000, "only {coloured} non-white pixels");
        assert!(plot_series(&[], &path, &opts).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
