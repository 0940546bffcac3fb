//! `graft run SCRIPT [--set key=value …] [--out DIR]`: run a Rhai experiment script in its
//! own run directory (see [`graft::script`]).

use std::path::PathBuf;

use clap::Args;

use graft::device::DeviceChoice;
use graft::script::{parse_overrides, run_script, RunOptions, ScriptLimits};
use graft::Result;

/// Arguments of `graft run`.
#[derive(Args)]
pub struct RunArgs {
    /// The Rhai script.
    pub script: PathBuf,
    /// Override a value the script reads with `param("key", default)`; the value is parsed
    /// as the default's type. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run directory (must not hold a run already); default runs/<script>-<UTC time>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rhai operations the script may execute, hooks included (infinite-loop guard).
    #[arg(long, default_value_t = ScriptLimits::default().max_operations)]
    pub max_operations: u64,
    /// Do not echo the log to stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// Run it.
pub fn run(args: RunArgs, device: DeviceChoice, seed: u64) -> Result<()> {
    let options = RunOptions {
        script: args.script,
        out: args.out,
        overrides: parse_overrides(&args.set)?,
        seed,
        device: device.resolve()?,
        limits: ScriptLimits { max_operations: args.max_operations, ..ScriptLimits::default() },
        echo: !args.quiet,
    };
    let outcome = run_script(&options)?;
    for key in &outcome.unused_overrides {
        eprintln!("graft: warning: --set {key} was never read by the script");
    }
    println!("{}", outcome.run_dir.display());
    Ok(())
}
