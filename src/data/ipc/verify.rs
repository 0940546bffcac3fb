//! What [`super::read_mapped`] checks before arrow-ipc decodes a byte: a damaged file must give
//! an [`crate::Error::Dataset`], never a panic or an allocation sized by damaged bytes.
//!
//! Two layers:
//!
//! - **Checksums** (files Graft wrote since they were introduced): CRC32 of the header (magic
//!   and schema message), of every record batch block (metadata and body as written) and of
//!   the whole footer, kept in the footer's schema metadata under `graft.crc32.*` keys, with
//!   a `graft.checksums = crc32` marker in both the header's and the footer's metadata, so
//!   damage to key names, or to the structure around them, still leaves the file known to
//!   carry checksums ([`mentions_checksums`]). Together with
//!   the end-of-stream marker and the block table they cover every byte of the file, so any
//!   change is found and the damaged part named.
//! - **Structure** (every file, the only layer for files from pyarrow, Parquet imports and
//!   older Graft versions): arrow-ipc 57 trusts the file where it slices buffers
//!   (`Buffer::slice_with_length` panics past the end), reads compressed-length prefixes
//!   (`&buf[0..8]`), sizes LZ4 output (`Vec::with_capacity(declared)`), builds validity bitmaps
//!   (`BooleanBuffer::new` asserts their size) and converts the schema (`fb_to_schema`
//!   panics on malformed or unknown types). So the schema's types are checked against the ones
//!   Graft reads, and each block's `Message` flatbuffer is verified and walked along the schema:
//!   node and buffer counts, every buffer inside the block body, lengths and null counts sane,
//!   validity and value buffers large enough, declared LZ4 sizes within what LZ4 can expand to.

use std::collections::HashMap;

use arrow_ipc::{Footer, Type};
use arrow_schema::{DataType, Schema};

/// Marker (header and footer metadata): the file carries checksums.
pub(crate) const KEY_MARKER: &str = "graft.checksums";
/// The marker's value: the checksum algorithm.
pub(crate) const MARKER_VALUE: &str = "crc32";
/// CRC32 of the bytes before the first record batch (magic, padding, schema message).
pub(crate) const KEY_HEADER: &str = "graft.crc32.header";
/// CRC32 of each record batch block, comma-separated, in block order.
pub(crate) const KEY_BATCHES: &str = "graft.crc32.batches";
/// CRC32 of the footer flatbuffer with this key's own value read as [`PLACEHOLDER`].
pub(crate) const KEY_FOOTER: &str = "graft.crc32.footer";
/// What the footer checksum's value is while the footer is hashed.
pub(crate) const PLACEHOLDER: &str = "00000000";

/// Whether `key` is one of the checksum keys (stripped from the metadata Graft shows, and
/// replaced whenever a file is written).
pub(crate) fn is_checksum_key(key: &str) -> bool {
    key == KEY_MARKER || key.starts_with("graft.crc32")
}

/// A CRC32 as its 8 lowercase hex digits.
pub(crate) fn hex(crc: u32) -> String {
    format!("{crc:08x}")
}

fn parse_hex(s: &str) -> Option<u32> {
    (s.len() == 8).then(|| u32::from_str_radix(s, 16).ok()).flatten()
}

/// CRC32 of `footer` with the 8 bytes at `at` read as [`PLACEHOLDER`].
pub(crate) fn footer_crc(footer: &[u8], at: usize) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&footer[..at]);
    h.update(PLACEHOLDER.as_bytes());
    h.update(&footer[at + PLACEHOLDER.len()..]);
    h.finalize()
}

/// Where the footer checksum's value lies in `bytes` (the footer `footer` was read from).
pub(crate) fn footer_crc_position(bytes: &[u8], footer: &Footer<'_>) -> Option<(usize, String)> {
    let kvs = footer.schema()?.custom_metadata()?;
    let value = kvs.iter().find(|kv| kv.key() == Some(KEY_FOOTER))?.value()?;
    // The verified flatbuffer's strings point into `bytes`.
    let at = (value.as_ptr() as usize).checked_sub(bytes.as_ptr() as usize)?;
    (value.len() == PLACEHOLDER.len() && at + value.len() <= bytes.len())
        .then(|| (at, value.to_string()))
}

/// The checksums a file's footer records.
#[derive(Debug)]
pub(crate) struct Checksums {
    pub(crate) header: u32,
    pub(crate) batches: Vec<u32>,
}

/// The footer's key-value metadata (checksum keys included).
fn footer_metadata(footer: &Footer<'_>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    if let Some(kvs) = footer.schema().and_then(|s| s.custom_metadata()) {
        for kv in kvs {
            if let (Some(k), Some(v)) = (kv.key(), kv.value()) {
                map.insert(k.to_string(), v.to_string());
            }
        }
    }
    map
}

/// Verify the footer's own checksum and return the others, or `None` for a file without
/// checksums. `expected`: the file mentions checksums (see [`mentions_checksums`]).
pub(crate) fn footer_checksums(
    bytes: &[u8],
    footer: &Footer<'_>,
    expected: bool,
) -> Result<Option<Checksums>, String> {
    let map = footer_metadata(footer);
    if !expected && !map.keys().any(|k| is_checksum_key(k)) {
        return Ok(None);
    }
    let damaged = |what: &str| format!("the footer metadata is damaged ({what})");
    let (at, stored) = footer_crc_position(bytes, footer)
        .ok_or_else(|| damaged(&format!("its checksum '{KEY_FOOTER}' is missing")))?;
    // Compared as text: the hash reads this value as the placeholder, so "0A…" or "+a…" in
    // place of "0a…" must not pass as the same number.
    if hex(footer_crc(bytes, at)) != stored {
        return Err(damaged("checksum mismatch"));
    }
    // The footer is intact from here on, so a missing or malformed entry is a writer's error,
    // which the same words describe well enough.
    if map.get(KEY_MARKER).map(String::as_str) != Some(MARKER_VALUE) {
        return Err(damaged(&format!("'{KEY_MARKER}' is not '{MARKER_VALUE}'")));
    }
    let header = map
        .get(KEY_HEADER)
        .and_then(|v| parse_hex(v))
        .ok_or_else(|| damaged(&format!("'{KEY_HEADER}' is missing or not a CRC32")))?;
    let batches = match map.get(KEY_BATCHES).map(String::as_str) {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(parse_hex)
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| damaged(&format!("'{KEY_BATCHES}' is not a list of CRC32s")))?,
    };
    Ok(Some(Checksums { header, batches }))
}

/// The flatbuffer of the encapsulated message at the start of `bytes` (continuation marker
/// and length, or the pre-1.0 length alone), bounded by `bytes`.
fn message_flatbuffer(bytes: &[u8]) -> Result<&[u8], String> {
    let word = |i: usize| -> Option<[u8; 4]> { bytes.get(i..i + 4)?.try_into().ok() };
    let (prefix, len) = match word(0) {
        Some([0xFF, 0xFF, 0xFF, 0xFF]) => (8, word(4)),
        Some(w) => (4, Some(w)),
        None => (4, None),
    };
    let len = len
        .map(i32::from_le_bytes)
        .and_then(|l| usize::try_from(l).ok())
        .ok_or("its message length is unreadable")?;
    bytes
        .get(prefix..)
        .and_then(|rest| rest.get(..len))
        .ok_or_else(|| format!("its message length {len} runs past its block"))
}

/// Whether `bytes` mention checksum keys. A plain text search, not a parse: damage to the
/// structure around the keys (a flatbuffer offset, a vtable entry) must not hide them and
/// pass the file off as one without checksums. A Graft file mentions them five times (the
/// header's marker, the footer's four keys), and no run of 8 bytes spans two mentions, so
/// damage in fewer than five places always leaves one.
pub(crate) fn mentions_checksums(bytes: &[u8]) -> bool {
    [KEY_MARKER, "graft.crc32"].iter().any(|t| bytes.windows(t.len()).any(|w| w == t.as_bytes()))
}

/// Whether the start of the file (the schema message, and at least its first 64 KiB, in
/// case the message's length is damaged) mentions checksum keys.
pub(crate) fn header_mentions_checksums(file: &[u8]) -> bool {
    let declared = file
        .get(8..)
        .and_then(|h| message_flatbuffer(h).ok())
        .map_or(0, |fb| fb.as_ptr() as usize - file.as_ptr() as usize + fb.len());
    let end = declared.max(64 << 10).min(file.len());
    file.get(8..end).is_some_and(mentions_checksums)
}

/// Check the schema's field types before `fb_to_schema`, which panics on malformed ones:
/// only the types Graft reads (and [`check_block`] knows the buffers of) pass.
pub(crate) fn check_schema(schema: &arrow_ipc::Schema<'_>) -> Result<(), String> {
    if schema.endianness() != arrow_ipc::Endianness::Little {
        return Err("big-endian Arrow files are not supported".into());
    }
    let fields = schema.fields().ok_or("the footer schema has no field list")?;
    for field in fields {
        check_field(&field, field.name().unwrap_or("?"))?;
    }
    Ok(())
}

fn check_field(field: &arrow_ipc::Field<'_>, column: &str) -> Result<(), String> {
    use arrow_ipc::{DateUnit, Precision, TimeUnit};
    if field.dictionary().is_some() {
        return Err(format!("column '{column}' is dictionary-encoded, which is not supported"));
    }
    let bad = || format!("column '{column}' has a malformed type ({:?})", field.type_type());
    let units =
        [TimeUnit::SECOND, TimeUnit::MILLISECOND, TimeUnit::MICROSECOND, TimeUnit::NANOSECOND];
    let one_child = || -> Result<(), String> {
        match field.children() {
            Some(c) if c.len() == 1 => check_field(&c.get(0), column),
            _ => Err(bad()),
        }
    };
    let ok = match field.type_type() {
        Type::Bool | Type::Utf8 | Type::LargeUtf8 | Type::Binary | Type::LargeBinary => true,
        Type::Int => field.type_as_int().is_some_and(|i| matches!(i.bitWidth(), 8 | 16 | 32 | 64)),
        Type::FloatingPoint => field.type_as_floating_point().is_some_and(|f| {
            matches!(f.precision(), Precision::HALF | Precision::SINGLE | Precision::DOUBLE)
        }),
        Type::FixedSizeBinary => {
            field.type_as_fixed_size_binary().is_some_and(|b| b.byteWidth() >= 0)
        }
        Type::Date => field
            .type_as_date()
            .is_some_and(|d| matches!(d.unit(), DateUnit::DAY | DateUnit::MILLISECOND)),
        Type::Time => field.type_as_time().is_some_and(|t| {
            matches!(
                (t.bitWidth(), t.unit()),
                (32, TimeUnit::SECOND | TimeUnit::MILLISECOND)
                    | (64, TimeUnit::MICROSECOND | TimeUnit::NANOSECOND)
            )
        }),
        Type::Timestamp => field.type_as_timestamp().is_some_and(|t| units.contains(&t.unit())),
        Type::Duration => field.type_as_duration().is_some_and(|d| units.contains(&d.unit())),
        Type::List | Type::LargeList => {
            one_child()?;
            true
        }
        Type::FixedSizeList => {
            one_child()?;
            field.type_as_fixed_size_list().is_some_and(|l| l.listSize() >= 0)
        }
        Type::Struct_ => {
            for child in field.children().into_iter().flatten() {
                check_field(&child, column)?;
            }
            true
        }
        other => {
            return Err(format!(
                "column '{column}' has Arrow type {}, which Graft does not read",
                other.variant_name().unwrap_or("unknown")
            ))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The most an LZ4 frame of `n` bytes can expand to: a match costs at least one byte per 255
/// bytes it repeats, plus the frame's own headers.
fn lz4_bound(n: usize) -> usize {
    n.saturating_mul(256).saturating_add(1024)
}

/// Check one record batch block (`block` = its metadata then its body; `meta_len` = the
/// metadata's length) against `schema`, so that decoding it cannot panic or over-allocate.
pub(crate) fn check_block(schema: &Schema, block: &[u8], meta_len: usize) -> Result<(), String> {
    if meta_len < 8 || meta_len > block.len() {
        return Err(format!("its metadata length {meta_len} is impossible"));
    }
    let message = arrow_ipc::root_as_message(message_flatbuffer(&block[..meta_len])?)
        .map_err(|e| format!("its message is unreadable ({e})"))?;
    let batch = message.header_as_record_batch().ok_or("it is not a record batch")?;
    let body = &block[meta_len..];
    let compressed = match batch.compression().map(|c| c.codec()) {
        None => false,
        Some(arrow_ipc::CompressionType::LZ4_FRAME) => true,
        Some(arrow_ipc::CompressionType::ZSTD) => {
            return Err("it is ZSTD-compressed; Graft reads uncompressed or LZ4 files".into())
        }
        Some(other) => return Err(format!("it has an unknown compression ({})", other.0)),
    };
    if batch.variadicBufferCounts().is_some_and(|v| !v.is_empty()) {
        return Err("it has variadic buffers, which no supported column type uses".into());
    }
    let nodes = batch.nodes().ok_or("it has no field nodes")?;
    let buffers = batch.buffers().ok_or("it has no buffer list")?;
    // No column decodes to more bytes than this, nor holds more elements than 8 per byte
    // (bitmaps); bounding lengths by it keeps every size computation far from overflow.
    let cap = if compressed { lz4_bound(body.len()) } else { body.len() };
    let mut walk = Walk {
        nodes: nodes.iter().collect(),
        buffers: buffers.iter().map(|b| (b.offset(), b.length())).collect(),
        next_node: 0,
        next_buffer: 0,
        body,
        compressed,
        max_len: cap.saturating_add(1).saturating_mul(8),
    };
    let rows = walk.length(batch.length(), "the record batch")?;
    for field in schema.fields() {
        walk.array(field.data_type(), field.name(), Len::Exactly(rows))?;
    }
    if walk.next_node != walk.nodes.len() || walk.next_buffer != walk.buffers.len() {
        return Err(format!(
            "it has {} field nodes and {} buffers where its schema has {} and {}",
            walk.nodes.len(),
            walk.buffers.len(),
            walk.next_node,
            walk.next_buffer
        ));
    }
    Ok(())
}

/// How long an array must be.
#[derive(Clone, Copy)]
enum Len {
    Exactly(usize),
    AtLeast(usize),
}

/// A walk over a record batch's nodes and buffers in schema order (the IPC format's
/// depth-first layout).
struct Walk<'a> {
    nodes: Vec<&'a arrow_ipc::FieldNode>,
    buffers: Vec<(i64, i64)>,
    next_node: usize,
    next_buffer: usize,
    body: &'a [u8],
    compressed: bool,
    max_len: usize,
}

impl Walk<'_> {
    fn length(&self, n: i64, what: &str) -> Result<usize, String> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.max_len)
            .ok_or_else(|| format!("{what} has an impossible length {n}"))
    }

    /// The next buffer's size once decoded, after checking it lies in the body.
    fn buffer(&mut self, column: &str) -> Result<usize, String> {
        let &(offset, length) = self
            .buffers
            .get(self.next_buffer)
            .ok_or_else(|| format!("column '{column}' has fewer buffers than its type needs"))?;
        let i = self.next_buffer;
        self.next_buffer += 1;
        let range = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(length).ok())
            .and_then(|(o, l)| Some(o..o.checked_add(l)?))
            .filter(|r| r.end <= self.body.len())
            .ok_or_else(|| {
                format!(
                    "buffer {i} (column '{column}', offset {offset}, length {length}) lies \
                     outside the record batch body of {} bytes",
                    self.body.len()
                )
            })?;
        let bytes = &self.body[range];
        if !self.compressed || bytes.is_empty() {
            return Ok(bytes.len());
        }
        let prefix: [u8; 8] = bytes
            .get(..8)
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| format!("compressed buffer {i} (column '{column}') is too short"))?;
        match i64::from_le_bytes(prefix) {
            -1 => Ok(bytes.len() - 8),
            n => usize::try_from(n).ok().filter(|&n| n <= lz4_bound(bytes.len() - 8)).ok_or_else(
                || {
                    format!(
                        "compressed buffer {i} (column '{column}') declares {n} bytes once \
                         decompressed, impossible from {} compressed bytes",
                        bytes.len() - 8
                    )
                },
            ),
        }
    }

    /// A buffer that must hold at least `need` bytes once decoded.
    fn sized(&mut self, column: &str, need: Option<usize>, what: &str) -> Result<(), String> {
        let need = need.ok_or_else(|| format!("column '{column}': the {what} size overflows"))?;
        let have = self.buffer(column)?;
        if have < need {
            return Err(format!(
                "column '{column}': the {what} buffer holds {have} bytes where {need} are needed"
            ));
        }
        Ok(())
    }

    /// Check the validity buffer (needed only when there are nulls).
    fn validity(&mut self, column: &str, len: usize, nulls: usize) -> Result<(), String> {
        let need = if nulls > 0 { len.div_ceil(8) } else { 0 };
        self.sized(column, Some(need), "validity")
    }

    fn offsets(&mut self, column: &str, len: usize, width: usize) -> Result<(), String> {
        // An empty array may have an empty offsets buffer.
        let need =
            if len == 0 { Some(0) } else { len.checked_add(1).and_then(|n| n.checked_mul(width)) };
        self.sized(column, need, "offsets")
    }

    fn array(&mut self, t: &DataType, column: &str, want: Len) -> Result<(), String> {
        let node = *self
            .nodes
            .get(self.next_node)
            .ok_or_else(|| format!("column '{column}' has no field node"))?;
        self.next_node += 1;
        let len = self.length(node.length(), &format!("column '{column}'"))?;
        let nulls =
            usize::try_from(node.null_count()).ok().filter(|&n| n <= len).ok_or_else(|| {
                format!("column '{column}' has an impossible null count {}", node.null_count())
            })?;
        match want {
            Len::Exactly(n) if len != n => {
                return Err(format!("column '{column}' has {len} values where {n} are expected"))
            }
            Len::AtLeast(n) if len < n => {
                return Err(format!("column '{column}' has {len} values where {n} are needed"))
            }
            _ => {}
        }
        self.validity(column, len, nulls)?;
        match t {
            DataType::Boolean => self.sized(column, Some(len.div_ceil(8)), "values"),
            DataType::Utf8 | DataType::Binary => {
                self.offsets(column, len, 4)?;
                self.buffer(column).map(drop)
            }
            DataType::LargeUtf8 | DataType::LargeBinary => {
                self.offsets(column, len, 8)?;
                self.buffer(column).map(drop)
            }
            DataType::FixedSizeBinary(w) => {
                let need = usize::try_from(*w).ok().and_then(|w| len.checked_mul(w));
                self.sized(column, need, "values")
            }
            DataType::List(item) => {
                self.offsets(column, len, 4)?;
                self.array(item.data_type(), column, Len::AtLeast(0))
            }
            DataType::LargeList(item) => {
                self.offsets(column, len, 8)?;
                self.array(item.data_type(), column, Len::AtLeast(0))
            }
            DataType::FixedSizeList(item, k) => {
                let need = usize::try_from(*k)
                    .ok()
                    .and_then(|k| len.checked_mul(k))
                    .ok_or_else(|| format!("column '{column}': the list size overflows"))?;
                self.array(item.data_type(), column, Len::AtLeast(need))
            }
            DataType::Struct(fields) => {
                for f in fields {
                    self.array(f.data_type(), column, Len::Exactly(len))?;
                }
                Ok(())
            }
            t => match t.primitive_width() {
                Some(w) => self.sized(column, len.checked_mul(w), "values"),
                None => Err(format!("column '{column}' has type {t}, which Graft does not read")),
            },
        }
    }
}
