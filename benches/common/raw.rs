//! A raw sled store for baselines, configured as the ledger configures its own (same page cache
//! size and mode), so that a baseline differs from the ledger only in what it writes or reads.

use std::path::Path;

pub fn raw_store(path: &Path) -> sled::Db {
    sled::Config::new()
        .path(path)
        .cache_capacity(sanctions_ledger::limits::STORE_CACHE_BYTES)
        .mode(sled::Mode::LowSpace)
        .open()
        .unwrap()
}
