//! `graft data`: inspect, validate and convert trajectory datasets.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use graft::data::{parquet, validate, Dataset};
use graft::{Error, Result};

#[derive(Subcommand)]
pub enum DataCommand {
    /// Print the schema, metadata, counts and per-episode statistics of a dataset.
    Info {
        /// An Arrow IPC dataset file.
        file: PathBuf,
    },
    /// Check a dataset end to end (checksums, structure, episodes, counts, non-finite values);
    /// exits non-zero when it finds a problem.
    Validate {
        /// An Arrow IPC dataset file.
        file: PathBuf,
    },
    /// Write a dataset as Parquet.
    Export {
        /// An Arrow IPC dataset file.
        file: PathBuf,
        /// Output Parquet file.
        #[arg(short, long)]
        output: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        overwrite: bool,
    },
    /// Convert a Parquet file with the dataset columns into an Arrow IPC dataset.
    Import {
        /// A Parquet file.
        file: PathBuf,
        /// Output Arrow IPC file.
        #[arg(short, long)]
        output: PathBuf,
        /// Replace the output file if it exists.
        #[arg(long)]
        overwrite: bool,
    },
}

/// Refuse a conversion that would write over its own input (`data export X.arrow -o X.arrow`
/// once replaced the dataset with its Parquet copy), or over an existing file without
/// `--overwrite`.
fn check_output(input: &Path, output: &Path, overwrite: bool) -> Result<()> {
    let same = match (input.canonicalize(), resolved(output)) {
        (Ok(a), Some(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Error::Invalid(format!(
            "-o {}: is the input file itself; write the conversion to another file",
            output.display()
        )));
    }
    if output.exists() && !overwrite {
        return Err(Error::Invalid(format!(
            "-o {}: the file exists; pass --overwrite to replace it, or choose another name",
            output.display()
        )));
    }
    Ok(())
}

/// `path` with its folder resolved (links, `..`), whether or not the file itself exists.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
        _ => std::env::current_dir().ok()?,
    };
    Some(dir.join(path.file_name()?))
}

pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Info { file } => info(&file),
        DataCommand::Validate { file } => {
            let report = validate(&file);
            if report.is_valid() {
                println!(
                    "{}: valid ({} episodes, {} transitions, {} rows)",
                    file.display(),
                    report.episodes,
                    report.transitions,
                    report.rows
                );
                Ok(())
            } else {
                for p in &report.problems {
                    println!("{}: {p}", file.display());
                }
                Err(Error::Dataset {
                    path: file,
                    problem: format!("invalid: {} problem(s) found", report.problems.len()),
                })
            }
        }
        DataCommand::Export { file, output, overwrite } => {
            check_output(&file, &output, overwrite)?;
            let ds = Dataset::open(&file)?;
            parquet::export(&ds, &output)?;
            println!("{} rows written to {}", ds.num_rows(), output.display());
            Ok(())
        }
        DataCommand::Import { file, output, overwrite } => {
            check_output(&file, &output, overwrite)?;
            let ds = parquet::import(&file, &output)?;
            println!(
                "{}: {} episodes, {} transitions written to {}",
                file.display(),
                ds.num_episodes(),
                ds.num_transitions(),
                output.display()
            );
            Ok(())
        }
    }
}

/// Mean, standard deviation, min and max.
fn stats(xs: &[f64]) -> (f64, f64, f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, var.sqrt(), min, max)
}

fn info(file: &Path) -> Result<()> {
    let ds = Dataset::open(file)?;
    let m = ds.meta();
    println!("file: {} ({:.2} MB)", file.display(), ds.file_bytes() as f64 / 1e6);
    println!(
        "checksums: {}",
        if ds.checksummed() {
            "crc32, all match"
        } else {
            "none (written by another tool or an older Graft; structure checked only)"
        }
    );
    println!("dataset_id: {}", m.dataset_id);
    println!("algorithm_name: {}", m.algorithm_name);
    if m.action_repeat() > 1 {
        println!("action_repeat: {} physics steps per transition", m.action_repeat());
    }
    println!("graft_version: {}", m.graft_version);
    if let Some(spec) = &m.env_spec {
        println!("env_spec: {spec}");
    }
    println!("observation_space: {}", m.observation_space);
    println!("action_space: {}", m.action_space);
    println!("columns:");
    for f in ds.schema().fields() {
        let shape = f.metadata().get("shape").map(|s| format!(" shape {s}")).unwrap_or_default();
        println!("  {}: {}{shape}", f.name(), f.data_type());
    }
    println!(
        "episodes: {}, transitions: {}, rows: {}, record batches: {}",
        ds.num_episodes(),
        ds.num_transitions(),
        ds.num_rows(),
        ds.record_batches().len()
    );
    let (mut returns, mut lengths) = (Vec::new(), Vec::new());
    let (mut terminated, mut truncated) = (0, 0);
    for e in 0..ds.num_episodes() {
        let ep = ds.episode(e)?;
        returns.push(ep.total_return());
        lengths.push(ep.len() as f64);
        let (te, tr) = ep.ended();
        terminated += usize::from(te);
        truncated += usize::from(tr);
    }
    let (lm, ls, lmin, lmax) = stats(&lengths);
    println!("episode length: mean {lm:.1}, std {ls:.1}, min {lmin}, max {lmax}");
    let (rm, rs, rmin, rmax) = stats(&returns);
    println!("episode return: mean {rm:.3}, std {rs:.3}, min {rmin:.3}, max {rmax:.3}");
    println!("episodes ending terminated: {terminated}, truncated: {truncated}");
    Ok(())
}
