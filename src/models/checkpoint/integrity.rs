//! Checkpoint integrity: the CRC32 entries [`super::save_tensors`] writes and
//! [`super::Checkpoint::read`] verifies (layout in the parent module's docs), and the bounded
//! read that refuses non-regular files and header lengths the file cannot hold.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, View};

use super::{
    checkpoint_error, Entry, CRC_PLACEHOLDER, CRC_PREFIX, MAX_HEADER, META_CHECKSUMS,
    META_CRC_HEADER, META_CRC_METADATA, META_CRC_TENSORS,
};
use crate::error::{Error, Result};

/// Whether `key` is a checksum entry (verified on read, rewritten on every save, never part
/// of [`super::CheckpointMeta`]).
pub(super) fn is_checksum_key(key: &str) -> bool {
    key == META_CHECKSUMS || key.starts_with(CRC_PREFIX)
}

/// CRC32 of one tensor: its name, dtype, shape and bytes.
fn tensor_crc(name: &str, dtype: Dtype, shape: &[usize], data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(name.as_bytes());
    h.update(&[0]);
    h.update(format!("{dtype:?}").as_bytes());
    h.update(&[0]);
    for &d in shape {
        h.update(&(d as u64).to_le_bytes());
    }
    h.update(data);
    h.finalize()
}

/// CRC32 of the metadata entries other than the checksums, in key order.
fn metadata_crc(map: &HashMap<String, String>) -> u32 {
    let sorted: BTreeMap<&String, &String> =
        map.iter().filter(|(k, _)| !is_checksum_key(k)).collect();
    let mut h = crc32fast::Hasher::new();
    for (k, v) in sorted {
        for s in [k, v] {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    }
    h.finalize()
}

/// Where the header checksum's 8 hex digits lie in the JSON header: after its key, which
/// serde_json writes as `"graft.crc32.header":"` (inside another string the quotes would be
/// escaped, so only the entry itself matches). `None` unless exactly one match.
fn header_crc_position(header: &[u8]) -> Option<usize> {
    let key = format!("\"{META_CRC_HEADER}\":\"");
    let key = key.as_bytes();
    let mut found = header.windows(key.len()).enumerate().filter(|(_, w)| *w == key);
    let (at, _) = found.next()?;
    let at = at + key.len();
    let end = at + CRC_PLACEHOLDER.len();
    (found.next().is_none() && header.get(end) == Some(&b'"')).then_some(at)
}

/// CRC32 of the length prefix and JSON header with the header checksum read as zeros.
fn header_crc(prefix: &[u8; 8], header: &[u8], at: usize) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(prefix);
    h.update(&header[..at]);
    h.update(CRC_PLACEHOLDER.as_bytes());
    h.update(&header[at + CRC_PLACEHOLDER.len()..]);
    h.finalize()
}

fn hex(crc: u32) -> String {
    format!("{crc:08x}")
}

/// The metadata to write: `map` plus the checksum entries of the module docs, the header's as
/// a placeholder until [`stamp_header`] fills it in.
pub(super) fn add_checksums(map: &mut HashMap<String, String>, entries: &[(String, Entry)]) {
    let crcs: BTreeMap<&str, String> = entries
        .iter()
        .map(|(n, e)| (n.as_str(), hex(tensor_crc(n, e.dtype, &e.shape, &e.data()))))
        .collect();
    map.insert(META_CRC_METADATA.into(), hex(metadata_crc(map)));
    map.insert(META_CHECKSUMS.into(), "crc32".into());
    map.insert(META_CRC_TENSORS.into(), serde_json::json!(crcs).to_string());
    map.insert(META_CRC_HEADER.into(), CRC_PLACEHOLDER.into());
}

/// Hash the header of the file just written to `tmp` (open in `f`, at its start) and write
/// the result over the placeholder.
pub(super) fn stamp_header(path: &Path, tmp: &Path, f: &mut fs::File) -> Result<()> {
    let io = |e| Error::io(tmp, e);
    let mut prefix = [0u8; 8];
    f.read_exact(&mut prefix).map_err(io)?;
    let mut header = vec![0u8; u64::from_le_bytes(prefix) as usize];
    f.read_exact(&mut header).map_err(io)?;
    let at = header_crc_position(&header)
        .ok_or_else(|| checkpoint_error(path, "could not place the header checksum"))?;
    f.seek(SeekFrom::Start(8 + at as u64)).map_err(io)?;
    f.write_all(hex(header_crc(&prefix, &header, at)).as_bytes()).map_err(io)
}

/// The file's bytes, read only when `path` is a regular file whose length fits the header's
/// length prefix, into memory reserved without aborting.
pub(super) fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let len = crate::inputs::regular_file(path, "checkpoint file", |p| checkpoint_error(path, p))?;
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut prefix = [0u8; 8];
    if len < 8 || f.read_exact(&mut prefix).is_err() {
        return Err(checkpoint_error(
            path,
            format!("not a valid safetensors checkpoint: it is {len} bytes, too short"),
        ));
    }
    let n = u64::from_le_bytes(prefix);
    if n > MAX_HEADER || n > len - 8 {
        return Err(checkpoint_error(
            path,
            format!(
                "not a valid safetensors checkpoint: its header length {n} does not fit a file \
                 of {len} bytes (truncated, damaged or another format)"
            ),
        ));
    }
    let mut bytes = Vec::new();
    let size = usize::try_from(len).unwrap_or(usize::MAX);
    bytes
        .try_reserve_exact(size)
        .map_err(|_| checkpoint_error(path, format!("{len} bytes do not fit in memory")))?;
    bytes.extend_from_slice(&prefix);
    f.take(len - 8).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 != len {
        return Err(checkpoint_error(path, "the file changed size while it was read"));
    }
    Ok(bytes)
}

/// Whether the JSON header mentions checksum entries. A text search rather than a look at
/// the parsed keys, so that every mention must be damaged to pass the file off as one without
/// checksums: there are four (the entries' names), and no run of 8 bytes spans two.
fn mentions_checksums(header: &[u8]) -> bool {
    [META_CHECKSUMS, CRC_PREFIX].iter().any(|t| header.windows(t.len()).any(|w| w == t.as_bytes()))
}

/// Verify the checksums of the module docs, if the file has them: Ok(false) if not.
pub(super) fn verify_checksums(
    path: &Path,
    bytes: &[u8],
    header_len: usize,
    st: &SafeTensors<'_>,
    metadata: Option<&HashMap<String, String>>,
) -> Result<bool> {
    if !mentions_checksums(&bytes[8..8 + header_len]) {
        return Ok(false);
    }
    let empty = HashMap::new();
    let map = metadata.unwrap_or(&empty);
    let damaged =
        |what: &str, why: &str| checkpoint_error(path, format!("{what} is damaged ({why})"));
    let get = |key: &str| {
        map.get(key).ok_or_else(|| {
            checkpoint_error(
                path,
                format!("the metadata is damaged (its '{key}' entry is missing)"),
            )
        })
    };
    let (tensor_crcs, metadata_crc_hex) = (get(META_CRC_TENSORS)?, get(META_CRC_METADATA)?);
    get(META_CRC_HEADER)?;
    get(META_CHECKSUMS)?;
    let mismatch = "checksum mismatch";
    let prefix: [u8; 8] = bytes[..8].try_into().map_err(|_| damaged("the header", "too short"))?;
    let header = &bytes[8..8 + header_len];
    let at = header_crc_position(header)
        .ok_or_else(|| damaged("the header", &format!("its '{META_CRC_HEADER}' is unreadable")))?;
    let stored = std::str::from_utf8(&header[at..at + CRC_PLACEHOLDER.len()]).unwrap_or("");
    if hex(header_crc(&prefix, header, at)) != stored {
        // The metadata has a checksum of its own, which tells which part of the header.
        return Err(if hex(metadata_crc(map)) != *metadata_crc_hex {
            damaged("the metadata", mismatch)
        } else {
            damaged("the header (tensor names, dtypes, shapes or offsets)", mismatch)
        });
    }
    let crcs: BTreeMap<String, String> = serde_json::from_str(tensor_crcs)
        .map_err(|_| damaged(&format!("the metadata entry '{META_CRC_TENSORS}'"), "not JSON"))?;
    let mut views = st.tensors();
    views.sort_by(|a, b| a.0.cmp(&b.0));
    if views.len() != crcs.len() {
        return Err(damaged("the header", "its tensors differ from the checksums' list"));
    }
    for (name, view) in &views {
        let got = hex(tensor_crc(name, view.dtype(), view.shape(), view.data()));
        if crcs.get(name) != Some(&got) {
            return Err(damaged(&format!("tensor '{name}'"), mismatch));
        }
    }
    Ok(true)
}
