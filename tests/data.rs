//! Trajectory datasets: writer/reader round trips (with proptest), windows and tensor batches,
//! pixel observations, and bad input (truncated, malformed and misnamed files, unfinished
//! writers). Collection and the commands are in tests/data_collect.rs; Parquet, pyarrow and
//! pandas in tests/data_interop.rs.

use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, FixedSizeListArray, Float32Array, Float64Array, Int64Array, RecordBatch,
};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;
use tch::{Device, Kind};

use graft::data::{
    validate, Compression, Dataset, DatasetWriter, NewDataset, ObsColumn, ObsView, WriterOptions,
};
use graft::envs::{ActionRef, BoxSpace, DType, EnvRng, Info, Space};
use graft::Error;

mod data_common;
use data_common::*;

#[test]
fn round_trip_with_empty_one_step_and_long_episodes() {
    let dir = tmp_dir("roundtrip");
    let path = dir.join("eps.arrow");
    let eps = vec![make_ep(5, 1), make_ep(0, 2), make_ep(1, 3), make_ep(1200, 4)];
    write_eps(&path, &eps, Some(64)).unwrap();
    assert!(!dir.join("eps.arrow.tmp").exists());
    let ds = Dataset::open(&path).unwrap();
    assert_eq!(ds.num_episodes(), 4);
    assert_eq!(ds.num_transitions(), 1206);
    assert_eq!(ds.num_rows(), 1210);
    assert_eq!(ds.meta().total_episodes, 4);
    assert_eq!(ds.meta().total_steps, 1206);
    assert_eq!(ds.meta().dataset_id, "test/eps-v0");
    assert_eq!(read_eps(&ds), eps);
    // s' of transition t is the next observation of its episode.
    let t = ds.transition(5).unwrap(); // episode 2 (1 step), its only transition
    assert_eq!((t.episode_id, t.step), (2, 0));
    assert_eq!(t.next_obs.f32, &eps[2].obs[1]);
    assert!(ds.transition(1206).is_err());
    assert!(validate::validate_dataset(&ds).is_valid());
}

#[test]
fn windows_stay_inside_episodes() {
    let dir = tmp_dir("windows");
    let path = dir.join("w.arrow");
    let eps = vec![make_ep(4, 1), make_ep(2, 2), make_ep(6, 3)];
    write_eps(&path, &eps, Some(5)).unwrap();
    let ds = Dataset::open(&path).unwrap();
    let starts = ds.window_starts(3);
    // Episode 0: starts 0, 1; episode 1: none; episode 2 (transitions 6..12): 6..=9.
    assert_eq!(starts, vec![0, 1, 6, 7, 8, 9]);
    let w = ds.window(7, 3).unwrap();
    assert_eq!(w.iter().map(|t| t.step).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(w.iter().all(|t| t.episode_id == 2));
    let err = ds.window(3, 2).unwrap_err().to_string();
    assert!(err.contains("runs past the episode's end"), "{err}");
}

#[test]
fn batches_become_tensors_with_the_right_values() {
    let dir = tmp_dir("batch");
    let path = dir.join("b.arrow");
    let eps = vec![make_ep(10, 1), make_ep(7, 2)];
    write_eps(&path, &eps, Some(4)).unwrap();
    let ds = Dataset::open(&path).unwrap();
    let idx = [0usize, 9, 10, 16, 3];
    let b = ds.batch(&idx, Device::Cpu).unwrap();
    assert_eq!(b.obs.size(), vec![5, 3]);
    assert_eq!(b.obs.kind(), Kind::Float);
    assert_eq!(b.actions.size(), vec![5, 1]);
    assert_eq!(b.rewards.size(), vec![5]);
    for (j, &i) in idx.iter().enumerate() {
        let t = ds.transition(i).unwrap();
        let row: Vec<f32> = Vec::try_from(b.obs.get(j as i64)).unwrap();
        assert_eq!(row, t.obs.f32);
        let next: Vec<f32> = Vec::try_from(b.next_obs.get(j as i64)).unwrap();
        assert_eq!(next, t.next_obs.f32);
        assert_eq!(b.rewards.double_value(&[j as i64]) as f32, t.reward as f32);
        assert_eq!(b.terminated.int64_value(&[j as i64]) != 0, t.terminated);
        assert_eq!(b.truncated.int64_value(&[j as i64]) != 0, t.truncated);
    }
    let mut rng = EnvRng::seed_from(0);
    let s = ds.sample(256, &mut rng, Device::Cpu).unwrap();
    assert_eq!(s.obs.size(), vec![256, 3]);
    let err = ds.batch(&[17], Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("transition 17 is out of range"), "{err}");
}

#[test]
fn pixel_observations_keep_their_shape_and_state() {
    let dir = tmp_dir("pixels");
    let path = dir.join("px.arrow");
    let obs_space = Space::dict(vec![
        ("pixels".into(), Space::Box(BoxSpace::uniform(0.0, 255.0, vec![4, 5, 3], DType::U8))),
        ("state".into(), Space::box_f32(vec![-1.0; 2], vec![1.0; 2])),
    ]);
    let mut w = DatasetWriter::create(
        &path,
        NewDataset::new("px", obs_space, Space::discrete(3)),
        WriterOptions { batch_rows: Some(2), compression: Compression::Lz4 },
    )
    .unwrap();
    let frame = |k: u8| (0..60).map(|i| (i as u8).wrapping_mul(k)).collect::<Vec<u8>>();
    w.begin_episode(ObsView { f32: &[0.1, 0.2], u8: &frame(1) }).unwrap();
    // A wrongly sized frame is refused with the sizes.
    let err = w
        .push_step(
            ActionRef::Discrete(0),
            0.0,
            false,
            false,
            ObsView { f32: &[0.0, 0.0], u8: &[1, 2] },
            &Info::new(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected 2 float32 and 60 uint8 values"), "{err}");
    for k in 2..5u8 {
        let f = frame(k);
        w.push_step(
            ActionRef::Discrete(k as i64 % 3),
            1.0,
            k == 4,
            false,
            ObsView { f32: &[k as f32, 0.0], u8: &f },
            &Info::new(),
        )
        .unwrap();
    }
    // Stepping past the end is refused.
    let f5 = frame(5);
    let err = w
        .push_step(
            ActionRef::Discrete(0),
            0.0,
            false,
            false,
            ObsView { f32: &[0.0, 0.0], u8: &f5 },
            &Info::new(),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("after the episode terminated"), "{err}");
    w.end_episode().unwrap();
    w.finish().unwrap();
    let ds = Dataset::open(&path).unwrap();
    assert_eq!(ds.layout().obs, ObsColumn::U8 { len: 60, shape: vec![4, 5, 3] });
    assert_eq!(ds.layout().state, Some(2));
    let t = ds.transition(2).unwrap();
    assert_eq!(t.obs.u8, &frame(3)[..]);
    assert_eq!(t.next_obs.u8, &frame(4)[..]);
    assert_eq!(t.obs.f32, &[3.0, 0.0]);
    let b = ds.batch(&[0, 2], Device::Cpu).unwrap();
    assert_eq!(b.obs.size(), vec![2, 4, 5, 3]);
    assert_eq!(b.obs.kind(), Kind::Uint8);
    assert_eq!(b.state.as_ref().map(|s| s.size()), Some(vec![2, 2]));
    assert_eq!(b.actions.kind(), Kind::Int64);
}

#[test]
fn an_unfinished_writer_leaves_no_file() {
    let dir = tmp_dir("atomic");
    let path = dir.join("partial.arrow");
    let (o, a) = spaces();
    let mut w = DatasetWriter::create(
        &path,
        NewDataset::new("p", o, a),
        WriterOptions { batch_rows: Some(1), ..Default::default() },
    )
    .unwrap();
    w.begin_episode(ObsView { f32: &[0.0; 3], u8: &[] }).unwrap();
    w.push_step(
        ActionRef::Continuous(&[0.0]),
        1.0,
        false,
        false,
        ObsView { f32: &[1.0; 3], u8: &[] },
        &Info::new(),
    )
    .unwrap();
    assert!(!path.exists(), "the file must not appear before finish");
    assert!(dir.join("partial.arrow.tmp").exists());
    // An interrupted run's .tmp is not a readable dataset.
    let err = Dataset::open(dir.join("partial.arrow.tmp")).unwrap_err().to_string();
    assert!(err.contains("no footer"), "{err}");
    drop(w);
    assert!(!path.exists());
    assert!(!dir.join("partial.arrow.tmp").exists());
    // finish with an open episode is refused, and leaves nothing either.
    let (o, a) = spaces();
    let mut w =
        DatasetWriter::create(&path, NewDataset::new("p", o, a), WriterOptions::default()).unwrap();
    w.begin_episode(ObsView { f32: &[0.0; 3], u8: &[] }).unwrap();
    let err = w.finish().unwrap_err().to_string();
    assert!(err.contains("was not ended"), "{err}");
    assert!(!path.exists());
}

/// Write a file with arrow-rs's own writer (a stand-in for any other tool).
fn write_raw(path: &Path, fields: Vec<Field>, columns: Vec<ArrayRef>) {
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, &schema).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
}

fn fsl_f32(values: Vec<f32>, n: i32) -> ArrayRef {
    Arc::new(FixedSizeListArray::new(
        Arc::new(Field::new("item", DataType::Float32, true)),
        n,
        Arc::new(Float32Array::from(values)),
        None,
    ))
}

/// Columns of a 2-step episode with the given step values and flags.
fn raw_episode(steps: Vec<i64>, terms: Vec<Option<bool>>) -> (Vec<Field>, Vec<ArrayRef>) {
    let n = steps.len();
    let mut actions: Vec<Option<i64>> = vec![Some(0); n];
    actions[n - 1] = None;
    let rewards: Vec<Option<f64>> = actions.iter().map(|a| a.map(|_| 1.0)).collect();
    let truncs: Vec<Option<bool>> = actions.iter().map(|a| a.map(|_| false)).collect();
    let fields = vec![
        Field::new("episode_id", DataType::Int64, false),
        Field::new("step", DataType::Int64, false),
        Field::new(
            "observations",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, true)), 2),
            false,
        ),
        Field::new("actions", DataType::Int64, true),
        Field::new("rewards", DataType::Float64, true),
        Field::new("terminations", DataType::Boolean, true),
        Field::new("truncations", DataType::Boolean, true),
    ];
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![0; n])),
        Arc::new(Int64Array::from(steps)),
        fsl_f32(vec![0.5; 2 * n], 2),
        Arc::new(Int64Array::from(actions)),
        Arc::new(Float64Array::from(rewards)),
        Arc::new(BooleanArray::from(terms)),
        Arc::new(BooleanArray::from(truncs)),
    ];
    (fields, cols)
}

fn open_err(path: &Path) -> String {
    let err = Dataset::open(path).unwrap_err();
    assert!(matches!(err, Error::Dataset { .. } | Error::Io { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "error does not name the file: {msg}");
    msg
}

#[test]
fn bad_files_give_clear_errors_naming_the_file() {
    let dir = tmp_dir("bad");
    let good = dir.join("good.arrow");
    write_eps(&good, &[make_ep(50, 1)], Some(8)).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.join("truncated.arrow");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(open_err(&truncated).contains("truncated"));

    let empty = dir.join("empty.arrow");
    std::fs::write(&empty, b"").unwrap();
    assert!(open_err(&empty).contains("not an Arrow IPC file"));

    let text = dir.join("text.arrow");
    std::fs::write(&text, "episode_id,step\n0,0\n".repeat(10)).unwrap();
    assert!(open_err(&text).contains("not an Arrow IPC file"));

    assert!(open_err(&dir).contains("is a directory"));
    assert!(matches!(Dataset::open(dir.join("missing.arrow")), Err(Error::Io { .. })));

    // Missing column.
    let (mut fields, mut cols) = raw_episode(vec![0, 1, 2], vec![Some(false), Some(true), None]);
    fields.remove(4);
    cols.remove(4);
    let missing = dir.join("missing_col.arrow");
    write_raw(&missing, fields, cols);
    assert!(open_err(&missing).contains("missing column 'rewards'"));

    // Wrong type.
    let (mut fields, mut cols) = raw_episode(vec![0, 1, 2], vec![Some(false), Some(true), None]);
    fields[4] = Field::new("rewards", DataType::Float32, true);
    cols[4] = Arc::new(Float32Array::from(vec![Some(1.0), Some(1.0), None]));
    let wrong = dir.join("wrong_type.arrow");
    write_raw(&wrong, fields, cols);
    assert!(open_err(&wrong).contains("column 'rewards' has type Float32, expected double"));

    // Image shape metadata that does not match the list size.
    let (mut fields, cols) = raw_episode(vec![0, 1, 2], vec![Some(false), Some(true), None]);
    let u8_list = DataType::FixedSizeList(Arc::new(Field::new("item", DataType::UInt8, true)), 2);
    fields[2] = Field::new("observations", u8_list.clone(), false)
        .with_metadata([("shape".to_string(), "[2, 2, 3]".to_string())].into());
    let mut cols = cols;
    cols[2] = Arc::new(FixedSizeListArray::new(
        Arc::new(Field::new("item", DataType::UInt8, true)),
        2,
        Arc::new(arrow_array::UInt8Array::from(vec![7u8; 6])),
        None,
    ));
    let shape = dir.join("shape.arrow");
    write_raw(&shape, fields, cols);
    assert!(open_err(&shape).contains("does not multiply out"));

    // Steps that skip.
    let (fields, cols) = raw_episode(vec![0, 2, 3], vec![Some(false), Some(true), None]);
    let skip = dir.join("skip.arrow");
    write_raw(&skip, fields, cols);
    assert!(open_err(&skip).contains("step 2 where step 1 was expected"));

    // No final-observation row.
    let (fields, mut cols) = raw_episode(vec![0, 1, 2], vec![Some(false), Some(false), Some(true)]);
    cols[3] = Arc::new(Int64Array::from(vec![0, 1, 0]));
    cols[4] = Arc::new(Float64Array::from(vec![1.0; 3]));
    cols[6] = Arc::new(BooleanArray::from(vec![false; 3]));
    let nofinal = dir.join("nofinal.arrow");
    write_raw(&nofinal, fields, cols);
    assert!(open_err(&nofinal).contains("no final-observation row"));

    // A transition without its reward.
    let (fields, mut cols) = raw_episode(vec![0, 1, 2], vec![Some(false), Some(true), None]);
    cols[4] = Arc::new(Float64Array::from(vec![Some(1.0), None, None]));
    let nullrew = dir.join("null_reward.arrow");
    write_raw(&nullrew, fields, cols);
    assert!(open_err(&nullrew).contains("row 1: a step with an action has a null reward"));

    // Readable, but `validate` finds a termination before the last step.
    let (fields, cols) = raw_episode(vec![0, 1, 2], vec![Some(true), Some(false), None]);
    let early = dir.join("early.arrow");
    write_raw(&early, fields, cols);
    let report = validate::validate(&early);
    assert!(!report.is_valid());
    assert!(
        report.problems.iter().any(|p| p.contains("before the episode's last step")),
        "{report:?}"
    );
}

#[test]
fn an_empty_dataset_opens_but_cannot_be_sampled() {
    let dir = tmp_dir("empty-ds");
    let path = dir.join("none.arrow");
    write_eps(&path, &[], None).unwrap();
    let ds = Dataset::open(&path).unwrap();
    assert_eq!((ds.num_episodes(), ds.num_transitions()), (0, 0));
    let err = ds.sample(4, &mut EnvRng::seed_from(0), Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("no transitions"), "{err}");
    assert!(validate::validate(&path).is_valid());
}

#[test]
fn writing_into_a_directory_or_missing_folder_fails_clearly() {
    let dir = tmp_dir("dest");
    let (o, a) = spaces();
    let err = DatasetWriter::create(
        &dir,
        NewDataset::new("d", o.clone(), a.clone()),
        WriterOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("is a directory"), "{err}");
    let err = DatasetWriter::create(
        &dir.join("no/such/x.arrow"),
        NewDataset::new("d", o, a),
        WriterOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("does not exist"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn write_then_read_gives_the_same_transitions(
        lens in proptest::collection::vec(prop_oneof![0usize..3, 3usize..40, 400usize..900], 0..7),
        batch_rows in 1usize..50,
        seed in 0u64..1000,
    ) {
        let dir = tmp_dir(&format!("prop-{seed}-{batch_rows}"));
        let path = dir.join("p.arrow");
        let eps: Vec<Ep> = lens.iter().enumerate().map(|(i, &n)| make_ep(n, seed * 31 + i as u64)).collect();
        write_eps(&path, &eps, Some(batch_rows)).unwrap();
        let ds = Dataset::open(&path).unwrap();
        prop_assert_eq!(ds.num_transitions(), lens.iter().sum::<usize>());
        prop_assert_eq!(read_eps(&ds), eps);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
