//! Nothing lost, nothing panics: damaged datasets and checkpoints give a clean error naming the
//! file (and, where the file has checksums, the damaged part), never a panic, an abort or a
//! silently accepted change. Regression tests for each defect, then a property test that
//! flips and truncates bytes at random.
//!
//! Files Graft writes carry CRC32 checksums covering every byte, so *every* damage to them must
//! be an error: the property test asserts it for every flip, run and truncation it tries. (The
//! guarantee has one bound: the keys that say a file has checksums appear four or five times,
//! and no run of 8 bytes spans two, so damage in up to three separate places, as tried here,
//! cannot hide them all.) Files from other tools (here: written by arrow-rs's own writer) have
//! none, so a change to a stored value may pass; for them the property is only that reading
//! never panics and any error names the file.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use tch::{Device, Kind, Tensor};

use graft::data::{
    collect, validate, CollectConfig, Compression, Dataset, DatasetWriter, NewDataset, ObsView,
    PolicySpec, WriterOptions,
};
use graft::envs::{ActionRef, BoxSpace, DType, Info, Space};
use graft::models::checkpoint::{self, Checkpoint, CheckpointMeta};
use graft::pretrain::sources::Trajectories;
use graft::Error;

mod data_common;
use data_common::*;

/// `bytes` with the `n` bytes at `at` inverted.
fn flipped(bytes: &[u8], at: usize, n: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for x in &mut b[at..at + n] {
        *x ^= 0xFF;
    }
    b
}

/// `bytes` with the lowest bit of the byte at `at` changed (a letter stays a letter, so text
/// stays valid UTF-8 and only a checksum can tell).
fn nudged(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    b[at] ^= 1;
    b
}

/// The error of opening `path` as a dataset, checked to be a dataset error naming the file.
fn dataset_err(path: &Path) -> String {
    match Dataset::open(path) {
        Ok(_) => panic!("{} opened although it is damaged", path.display()),
        Err(e) => {
            assert!(matches!(e, Error::Dataset { .. }), "{e:?}");
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "no file name in: {msg}");
            msg
        }
    }
}

/// The error of reading `path` as a checkpoint, checked likewise.
fn checkpoint_err(path: &Path) -> String {
    match Checkpoint::read(path) {
        Ok(_) => panic!("{} was read although it is damaged", path.display()),
        Err(e) => {
            assert!(matches!(e, Error::Checkpoint { .. }), "{e:?}");
            let msg = e.to_string();
            assert!(msg.contains(&path.display().to_string()), "no file name in: {msg}");
            msg
        }
    }
}

/// Where, in an IPC file's bytes, record batch `i`'s buffer table (16 bytes per buffer:
/// offset, then length) lies, and how many buffers it has.
fn buffer_table(bytes: &[u8], i: usize) -> (usize, usize) {
    let len = bytes.len();
    let footer_len = i32::from_le_bytes(bytes[len - 10..len - 6].try_into().unwrap()) as usize;
    let footer = arrow_ipc::root_as_footer(&bytes[len - 10 - footer_len..len - 10]).unwrap();
    let block = footer.recordBatches().unwrap().get(i);
    let start = block.offset() as usize;
    let meta = &bytes[start + 8..start + block.metaDataLength() as usize];
    let message = arrow_ipc::root_as_message(meta).unwrap();
    let buffers = message.header_as_record_batch().unwrap().buffers().unwrap();
    (buffers.bytes().as_ptr() as usize - bytes.as_ptr() as usize, buffers.len())
}

/// The same dataset written by arrow-rs's own writer: no checksums, as from any other tool.
fn without_checksums(ds: &Dataset, out: &Path, compression: Compression) {
    let options = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(match compression {
            Compression::None => None,
            Compression::Lz4 => Some(arrow_ipc::CompressionType::LZ4_FRAME),
        })
        .unwrap();
    let file = std::fs::File::create(out).unwrap();
    let mut w =
        arrow_ipc::writer::FileWriter::try_new_with_options(file, ds.schema(), options).unwrap();
    for b in ds.record_batches() {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
}

fn collect_small(dir: &Path) -> PathBuf {
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("cartpole.arrow"));
    (cfg.episodes, cfg.workers, cfg.seed, cfg.policy) = (3, 1, 5, PolicySpec::Random);
    collect(&cfg, &mut |_, _| {}).unwrap().path
}

#[test]
fn a_collected_dataset_with_a_damaged_buffer_offset_is_an_error_not_a_panic() {
    // The case: 8 bytes flipped at offset 1758 of a small `graft collect` dataset made
    // arrow-ipc panic ("the offset of the new Buffer cannot exceed the existing length").
    // That offset is where a buffer's offset lies in the first record batch's buffer table;
    // find it in this file rather than trusting the number.
    let dir = tmp_dir("integrity-offset");
    let path = collect_small(&dir);
    let ds = Dataset::open(&path).unwrap();
    assert!(ds.checksummed());
    let bytes = std::fs::read(&path).unwrap();
    let (table, n) = buffer_table(&bytes, 0);
    let last_offset = table + 16 * (n - 1);
    let damaged = dir.join("damaged.arrow");
    std::fs::write(&damaged, flipped(&bytes, last_offset, 8)).unwrap();
    let err = dataset_err(&damaged);
    assert!(err.contains("record batch 0 is damaged (checksum mismatch)"), "{err}");
    let report = validate::validate(&damaged);
    assert!(!report.is_valid() && report.problems[0].contains("record batch 0"), "{report:?}");

    // Without checksums the structural checks catch it, before arrow-ipc slices the buffer.
    let plain = dir.join("plain.arrow");
    without_checksums(&ds, &plain, Compression::None);
    assert!(!Dataset::open(&plain).unwrap().checksummed());
    let bytes = std::fs::read(&plain).unwrap();
    let (table, n) = buffer_table(&bytes, 0);
    for k in 0..n {
        for field in [0, 8] {
            let at = table + 16 * k + field;
            let damaged = dir.join(format!("plain-{k}-{field}.arrow"));
            std::fs::write(&damaged, flipped(&bytes, at, 8)).unwrap();
            let err = dataset_err(&damaged);
            assert!(err.contains("record batch 0 is malformed"), "buffer {k} field {field}: {err}");
        }
    }

    // The commands say the same, as an error rather than the panic hook's "internal error".
    let exe = env!("CARGO_BIN_EXE_graft");
    for cmd in ["info", "validate"] {
        let out = std::process::Command::new(exe)
            .args(["data", cmd])
            .arg(dir.join("plain-0-0.arrow"))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "graft data {cmd} accepted a damaged file: {text}");
        assert!(text.contains("record batch 0 is malformed"), "graft data {cmd}: {text}");
        assert!(!text.contains("panicked") && !text.contains("internal error"), "{text}");
    }
}

#[test]
fn dataset_checksums_name_the_damaged_part() {
    let dir = tmp_dir("integrity-parts");
    let path = dir.join("eps.arrow");
    write_eps(&path, &[make_ep(40, 1), make_ep(25, 2)], Some(16)).unwrap();
    let ds = Dataset::open(&path).unwrap();
    assert!(ds.checksummed());
    assert_eq!(ds.record_batches().len(), 5);
    // The checksum keys are the file's business, not the dataset's metadata.
    assert!(ds.schema().metadata().keys().all(|k| !k.starts_with("graft.")), "{:?}", ds.schema());
    let bytes = std::fs::read(&path).unwrap();
    let find = |needle: &[u8]| bytes.windows(needle.len()).rposition(|w| w == needle).unwrap();

    // A value inside record batch 3's body: float data, which no structure check could see.
    let len = bytes.len();
    let footer_len = i32::from_le_bytes(bytes[len - 10..len - 6].try_into().unwrap()) as usize;
    let footer = arrow_ipc::root_as_footer(&bytes[len - 10 - footer_len..len - 10]).unwrap();
    let block = footer.recordBatches().unwrap().get(3);
    let body = (block.offset() + block.metaDataLength() as i64) as usize;
    let end_of_stream = len - 10 - footer_len - 8;
    let first = |needle: &[u8]| bytes.windows(needle.len()).position(|w| w == needle).unwrap();
    let cases = [
        (body + 100, "record batch 3 is damaged (checksum mismatch)"),
        // Record batch 1's metadata (its buffer table).
        (buffer_table(&bytes, 1).0 + 3, "record batch 1 is damaged (checksum mismatch)"),
        // The dataset id in the footer's metadata (the last copy; the first is the header's).
        (find(b"test/eps-v0"), "the footer metadata is damaged (checksum mismatch)"),
        (find(b"test/eps-v0") + 4, "the footer metadata is damaged (checksum mismatch)"),
        (first(b"test/eps-v0"), "the header (schema) is damaged (checksum mismatch)"),
        (find(b"graft.crc32.footer"), "the footer metadata is damaged"),
        (find(b"graft.checksums"), "the footer metadata is damaged (checksum mismatch)"),
        (first(b"graft.checksums"), "the header (schema) is damaged (checksum mismatch)"),
        (6, "the header (schema) is damaged (checksum mismatch)"),
        (end_of_stream + 6, "end-of-stream marker"),
    ];
    for (at, want) in cases {
        let damaged = dir.join(format!("at-{at}.arrow"));
        std::fs::write(&damaged, nudged(&bytes, at)).unwrap();
        let err = dataset_err(&damaged);
        assert!(err.contains(want), "byte {at}: {err}");
    }
    // The footer checksum itself, written in capitals: the same number, other bytes.
    let kvs = footer.schema().unwrap().custom_metadata().unwrap();
    let value = kvs.iter().find(|kv| kv.key() == Some("graft.crc32.footer")).unwrap().value();
    let value = value.unwrap();
    let at = value.as_ptr() as usize - bytes.as_ptr() as usize;
    assert!(value.bytes().any(|c| c.is_ascii_lowercase()), "{value}: no letter to change");
    let mut upper = bytes.clone();
    upper[at..at + 8].copy_from_slice(value.to_ascii_uppercase().as_bytes());
    let damaged = dir.join("upper.arrow");
    std::fs::write(&damaged, upper).unwrap();
    assert!(dataset_err(&damaged).contains("the footer metadata is damaged (checksum mismatch)"));
}

#[test]
fn non_regular_files_are_refused_without_reading_them() {
    let zero = Path::new("/dev/zero");
    let err = dataset_err(zero);
    assert!(err.contains("not a regular file"), "{err}");
    let err = checkpoint_err(zero);
    assert!(err.contains("not a regular file"), "{err}");
    assert!(!validate::validate(zero).is_valid());
    let err = graft::data::parquet::import(zero, &tmp_dir("integrity-zero").join("x.arrow"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a regular file"), "{err}");

    // A named pipe with no writer: opening it would block forever.
    let dir = tmp_dir("integrity-fifo");
    let fifo = dir.join("pipe.arrow");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert!(dataset_err(&fifo).contains("not a regular file"));
    assert!(checkpoint_err(&fifo).contains("not a regular file"));
}

#[test]
fn a_checkpoint_header_longer_than_the_file_is_refused_before_reading() {
    let dir = tmp_dir("integrity-header");
    let path = dir.join("big.safetensors");
    let mut bytes = (1u64 << 40).to_le_bytes().to_vec();
    bytes.extend_from_slice(b"{\"a\":{}}");
    std::fs::write(&path, &bytes).unwrap();
    let err = checkpoint_err(&path);
    assert!(err.contains("header length 1099511627776 does not fit a file of 16 bytes"), "{err}");
    std::fs::write(&path, b"1234").unwrap();
    assert!(checkpoint_err(&path).contains("not a valid safetensors checkpoint: it is 4 bytes"));
}

fn small_tensors() -> Vec<(String, Tensor)> {
    tch::manual_seed(4);
    vec![
        ("encoder.weight".to_string(), Tensor::randn([8, 4], (Kind::Float, Device::Cpu))),
        ("encoder.bias".to_string(), Tensor::randn([8], (Kind::Float, Device::Cpu))),
        ("bn.num_batches_tracked".to_string(), Tensor::from(3i64)),
    ]
}

#[test]
fn checkpoint_checksums_name_the_damaged_tensor_or_the_metadata() {
    let dir = tmp_dir("integrity-ckpt");
    let path = dir.join("model.safetensors");
    let meta = CheckpointMeta::new(None, Some(77));
    checkpoint::save_tensors(&path, &small_tensors(), &meta).unwrap();
    let ckpt = Checkpoint::read(&path).unwrap();
    assert!(ckpt.checksummed);
    assert_eq!(ckpt.meta, meta, "the checksum entries are not part of the metadata");
    for (k, t) in small_tensors() {
        assert!(ckpt.tensors[&k].equal(&t), "{k}");
    }
    let bytes = std::fs::read(&path).unwrap();
    let header_end = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..header_end]).unwrap();
    let data_at = |name: &str, k: u64| {
        header_end + (header[name]["data_offsets"][0].as_u64().unwrap() + k) as usize
    };
    let find = |needle: &[u8]| bytes.windows(needle.len()).position(|w| w == needle).unwrap();
    let cases = [
        (data_at("bn.num_batches_tracked", 0), "tensor 'bn.num_batches_tracked' is damaged"),
        (data_at("encoder.bias", 5), "tensor 'encoder.bias' is damaged (checksum mismatch)"),
        (data_at("encoder.weight", 127), "tensor 'encoder.weight' is damaged (checksum mismatch)"),
        (find(b"\"graft.step\":\"77\"") + 15, "the metadata is damaged (checksum mismatch)"),
        (find(b"\"encoder.bias\"") + 9, "the header (tensor names, dtypes, shapes or offsets)"),
        (find(b"graft.crc32.tensors") + 12, "'graft.crc32.tensors' entry is missing"),
        (find(b"graft.crc32.header") + 2, "'graft.crc32.header' entry is missing"),
        (find(b"graft.crc32.metadata") + 2, "'graft.crc32.metadata' entry is missing"),
        (find(b"graft.checksums") + 2, "'graft.checksums' entry is missing"),
    ];
    for (at, want) in cases {
        let damaged = dir.join(format!("at-{at}.safetensors"));
        std::fs::write(&damaged, nudged(&bytes, at)).unwrap();
        let err = checkpoint_err(&damaged);
        assert!(err.contains(want), "byte {at}: {err}");
    }
    // A space of the header's padding turned into a tab still parses as the same JSON: only
    // the header checksum sees it.
    if bytes[header_end - 1] == b' ' {
        let mut tab = bytes.clone();
        tab[header_end - 1] = b'\t';
        let damaged = dir.join("tab.safetensors");
        std::fs::write(&damaged, tab).unwrap();
        assert!(checkpoint_err(&damaged).contains("the header"));
    }

    // A file without the entries (as PyTorch writes them) still loads.
    let views: Vec<(String, Vec<u8>, Vec<usize>)> = small_tensors()
        .iter()
        .map(|(k, t)| {
            let mut data = vec![0u8; t.numel() * t.kind().elt_size_in_bytes()];
            t.copy_data_u8(&mut data, t.numel());
            (k.clone(), data, t.size().iter().map(|&d| d as usize).collect())
        })
        .collect();
    let tv: Vec<(String, safetensors::tensor::TensorView<'_>)> = views
        .iter()
        .map(|(k, data, shape)| {
            let dtype =
                if k.starts_with("bn") { safetensors::Dtype::I64 } else { safetensors::Dtype::F32 };
            (k.clone(), safetensors::tensor::TensorView::new(dtype, shape.clone(), data).unwrap())
        })
        .collect();
    let torch = dir.join("torch.safetensors");
    std::fs::write(&torch, safetensors::tensor::serialize(tv, &None).unwrap()).unwrap();
    let plain = Checkpoint::read(&torch).unwrap();
    assert!(!plain.checksummed);
    assert!(plain.tensors["encoder.weight"].equal(&ckpt.tensors["encoder.weight"]));
}

/// A dataset of `ep` with one value replaced, and the error pretraining gives on it.
fn pretrain_err(dir: &Path, name: &str, ep: Ep) -> String {
    let path = dir.join(format!("{name}.arrow"));
    write_eps(&path, &[make_ep(6, 1), ep], Some(4)).unwrap();
    // Opening still works, so `graft data info` can show the file...
    let ds = Dataset::open(&path).unwrap();
    // ...and `graft data validate` lists the value.
    let report = validate::validate_dataset(&ds);
    assert!(report.problems.iter().any(|p| p.contains("not a finite number")), "{report:?}");
    let err = Trajectories::open(&path, Device::Cpu, 1.0).err().expect("pretraining accepted it");
    assert!(matches!(err, Error::Dataset { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("training needs finite values"), "{msg}");
    msg
}

#[test]
fn non_finite_values_are_refused_by_pretraining_naming_the_column_and_row() {
    let dir = tmp_dir("integrity-nan");
    let mut ep = make_ep(5, 3);
    ep.obs[2][1] = f32::NAN;
    let msg = pretrain_err(&dir, "obs", ep);
    // Episode 1 starts at row 7 (episode 0 has 6 steps and a final row).
    assert!(msg.contains("column 'observations' holds NaN at row 9 (episode 1, step 2)"), "{msg}");
    let mut ep = make_ep(5, 3);
    ep.rewards[4] = f64::INFINITY;
    let msg = pretrain_err(&dir, "reward", ep);
    assert!(msg.contains("column 'rewards' holds inf at row 11 (episode 1, step 4)"), "{msg}");
    let mut ep = make_ep(5, 3);
    ep.actions[0] = f32::NEG_INFINITY;
    ep.obs[5][0] = f32::NAN; // the final observation, read as the last next_obs
    let msg = pretrain_err(&dir, "action", ep);
    // Record batches of 4 rows: row 7 (batch 1) is checked before row 12 (batch 3).
    assert!(msg.contains("column 'actions' holds -inf at row 7 (episode 1, step 0)"), "{msg}");
    assert!(msg.contains("and 1 more non-finite values"), "{msg}");

    // The `state` beside pixels, and a discrete action outside its space.
    let path = dir.join("state.arrow");
    let obs = Space::dict(vec![
        ("pixels".into(), Space::Box(BoxSpace::uniform(0.0, 255.0, vec![2, 2, 3], DType::U8))),
        ("state".into(), Space::box_f32(vec![-1.0; 2], vec![1.0; 2])),
    ]);
    let write = |state: f32, action: i64| {
        let spec = NewDataset::new("px", obs.clone(), Space::discrete(3));
        let mut w = DatasetWriter::create(&path, spec, WriterOptions::default()).unwrap();
        w.begin_episode(ObsView { f32: &[0.0, 0.0], u8: &[1; 12] }).unwrap();
        let next = ObsView { f32: &[state, 0.0], u8: &[2; 12] };
        w.push_step(ActionRef::Discrete(action), 1.0, true, false, next, &Info::new()).unwrap();
        w.end_episode().unwrap();
        w.finish().unwrap();
    };
    write(f32::NAN, 1);
    let msg = Trajectories::open(&path, Device::Cpu, 1.0).err().unwrap().to_string();
    assert!(msg.contains("column 'state' holds NaN at row 1 (episode 0, step 1)"), "{msg}");
    write(0.5, 3);
    let msg = Trajectories::open(&path, Device::Cpu, 1.0).err().unwrap().to_string();
    assert!(msg.contains("column 'actions' holds 3 at row 0"), "{msg}");
    assert!(msg.contains("outside the action space Discrete(3, start=0)"), "{msg}");
    let report = validate::validate(&path);
    assert!(report.problems.iter().any(|p| p.contains("outside the action space")), "{report:?}");
}

/// The files the property test damages, written once.
struct Originals {
    dir: PathBuf,
    /// (name, bytes, has checksums): datasets.
    datasets: Vec<(&'static str, Vec<u8>, bool)>,
    checkpoint: Vec<u8>,
    /// The plain dataset exported to Parquet.
    parquet: Vec<u8>,
}

fn originals() -> &'static Originals {
    static ORIGINALS: OnceLock<Originals> = OnceLock::new();
    ORIGINALS.get_or_init(|| {
        let dir = tmp_dir("integrity-prop");
        let eps = [make_ep(9, 1), make_ep(0, 2), make_ep(5, 3)];
        let mut datasets = Vec::new();
        for (name, compression) in [("plain", Compression::None), ("lz4", Compression::Lz4)] {
            let path = dir.join(format!("{name}.arrow"));
            let (o, a) = spaces();
            let mut w = DatasetWriter::create(
                &path,
                NewDataset::new("prop", o, a),
                WriterOptions { batch_rows: Some(6), compression },
            )
            .unwrap();
            for ep in &eps {
                w.begin_episode(ObsView { f32: &ep.obs[0], u8: &[] }).unwrap();
                for t in 0..ep.actions.len() {
                    let next = ObsView { f32: &ep.obs[t + 1], u8: &[] };
                    let last = t + 1 == ep.actions.len();
                    let act = ActionRef::Continuous(&ep.actions[t..t + 1]);
                    w.push_step(act, ep.rewards[t], last, false, next, &Info::new()).unwrap();
                }
                w.end_episode().unwrap();
            }
            w.finish().unwrap();
            datasets.push((name, std::fs::read(&path).unwrap(), true));
            let other = dir.join(format!("{name}-arrow-rs.arrow"));
            without_checksums(&Dataset::open(&path).unwrap(), &other, compression);
            let label = if name == "plain" { "arrow-rs" } else { "arrow-rs-lz4" };
            datasets.push((label, std::fs::read(&other).unwrap(), false));
        }
        let ckpt = dir.join("model.safetensors");
        checkpoint::save_tensors(&ckpt, &small_tensors(), &CheckpointMeta::new(None, Some(3)))
            .unwrap();
        let pq = dir.join("plain.parquet");
        graft::data::parquet::export(&Dataset::open(dir.join("plain.arrow")).unwrap(), &pq)
            .unwrap();
        let parquet = std::fs::read(pq).unwrap();
        Originals { dir, datasets, checkpoint: std::fs::read(ckpt).unwrap(), parquet }
    })
}

/// One kind of damage, at positions given as fractions of the file's length.
#[derive(Debug, Clone)]
enum Damage {
    /// `xor` applied to the bytes from `at` on (a run of 1 to 8 bytes).
    Run { at: f64, xor: Vec<u8> },
    /// Single bytes changed at two or three places.
    Scattered(Vec<(f64, u8)>),
    /// The file cut to a fraction of its length.
    Truncate(f64),
}

fn damage() -> impl Strategy<Value = Damage> {
    let xor = 1u8..=255;
    prop_oneof![
        (0.0..1.0f64, proptest::collection::vec(xor.clone(), 1..=8))
            .prop_map(|(at, xor)| Damage::Run { at, xor }),
        proptest::collection::vec((0.0..1.0f64, xor), 2..=3).prop_map(Damage::Scattered),
        (0.0..1.0f64).prop_map(Damage::Truncate),
    ]
}

/// `bytes` damaged; the result always differs from `bytes`.
fn apply(bytes: &[u8], d: &Damage) -> Vec<u8> {
    let pos = |f: f64, room: usize| {
        ((f * (bytes.len() - room + 1) as f64) as usize).min(bytes.len() - room)
    };
    let mut b = bytes.to_vec();
    match d {
        Damage::Run { at, xor } => {
            let at = pos(*at, xor.len());
            for (x, k) in b[at..].iter_mut().zip(xor) {
                *x ^= k;
            }
        }
        Damage::Scattered(flips) => {
            let mut seen = std::collections::HashSet::new();
            for &(f, k) in flips {
                // Two flips of one byte could cancel out; keep the first.
                let at = pos(f, 1);
                if seen.insert(at) {
                    b[at] ^= k;
                }
            }
        }
        Damage::Truncate(f) => b.truncate(pos(*f, 1)),
    }
    b
}

fn case_path(kind: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    originals().dir.join(format!("case-{n}-{kind}"))
}

proptest! {
    // About 2 ms a case in a debug test build.
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Every damage to a file with checksums is an error naming the file; damage to a file
    /// without is never a panic, and any error names the file.
    #[test]
    fn damaged_datasets_give_errors_not_panics(which in 0usize..4, d in damage()) {
        let (name, bytes, checksummed) = &originals().datasets[which];
        let path = case_path(&format!("{name}.arrow"));
        std::fs::write(&path, apply(bytes, &d)).unwrap();
        match Dataset::open(&path) {
            Ok(ds) => {
                prop_assert!(!checksummed, "{name}: damage {d:?} went unnoticed");
                // What opens is usable: every transition can be read.
                for t in 0..ds.num_transitions() {
                    ds.transition(t).unwrap();
                }
                let _ = validate::validate_dataset(&ds);
            }
            Err(e) => {
                prop_assert!(matches!(e, Error::Dataset { .. }), "{name}: {e:?}");
                prop_assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            }
        }
        std::fs::remove_file(&path).unwrap();
    }

    /// A damaged Parquet file is imported or refused naming the file, never a panic (the
    /// parquet crate's page decoders panic on some damage: `graft::contain` turns that into
    /// an error), and a refused import leaves no output behind. Parquet pages carry no
    /// checksums in these files, so damage to values can go unnoticed; the imported dataset
    /// is still well formed.
    #[test]
    fn damaged_parquet_files_give_errors_not_panics(d in damage()) {
        let path = case_path("plain.parquet");
        let out = case_path("imported.arrow");
        std::fs::write(&path, apply(&originals().parquet, &d)).unwrap();
        match graft::data::parquet::import(&path, &out) {
            Ok(ds) => {
                for t in 0..ds.num_transitions() {
                    ds.transition(t).unwrap();
                }
                std::fs::remove_file(&out).unwrap();
            }
            Err(e) => {
                prop_assert!(e.to_string().contains(&path.display().to_string()), "{e}");
                prop_assert!(!out.exists(), "a refused import left {}", out.display());
                prop_assert!(!out.with_extension("arrow.tmp").exists());
            }
        }
        std::fs::remove_file(&path).unwrap();
    }

    /// Every damage to a checkpoint Graft wrote is an error naming the file.
    #[test]
    fn damaged_checkpoints_give_errors(d in damage()) {
        let path = case_path("model.safetensors");
        std::fs::write(&path, apply(&originals().checkpoint, &d)).unwrap();
        match Checkpoint::read(&path) {
            Ok(_) => prop_assert!(false, "damage {:?} went unnoticed", d),
            Err(e) => {
                prop_assert!(matches!(e, Error::Checkpoint { .. }), "{e:?}");
                prop_assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            }
        }
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn files_graft_writes_stay_plain_arrow_and_safetensors() {
    // arrow-rs's own reader (as pyarrow, tests/data_interop.rs) reads Graft's file, and sees
    // the checksums as ordinary metadata.
    let dir = tmp_dir("integrity-plain");
    let path = dir.join("eps.arrow");
    write_eps(&path, &[make_ep(12, 1)], Some(5)).unwrap();
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&path).unwrap(), None).unwrap();
    let md = reader.schema().metadata().clone();
    assert_eq!(md.get("graft.checksums").map(String::as_str), Some("crc32"));
    assert_eq!(md["graft.crc32.batches"].split(',').count(), 3);
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 13);
    // Parquet round trip: the new file gets its own checksums, not stale copies.
    let pq = dir.join("eps.parquet");
    graft::data::parquet::export(&Dataset::open(&path).unwrap(), &pq).unwrap();
    let back = graft::data::parquet::import(&pq, &dir.join("back.arrow")).unwrap();
    assert!(back.checksummed());
}
