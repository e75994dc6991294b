//! What ingest leaves on disk: Hive partitions with a Delta log, sorted zstd Parquet with
//! statistics and bloom filters where SPEC 2.1 asks for them.

use std::fs::File;

use arrow::array::{Array, AsArray};
use arrow::datatypes::TimestampMicrosecondType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;

use crate::support::{Scratch, read_csv};

#[test]
fn cdrs_are_hive_partitioned_sorted_zstd_parquet_with_bloom_filters() {
    let s = Scratch::new();
    let gen_dir = s.generate(4000, &["--seed", "11", "--format", "canonical"]);
    let csv = gen_dir.join("cdrs.csv");
    s.ok(&[
        "ingest",
        "--batch-rows",
        "1500",
        csv.to_str().expect("path"),
    ]);

    let table = s.store().join("cdrs");
    assert!(
        table
            .join("_delta_log")
            .join("00000000000000000000.json")
            .is_file()
    );
    let (header, rows) = read_csv(&csv);
    let start = header
        .iter()
        .position(|h| h == "start_time")
        .expect("start_time");
    let mut dates: Vec<String> = rows.iter().map(|r| r[start][..10].to_string()).collect();
    dates.sort();
    dates.dedup();
    let mut partitions: Vec<String> = std::fs::read_dir(&table)
        .expect("list table")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "_delta_log")
        .collect();
    partitions.sort();
    let expected: Vec<String> = dates.iter().map(|d| format!("call_date={d}")).collect();
    assert_eq!(partitions, expected);

    let mut files = 0;
    for partition in &partitions {
        for entry in std::fs::read_dir(table.join(partition)).expect("list partition") {
            let path = entry.expect("entry").path();
            files += 1;
            assert_sorted_zstd_with_bloom_filters(&path);
        }
    }
    // Three commits (batches of 1500 of 4000) into three days: one file per day per commit.
    assert!(
        files >= partitions.len() && files <= 3 * partitions.len(),
        "{files} files"
    );
    // call_date is the UTC date of start_time.
    let mismatched = s.value(
        "SELECT count(*) FROM cdrs WHERE call_date <> CAST(date_trunc('day', start_time) AS DATE)",
    );
    assert_eq!(mismatched, "0");
}

/// Asserts a `cdrs` data file is zstd Parquet with statistics on every column, bloom filters
/// on exactly `call_id`, `source` and `destination`, and rows sorted by tenant, start_time.
pub fn assert_sorted_zstd_with_bloom_filters(path: &std::path::Path) {
    let reader = SerializedFileReader::new(File::open(path).expect("open")).expect("parquet");
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    for rg in 0..meta.num_row_groups() {
        for (i, column) in meta.row_group(rg).columns().iter().enumerate() {
            let name = schema.column(i).name().to_string();
            assert!(
                matches!(column.compression(), Compression::ZSTD(_)),
                "{name}"
            );
            assert!(column.statistics().is_some(), "{name} has no statistics");
            let bloom = column.bloom_filter_offset().is_some();
            let wanted = ["call_id", "source", "destination"].contains(&name.as_str());
            assert_eq!(
                bloom,
                wanted,
                "bloom filter on {name} in {}",
                path.display()
            );
        }
    }
    // Rows within a file: by tenant, then start_time.
    let file = File::open(path).expect("open");
    let batches = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("reader")
        .build()
        .expect("build");
    let mut keys = Vec::new();
    for batch in batches {
        let batch = batch.expect("batch");
        let tenant = batch.column_by_name("tenant").expect("tenant");
        let tenant = arrow::compute::cast(tenant, &arrow::datatypes::DataType::Utf8).expect("cast");
        let tenant = tenant.as_string::<i32>();
        let start = batch.column_by_name("start_time").expect("start");
        let start = start.as_primitive::<TimestampMicrosecondType>();
        for i in 0..batch.num_rows() {
            assert!(!start.is_null(i));
            keys.push((tenant.value(i).to_string(), start.value(i)));
        }
    }
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys,
        sorted,
        "{} is not sorted by tenant, start_time",
        path.display()
    );
}
