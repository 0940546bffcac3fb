//! Run directories: how a command that writes a run claims its directory, so that an earlier
//! run is never replaced silently.
//!
//! A directory *holds a run* when it has any of the files a Graft loop writes there
//! ([`RUN_FILES`], or a TensorBoard event file). A command that writes a run asks for one of
//! three [`RunDirMode`]s:
//!
//! - [`RunDirMode::Fresh`] (the default): a directory that holds a run is refused, with the
//!   files found and the two flags that would accept it;
//! - [`RunDirMode::Resume`]: the run is continued (the loop checks its checkpoint); stale
//!   temporary files of a killed writer are removed;
//! - [`RunDirMode::Overwrite`]: the earlier run's files (and only those) are removed.
//!
//! The check is split in two so that nothing is written before the inputs are validated:
//! [`check`] is read-only and runs first (cheap, before data is opened), [`start`] runs once
//! the command's inputs have been validated, right before the first file is written.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Files and folders a Graft run writes into its directory (besides TensorBoard event files,
/// `events.out.tfevents.*`).
pub const RUN_FILES: &[&str] = &[
    "config.json",
    "metrics.csv",
    "checkpoint.safetensors",
    "checkpoints",
    "encoder.safetensors",
    "curve.png",
];

const EVENTS_PREFIX: &str = "events.out.tfevents.";

/// What to do when the output directory already holds a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunDirMode {
    /// Refuse it.
    #[default]
    Fresh,
    /// Continue it.
    Resume,
    /// Remove its files and start again.
    Overwrite,
}

impl RunDirMode {
    /// The mode of a command's `--resume` and `--overwrite` flags (both at once is refused).
    pub fn from_flags(resume: bool, overwrite: bool) -> Result<Self> {
        match (resume, overwrite) {
            (true, true) => Err(Error::Invalid(
                "--resume and --overwrite contradict each other: continue the run, or replace it"
                    .into(),
            )),
            (true, false) => Ok(RunDirMode::Resume),
            (false, true) => Ok(RunDirMode::Overwrite),
            (false, false) => Ok(RunDirMode::Fresh),
        }
    }
}

/// The run files in `dir` (names, sorted); empty when `dir` holds no run or does not exist.
pub fn run_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| RUN_FILES.contains(&n.as_str()) || n.starts_with(EVENTS_PREFIX))
        .collect();
    found.sort();
    found
}

/// Whether `dir` holds a run.
pub fn holds_run(dir: &Path) -> bool {
    !run_files(dir).is_empty()
}

/// Read-only check that `dir` can be used in `mode`: a file in its place is refused, and
/// with [`RunDirMode::Fresh`] so is a directory that holds a run.
pub fn check(dir: &Path, mode: RunDirMode) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Invalid(format!(
            "run directory {}: is a file, not a directory",
            dir.display()
        )));
    }
    if mode != RunDirMode::Fresh {
        return Ok(());
    }
    let found = run_files(dir);
    if found.is_empty() {
        return Ok(());
    }
    let shown = summarise(&found);
    Err(Error::RunExists { dir: dir.to_path_buf(), found: shown })
}

/// Make `dir` ready for the first write of a run in `mode` (after [`check`] and after the
/// command's inputs were validated): create it, remove an earlier run's files with
/// [`RunDirMode::Overwrite`], and remove temporary files left by a killed writer.
pub fn start(dir: &Path, mode: RunDirMode) -> Result<()> {
    check(dir, mode)?;
    if mode == RunDirMode::Overwrite {
        for name in run_files(dir) {
            let path = dir.join(&name);
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.map_err(|e| Error::io(&path, e))?;
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    remove_stale_temporaries(dir)?;
    remove_stale_temporaries(&dir.join("checkpoints"))?;
    Ok(())
}

/// Remove temporary files that a killed writer left in `dir` (not its sub-folders): Graft
/// writes every file beside its destination under a temporary name and renames it into
/// place, so a `kill -9` can leave `.NAME.tmp.PID`, `.NAME.tmp` or `NAME.tmp` behind. A
/// temporary whose PID is a live process other than this one is left alone (it may belong to
/// a writer still running). Returns the paths removed.
pub fn remove_stale_temporaries(dir: &Path) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let me = std::process::id();
    let mut removed = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temporary_owner(&name) else { continue };
        let alive = pid.is_some_and(|p| p != me && Path::new(&format!("/proc/{p}")).exists());
        if alive || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        removed.push(path);
    }
    Ok(removed)
}

/// `Some(owner)` when `name` is one of Graft's temporary names: `Some(Some(pid))` for
/// `.NAME.tmp.PID`, `Some(None)` for `NAME.tmp` and `.NAME.tmp` (no owner recorded).
fn temporary_owner(name: &str) -> Option<Option<u32>> {
    if let Some((stem, pid)) = name.rsplit_once(".tmp.") {
        if !stem.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
            return Some(pid.parse().ok());
        }
    }
    (name.len() > ".tmp".len() && name.ends_with(".tmp")).then_some(None)
}

/// At most five names, then a count.
fn summarise(found: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = found.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if found.len() > SHOWN {
        s.push_str(&format!(" and {} more", found.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("graft-run-dir-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_fresh_run_refuses_a_directory_holding_one_and_names_the_files() {
        let dir = scratch("fresh");
        check(&dir, RunDirMode::Fresh).unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        check(&dir, RunDirMode::Fresh).expect("unrelated files do not make a run");
        std::fs::write(dir.join("metrics.csv"), "step,tag,value,wall_time\n").unwrap();
        std::fs::write(dir.join("events.out.tfevents.1.h.2.graft"), "x").unwrap();
        let e = check(&dir, RunDirMode::Fresh).unwrap_err().to_string();
        assert!(e.contains("events.out.tfevents.1.h.2.graft, metrics.csv"), "{e}");
        assert!(e.contains("--resume") && e.contains("--overwrite"), "{e}");
        check(&dir, RunDirMode::Resume).unwrap();
        check(&dir, RunDirMode::Overwrite).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn overwrite_removes_the_run_files_and_nothing_else() {
        let dir = scratch("overwrite");
        std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
        std::fs::write(dir.join("checkpoint.safetensors"), "x").unwrap();
        std::fs::write(dir.join("config.json"), "{}").unwrap();
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        start(&dir, RunDirMode::Overwrite).unwrap();
        assert!(!holds_run(&dir));
        assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stale_temporaries_go_but_a_live_writers_stay() {
        let dir = scratch("temps");
        // PID 1 is always alive (and is not this process).
        for name in [".checkpoint.safetensors.tmp.999999999", ".metrics.csv.tmp", "data.arrow.tmp"]
        {
            std::fs::write(dir.join(name), "x").unwrap();
        }
        std::fs::write(dir.join(".checkpoint.safetensors.tmp.1"), "x").unwrap();
        std::fs::write(dir.join("keep.tmp.txt"), "x").unwrap();
        let mut removed: Vec<String> = remove_stale_temporaries(&dir)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        removed.sort();
        assert_eq!(
            removed,
            [".checkpoint.safetensors.tmp.999999999", ".metrics.csv.tmp", "data.arrow.tmp"]
        );
        assert!(dir.join(".checkpoint.safetensors.tmp.1").exists());
        assert!(dir.join("keep.tmp.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn resume_and_overwrite_together_are_refused() {
        assert!(RunDirMode::from_flags(true, true).is_err());
        assert_eq!(RunDirMode::from_flags(false, false).unwrap(), RunDirMode::Fresh);
    }
}
