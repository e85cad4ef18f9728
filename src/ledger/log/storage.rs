//! The storage seam: the few file operations the log needs, behind a trait.
//!
//! Owns how the log's files are read, written and made durable on a real file system
//! ([`FileStorage`]), and the contract a test double must keep ([`Storage`]): a write is durable
//! only after `sync` of its file, and a file's name only after `sync_dir`. Tests put a
//! fault-injecting implementation here to simulate power loss. Must not: interpret bytes.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The file operations of the log, on flat names inside one folder.
pub trait Storage: Send + Sync {
    /// The names of the files in the folder.
    fn list(&self) -> io::Result<Vec<String>>;
    /// A file's length, or `None` if it does not exist.
    fn len(&self, name: &str) -> io::Result<Option<u64>>;
    /// Reads exactly `buf.len()` bytes at `offset` (an error if the file is shorter).
    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Creates a new, empty file; an error if it exists.
    fn create(&self, name: &str) -> io::Result<()>;
    /// Writes `bytes` at `offset` of an existing file (not durable until `sync`).
    fn write_at(&self, name: &str, offset: u64, bytes: &[u8]) -> io::Result<()>;
    /// Makes every write to the file, and its length, durable (fdatasync).
    fn sync(&self, name: &str) -> io::Result<()>;
    /// Makes the folder's entries (created and renamed files) durable.
    fn sync_dir(&self) -> io::Result<()>;
    /// Cuts a file to `len` bytes (not durable until `sync`).
    fn truncate(&self, name: &str, len: u64) -> io::Result<()>;
    /// Renames a file (not durable until `sync_dir`).
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
}

/// The log's files in a folder of a real file system. Keeps one handle per file open.
pub struct FileStorage {
    dir: PathBuf,
    handles: Mutex<HashMap<String, Arc<File>>>,
    /// The exclusive lock of a writer (`log/lock`), held while this lives.
    _lock: Option<File>,
}

impl FileStorage {
    /// Storage over an existing folder, for reading only (no lock is taken).
    pub fn reader(dir: &Path) -> FileStorage {
        FileStorage {
            dir: dir.to_owned(),
            handles: Mutex::new(HashMap::new()),
            _lock: None,
        }
    }

    /// Storage over a folder for the one writer: creates the folder if `create`, and takes the
    /// exclusive lock on its `lock` file. `Ok(None)` if another process holds the lock.
    pub fn writer(dir: &Path, create: bool) -> io::Result<Option<FileStorage>> {
        if create {
            std::fs::create_dir_all(dir)?;
        }
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))?;
        // A lock can be held a moment by a process that is only passing through (a child forked
        // while the lock's file was open, until its `exec` closes it), so it is waited for a
        // bounded time before the log is said to be in use.
        let deadline = std::time::Instant::now()
            + std::time::Duration::from_millis(crate::limits::STORE_LOCK_WAIT_MS);
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(error)) => return Err(error),
            }
        }
        Ok(Some(FileStorage {
            dir: dir.to_owned(),
            handles: Mutex::new(HashMap::new()),
            _lock: Some(lock),
        }))
    }

    fn handle(&self, name: &str) -> io::Result<Arc<File>> {
        let mut handles = self.handles.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = handles.get(name) {
            return Ok(file.clone());
        }
        let file = Arc::new(
            OpenOptions::new()
                .read(true)
                .write(self._lock.is_some())
                .open(self.dir.join(name))?,
        );
        handles.insert(name.to_owned(), file.clone());
        Ok(file)
    }

    fn forget(&self, name: &str) {
        self.handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }
}

impl Storage for FileStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn len(&self, name: &str) -> io::Result<Option<u64>> {
        match std::fs::metadata(self.dir.join(name)) {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.handle(name)?.read_exact_at(buf, offset)
    }

    fn create(&self, name: &str) -> io::Result<()> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(self.dir.join(name))?;
        self.handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), Arc::new(file));
        Ok(())
    }

    fn write_at(&self, name: &str, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.handle(name)?.write_all_at(bytes, offset)
    }

    fn sync(&self, name: &str) -> io::Result<()> {
        self.handle(name)?.sync_data()
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }

    fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        self.handle(name)?.set_len(len)
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.forget(from);
        self.forget(to);
        std::fs::rename(self.dir.join(from), self.dir.join(to))
    }
}
