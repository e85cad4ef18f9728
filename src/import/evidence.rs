//! The snapshot files kept as evidence: `<ledger>/sources/<blake3 hex>`, written once (temp
//! file, fsync, rename, folder fsync) and never rewritten; read back to re-parse a snapshot
//! (the previous snapshot of a list, `verify --sources`).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The folder under the ledger's that holds the files.
pub const SOURCES_DIR: &str = "sources";

/// The path of the stored file with BLAKE3 `hex`.
pub fn path(ledger: &Path, hex: &str) -> PathBuf {
    ledger.join(SOURCES_DIR).join(hex)
}

/// Stores `bytes` (whose BLAKE3 is `hex`) durably, unless a file of that name holding exactly
/// these bytes is there already. A file of that name holding other bytes is an error (the
/// evidence was changed): it is left as it is, never overwritten.
pub fn store(ledger: &Path, hex: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let dir = ledger.join(SOURCES_DIR);
    let target = dir.join(hex);
    if target.exists() {
        let stored = fs::read(&target)?;
        if stored == bytes {
            return Ok(target);
        }
        return Err(std::io::Error::other(format!(
            "{} exists and does not hold the bytes of its name (BLAKE3 {}): the stored evidence was changed; it is left as it is",
            target.display(),
            crate::ledger::chain::file_blake3_hex(&stored)
        )));
    }
    if !dir.exists() {
        fs::create_dir(&dir)?;
        File::open(ledger)?.sync_all()?;
    }
    let temp = dir.join(format!(".{hex}.{}.tmp", std::process::id()));
    {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        // Read-only: evidence is never rewritten (a changed byte is what `verify --sources`
        // reports).
        let mut permissions = file.metadata()?.permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&temp, permissions)?;
    }
    fs::rename(&temp, &target)?;
    File::open(&dir)?.sync_all()?;
    Ok(target)
}

/// The stored file with BLAKE3 `hex`, checked against its name.
pub fn load(ledger: &Path, hex: &str) -> Result<Vec<u8>, String> {
    let path = path(ledger, hex);
    let bytes = fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    let actual = crate::ledger::chain::file_blake3_hex(&bytes);
    if actual != hex {
        return Err(format!(
            "{}: its BLAKE3 is {actual}, not its name: the stored snapshot was changed",
            path.display()
        ));
    }
    Ok(bytes)
}
