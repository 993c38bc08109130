//! `--resume-from LOCATION`: start each partition right after the last offset committed
//! in a folder of Kafka-Connect-named files (`pq-write --exactly-once` writes them), so a
//! restarted pipeline neither skips nor repeats what is already in the lake, whatever
//! offsets the group committed.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use lakepipe::committed;
use lakepipe::location::Location;
use lakepipe::storage::{self, Fs};
use rdkafka::{Offset, TopicPartitionList};

pub struct Resume {
    fs: Fs,
    loc: Location,
    /// Where partitions with nothing in LOCATION start (`-o`, default beginning).
    fallback: Offset,
}

impl Resume {
    pub fn new(location: &str, fallback: Offset, timeout: Duration) -> Result<Resume> {
        let loc = Location::parse(location).with_context(|| format!("--resume-from {location}"))?;
        storage::set_timeout(timeout);
        let fs = storage::connect(&loc)?;
        Ok(Resume { fs, loc, fallback })
    }

    /// The last committed offset of every topic-partition in LOCATION (one listing).
    pub fn committed(&self) -> Result<BTreeMap<(String, i32), i64>> {
        let found = committed::scan(&self.fs, &self.loc)
            .with_context(|| format!("--resume-from {}", self.loc))?;
        Ok(committed::last_offsets(&found))
    }

    /// The offset a partition starts at, given what LOCATION holds.
    pub fn start(&self, last: &BTreeMap<(String, i32), i64>, topic: &str, p: i32) -> Offset {
        match last.get(&(topic.to_string(), p)) {
            Some(l) => Offset::Offset(l + 1),
            None => self.fallback,
        }
    }

    /// Sets every partition of an assignment to its resume offset.
    pub fn apply(&self, tpl: &mut TopicPartitionList) -> Result<()> {
        let last = self.committed()?;
        let parts: Vec<(String, i32)> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        for (topic, p) in parts {
            tpl.set_partition_offset(&topic, p, self.start(&last, &topic, p))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_start_after_the_last_committed_offset() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "ev+0+0000000000+0000000009.parquet",
            "ev+0+0000000010+0000000041.parquet",
            "other+1+0000000000+0000000004.parquet",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let r = Resume::new(
            dir.path().to_str().unwrap(),
            Offset::Beginning,
            Duration::from_secs(5),
        )
        .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition("ev", 0);
        tpl.add_partition("ev", 1);
        r.apply(&mut tpl).unwrap();
        let got: Vec<(i32, Offset)> = tpl
            .elements()
            .iter()
            .map(|e| (e.partition(), e.offset()))
            .collect();
        assert_eq!(got, vec![(0, Offset::Offset(42)), (1, Offset::Beginning)]);
    }
}
