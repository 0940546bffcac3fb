//! `graft ckpt`: inspect and compare safetensors checkpoints.
//!
//! `info FILE` prints the metadata (Graft version, step, model config) and the parameter
//! count per layer group — groups come from building the recorded model config (on CPU);
//! without a config, keys are grouped by their first component. `diff A B` lists keys present
//! in only one file, shape and dtype differences, and the largest absolute difference of
//! every shared tensor that differs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use graft::models::checkpoint::{Checkpoint, CheckpointMeta};
use graft::models::LayerGroup;
use graft::Result;
use tch::{nn, Device, Kind};

#[derive(Subcommand)]
pub enum CkptCommand {
    /// Metadata and parameter counts per layer group of a checkpoint.
    Info {
        /// A .safetensors checkpoint.
        file: PathBuf,
    },
    /// Differences between two checkpoints: keys, shapes, values, metadata.
    Diff {
        /// First checkpoint.
        a: PathBuf,
        /// Second checkpoint.
        b: PathBuf,
    },
}

pub fn run(cmd: CkptCommand) -> Result<()> {
    match cmd {
        CkptCommand::Info { file } => info(&file),
        CkptCommand::Diff { a, b } => diff(&a, &b),
    }
}

/// BatchNorm statistics and counters are state, not parameters.
fn is_buffer(key: &str) -> bool {
    ["running_mean", "running_var", "num_batches_tracked"]
        .iter()
        .any(|b| key.ends_with(&format!(".{b}")) || key == *b)
}

fn print_meta(meta: &CheckpointMeta) {
    println!("graft version: {}", meta.graft_version.as_deref().unwrap_or("-"));
    println!("step: {}", meta.step.map_or("-".to_string(), |s| s.to_string()));
    match &meta.config {
        Some(c) => println!("config: {c}"),
        None => println!("config: -"),
    }
    for (k, v) in &meta.extra {
        println!("{k}: {v}");
    }
}

fn groups_for(meta: &CheckpointMeta, keys: &[&String]) -> Result<Vec<LayerGroup>> {
    if let Some(config) = meta.model_config()? {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = config.build(&vs.root())?;
        return Ok(model.layer_groups());
    }
    let mut firsts: Vec<String> = Vec::new();
    for k in keys {
        let first = k.split('.').next().unwrap_or(k).to_string();
        if !firsts.contains(&first) {
            firsts.push(first);
        }
    }
    Ok(firsts.into_iter().map(|f| LayerGroup::new(f.clone(), vec![f])).collect())
}

fn info(file: &Path) -> Result<()> {
    let ckpt = Checkpoint::read(file)?;
    println!("file: {}", file.display());
    println!(
        "checksums: {}",
        if ckpt.checksummed { "crc32, all match" } else { "none (written by another tool)" }
    );
    print_meta(&ckpt.meta);
    let keys: Vec<&String> = ckpt.tensors.keys().collect();
    let groups = groups_for(&ckpt.meta, &keys)?;
    let mut per_group: Vec<(String, i64, usize)> =
        groups.iter().map(|g| (g.name.clone(), 0, 0)).collect();
    let (mut total, mut buffers, mut ungrouped) = (0i64, 0i64, 0i64);
    for (key, t) in &ckpt.tensors {
        let n = t.numel() as i64;
        if is_buffer(key) {
            buffers += n;
            continue;
        }
        total += n;
        match groups.iter().position(|g| g.matches(key)) {
            Some(i) => {
                per_group[i].1 += n;
                per_group[i].2 += 1;
            }
            None => ungrouped += n,
        }
    }
    println!("tensors: {}", ckpt.tensors.len());
    println!("{:<24} {:>8} {:>14}", "group", "tensors", "parameters");
    for (name, n, count) in &per_group {
        println!("{name:<24} {count:>8} {n:>14}");
    }
    if ungrouped > 0 {
        println!("{:<24} {:>8} {ungrouped:>14}", "(in no group)", "");
    }
    println!("{:<24} {:>8} {total:>14}", "total parameters", "");
    println!("{:<24} {:>8} {buffers:>14}", "buffers (BatchNorm)", "");
    Ok(())
}

fn diff(a: &Path, b: &Path) -> Result<()> {
    let ca = Checkpoint::read(a)?;
    let cb = Checkpoint::read(b)?;
    println!("a: {}\nb: {}", a.display(), b.display());
    if ca.meta != cb.meta {
        println!("metadata differs:");
        println!("-- a");
        print_meta(&ca.meta);
        println!("-- b");
        print_meta(&cb.meta);
    }
    let only_a: Vec<&String> = ca.tensors.keys().filter(|k| !cb.tensors.contains_key(*k)).collect();
    let only_b: Vec<&String> = cb.tensors.keys().filter(|k| !ca.tensors.contains_key(*k)).collect();
    for k in &only_a {
        println!("only in a: {k} {:?}", ca.tensors[*k].size());
    }
    for k in &only_b {
        println!("only in b: {k} {:?}", cb.tensors[*k].size());
    }
    let (mut same, mut changed) = (0usize, BTreeMap::new());
    let mut shape_diffs = 0usize;
    for (k, ta) in &ca.tensors {
        let Some(tb) = cb.tensors.get(k) else { continue };
        if ta.size() != tb.size() || ta.kind() != tb.kind() {
            println!(
                "shape/dtype differs: {k}: a {:?} {:?}, b {:?} {:?}",
                ta.size(),
                ta.kind(),
                tb.size(),
                tb.kind()
            );
            shape_diffs += 1;
            continue;
        }
        let d = (ta.to_kind(Kind::Double) - tb.to_kind(Kind::Double)).abs();
        let max = if d.numel() == 0 { 0.0 } else { f64::try_from(d.max()).unwrap_or(f64::NAN) };
        if max == 0.0 {
            same += 1;
        } else {
            changed.insert(k.clone(), max);
        }
    }
    for (k, max) in &changed {
        println!("values differ: {k}: max |a - b| = {max:.3e}");
    }
    println!(
        "summary: {} identical, {} with different values, {} with different shapes or dtypes, {} only in a, {} only in b",
        same,
        changed.len(),
        shape_diffs,
        only_a.len(),
        only_b.len()
    );
    Ok(())
}
