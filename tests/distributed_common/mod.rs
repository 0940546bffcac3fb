//! What the data-parallel test files share: the `graft` binary and its output, scratch
//! directories, and the comparison of two checkpoints.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use graft::models::checkpoint::Checkpoint;

pub const GRAFT: &str = env!("CARGO_BIN_EXE_graft");

pub fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

pub fn graft(args: &[&str]) -> Output {
    Command::new(GRAFT).args(args).output().expect("graft runs")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        stderr(out),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Largest absolute difference between same-named tensors of two checkpoints.
pub fn max_diff(a: &Path, b: &Path) -> f64 {
    let a = Checkpoint::read(a).unwrap();
    let b = Checkpoint::read(b).unwrap();
    assert_eq!(a.tensors.keys().collect::<Vec<_>>(), b.tensors.keys().collect::<Vec<_>>());
    a.tensors
        .iter()
        .map(|(k, t)| (t - &b.tensors[k]).abs().max().double_value(&[]))
        .fold(0.0, f64::max)
}

pub fn fresh(name: &str) -> PathBuf {
    let d = tmp(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
