//! hive-ddl reads only footers: on a 1 GB file, well under 1 MB is read.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow::array::{BinaryArray, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{ChunkReader, Length};

/// A file that counts the bytes handed out.
struct Counting {
    file: File,
    read: AtomicU64,
}

impl Length for Counting {
    fn len(&self) -> u64 {
        self.file.len()
    }
}

impl ChunkReader for Counting {
    type T = <File as ChunkReader>::T;
    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        // A streaming read could read anything: count it as the rest of the file.
        self.read.fetch_add(self.len() - start, Ordering::Relaxed);
        self.file.get_read(start)
    }
    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.read.fetch_add(length as u64, Ordering::Relaxed);
        self.file.get_bytes(start, length)
    }
}

#[test]
#[ignore = "live: writes 1 GiB (make test runs it)"]
fn footer_of_a_1gb_file_reads_under_1mb() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("blob", DataType::Binary, false),
    ]));
    let props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
        .build();
    let mut w =
        ArrowWriter::try_new(File::create(&path).unwrap(), schema.clone(), Some(props)).unwrap();
    let blob = vec![7u8; 1 << 20];
    for chunk in 0..64 {
        let ids = Int64Array::from_iter_values((0..16).map(|i| chunk * 16 + i));
        let blobs = BinaryArray::from_iter_values((0..16).map(|_| blob.as_slice()));
        w.write(
            &RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(blobs)]).unwrap(),
        )
        .unwrap();
    }
    w.close().unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size >= 1 << 30, "{size}");
    let counting = Counting {
        file: File::open(&path).unwrap(),
        read: AtomicU64::new(0),
    };
    let meta = lakepipe::read::load_footer(&counting).unwrap();
    assert_eq!(meta.metadata().file_metadata().num_rows(), 1024);
    let read = counting.read.load(Ordering::Relaxed);
    assert!(read < 1 << 20, "read {read} bytes of a {size}-byte file");
}
