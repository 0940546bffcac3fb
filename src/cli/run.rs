//! `graft run SCRIPT [--set key=value …] [--out DIR] [--nproc N]`: run a Rhai experiment
//! script in its own run directory (see [`graft::script`]).
//!
//! With `--nproc N > 1` it launches N local workers ([`graft::distributed::launch_with`]),
//! each running the same command without `--nproc` and with the torchrun variables set.
//! The launcher picks the run directory once (`--out`, or the default name) and passes it to
//! every worker as `--out`, so the ranks agree on it; rank 0 alone writes it, and the
//! data-parallel stages (`pretrain::run`, `finetune::run`) split every batch across the ranks.
//!
//! The process exit code is the script's: 0 when it runs to its end or calls `exit()`, `n`
//! when it calls `exit(n)` (said on stderr), 1 on an error (see [`graft::script`]).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use graft::device::DeviceChoice;
use graft::distributed::{self, LaunchOptions};
use graft::script::{default_run_dir, parse_overrides, run_script, RunOptions, ScriptLimits};
use graft::{Error, Result};

use crate::cli::values::at_least;

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
    /// Rhai operations the script may execute, hooks included (infinite-loop guard); at
    /// least 1.
    #[arg(long, default_value_t = ScriptLimits::default().max_operations,
          value_parser = parse_max_operations)]
    pub max_operations: u64,
    /// Run the script in N local processes (ranks); pretraining and fine-tuning train
    /// data-parallel across them and rank 0 writes the run directory (at least 1).
    #[arg(long, default_value_t = 1, value_parser = at_least::<usize>(1))]
    pub nproc: usize,
}

/// `--max-operations`: a count of at least 1 (Rhai reads 0 as "no limit").
fn parse_max_operations(text: &str) -> std::result::Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("must be at least 1 (0 would mean no limit at all); valid: 1 to \
                      18446744073709551615"
            .into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a whole number from 1 to 18446744073709551615")),
    }
}

/// Run it; the exit code is the script's (`exit(n)`), 0 for a normal end.
pub fn run(args: RunArgs, device: DeviceChoice, seed: u64) -> Result<ExitCode> {
    if args.nproc > 1 {
        return launch(&args).map(|()| ExitCode::SUCCESS);
    }
    let options = RunOptions {
        script: args.script,
        out: args.out,
        overrides: parse_overrides(&args.set)?,
        seed,
        device: device.resolve()?,
        limits: ScriptLimits { max_operations: args.max_operations, ..ScriptLimits::default() },
        // The log's lines are info events: `-q` hides them.
        echo: true,
    };
    let outcome = run_script(&options)?;
    if graft::distributed::world::is_writer() {
        for key in &outcome.unused_overrides {
            tracing::warn!(key = %key, "--set {key} was never read by the script");
        }
        println!("{}", outcome.run_dir.display());
    }
    match &outcome.exit {
        Some(exit) if exit.code != 0 => {
            eprintln!("graft: script exited with code {}: {exit}", exit.code);
            Ok(ExitCode::from(exit.code))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `--nproc N`: this command line without `--nproc`, with `--out` fixed, as N workers.
fn launch(args: &RunArgs) -> Result<()> {
    if std::env::var_os("WORLD_SIZE").is_some() {
        return Err(Error::Invalid(
            "--nproc inside a launched worker: give --nproc to the outer `graft run` only".into(),
        ));
    }
    parse_overrides(&args.set)?;
    if !args.script.is_file() {
        return Err(Error::Invalid(format!("script {} does not exist", args.script.display())));
    }
    let out = match &args.out {
        Some(dir) if dir.join("config.json").exists() => {
            return Err(Error::Invalid(format!(
                "--out {}: the directory already holds a run; choose a new one",
                dir.display()
            )))
        }
        Some(dir) => dir.clone(),
        None => default_run_dir(&args.script),
    };
    let mut worker_args = strip_nproc(std::env::args_os().skip(1));
    if args.out.is_none() {
        worker_args.push("--out".into());
        worker_args.push(out.clone().into_os_string());
    }
    distributed::launch_with(&LaunchOptions::new(args.nproc, worker_args))?;
    println!("{}", out.display());
    Ok(())
}

/// The arguments without `--nproc N` / `--nproc=N` (every other token kept in order).
fn strip_nproc(args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for a in args {
        if skip_next {
            skip_next = false;
            continue;
        }
        match a.to_str() {
            Some("--nproc") => skip_next = true,
            Some(s) if s.starts_with("--nproc=") => {}
            _ => out.push(a),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_nproc_keeps_everything_else() {
        let args = ["--threads", "1", "run", "s.rhai", "--nproc", "2", "--set", "a=1", "--nproc=3"];
        let got = strip_nproc(args.iter().map(OsString::from));
        let want: Vec<OsString> = ["--threads", "1", "run", "s.rhai", "--set", "a=1"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(got, want);
    }
}
