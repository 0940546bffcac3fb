//! Parquet import and export of trajectory datasets (same columns and metadata; the Arrow
//! schema travels in Parquet's `ARROW:schema` key, so field metadata such as image shapes
//! survives a round trip). Parquet suits archiving and data-frame tools; training reads the
//! memory-mapped IPC file.

use std::fs::File;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression as PqCompression;
use parquet::file::properties::WriterProperties;

use crate::data::ipc::{regular_file, tmp_path, Compression, IpcFileWriter};
use crate::data::reader::Dataset;
use crate::error::{Error, Result};

fn problem(path: &Path, what: impl Into<String>) -> Error {
    Error::Dataset { path: path.to_path_buf(), problem: what.into() }
}

/// Write `ds` to a Parquet file at `out` (Snappy-compressed), atomically.
pub fn export(ds: &Dataset, out: &Path) -> Result<()> {
    if out.is_dir() {
        return Err(problem(out, "is a directory; give a file name such as data.parquet"));
    }
    let tmp = tmp_path(out);
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let props = WriterProperties::builder().set_compression(PqCompression::SNAPPY).build();
        let pq = |e: parquet::errors::ParquetError| problem(out, e.to_string());
        let mut w = ArrowWriter::try_new(file, ds.schema().clone(), Some(props)).map_err(pq)?;
        for b in ds.record_batches() {
            w.write(b).map_err(pq)?;
        }
        w.close().map_err(pq)?;
        std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Convert the Parquet file `input` into an Arrow IPC dataset at `out`, checking that it is
/// a valid trajectory dataset (the output is removed if not).
pub fn import(input: &Path, out: &Path) -> Result<Dataset> {
    regular_file(input, "Parquet file")?;
    // The parquet crate's page decoders can panic on a damaged file; the output's temporary
    // is removed as the panic unwinds through the writer.
    crate::contain::contain(|| import_checked(input, out)).unwrap_or_else(|panic| {
        Err(problem(input, format!("the Parquet file is damaged (its decoder failed: {panic})")))
    })
}

fn import_checked(input: &Path, out: &Path) -> Result<Dataset> {
    let file = File::open(input).map_err(|e| Error::io(input, e))?;
    let pq = |e: parquet::errors::ParquetError| problem(input, e.to_string());
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    // The builder's schema carries the metadata (from `ARROW:schema`); the reader's may not.
    let schema = builder.schema().clone();
    let reader = builder.build().map_err(pq)?;
    crate::data::schema::Layout::from_schema(&schema).map_err(|p| problem(input, p))?;
    let mut w = IpcFileWriter::create(out, &schema, Compression::None)?;
    for batch in reader {
        let batch = batch.map_err(|e| problem(input, e.to_string()))?;
        w.write(&batch)?;
    }
    w.finish(schema.metadata().clone())?;
    // A problem found in what was converted is the input's: the output is removed.
    Dataset::open(out).map_err(|e| {
        let _ = std::fs::remove_file(out);
        let why = match e {
            Error::Dataset { problem, .. } => problem,
            other => other.to_string(),
        };
        problem(input, format!("does not hold a valid trajectory dataset: {why}"))
    })
}
