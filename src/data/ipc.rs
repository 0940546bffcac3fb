//! Arrow IPC *file* plumbing: an atomic, streaming file writer whose footer carries the final
//! schema metadata and CRC32 checksums of every part, and a memory-mapped zero-copy reader
//! that validates a file before decoding it.
//!
//! The writer streams record batches to `NAME.tmp` beside the destination and renames it into
//! place only after the footer is written and the data synced, so an interrupted collection
//! never leaves a file under the requested name (and a `.tmp` file has no footer, which any
//! IPC reader refuses). Arrow file readers (pyarrow's included) read the schema from the
//! footer, so counts known only at the end (`total_steps`) go into the footer's schema
//! metadata; the header schema carries the same fields and the metadata known at the start.
//! The format is the IPC file format of <https://arrow.apache.org/docs/format/Columnar.html>.
//!
//! **Damaged files.** The footer's metadata also holds the checksums (keys in `ipc/verify.rs`):
//! `graft.crc32.header`, `graft.crc32.batches` (one per record batch), `graft.crc32.footer`,
//! and the marker `graft.checksums = crc32`, also in the header. The reader verifies them
//! before decoding and names the damaged part ("record batch 3 is damaged (checksum
//! mismatch)"). Files without them (pyarrow's, older Graft's) get the structural checks of
//! `ipc/verify.rs` only, which keep arrow-ipc from panicking on any byte; the checksum keys are
//! plain metadata to other readers, so the file stays an ordinary Arrow IPC file.

mod verify;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use rayon::prelude::*;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::convert::{fb_to_schema, IpcSchemaEncoder};
use arrow_ipc::reader::{read_footer_length, FileDecoder};
use arrow_ipc::writer::{
    write_message, CompressionContext, DictionaryTracker, IpcDataGenerator, IpcWriteOptions,
};
use arrow_ipc::{Block, CompressionType, FooterBuilder};
use arrow_schema::{Schema, SchemaRef};

pub(crate) use verify::is_checksum_key;

use crate::error::{Error, Result};

const MAGIC: &[u8; 6] = b"ARROW1";
/// The end-of-stream marker written before the footer: continuation, then length 0.
const END_OF_STREAM: [u8; 8] = [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0];

fn problem(path: &Path, what: impl Into<String>) -> Error {
    Error::Dataset { path: path.to_path_buf(), problem: what.into() }
}

/// Compression of record batch bodies (Arrow IPC's optional buffer compression).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Uncompressed: memory-mapped reads are zero-copy.
    #[default]
    None,
    /// LZ4 frames: smaller files (images compress well), decoded on open.
    Lz4,
}

/// A writer that keeps a running CRC32 of what passes through it.
struct CrcWriter<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W> CrcWriter<W> {
    /// The CRC32 of everything written since the last call.
    fn take_crc(&mut self) -> u32 {
        std::mem::take(&mut self.crc).finalize()
    }
}

/// Streams record batches into an Arrow IPC file, atomically (see the module docs).
pub struct IpcFileWriter {
    out: CrcWriter<BufWriter<File>>,
    tmp: PathBuf,
    dest: PathBuf,
    options: IpcWriteOptions,
    data_gen: IpcDataGenerator,
    tracker: DictionaryTracker,
    context: CompressionContext,
    schema: SchemaRef,
    offset: usize,
    blocks: Vec<Block>,
    header_crc: u32,
    batch_crcs: Vec<u32>,
    finished: bool,
}

impl std::fmt::Debug for IpcFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpcFileWriter").field("dest", &self.dest).finish()
    }
}

/// `dest` with `.tmp` appended to its file name.
pub fn tmp_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    dest.with_file_name(name)
}

/// `metadata` without checksum keys (a file's checksums never carry over to another file).
fn without_checksums(metadata: &HashMap<String, String>) -> HashMap<String, String> {
    metadata
        .iter()
        .filter(|(k, _)| !is_checksum_key(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl IpcFileWriter {
    /// Start writing `dest` (through `dest.tmp`) with `schema` in the header.
    pub fn create(dest: &Path, schema: &Schema, compression: Compression) -> Result<Self> {
        if dest.is_dir() {
            return Err(problem(dest, "is a directory; give a file name such as data.arrow"));
        }
        if dest.file_name().is_none() {
            return Err(problem(dest, "has no file name"));
        }
        let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(problem(dest, format!("folder {} does not exist", dir.display())));
        }
        let arrow = |e: arrow_schema::ArrowError| problem(dest, e.to_string());
        let mut options = IpcWriteOptions::default();
        if compression == Compression::Lz4 {
            options =
                options.try_with_compression(Some(CompressionType::LZ4_FRAME)).map_err(arrow)?;
        }
        let tmp = tmp_path(dest);
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut out =
            CrcWriter { inner: BufWriter::with_capacity(1 << 20, file), crc: Default::default() };
        let data_gen = IpcDataGenerator::default();
        let mut tracker = DictionaryTracker::new(true);
        // The header says the file has checksums, so that damage to the footer's keys cannot
        // pass the file off as one without.
        let mut header_meta = without_checksums(schema.metadata());
        header_meta.insert(verify::KEY_MARKER.into(), verify::MARKER_VALUE.into());
        let header = Schema::new_with_metadata(schema.fields().clone(), header_meta);
        // Magic, padded to 8 bytes, then the schema message.
        out.write_all(MAGIC)
            .and_then(|()| out.write_all(&[0, 0]))
            .map_err(|e| Error::io(&tmp, e))?;
        let encoded =
            data_gen.schema_to_bytes_with_dictionary_tracker(&header, &mut tracker, &options);
        let (meta, body) = write_message(&mut out, encoded, &options).map_err(arrow)?;
        let header_crc = out.take_crc();
        Ok(IpcFileWriter {
            out,
            tmp,
            dest: dest.to_path_buf(),
            options,
            data_gen,
            tracker,
            context: CompressionContext::default(),
            schema: Arc::new(schema.clone()),
            offset: 8 + meta + body,
            blocks: Vec::new(),
            header_crc,
            batch_crcs: Vec::new(),
            finished: false,
        })
    }

    /// The destination path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Append one record batch (its schema must match the file's fields).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let dest = self.dest.clone();
        let arrow = |e: arrow_schema::ArrowError| problem(&dest, e.to_string());
        if batch.schema().fields() != self.schema.fields() {
            return Err(problem(&self.dest, "record batch fields differ from the file's schema"));
        }
        let (dicts, encoded) = self
            .data_gen
            .encode(batch, &mut self.tracker, &self.options, &mut self.context)
            .map_err(arrow)?;
        if !dicts.is_empty() {
            return Err(problem(&self.dest, "dictionary-encoded columns are not supported"));
        }
        let (meta, body) = write_message(&mut self.out, encoded, &self.options).map_err(arrow)?;
        self.blocks.push(Block::new(self.offset as i64, meta as i32, body as i64));
        self.batch_crcs.push(self.out.take_crc());
        self.offset += meta + body;
        Ok(())
    }

    /// The footer flatbuffer with `metadata` and the checksums, its own checksum in place.
    fn footer(&self, metadata: HashMap<String, String>) -> Result<Vec<u8>> {
        let mut metadata = without_checksums(&metadata);
        let crcs: Vec<String> = self.batch_crcs.iter().map(|&c| verify::hex(c)).collect();
        metadata.insert(verify::KEY_MARKER.into(), verify::MARKER_VALUE.into());
        metadata.insert(verify::KEY_HEADER.into(), verify::hex(self.header_crc));
        metadata.insert(verify::KEY_BATCHES.into(), crcs.join(","));
        metadata.insert(verify::KEY_FOOTER.into(), verify::PLACEHOLDER.into());
        let schema = Schema::new_with_metadata(self.schema.fields().clone(), metadata);
        let mut fbb = flatbuffers::FlatBufferBuilder::new();
        let dictionaries = fbb.create_vector::<Block>(&[]);
        let batches = fbb.create_vector(&self.blocks);
        let fb_schema = IpcSchemaEncoder::new().schema_to_fb_offset(&mut fbb, &schema);
        let root = {
            let mut footer = FooterBuilder::new(&mut fbb);
            footer.add_version(arrow_ipc::MetadataVersion::V5);
            footer.add_schema(fb_schema);
            footer.add_dictionaries(dictionaries);
            footer.add_recordBatches(batches);
            footer.finish()
        };
        fbb.finish(root, None);
        let mut bytes = fbb.finished_data().to_vec();
        // Hash the footer with the placeholder in its checksum's place, then put it there.
        let at = arrow_ipc::root_as_footer(&bytes)
            .ok()
            .and_then(|f| verify::footer_crc_position(&bytes, &f))
            .map(|(at, _)| at)
            .ok_or_else(|| problem(&self.dest, "could not place the footer checksum"))?;
        let crc = verify::hex(verify::footer_crc(&bytes, at));
        bytes[at..at + crc.len()].copy_from_slice(crc.as_bytes());
        Ok(bytes)
    }

    /// Write the footer with `metadata` as the schema's metadata (plus the checksums), sync,
    /// and rename into place.
    pub fn finish(mut self, metadata: HashMap<String, String>) -> Result<()> {
        let footer = self.footer(metadata)?;
        let tmp = self.tmp.clone();
        let io = |e| Error::io(&tmp, e);
        // End-of-stream marker, footer, its length, magic.
        self.out.write_all(&END_OF_STREAM).map_err(io)?;
        self.out.write_all(&footer).map_err(io)?;
        self.out.write_all(&(footer.len() as i32).to_le_bytes()).map_err(io)?;
        self.out.write_all(MAGIC).map_err(io)?;
        self.out.flush().map_err(io)?;
        self.out.inner.get_ref().sync_all().map_err(io)?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e))?;
        self.finished = true;
        Ok(())
    }
}

impl Drop for IpcFileWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A memory-mapped IPC file decoded into record batches that borrow the mapping.
#[derive(Debug)]
pub struct MappedFile {
    /// The schema from the footer, with its metadata (checksum keys removed).
    pub schema: SchemaRef,
    /// The record batches, in file order.
    pub batches: Vec<RecordBatch>,
    /// Size of the file in bytes.
    pub bytes: usize,
    /// Whether the file carried checksums (all verified, or the read would have failed).
    pub checksummed: bool,
}

/// Refuse what is not a regular file (a folder, `/dev/zero`, a pipe) before opening it:
/// mapping or reading such a path has no end, or blocks.
pub(crate) fn regular_file(path: &Path, what: &str) -> Result<u64> {
    crate::inputs::regular_file(path, what, |p| problem(path, p))
}

/// Map `path`, validate it (checksums where present, structure always; see the module
/// docs) and decode its record batches without copying (uncompressed files).
pub fn read_mapped(path: &Path) -> Result<MappedFile> {
    regular_file(path, "dataset file")?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // SAFETY: the mapping is read-only; a file truncated by another process while mapped
    // would fault, as with any memory-mapped reader (pyarrow's included).
    let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    let len = mmap.len();
    if len < 8 + 10 || &mmap[..6] != MAGIC {
        return Err(problem(path, "not an Arrow IPC file (no ARROW1 magic at its start)"));
    }
    let header_mentions = verify::header_mentions_checksums(&mmap);
    if &mmap[len - 6..] != MAGIC {
        return Err(problem(
            path,
            "the Arrow IPC file has no footer: it is truncated, or was not completely written",
        ));
    }
    let mut trailer = [0u8; 10];
    trailer.copy_from_slice(&mmap[len - 10..]);
    let footer_len = read_footer_length(trailer).map_err(|e| problem(path, e.to_string()))?;
    if footer_len + 10 + 8 > len {
        return Err(problem(path, "the footer length is larger than the file (corrupt file)"));
    }
    let footer_start = len - 10 - footer_len;
    let footer_bytes = &mmap[footer_start..len - 10];
    let expected = header_mentions || verify::mentions_checksums(footer_bytes);
    let footer = arrow_ipc::root_as_footer(footer_bytes).map_err(|e| {
        let what = if expected { "the footer is damaged" } else { "unreadable footer" };
        problem(path, format!("{what}: {e}"))
    })?;
    let checksums =
        verify::footer_checksums(footer_bytes, &footer, expected).map_err(|p| problem(path, p))?;
    let blocks: Vec<Block> =
        footer.recordBatches().map(|b| b.iter().copied().collect()).unwrap_or_default();
    // Each block's byte range, checked against the file.
    let mut ranges = Vec::with_capacity(blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let start = usize::try_from(block.offset()).ok();
        let meta = usize::try_from(block.metaDataLength()).ok();
        let size =
            meta.zip(usize::try_from(block.bodyLength()).ok()).and_then(|(m, b)| m.checked_add(b));
        match (start, meta, size) {
            (Some(s), Some(m), Some(n))
                if s.checked_add(n).is_some_and(|end| end <= footer_start) =>
            {
                ranges.push((s..s + n, m))
            }
            _ => return Err(problem(path, format!("record batch {i} lies outside the file"))),
        }
    }
    if let Some(sums) = &checksums {
        verify_checksums(&mmap, &ranges, footer_start, sums).map_err(|p| problem(path, p))?;
    }
    let fb_schema = footer.schema().ok_or_else(|| problem(path, "the footer has no schema"))?;
    verify::check_schema(&fb_schema).map_err(|p| problem(path, p))?;
    let mut schema = fb_to_schema(fb_schema);
    if checksums.is_some() {
        let metadata = without_checksums(schema.metadata());
        schema = schema.with_metadata(metadata);
    }
    let schema = Arc::new(schema);
    if footer.dictionaries().is_some_and(|d| !d.is_empty()) {
        return Err(problem(path, "dictionary-encoded columns are not supported"));
    }
    for (i, (range, meta)) in ranges.iter().enumerate() {
        verify::check_block(&schema, &mmap[range.clone()], *meta)
            .map_err(|p| problem(path, format!("record batch {i} is malformed: {p}")))?;
    }
    let version = footer.version();
    let ptr = NonNull::new(mmap.as_ptr() as *mut u8)
        .ok_or_else(|| problem(path, "empty memory mapping"))?;
    // SAFETY: `ptr` and `len` describe the mapping, which the buffer keeps alive.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(mmap)) };
    let decoder = FileDecoder::new(schema.clone(), version);
    let mut batches = Vec::with_capacity(blocks.len());
    for (i, (block, (range, _))) in blocks.iter().zip(&ranges).enumerate() {
        let data = buffer.slice_with_length(range.start, range.len());
        let batch = decoder
            .read_record_batch(block, &data)
            .map_err(|e| problem(path, format!("record batch {i}: {e}")))?
            .ok_or_else(|| problem(path, format!("record batch {i} is not a record batch")))?;
        batches.push(batch);
    }
    Ok(MappedFile { schema, batches, bytes: len, checksummed: checksums.is_some() })
}

/// The CRC32 of `bytes`, hashed in 4 MiB pieces on rayon's threads and combined (CRC32 of a
/// concatenation follows from the pieces' CRCs and lengths).
fn parallel_crc32(bytes: &[u8]) -> u32 {
    const PIECE: usize = 4 << 20;
    if bytes.len() <= PIECE {
        return crc32fast::hash(bytes);
    }
    let pieces: Vec<crc32fast::Hasher> = bytes
        .par_chunks(PIECE)
        .map(|piece| {
            let mut h = crc32fast::Hasher::new();
            h.update(piece);
            h
        })
        .collect();
    let mut whole = crc32fast::Hasher::new();
    for piece in &pieces {
        whole.combine(piece);
    }
    whole.finalize()
}

/// Check every byte against the footer's checksums (the footer's own is already checked):
/// the header before the first block, each block, which must follow one another, and the
/// end-of-stream marker between the last block and the footer.
fn verify_checksums(
    file: &[u8],
    ranges: &[(std::ops::Range<usize>, usize)],
    footer_start: usize,
    sums: &verify::Checksums,
) -> Result<(), String> {
    let eos = footer_start - 8;
    let header_end = ranges.first().map_or(eos, |(r, _)| r.start);
    if header_end < 8 || crc32fast::hash(&file[..header_end]) != sums.header {
        return Err("the header (schema) is damaged (checksum mismatch)".into());
    }
    if sums.batches.len() != ranges.len() {
        return Err(format!(
            "the footer lists {} record batches but {} checksums",
            ranges.len(),
            sums.batches.len()
        ));
    }
    let mut expected = header_end;
    for (i, (range, _)) in ranges.iter().enumerate() {
        if range.start != expected {
            return Err(format!("record batch {i} does not start where the previous part ends"));
        }
        expected = range.end;
    }
    if expected != eos || file[eos..footer_start] != END_OF_STREAM {
        return Err("the end-of-stream marker before the footer is damaged".into());
    }
    // Hashing is the whole cost of a verified open (about 10 GB/s a core): blocks, and
    // pieces of large blocks, are hashed on all cores; the first damaged block in file order
    // is reported.
    let damaged = ranges
        .par_iter()
        .zip(&sums.batches)
        .enumerate()
        .find_first(|(_, ((range, _), &crc))| parallel_crc32(&file[range.clone()]) != crc);
    match damaged {
        Some((i, _)) => Err(format!("record batch {i} is damaged (checksum mismatch)")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parallel_crc_is_the_crc_of_the_whole() {
        // Pieces of 4 MiB: a buffer of two and a half of them, and one below a piece.
        let bytes: Vec<u8> =
            (0..(10u32 << 20) + 12_345).map(|i| i.wrapping_mul(2_654_435_761) as u8).collect();
        assert_eq!(parallel_crc32(&bytes), crc32fast::hash(&bytes));
        assert_eq!(parallel_crc32(&bytes[..1000]), crc32fast::hash(&bytes[..1000]));
        let mut damaged = bytes.clone();
        damaged[9 << 20] ^= 1;
        assert_ne!(parallel_crc32(&damaged), crc32fast::hash(&bytes));
    }
}
