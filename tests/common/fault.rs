//! A fault-injecting `Storage` for the log: files in memory, where a write is durable only after
//! `sync` of its file and a name only after `sync_dir`, as the storage contract says. A "crash"
//! keeps what was durable and, chosen by a seed, drops, tears (a random prefix, or random
//! 512-byte sectors) or reorders every write that was not; a name created or renamed since the
//! last `sync_dir` may vanish or not. It can also fail one operation with ENOSPC, or cut the
//! power at one operation (that one and every later one fail).

use sanctions_ledger::ledger::log::Storage;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::{Arc, Mutex};

/// A small deterministic generator (fixed seeds).
#[derive(Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    /// A number in `low..high`.
    pub fn below(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low).max(1)
    }
}

#[derive(Clone, Debug)]
enum Pending {
    Write { offset: u64, bytes: Vec<u8> },
    Truncate { len: u64 },
}

#[derive(Clone, Debug, Default)]
struct File {
    /// What reads see.
    current: Vec<u8>,
    /// What a crash keeps of the content, before unsynced writes are replayed.
    durable: Vec<u8>,
    /// Writes and truncations since the last sync, in order.
    pending: Vec<Pending>,
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// The operation fails with ENOSPC and does nothing.
    StorageFull,
    /// The operation and every later one fail; nothing more reaches the files.
    PowerLoss,
}

#[derive(Clone, Debug, Default)]
struct State {
    files: BTreeMap<String, File>,
    /// The names a crash keeps for certain (as of the last `sync_dir`).
    durable_names: BTreeSet<String>,
    /// Renames since the last `sync_dir`: (from, to).
    renames: Vec<(String, String)>,
    operations: u64,
    fault: Option<(u64, Fault)>,
    power_lost: bool,
}

/// Shared handle: clones see the same files.
#[derive(Clone, Default)]
pub struct FaultStorage(Arc<Mutex<State>>);

fn lost() -> io::Error {
    io::Error::other("the power was cut (simulated)")
}

impl FaultStorage {
    pub fn new() -> FaultStorage {
        FaultStorage::default()
    }

    /// Operations (writes, syncs, creates, truncates, renames) so far.
    pub fn operations(&self) -> u64 {
        self.0.lock().unwrap().operations
    }

    /// Fails the `n`-th operation from now (0: the next) with `fault`.
    pub fn fail_in(&self, n: u64, fault: Fault) {
        let mut state = self.0.lock().unwrap();
        let at = state.operations + n;
        state.fault = Some((at, fault));
    }

    /// No fault any more (space was freed).
    pub fn clear_fault(&self) {
        self.0.lock().unwrap().fault = None;
    }

    /// A copy of the files as they stand (nothing lost): a clean stop.
    pub fn snapshot(&self) -> FaultStorage {
        let state = self.0.lock().unwrap().clone();
        FaultStorage(Arc::new(Mutex::new(State {
            fault: None,
            power_lost: false,
            operations: 0,
            ..state
        })))
    }

    /// The files after a crash now, chosen by `seed`: see the module's note.
    pub fn crash(&self, seed: u64) -> FaultStorage {
        let state = self.0.lock().unwrap();
        let mut random = Lcg(seed ^ 0x0C0F_FEE0);
        let mut files = BTreeMap::new();
        // Names: durable ones stay; newer ones may vanish; a rename since the last sync_dir
        // happened or not (the file keeps one of its two names, never none).
        let renamed: BTreeMap<&String, &String> =
            state.renames.iter().map(|(from, to)| (to, from)).collect();
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for name in state.files.keys() {
            if let Some(from) = renamed.get(name) {
                let kept = if random.below(0, 2) == 0 { name } else { *from };
                names.insert(name.clone(), kept.clone());
            } else if state.durable_names.contains(name) || random.below(0, 2) == 0 {
                names.insert(name.clone(), name.clone());
            }
        }
        for (name, file) in &state.files {
            let Some(kept_as) = names.get(name) else {
                continue;
            };
            let mut content = file.durable.clone();
            let mut pending = file.pending.clone();
            // Reorder: a random permutation of the unsynced operations.
            for index in (1..pending.len()).rev() {
                let other = random.below(0, index as u64 + 1) as usize;
                pending.swap(index, other);
            }
            for operation in pending {
                match (operation, random.below(0, 3)) {
                    (_, 0) => {}
                    (Pending::Truncate { len }, _) => content.truncate(len as usize),
                    (Pending::Write { offset, bytes }, 1) => {
                        write_into(&mut content, offset, &bytes)
                    }
                    (Pending::Write { offset, bytes }, _) => {
                        if random.below(0, 2) == 0 {
                            let keep = random.below(0, bytes.len() as u64 + 1) as usize;
                            write_into(&mut content, offset, &bytes[..keep]);
                        } else {
                            for (sector, chunk) in bytes.chunks(512).enumerate() {
                                if random.below(0, 2) == 0 {
                                    write_into(&mut content, offset + 512 * sector as u64, chunk);
                                }
                            }
                        }
                    }
                }
            }
            files.insert(
                kept_as.clone(),
                File {
                    current: content.clone(),
                    durable: content,
                    pending: Vec::new(),
                },
            );
        }
        let durable_names = files.keys().cloned().collect();
        FaultStorage(Arc::new(Mutex::new(State {
            files,
            durable_names,
            ..State::default()
        })))
    }

    /// Every file's bytes (for byte-for-byte comparisons).
    pub fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.0
            .lock()
            .unwrap()
            .files
            .iter()
            .map(|(name, file)| (name.clone(), file.current.clone()))
            .collect()
    }

    /// Changes a file's bytes in place, durably (a bit flip on the medium).
    pub fn edit(&self, name: &str, edit: impl FnOnce(&mut Vec<u8>)) {
        let mut state = self.0.lock().unwrap();
        let file = state.files.get_mut(name).expect("no such file");
        edit(&mut file.current);
        file.durable = file.current.clone();
        file.pending.clear();
    }

    fn operation(&self) -> io::Result<std::sync::MutexGuard<'_, State>> {
        let mut state = self.0.lock().unwrap();
        if state.power_lost {
            return Err(lost());
        }
        let now = state.operations;
        state.operations += 1;
        if let Some((at, fault)) = state.fault.clone()
            && at == now
        {
            match fault {
                Fault::StorageFull => {
                    state.fault = None;
                    return Err(io::Error::from(io::ErrorKind::StorageFull));
                }
                Fault::PowerLoss => {
                    state.power_lost = true;
                    return Err(lost());
                }
            }
        }
        Ok(state)
    }
}

fn write_into(content: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let end = offset as usize + bytes.len();
    if content.len() < end {
        content.resize(end, 0);
    }
    content[offset as usize..end].copy_from_slice(bytes);
}

fn missing(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{name}: no such file"))
}

impl Storage for FaultStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.0.lock().unwrap().files.keys().cloned().collect())
    }

    fn len(&self, name: &str) -> io::Result<Option<u64>> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .files
            .get(name)
            .map(|file| file.current.len() as u64))
    }

    fn read_at(&self, name: &str, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let state = self.0.lock().unwrap();
        let file = state.files.get(name).ok_or_else(|| missing(name))?;
        let end = offset as usize + buf.len();
        let bytes = file
            .current
            .get(offset as usize..end)
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }

    fn create(&self, name: &str) -> io::Result<()> {
        let mut state = self.operation()?;
        if state.files.contains_key(name) {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        state.files.insert(name.to_owned(), File::default());
        Ok(())
    }

    fn write_at(&self, name: &str, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.operation()?;
        let file = state.files.get_mut(name).ok_or_else(|| missing(name))?;
        write_into(&mut file.current, offset, bytes);
        file.pending.push(Pending::Write {
            offset,
            bytes: bytes.to_vec(),
        });
        Ok(())
    }

    fn sync(&self, name: &str) -> io::Result<()> {
        let mut state = self.operation()?;
        let file = state.files.get_mut(name).ok_or_else(|| missing(name))?;
        file.durable = file.current.clone();
        file.pending.clear();
        Ok(())
    }

    fn sync_dir(&self) -> io::Result<()> {
        let mut state = self.operation()?;
        state.durable_names = state.files.keys().cloned().collect();
        state.renames.clear();
        Ok(())
    }

    fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        let mut state = self.operation()?;
        let file = state.files.get_mut(name).ok_or_else(|| missing(name))?;
        file.current.truncate(len as usize);
        file.pending.push(Pending::Truncate { len });
        Ok(())
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut state = self.operation()?;
        let file = state.files.remove(from).ok_or_else(|| missing(from))?;
        state.files.insert(to.to_owned(), file);
        let was_durable = state.durable_names.remove(from);
        if was_durable {
            state.renames.push((from.to_owned(), to.to_owned()));
        }
        Ok(())
    }
}
