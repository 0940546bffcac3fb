//! Checkpoints: a model's tensors in a [safetensors](https://github.com/huggingface/safetensors)
//! file, keyed by VarStore name (torchvision's `state_dict` names for zoo models), with
//! metadata — the model config as JSON, Graft's version and the training step — in the
//! file's `__metadata__` header.
//!
//! - **Atomic writes**: the file is written beside its destination under a temporary name,
//!   synced, then renamed over it, so a crash never leaves a half-written checkpoint.
//! - **Strict loads** ([`load`]) need every model key present with the same shape and no
//!   unexpected key; errors name the key and both shapes. Nothing is copied unless the whole
//!   check passes.
//! - **Checksums**: [`save_tensors`] records CRC32s in `__metadata__` (the tensor keys stay
//!   torchvision's, so PyTorch's strict loading is unaffected): `graft.crc32.tensors` (a JSON
//!   object, tensor name → CRC32 of its name, dtype, shape and bytes), `graft.crc32.metadata`
//!   (the other metadata entries) and `graft.crc32.header` (the length prefix and the whole
//!   JSON header, this value read as `00000000`), with the marker `graft.checksums = crc32`.
//!   [`Checkpoint::read`] verifies them and names what is damaged: the metadata, the header,
//!   or a tensor. All four are required once the header mentions any, so damage to a key's
//!   name cannot pass the file off as one without checksums; files without them (PyTorch's,
//!   older Graft's) load as before.
//! - **Bounded reads**: only regular files are read, and the header's length is checked
//!   against the file's before the rest is read (`/dev/zero` is refused, not read forever).
//! - **Partial loads** ([`load_with`] with `strict: false`) copy what matches and report
//!   missing and unexpected keys; a prefix map (`("", "encoder")`) loads a stand-alone
//!   encoder into a bigger model, or (`("encoder", "")`) the reverse.
//!
//! **`num_batches_tracked`.** PyTorch's BatchNorm keeps an `int64` step counter
//! `<bn>.num_batches_tracked` in its `state_dict`; tch's BatchNorm has no such buffer (its
//! momentum is fixed, so the counter would be unused). Graft writes the counter as `0` for
//! every BatchNorm (every `*.running_mean` key), so its files have exactly torchvision's key
//! set and load into PyTorch with `strict=True`; on load, a `num_batches_tracked` key whose
//! BatchNorm exists in the model is ignored rather than reported as unexpected.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, View};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use super::base::join_key;
use super::zoo::ModelConfig;
use crate::error::{Error, Result};

mod integrity;

/// Metadata key of the model config (JSON).
pub const META_CONFIG: &str = "graft.config";
/// Metadata key of the Graft version that wrote the file.
pub const META_VERSION: &str = "graft.version";
/// Metadata key of the training step.
pub const META_STEP: &str = "graft.step";
/// Metadata key of the tensors' CRC32s (JSON object, name → 8 hex digits).
pub const META_CRC_TENSORS: &str = "graft.crc32.tensors";
/// Metadata key of the CRC32 of the other metadata entries.
pub const META_CRC_METADATA: &str = "graft.crc32.metadata";
/// Metadata key of the CRC32 of the length prefix and JSON header (with this value read as
/// `00000000`).
pub const META_CRC_HEADER: &str = "graft.crc32.header";
/// Metadata key marking a file with checksums (value `crc32`).
pub const META_CHECKSUMS: &str = "graft.checksums";
const CRC_PREFIX: &str = "graft.crc32";
const CRC_PLACEHOLDER: &str = "00000000";
/// safetensors' own limit on the JSON header's length.
const MAX_HEADER: u64 = 100_000_000;
const NUM_BATCHES_TRACKED: &str = "num_batches_tracked";
const RUNNING_MEAN: &str = "running_mean";

/// What a checkpoint says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckpointMeta {
    /// The model configuration (JSON object with a `kind`), if recorded.
    pub config: Option<serde_json::Value>,
    /// Version of Graft that wrote the file (`None` for files from elsewhere).
    pub graft_version: Option<String>,
    /// Training step at which it was written.
    pub step: Option<u64>,
    /// Any other metadata entries, verbatim.
    pub extra: BTreeMap<String, String>,
}

impl CheckpointMeta {
    /// Metadata for a model built from `config` at training step `step`, stamped with this
    /// Graft's version.
    pub fn new(config: Option<&ModelConfig>, step: Option<u64>) -> Self {
        CheckpointMeta {
            config: config.and_then(|c| serde_json::to_value(c).ok()),
            graft_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            step,
            extra: BTreeMap::new(),
        }
    }

    /// The recorded config parsed as a [`ModelConfig`], if there is one.
    pub fn model_config(&self) -> Result<Option<ModelConfig>> {
        self.config
            .as_ref()
            .map(|v| crate::config_error::from_json_value("checkpoint model config", v.clone()))
            .transpose()
    }

    fn to_map(&self) -> HashMap<String, String> {
        let mut map: HashMap<String, String> = self
            .extra
            .iter()
            .filter(|(k, _)| !integrity::is_checksum_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        map.insert("format".into(), "pt".into());
        if let Some(c) = &self.config {
            map.insert(META_CONFIG.into(), c.to_string());
        }
        if let Some(v) = &self.graft_version {
            map.insert(META_VERSION.into(), v.clone());
        }
        if let Some(s) = self.step {
            map.insert(META_STEP.into(), s.to_string());
        }
        map
    }

    fn from_map(path: &Path, map: Option<&HashMap<String, String>>) -> Result<Self> {
        let mut meta = CheckpointMeta::default();
        for (k, v) in map.into_iter().flatten() {
            match k.as_str() {
                META_CONFIG => {
                    meta.config = Some(serde_json::from_str(v).map_err(|e| {
                        checkpoint_error(path, format!("metadata '{META_CONFIG}' is not JSON: {e}"))
                    })?)
                }
                META_VERSION => meta.graft_version = Some(v.clone()),
                META_STEP => {
                    meta.step = Some(v.parse().map_err(|_| {
                        checkpoint_error(
                            path,
                            format!("metadata '{META_STEP}' is not a step: '{v}'"),
                        )
                    })?)
                }
                // Checksums were verified by the reader and are rewritten by every save.
                "format" => {}
                k if integrity::is_checksum_key(k) => {}
                _ => {
                    meta.extra.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(meta)
    }
}

fn checkpoint_error(path: &Path, problem: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.to_path_buf(), problem: problem.into() }
}

/// A tensor ready to be written: CPU, contiguous, of a safetensors dtype.
struct Entry {
    tensor: Tensor,
    shape: Vec<usize>,
    dtype: Dtype,
}

impl View for &Entry {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        let mut data = vec![0u8; self.data_len()];
        // The tensor was made CPU-contiguous with a supported kind in `entry`, so this copy
        // does not fail; if it ever did, the size check after writing reports it.
        if self.tensor.f_copy_data_u8(&mut data, self.tensor.numel()).is_err() {
            data.clear();
        }
        data.into()
    }
    fn data_len(&self) -> usize {
        self.tensor.numel() * self.tensor.kind().elt_size_in_bytes()
    }
}

fn entry(path: &Path, name: &str, t: &Tensor) -> Result<Entry> {
    let tensor = t.detach().to_device(Device::Cpu).contiguous();
    let dtype = Dtype::try_from(tensor.kind())
        .map_err(|e| checkpoint_error(path, format!("tensor '{name}': {e}")))?;
    let shape = tensor.size().iter().map(|&d| d as usize).collect();
    Ok(Entry { tensor, shape, dtype })
}

/// Write named tensors and metadata to `path` atomically (temporary file, sync, rename),
/// with the checksums of the module docs.
pub fn save_tensors(
    path: impl AsRef<Path>,
    tensors: &[(String, Tensor)],
    meta: &CheckpointMeta,
) -> Result<()> {
    let path = path.as_ref();
    let entries: Vec<(String, Entry)> = tensors
        .iter()
        .map(|(name, t)| Ok((name.clone(), entry(path, name, t)?)))
        .collect::<Result<_>>()?;
    let file_name = path
        .file_name()
        .ok_or_else(|| checkpoint_error(path, "not a file path"))?
        .to_string_lossy()
        .into_owned();
    let mut map = meta.to_map();
    integrity::add_checksums(&mut map, &entries);
    let tmp = path.with_file_name(format!(".{file_name}.tmp.{}", std::process::id()));
    let views: Vec<(&str, &Entry)> = entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
    let result = safetensors::tensor::serialize_to_file(views, &Some(map), &tmp)
        .map_err(|e| checkpoint_error(path, format!("could not write: {e}")))
        .and_then(|()| {
            let io = |e| Error::io(&tmp, e);
            let mut f = fs::OpenOptions::new().read(true).write(true).open(&tmp).map_err(io)?;
            integrity::stamp_header(path, &tmp, &mut f)?;
            let data: usize = entries.iter().map(|(_, e)| e.data_len()).sum();
            let len = f.metadata().map_err(io)?.len() as usize;
            if len < data + 8 {
                return Err(checkpoint_error(
                    path,
                    "short write (tensor data could not be copied)",
                ));
            }
            f.sync_all().map_err(io)?;
            fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
        });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Save every variable of `vs` (plus a zero `num_batches_tracked` per BatchNorm, see the
/// module docs) with `meta`, atomically.
pub fn save(path: impl AsRef<Path>, vs: &VarStore, meta: &CheckpointMeta) -> Result<()> {
    let mut tensors: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    let counters: Vec<(String, Tensor)> = tensors
        .iter()
        .filter_map(|(k, _)| k.strip_suffix(RUNNING_MEAN))
        .map(|bn| (format!("{bn}{NUM_BATCHES_TRACKED}"), Tensor::from(0i64)))
        .collect();
    tensors.extend(counters);
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    save_tensors(path, &tensors, meta)
}

/// A checkpoint read into memory.
#[derive(Debug)]
pub struct Checkpoint {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its metadata.
    pub meta: CheckpointMeta,
    /// Its tensors by key (CPU).
    pub tensors: BTreeMap<String, Tensor>,
    /// Whether the file carried checksums (all of which matched: see the module docs).
    pub checksummed: bool,
}

impl Checkpoint {
    /// Read and validate a safetensors file. A missing, truncated, malformed or damaged file
    /// (a checksum that does not match: see the module docs), or one that is not a regular
    /// file, is an error naming the path and the problem.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = integrity::read_bounded(path)?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| {
            checkpoint_error(path, format!("not a valid safetensors checkpoint ({e:?})"))
        })?;
        let (header_len, header) = SafeTensors::read_metadata(&bytes).map_err(|e| {
            checkpoint_error(path, format!("not a valid safetensors checkpoint ({e:?})"))
        })?;
        let checksummed =
            integrity::verify_checksums(path, &bytes, header_len, &st, header.metadata().as_ref())?;
        let meta = CheckpointMeta::from_map(path, header.metadata().as_ref())?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            let kind = Kind::try_from(view.dtype())
                .map_err(|e| checkpoint_error(path, format!("tensor '{name}': {e}")))?;
            let size = view
                .shape()
                .iter()
                .map(|&d| i64::try_from(d).ok())
                .collect::<Option<Vec<i64>>>()
                .ok_or_else(|| {
                    checkpoint_error(path, format!("tensor '{name}': shape too large"))
                })?;
            let t = Tensor::f_from_data_size(view.data(), &size, kind)
                .map_err(|e| checkpoint_error(path, format!("tensor '{name}': {e}")))?;
            tensors.insert(name, t);
        }
        Ok(Checkpoint { path: path.to_path_buf(), meta, tensors, checksummed })
    }

    /// Key → shape of every tensor.
    pub fn shapes(&self) -> BTreeMap<String, Vec<i64>> {
        self.tensors.iter().map(|(k, t)| (k.clone(), t.size())).collect()
    }
}

/// How to match a checkpoint's keys with a model's.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Refuse missing or unexpected keys (shape mismatches are always refused).
    pub strict: bool,
    /// `(from, to)` key-prefix rewrites applied to the file's keys, first match wins; keys
    /// matching no rule are kept. `("", "encoder")` turns `conv1.weight` into
    /// `encoder.conv1.weight`; `("encoder", "")` does the reverse.
    pub prefix_map: Vec<(String, String)>,
}

impl LoadOptions {
    /// Every key, every shape.
    pub fn strict() -> Self {
        LoadOptions { strict: true, prefix_map: Vec::new() }
    }

    /// Load what matches; report the rest.
    pub fn partial() -> Self {
        LoadOptions { strict: false, prefix_map: Vec::new() }
    }

    /// Add a prefix rewrite.
    pub fn map_prefix(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.prefix_map.push((from.into(), to.into()));
        self
    }

    fn rewrite(&self, key: &str) -> String {
        for (from, to) in &self.prefix_map {
            if from.is_empty() {
                return join_key(to, key);
            }
            if key == from {
                return to.clone();
            }
            if let Some(rest) = key.strip_prefix(from.as_str()).and_then(|r| r.strip_prefix('.')) {
                return join_key(to, rest);
            }
        }
        key.to_string()
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// Model keys that received a value.
    pub loaded: Vec<String>,
    /// Model keys the file lacks (left as they were).
    pub missing: Vec<String>,
    /// File keys (after prefix rewriting) the model lacks (ignored).
    pub unexpected: Vec<String>,
    /// The file's metadata.
    pub meta: CheckpointMeta,
}

fn list(keys: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut s = keys.iter().take(SHOWN).map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
    if keys.len() > SHOWN {
        s.push_str(&format!(" and {} more", keys.len() - SHOWN));
    }
    s
}

/// Load `path` into `vs` with every key and shape checked (see [`LoadOptions::strict`]).
pub fn load(vs: &mut VarStore, path: impl AsRef<Path>) -> Result<CheckpointMeta> {
    load_with(vs, path, &LoadOptions::strict()).map(|r| r.meta)
}

/// Load `path` into `vs` as `options` say. Values are copied (converted to each variable's
/// kind and device) only after every check has passed.
pub fn load_with(
    vs: &mut VarStore,
    path: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<LoadReport> {
    let ckpt = Checkpoint::read(&path)?;
    load_checkpoint(vs, &ckpt, options)
}

/// [`load_with`] on a checkpoint already in memory.
pub fn load_checkpoint(
    vs: &mut VarStore,
    ckpt: &Checkpoint,
    options: &LoadOptions,
) -> Result<LoadReport> {
    let path = ckpt.path.as_path();
    let vars = vs.variables();
    let mut file: BTreeMap<String, &Tensor> = BTreeMap::new();
    for (k, t) in &ckpt.tensors {
        let key = options.rewrite(k);
        if file.insert(key.clone(), t).is_some() {
            return Err(checkpoint_error(path, format!("two file keys map to '{key}'")));
        }
    }
    let mut report = LoadReport { meta: ckpt.meta.clone(), ..Default::default() };
    let model_keys: BTreeSet<&String> = vars.keys().collect();
    for key in &model_keys {
        let var = &vars[*key];
        match file.get(*key) {
            Some(src) if src.size() != var.size() => {
                return Err(checkpoint_error(
                    path,
                    format!(
                        "key '{key}': model has shape {:?}, checkpoint has {:?}",
                        var.size(),
                        src.size()
                    ),
                ))
            }
            Some(_) => report.loaded.push((*key).clone()),
            None => report.missing.push((*key).clone()),
        }
    }
    for key in file.keys() {
        if vars.contains_key(key) {
            continue;
        }
        let is_counter = key
            .strip_suffix(NUM_BATCHES_TRACKED)
            .is_some_and(|bn| vars.contains_key(&format!("{bn}{RUNNING_MEAN}")));
        if !is_counter {
            report.unexpected.push(key.clone());
        }
    }
    if options.strict && !(report.missing.is_empty() && report.unexpected.is_empty()) {
        let mut problem = String::from("does not match the model:");
        if !report.missing.is_empty() {
            problem.push_str(&format!(" missing keys {}", list(&report.missing)));
        }
        if !report.unexpected.is_empty() {
            if !report.missing.is_empty() {
                problem.push(';');
            }
            problem.push_str(&format!(" unexpected keys {}", list(&report.unexpected)));
        }
        return Err(checkpoint_error(path, problem));
    }
    tch::no_grad(|| -> Result<()> {
        for key in &report.loaded {
            let mut var = vars[key].shallow_clone();
            var.f_copy_(file[key])
                .map_err(|e| checkpoint_error(path, format!("key '{key}': {e}")))?;
        }
        Ok(())
    })?;
    Ok(report)
}
