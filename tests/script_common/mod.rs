//! Helpers shared by the `graft run` tests (tests/script.rs, tests/script_modules.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-script-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn graft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Run a script expected to fail: status 1, no panic, the error located at `at`.
pub fn fails_at(name: &str, script: &str, at: &str, message: &str, extra: &[&str]) -> PathBuf {
    let dir = tmp_dir(name);
    let path = write(&dir, "s.rhai", script);
    let out_dir = dir.join("run");
    let out = out_dir.display().to_string();
    let mut args = vec!["run", path.as_str(), "--out", out.as_str(), "--quiet"];
    args.extend_from_slice(extra);
    let o = graft(&args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{name}: {stderr}");
    assert!(!stderr.contains("internal error"), "{name} panicked: {stderr}");
    let want = format!("{path}:{at}");
    assert!(stderr.contains(&want), "{name}: expected '{want}' in: {stderr}");
    assert!(stderr.contains(message), "{name}: expected '{message}' in: {stderr}");
    let log = std::fs::read_to_string(out_dir.join("run.log")).unwrap();
    assert!(log.contains(&want), "{name}: the error is not in run.log: {log}");
    out_dir
}
