//! Arrow IPC *file* plumbing: an atomic, streaming file writer whose footer carries the final
//! schema metadata, and a memory-mapped zero-copy reader.
//!
//! The writer streams record batches to `NAME.tmp` beside the destination and renames it into
//! place only after the footer is written and the data synced, so an interrupted collection
//! never leaves a file under the requested name (and a `.tmp` file has no footer, which any
//! IPC reader refuses). Arrow file readers (pyarrow's included) read the schema from the
//! footer, so counts known only at the end (`total_steps`) go into the footer's schema
//! metadata; the header schema carries the same fields and the metadata known at the start.
//! The format is the IPC file format of <https://arrow.apache.org/docs/format/Columnar.html>.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::convert::{fb_to_schema, IpcSchemaEncoder};
use arrow_ipc::reader::{read_footer_length, FileDecoder};
use arrow_ipc::writer::{
    write_message, CompressionContext, DictionaryTracker, IpcDataGenerator, IpcWriteOptions,
};
use arrow_ipc::{Block, CompressionType, FooterBuilder};
use arrow_schema::{Schema, SchemaRef};

use crate::error::{Error, Result};

const MAGIC: &[u8; 6] = b"ARROW1";

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

/// Streams record batches into an Arrow IPC file, atomically (see the module docs).
pub struct IpcFileWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    dest: PathBuf,
    options: IpcWriteOptions,
    data_gen: IpcDataGenerator,
    tracker: DictionaryTracker,
    context: CompressionContext,
    schema: SchemaRef,
    offset: usize,
    blocks: Vec<Block>,
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
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let data_gen = IpcDataGenerator::default();
        let mut tracker = DictionaryTracker::new(true);
        // Magic, padded to 8 bytes, then the schema message.
        out.write_all(MAGIC)
            .and_then(|()| out.write_all(&[0, 0]))
            .map_err(|e| Error::io(&tmp, e))?;
        let encoded =
            data_gen.schema_to_bytes_with_dictionary_tracker(schema, &mut tracker, &options);
        let (meta, body) = write_message(&mut out, encoded, &options).map_err(arrow)?;
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
        self.offset += meta + body;
        Ok(())
    }

    /// Write the footer with `metadata` as the schema's metadata, sync, and rename into place.
    pub fn finish(mut self, metadata: HashMap<String, String>) -> Result<()> {
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
        let footer = fbb.finished_data();
        let tmp = self.tmp.clone();
        let io = |e| Error::io(&tmp, e);
        // End-of-stream marker, footer, its length, magic.
        self.out.write_all(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]).map_err(io)?;
        self.out.write_all(footer).map_err(io)?;
        self.out.write_all(&(footer.len() as i32).to_le_bytes()).map_err(io)?;
        self.out.write_all(MAGIC).map_err(io)?;
        self.out.flush().map_err(io)?;
        self.out.get_ref().sync_all().map_err(io)?;
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
    /// The schema from the footer, with its metadata.
    pub schema: SchemaRef,
    /// The record batches, in file order.
    pub batches: Vec<RecordBatch>,
    /// Size of the file in bytes.
    pub bytes: usize,
}

/// Map `path` and decode its record batches without copying (uncompressed files).
pub fn read_mapped(path: &Path) -> Result<MappedFile> {
    if path.is_dir() {
        return Err(problem(path, "is a directory, not a dataset file"));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    // SAFETY: the mapping is read-only; a file truncated by another process while mapped
    // would fault, as with any memory-mapped reader (pyarrow's included).
    let mmap = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    let len = mmap.len();
    if len < 8 + 10 || &mmap[..6] != MAGIC {
        return Err(problem(path, "not an Arrow IPC file (no ARROW1 magic at its start)"));
    }
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
    let footer = arrow_ipc::root_as_footer(&mmap[len - 10 - footer_len..len - 10])
        .map_err(|e| problem(path, format!("unreadable footer: {e}")))?;
    let fb_schema = footer.schema().ok_or_else(|| problem(path, "the footer has no schema"))?;
    let schema = Arc::new(fb_to_schema(fb_schema));
    if footer.dictionaries().is_some_and(|d| !d.is_empty()) {
        return Err(problem(path, "dictionary-encoded columns are not supported"));
    }
    let version = footer.version();
    let blocks: Vec<Block> =
        footer.recordBatches().map(|b| b.iter().copied().collect()).unwrap_or_default();
    let ptr = NonNull::new(mmap.as_ptr() as *mut u8)
        .ok_or_else(|| problem(path, "empty memory mapping"))?;
    // SAFETY: `ptr` and `len` describe the mapping, which the buffer keeps alive.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, len, Arc::new(mmap)) };
    let decoder = FileDecoder::new(schema.clone(), version);
    let mut batches = Vec::with_capacity(blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let start = usize::try_from(block.offset()).ok();
        let size = usize::try_from(block.metaDataLength())
            .ok()
            .zip(usize::try_from(block.bodyLength()).ok())
            .map(|(m, b)| m + b);
        let (start, size) = match (start, size) {
            (Some(s), Some(n))
                if s.checked_add(n).is_some_and(|end| end <= len - 10 - footer_len) =>
            {
                (s, n)
            }
            _ => return Err(problem(path, format!("record batch {i} lies outside the file"))),
        };
        let data = buffer.slice_with_length(start, size);
        let batch = decoder
            .read_record_batch(block, &data)
            .map_err(|e| problem(path, format!("record batch {i}: {e}")))?
            .ok_or_else(|| problem(path, format!("record batch {i} is not a record batch")))?;
        batches.push(batch);
    }
    Ok(MappedFile { schema, batches, bytes: len })
}
