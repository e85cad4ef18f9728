//! The log as C2SP tlog-tiles, checked by code that is not ours: Cloudflare's `signed_note`
//! verifies the checkpoint's signature and `tlog_tiles` (a port of Go's sumdb/tlog) plans which
//! tiles to fetch, authenticates them against the signed root, and proves every entry's
//! inclusion and the consistency of two checkpoints, over loopback HTTP from two servers: the
//! ledger's own `serve`, and Python's plain `http.server` over the folder `tiles` wrote. Python's
//! `hashlib` recomputes the root from the folder (tests/tiles/tree_root.py). The folder brought
//! up to date incrementally holds exactly what a fresh one holds, plus the older partial tiles.

mod common;
mod serving;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sanctions_ledger::ledger::Ledger;
use sanctions_ledger::ledger::checkpoint::SignerKey;
use sanctions_ledger::server::ServerLimits;
use serving::Served;
use signed_note::{Note, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Tile, TileHashReader, TileReader};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sanctions-ledger"))
}

fn run(args: &[&str]) -> String {
    let output = binary().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// GETs a URL with ureq (no code of ours on the client side).
fn get(url: &str) -> Option<Vec<u8>> {
    let mut response = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    match response.status().as_u16() {
        200 => Some(
            response
                .body_mut()
                .with_config()
                .limit(32 << 20)
                .read_to_vec()
                .unwrap(),
        ),
        404 => None,
        status => panic!("{url}: HTTP {status}"),
    }
}

/// `tlog_tiles`'s tile reader over a C2SP tiles URL. tlog_tiles names tiles as Go's sumdb
/// does, `tile/8/<L>/<N>`, with the height in the path; C2SP fixes the height at 8 and drops it.
struct HttpTiles {
    base: String,
}

impl TileReader for HttpTiles {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|tile| {
                let path = tile.path().replacen("tile/8/", "tile/", 1);
                get(&format!("{}/{path}", self.base)).ok_or(tlog_tiles::Error::InvalidTile)
            })
            .collect()
    }
    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

/// The checkpoint at `base`, its signature checked by `signed_note` with the operator's key.
fn checkpoint_at(base: &str, vkey: &str) -> Checkpoint {
    let text = get(&format!("{base}/checkpoint")).expect("a checkpoint");
    checkpoint_of(&text, vkey)
}

fn checkpoint_of(text: &[u8], vkey: &str) -> Checkpoint {
    let note = Note::from_bytes(text).expect("a signed note");
    let verifier = StandardVerifier::new(vkey).expect("the operator's key");
    let (verified, _) = note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .expect("signed by the operator's key");
    assert_eq!(verified.len(), 1);
    let checkpoint = Checkpoint::from_bytes(note.text()).expect("a C2SP checkpoint");
    assert!(checkpoint.origin().starts_with("sanctions-ledger/v2/"));
    checkpoint
}

/// Every entry of the tree at `base`, from its entry bundles (u16 length, bytes).
fn entries(base: &str, size: u64) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    for index in 0..size.div_ceil(256) {
        let width = (size - index * 256).min(256);
        let mut path = format!("tile/entries/{}", index_path(index));
        if width < 256 {
            path.push_str(&format!(".p/{width}"));
        }
        let bundle = get(&format!("{base}/{path}")).expect("an entry bundle");
        let mut rest = bundle.as_slice();
        while !rest.is_empty() {
            let length = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            all.push(rest[2..2 + length].to_vec());
            rest = &rest[2 + length..];
        }
    }
    assert_eq!(all.len() as u64, size);
    all
}

fn index_path(index: u64) -> String {
    let mut text = format!("{:03}", index % 1000);
    let mut rest = index / 1000;
    while rest > 0 {
        text = format!("x{:03}/{text}", rest % 1000);
        rest /= 1000;
    }
    text
}

/// Checks, with tlog_tiles alone, every entry's inclusion in the tree at `base`, and that the
/// tree of `older` is a prefix of it.
fn check_with_tlog_tiles(base: &str, vkey: &str, older: &Checkpoint) -> u64 {
    let checkpoint = checkpoint_at(base, vkey);
    let (size, root) = (checkpoint.size(), *checkpoint.hash());
    let reader = HttpTiles {
        base: base.to_owned(),
    };
    let hashes = TileHashReader::new(size, root, &reader);
    assert_eq!(tlog_tiles::tree_hash(size, &hashes).unwrap(), root);
    for (index, entry) in entries(base, size).iter().enumerate() {
        let leaf = tlog_tiles::record_hash(entry);
        let proof = tlog_tiles::prove_record(size, index as u64, &hashes).unwrap();
        tlog_tiles::check_record(&proof, size, root, index as u64, leaf)
            .unwrap_or_else(|error| panic!("entry {index}: {error:?}"));
        // A neighbour's entry is not proven at this index.
        if index > 0 {
            let other = tlog_tiles::record_hash(&entry[1..]);
            assert!(tlog_tiles::check_record(&proof, size, root, index as u64, other).is_err());
        }
    }
    let proof = tlog_tiles::prove_tree(size, older.size(), &hashes).unwrap();
    tlog_tiles::check_tree(&proof, size, root, older.size(), *older.hash()).unwrap();
    let mut wrong = *older.hash();
    wrong.0[0] ^= 1;
    assert!(tlog_tiles::check_tree(&proof, size, root, older.size(), wrong).is_err());
    // The older tree's own tiles (partial ones of its width) are still served.
    let old_hashes = TileHashReader::new(older.size(), *older.hash(), &reader);
    let proof = tlog_tiles::prove_record(older.size(), 5, &old_hashes).unwrap();
    let entry = &entries(base, older.size())[5];
    tlog_tiles::check_record(
        &proof,
        older.size(),
        *older.hash(),
        5,
        tlog_tiles::record_hash(entry),
    )
    .unwrap();
    size
}

/// Python's `http.server` over a folder, on a free loopback port.
struct StaticServer {
    child: Child,
    base: String,
}

impl StaticServer {
    fn start(folder: &Path) -> StaticServer {
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
            .current_dir(folder)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let port: u16 = line
            .split(" port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("http.server said: {line}"));
        StaticServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

#[test]
fn tlog_tiles_and_signed_note_verify_the_served_and_the_static_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let ledger_arg = ledger.to_str().unwrap();
    run(&["gen", "--events", "520", "--seed", "3", ledger_arg]);
    let key_prefix = dir.path().join("ops");
    run(&[
        "keygen",
        "--name",
        "ops.example/log",
        "--out",
        key_prefix.to_str().unwrap(),
    ]);
    let key = PathBuf::from(format!("{}.key", key_prefix.display()));
    let vkey = std::fs::read_to_string(format!("{}.pub", key_prefix.display()))
        .unwrap()
        .trim()
        .to_owned();
    let tiles = dir.path().join("tiles");
    let tiles_arg = tiles.to_str().unwrap();
    run(&[
        "--ledger",
        ledger_arg,
        "checkpoint",
        "--key",
        key.to_str().unwrap(),
    ]);
    let first: serde_json::Value = serde_json::from_str(&run(&[
        "--ledger", ledger_arg, "tiles", "--out", tiles_arg, "--json",
    ]))
    .unwrap();
    let older_size = first["size"].as_u64().unwrap();
    assert!(
        older_size > 256,
        "full tiles and a level-1 tile are exercised"
    );
    let older = checkpoint_of(&std::fs::read(tiles.join("checkpoint")).unwrap(), &vkey);

    // The log grows; the folder is brought up to date.
    serving::append_designations(&mut Ledger::open(&ledger).unwrap(), "interop", 300);
    run(&[
        "--ledger",
        ledger_arg,
        "checkpoint",
        "--key",
        key.to_str().unwrap(),
    ]);
    let second: serde_json::Value = serde_json::from_str(&run(&[
        "--ledger", ledger_arg, "tiles", "--out", tiles_arg, "--json",
    ]))
    .unwrap();
    assert_eq!(second["previous_size"].as_u64(), Some(older_size));
    let size = second["size"].as_u64().unwrap();
    assert_eq!(size, older_size + 300);
    // Only new tiles were written: entries and level 0 from tile 2 on (full 002, partial
    // 003.p/52), level 1's partial 000.p/3; tiles 000 and 001 (full at 520) were not touched.
    assert_eq!(second["entry_bundles"].as_u64(), Some(2), "{second}");
    assert_eq!(second["hash_tiles"].as_u64(), Some(3), "{second}");
    assert_eq!(second["unchanged"].as_u64(), Some(0), "{second}");
    // A fresh folder holds the same files, except the older checkpoint's partial tiles.
    let fresh = dir.path().join("fresh");
    run(&[
        "--ledger",
        ledger_arg,
        "tiles",
        "--out",
        fresh.to_str().unwrap(),
    ]);
    let (incremental, fresh) = (files(&tiles), files(&fresh));
    for (name, bytes) in &fresh {
        assert_eq!(incremental.get(name), Some(bytes), "{name}");
    }
    let extra: Vec<&String> = incremental
        .keys()
        .filter(|name| !fresh.contains_key(*name))
        .collect();
    assert!(!extra.is_empty());
    for name in extra {
        assert!(
            name.contains(".p/"),
            "only older partial tiles are extra: {name}"
        );
    }
    // Running again changes nothing.
    let again: serde_json::Value = serde_json::from_str(&run(&[
        "--ledger", ledger_arg, "tiles", "--out", tiles_arg, "--json",
    ]))
    .unwrap();
    assert_eq!(again["hash_tiles"].as_u64(), Some(0));
    assert_eq!(again["entry_bundles"].as_u64(), Some(0));

    // Python's hashlib, from the folder alone.
    let python = tree_root(&tiles);
    assert!(
        python.status.success(),
        "{}{}",
        String::from_utf8_lossy(&python.stdout),
        String::from_utf8_lossy(&python.stderr)
    );
    assert!(String::from_utf8_lossy(&python.stdout).contains(&format!("OK {size}")));
    // And it notices a changed entry.
    let damaged = dir.path().join("damaged");
    copy_tree(&tiles, &damaged);
    let bundle = damaged.join("tile/entries/000");
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[40] ^= 1;
    std::fs::write(&bundle, bytes).unwrap();
    let python = tree_root(&damaged);
    assert!(!python.status.success());
    // `tiles --check` (tiles are derived data: checked against the ledger) passes on the
    // folder and names the changed bundle in the copy.
    let checked: serde_json::Value = serde_json::from_str(&run(&[
        "--ledger", ledger_arg, "tiles", "--out", tiles_arg, "--check", "--json",
    ]))
    .unwrap();
    assert_eq!(checked["ok"], true, "{checked}");
    assert_eq!(checked["tiles"].as_u64(), Some(9), "{checked}");
    let output = binary()
        .args([
            "--ledger",
            ledger_arg,
            "tiles",
            "--out",
            damaged.to_str().unwrap(),
            "--check",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let checked: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        checked["wrong"],
        serde_json::json!(["tile/entries/000: other bytes than the ledger's"])
    );

    // The static folder over plain HTTP.
    let static_server = StaticServer::start(&tiles);
    assert_eq!(
        check_with_tlog_tiles(&static_server.base, &vkey, &older),
        size
    );
    // The ledger's own server, the same paths.
    let served = Served::start(&ledger, ServerLimits::default(), None);
    assert_eq!(check_with_tlog_tiles(&served.base, &vkey, &older), size);
    for path in [
        "checkpoint",
        "genesis",
        "tile/0/000",
        "tile/1/000.p/3",
        "tile/entries/003.p/52",
    ] {
        assert_eq!(
            get(&format!("{}/{path}", served.base)),
            get(&format!("{}/{path}", static_server.base)),
            "{path}"
        );
    }
    served.stop();
}

/// tests/tiles/tree_root.py over a folder.
fn tree_root(folder: &Path) -> std::process::Output {
    Command::new("python3")
        .arg("tests/tiles/tree_root.py")
        .arg(folder)
        .output()
        .unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    for (name, bytes) in files(from) {
        let path = to.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn a_checkpoint_key_named_as_its_origin_verifies_with_signed_note() {
    // C2SP: a checkpoint's key name SHOULD be its origin. `keygen --for-ledger` names it so.
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let ledger_arg = ledger.to_str().unwrap();
    run(&["gen", "--events", "20", ledger_arg]);
    let prefix = dir.path().join("log");
    let made: serde_json::Value = serde_json::from_str(&run(&[
        "--ledger",
        ledger_arg,
        "keygen",
        "--for-ledger",
        "--out",
        prefix.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    let name = made["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("sanctions-ledger/v2/"), "{made}");
    let key = format!("{}.key", prefix.display());
    run(&["--ledger", ledger_arg, "checkpoint", "--key", &key]);
    let tiles = dir.path().join("tiles");
    run(&[
        "--ledger",
        ledger_arg,
        "tiles",
        "--out",
        tiles.to_str().unwrap(),
    ]);
    let vkey = std::fs::read_to_string(format!("{}.pub", prefix.display())).unwrap();
    let checkpoint = checkpoint_of(
        &std::fs::read(tiles.join("checkpoint")).unwrap(),
        vkey.trim(),
    );
    assert_eq!(checkpoint.origin(), name);
    let signer = SignerKey::parse(std::fs::read_to_string(&key).unwrap().trim()).unwrap();
    assert_eq!(
        signer.verifier().text().split('+').next(),
        Some(name.as_str())
    );
}
