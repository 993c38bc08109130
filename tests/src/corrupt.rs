//! Parquet files with a corrupt footer, for the tests that such a file is an error.

use std::path::{Path, PathBuf};

/// A copy of `file` (one row group of `rows` rows, fewer than 64) whose footer says 0
/// rows: the shape of parquet-testing's `repeated_no_annotation.parquet`. parquet's
/// writer always writes the sum of the row groups, so the thrift bytes are patched in
/// place: the footer's `num_rows` (field 3, i64, zigzag `2 * rows`) sits between the
/// end of the schema list (a struct stop, 0x00) and the row-group list of one struct
/// (0x19 0x1c). The copy is `zero-rows.parquet` next to `file`.
pub fn footer_saying_zero_rows(file: &Path, rows: u8) -> PathBuf {
    assert!(rows < 64, "one zigzag byte holds fewer than 64 rows");
    let mut bytes = std::fs::read(file).unwrap();
    let n = bytes.len();
    let footer_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let footer = n - 8 - footer_len..n - 8;
    let pattern = [0x00, 0x16, 2 * rows, 0x19, 0x1c];
    let at: Vec<usize> = bytes[footer.clone()]
        .windows(pattern.len())
        .enumerate()
        .filter(|(_, w)| *w == pattern)
        .map(|(i, _)| footer.start + i)
        .collect();
    assert_eq!(at.len(), 1, "num_rows not found once in the footer");
    bytes[at[0] + 2] = 0x00;
    let out = file.with_file_name("zero-rows.parquet");
    std::fs::write(&out, bytes).unwrap();
    out
}
