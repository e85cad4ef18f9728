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
    read_checked(&path(ledger, hex), hex)
}

/// The file at `path`, whose name is its BLAKE3 `hex`, checked against that name.
fn read_checked(path: &Path, hex: &str) -> Result<Vec<u8>, String> {
    let bytes = fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let actual = crate::ledger::chain::file_blake3_hex(&bytes);
    if actual != hex {
        return Err(format!(
            "{}: its BLAKE3 is {actual}, not its name: the snapshot file was changed",
            path.display()
        ));
    }
    Ok(bytes)
}

/// The folder of snapshot files that travels with a bundle: the bundle's name and `.sources`.
pub fn bundle_sources_dir(bundle: &Path) -> PathBuf {
    let mut name = bundle.as_os_str().to_owned();
    name.push(".sources");
    PathBuf::from(name)
}

/// Copies the stored files of `snapshots` (their BLAKE3 hex) beside a bundle, each checked
/// against its name, into a new folder (an existing one is never replaced). Returns how many.
pub fn export_for_bundle(
    ledger: &Path,
    bundle: &Path,
    snapshots: &[String],
) -> Result<u64, String> {
    let dir = bundle_sources_dir(bundle);
    fs::create_dir(&dir).map_err(|error| {
        format!(
            "{}: cannot create: {error} (an existing folder is never replaced)",
            dir.display()
        )
    })?;
    for hex in snapshots {
        let bytes = load(ledger, hex)?;
        let target = dir.join(hex);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|error| format!("{}: {error}", target.display()))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(|error| format!("{}: {error}", target.display()))?;
    }
    File::open(&dir)
        .and_then(|folder| folder.sync_all())
        .map_err(|error| format!("{}: {error}", dir.display()))?;
    Ok(snapshots.len() as u64)
}

/// Checks the folder beside a bundle, if there is one: it holds exactly the files of the
/// bundle's snapshots (`snapshots`: their BLAKE3 hex), each hashing to its name. `None` when
/// there is no such folder.
pub fn check_bundle_sources(bundle: &Path, snapshots: &[String]) -> Result<Option<u64>, String> {
    let dir = bundle_sources_dir(bundle);
    if !dir.is_dir() {
        return Ok(None);
    }
    let wanted: std::collections::BTreeSet<&str> = snapshots.iter().map(String::as_str).collect();
    let entries = fs::read_dir(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|error| format!("{}: {error}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !wanted.contains(name.as_str()) {
            return Err(format!(
                "{}: no snapshot in the bundle has this file's name as its BLAKE3",
                entry.path().display()
            ));
        }
    }
    for hex in snapshots {
        read_checked(&dir.join(hex), hex)?;
    }
    Ok(Some(snapshots.len() as u64))
}

/// Stores the checked files beside a bundle into a restored ledger's `sources/`.
pub fn restore_from_bundle(
    ledger: &Path,
    bundle: &Path,
    snapshots: &[String],
) -> Result<u64, String> {
    let dir = bundle_sources_dir(bundle);
    for hex in snapshots {
        let bytes = read_checked(&dir.join(hex), hex)?;
        store(ledger, hex, &bytes).map_err(|error| error.to_string())?;
    }
    Ok(snapshots.len() as u64)
}
