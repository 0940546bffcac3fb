//! Scripts never rot: every Rhai script under `scripts/` (found recursively, so new ones are
//! picked up without touching this file; `scripts/lib/` holds importable modules, not
//! experiments) runs through the real `graft run` binary on its smoke budget.
//!
//! The convention every script follows: it reads `let smoke = param("smoke", false);` and
//! shrinks its budgets to seconds when it is true. This test passes `--set smoke=true` and
//! fails when a script errors, when it never reads `smoke` (graft warns that the override was
//! unused), or when it leaves no output of its own in its run directory. Data a script reads
//! through a known parameter is prepared here first (`digits`: scikit-learn's digits exported
//! as an ImageFolder by scripts/export-digits.py with the test venv's Python).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use graft::script::declared_params;

mod support;
use support::python;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-scripts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every `.rhai` file under `scripts/` except `scripts/lib/`, relative to the repository,
/// in a stable order.
fn discover() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if p != repo().join("scripts/lib") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|e| e == "rhai") {
                out.push(p.strip_prefix(repo()).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo().join("scripts"), &mut out);
    out
}

/// The digits ImageFolder, exported once per test process.
fn digits() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = tmp_dir("digits").join("digits");
        let export = repo().join("scripts/export-digits.py");
        let o = Command::new(python()).arg(&export).arg(&root).output().unwrap();
        assert!(o.status.success(), "export-digits: {}", String::from_utf8_lossy(&o.stderr));
        root
    })
}

/// `--set` values for the data parameters `text` declares (graft refuses an override the
/// script never declares, so only those are passed).
fn data_overrides(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if declared_params(text).iter().any(|p| p == "digits") {
        out.push(format!("digits={}", digits().display()));
    }
    out
}

/// The literal file names a script passes to `report::write` / `report::json`, which must
/// exist after a successful run.
fn declared_outputs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for call in ["report::write(\"", "report::json(\""] {
        for (at, _) in text.match_indices(call) {
            let rest = &text[at + call.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

/// Run `script` on its smoke budget; `Err` says what went wrong, `Ok` the wall time.
fn run_smoke(script: &Path, out_root: &Path) -> Result<f64, String> {
    let text = std::fs::read_to_string(repo().join(script))
        .map_err(|e| format!("cannot read {}: {e}", script.display()))?;
    let convention = "does not follow the smoke convention: it must read \
                      `let smoke = param(\"smoke\", false);` and shrink its budgets when true";
    if !declared_params(&text).iter().any(|p| p == "smoke") {
        return Err(convention.into());
    }
    let name = script.to_string_lossy().replace(['/', '\\'], "_");
    let run_dir = out_root.join(name.trim_end_matches(".rhai"));
    let run = run_dir.display().to_string();
    let script_arg = script.display().to_string();
    let mut args = vec!["--threads", "1", "run", &script_arg, "--out", &run, "--quiet"];
    args.extend(["--set", "smoke=true"]);
    let data = data_overrides(&text);
    for d in &data {
        args.extend(["--set", d.as_str()]);
    }
    let started = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(&args)
        .current_dir(repo())
        .output()
        .map_err(|e| format!("cannot start graft: {e}"))?;
    let wall = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    if !o.status.success() {
        return Err(format!("exit status {:?}\n{stderr}", o.status.code()));
    }
    if stderr.contains("--set smoke was never read") {
        return Err(format!("{convention} (it declares smoke but never read it)"));
    }
    if stdout.lines().last() != Some(run.as_str()) {
        return Err(format!("did not end by printing its run directory {run}: {stdout}"));
    }
    let config: serde_json::Value = std::fs::read_to_string(run_dir.join("config.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or("no readable config.json in the run directory")?;
    if config["params"]["smoke"] != serde_json::json!(true) {
        return Err(format!("config.json does not record smoke = true: {config}"));
    }
    // Something of the script's own beyond what `graft run` writes for every run.
    let script_file = script.file_name().unwrap_or_default();
    let own: Vec<String> = std::fs::read_dir(&run_dir)
        .map_err(|e| format!("cannot list {run}: {e}"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n != "config.json" && n != "run.log" && n != script_file)
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    if own.is_empty() {
        return Err("wrote nothing into its run directory".into());
    }
    for file in declared_outputs(&text) {
        let p = run_dir.join(&file);
        match std::fs::metadata(&p) {
            Ok(m) if m.len() > 0 => {}
            _ => return Err(format!("{file} (written with report::) is missing or empty")),
        }
    }
    Ok(wall)
}

#[test]
fn discovery_finds_every_example_and_skips_the_library() {
    let found = discover();
    for want in [
        "scripts/examples/finetune_strategies.rhai",
        "scripts/examples/finetune_digits.rhai",
        "scripts/examples/image_ssl_digits.rhai",
        "scripts/examples/dqn_minatar_pretrained.rhai",
        "scripts/examples/ppo_cartpole_states.rhai",
        "scripts/examples/bc_then_ppo.rhai",
        "scripts/examples/gradual_unfreezing.rhai",
        "scripts/examples/finetune_inception.rhai",
    ] {
        assert!(found.contains(&PathBuf::from(want)), "{want} not found in {found:?}");
    }
    assert!(!found.iter().any(|p| p.starts_with("scripts/lib")), "{found:?}");
    assert_eq!(
        declared_outputs(r#"report::write("a.md", x); report::json("b/c.json", y);"#),
        ["a.md", "b/c.json"]
    );
}

#[test]
fn every_script_runs_on_its_smoke_budget() {
    let scripts = discover();
    assert!(!scripts.is_empty(), "no scripts under scripts/");
    let out_root = tmp_dir("runs");
    // Two at a time (CI has two cores), each graft on one libtorch thread.
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(script) = scripts.get(i) else { break };
                let r = run_smoke(script, &out_root);
                results.lock().unwrap().push((script.clone(), r));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut failures = Vec::new();
    for (script, r) in &results {
        match r {
            Ok(wall) => eprintln!("{:>6.1} s  {}", wall, script.display()),
            Err(e) => failures.push(format!("{}: {e}", script.display())),
        }
    }
    assert_eq!(results.len(), scripts.len());
    assert!(
        failures.is_empty(),
        "{} of {} scripts failed:\n\n{}",
        failures.len(),
        scripts.len(),
        failures.join("\n\n")
    );
}
