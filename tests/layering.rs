//! Checks that run as tests: each outside library stays in its one room, and the domain uses
//! nothing else of ours (GUIDE.md, "One direction of data flow").

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files
        .into_iter()
        .map(|path| {
            (
                path.to_string_lossy().replace('\\', "/"),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect()
}

#[test]
fn each_outside_library_stays_in_its_room() {
    let rooms: &[(&str, &[&str])] = &[
        ("sled::", &["src/ledger/store.rs"]),
        ("bincode::", &["src/ledger/encoding.rs"]),
        ("blake3::", &["src/ledger/chain.rs", "src/ledger/merkle.rs"]),
        ("clap::", &["src/cli/"]),
        ("indicatif::", &["src/cli/output.rs"]),
        ("jiff::", &["src/cli/questions.rs"]),
        ("ed25519_dalek::", &["src/ledger/checkpoint.rs"]),
        (
            "rand_core::",
            &["src/ledger/checkpoint.rs", "src/server/tokens.rs"],
        ),
        (
            "sha2::",
            &[
                "src/ledger/checkpoint.rs",
                "src/ledger/chain.rs",
                "src/ledger/merkle.rs",
            ],
        ),
        ("quick_xml::", &["src/import/xml.rs"]),
        ("calamine::", &["src/import/formats.rs"]),
        ("zip::", &["src/import/formats.rs"]),
        ("csv::", &["src/import/formats.rs"]),
        ("encoding_rs::", &["src/import/formats.rs"]),
        (
            "base64::",
            &[
                "src/ledger/checkpoint.rs",
                "src/proof.rs",
                "src/server/tokens.rs",
                "src/server/feed.rs",
                "src/mirror/witness.rs",
            ],
        ),
        // The async runtime and the HTTP stack live in the server layer; the core stays
        // synchronous.
        ("tokio::", &["src/server/"]),
        ("axum::", &["src/server/"]),
        ("hyper::", &["src/server/"]),
        ("hyper_util::", &["src/server/"]),
        ("tower::", &["src/server/"]),
        ("tower_http::", &["src/server/"]),
        ("futures_util::", &["src/server/"]),
        ("subtle::", &["src/server/tokens.rs"]),
        ("ferrous_opencc::", &["src/projection/names.rs"]),
        // The HTTP client of `follow` (blocking, no async runtime) lives in the mirror.
        ("ureq::", &["src/mirror/"]),
    ];
    let files = sources();
    assert!(files.len() > 10, "the scan found the sources");
    for (needle, allowed) in rooms {
        for (path, text) in &files {
            let uses = text
                .lines()
                .any(|line| !line.trim_start().starts_with("//") && line.contains(needle));
            let inside = allowed.iter().any(|room| {
                if room.ends_with('/') {
                    path.starts_with(room)
                } else {
                    path == room
                }
            });
            assert!(
                !uses || inside,
                "{path} names {needle}; only {allowed:?} may"
            );
        }
    }
}

#[test]
fn the_projection_and_query_layers_do_not_name_the_store_library() {
    for (path, text) in sources()
        .iter()
        .filter(|(path, _)| path.starts_with("src/projection/") || path == "src/query.rs")
    {
        let code: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect();
        assert!(
            !code.iter().any(|line| line.contains("crate::cli")),
            "{path} uses the CLI (a higher layer)"
        );
        assert!(
            !code.iter().any(|line| line.contains("sled::")),
            "{path} names sled"
        );
    }
}

#[test]
fn the_domain_uses_nothing_else_of_ours_and_does_no_io() {
    for (path, text) in sources()
        .iter()
        .filter(|(path, _)| path.starts_with("src/domain/"))
    {
        for line in text.lines().filter(|line| line.contains("crate::")) {
            assert!(
                line.contains("crate::limits"),
                "{path}: the domain may use only limits: {line}"
            );
        }
        for forbidden in [
            "std::fs",
            "std::io",
            "std::net",
            "std::time::SystemTime",
            "std::env",
        ] {
            assert!(
                !text.contains(forbidden),
                "{path} does I/O or reads the clock: {forbidden}"
            );
        }
    }
}

#[test]
fn every_file_says_what_it_owns() {
    for (path, text) in sources() {
        assert!(
            text.starts_with("//!"),
            "{path} must open with a //! comment saying what it owns"
        );
    }
}
