//! Interop: Parquet export and import, files written by pyarrow read in Graft, and Graft's files
//! read by pyarrow and pandas (a pinned venv from scripts/test-python-deps.sh).

use std::process::Command;

use graft::data::{collect, parquet, validate, CollectConfig, Dataset, PolicySpec};
use graft::envs::ActionRef;

mod support;
use support::python;
mod data_common;
use data_common::*;

#[test]
fn parquet_export_and_import_round_trip() {
    let dir = tmp_dir("parquet");
    let path = dir.join("eps.arrow");
    let eps = vec![make_ep(30, 1), make_ep(0, 2), make_ep(3, 3)];
    write_eps(&path, &eps, Some(16)).unwrap();
    let ds = Dataset::open(&path).unwrap();
    let pq = dir.join("eps.parquet");
    parquet::export(&ds, &pq).unwrap();
    let back = parquet::import(&pq, &dir.join("back.arrow")).unwrap();
    assert_eq!(read_eps(&back), eps);
    assert_eq!(back.meta(), ds.meta());
    let err = parquet::import(&path, &dir.join("x.arrow")).unwrap_err().to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_file_written_by_pyarrow_reads_in_graft() {
    // The committed fixture, written by tests/fixtures/data/make_pyarrow_fixture.py.
    let ds = Dataset::open(fixture("pyarrow_written.arrow")).unwrap();
    check_pyarrow_fixture(&ds);
}

fn check_pyarrow_fixture(ds: &Dataset) {
    assert_eq!(ds.num_episodes(), 2);
    assert_eq!(ds.num_transitions(), 5);
    assert_eq!(ds.meta().dataset_id, "pyarrow/fixture-v0");
    let ep0 = ds.episode(0).unwrap();
    assert_eq!(ep0.len(), 3);
    assert_eq!(ep0.total_return(), 0.5);
    assert_eq!(ep0.ended(), (true, false));
    assert_eq!(ep0.observation(3).unwrap().f32, &[3.0, 30.0]);
    let t = ds.transition(4).unwrap();
    assert_eq!((t.episode_id, t.step, t.reward, t.truncated), (1, 1, 3.0, true));
    assert_eq!(t.action, ActionRef::Discrete(1));
    assert_eq!(t.next_obs.f32, &[102.0, -2.0]);
    assert!(validate::validate_dataset(ds).is_valid(), "{:?}", validate::validate_dataset(ds));
}

#[test]
fn pyarrow_and_pandas_read_graft_files() {
    let py = python();
    let dir = tmp_dir("py-read");
    let path = dir.join("g.arrow");
    let eps = vec![make_ep(4, 2), make_ep(0, 3), make_ep(9, 4)];
    write_eps(&path, &eps, Some(5)).unwrap();
    let out = Command::new(&py).arg(fixture("check_graft_file.py")).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        seen["columns"],
        serde_json::json!([
            "episode_id",
            "step",
            "observations",
            "actions",
            "rewards",
            "terminations",
            "truncations"
        ])
    );
    assert_eq!(seen["num_rows"], 16);
    assert_eq!(seen["observations_type"], "fixed_size_list<item: float>[3]");
    assert_eq!(seen["metadata"]["total_episodes"], "3");
    assert_eq!(seen["metadata"]["total_steps"], "13");
    assert_eq!(seen["metadata"]["dataset_id"], "test/eps-v0");
    assert_eq!(seen["metadata"]["graft_format"], "graft.trajectories/1");
    assert_eq!(seen["rows_per_episode"], serde_json::json!({"0": 5, "1": 1, "2": 10}));
    assert_eq!(seen["null_actions"], 3);
    for (e, ep) in eps.iter().enumerate() {
        let got = seen["returns"][e.to_string()].as_f64().unwrap();
        let want: f64 = ep.rewards.iter().sum();
        assert!((got - want).abs() < 1e-9, "episode {e}: pandas {got} vs {want}");
    }
    let first: Vec<f32> = serde_json::from_value(seen["first_observation"].clone()).unwrap();
    assert_eq!(first, eps[0].obs[0]);
    let last: Vec<f32> = serde_json::from_value(seen["last_observation"].clone()).unwrap();
    assert_eq!(last, eps[2].obs[9]);

    // Image observations: the shape travels in the field metadata.
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("px.arrow"));
    (cfg.episodes, cfg.pixels, cfg.policy) = (1, Some((16, 8)), PolicySpec::Random);
    collect(&cfg, &mut |_, _| {}).unwrap();
    let out = Command::new(&py)
        .arg(fixture("check_graft_file.py"))
        .arg(dir.join("px.arrow"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["observations_metadata"]["shape"], "[8,16,3]");
    assert_eq!(seen["observations_type"], "fixed_size_list<item: uint8>[384]");
}

#[test]
fn files_written_by_pyarrow_now_read_in_graft() {
    let py = python();
    let dir = tmp_dir("py-write");
    let (arrow, pq) = (dir.join("py.arrow"), dir.join("py.parquet"));
    let out = Command::new(&py)
        .arg(fixture("make_pyarrow_fixture.py"))
        .arg(&arrow)
        .arg(&pq)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    check_pyarrow_fixture(&Dataset::open(&arrow).unwrap());
    check_pyarrow_fixture(&parquet::import(&pq, &dir.join("from_parquet.arrow")).unwrap());
}
