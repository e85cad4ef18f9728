//! A tlog witness for the tests, written from the C2SP specs alone (tlog-witness,
//! tlog-cosignature), with no code of the ledger's: a plain HTTP/1.1 server on 127.0.0.1:0 that
//! answers `POST /add-checkpoint`. It checks the log's signature with Cloudflare's
//! `signed_note`, parses the checkpoint and checks the consistency proof with `tlog_tiles`,
//! keeps the latest checkpoint per origin, and cosigns with `cosignature/v1` (ed25519-dalek).
//! Answers: 200 with the cosignature line; 409 with its size when `old` is not it; 422 when the
//! proof does not hold (another history: a fork); 403 for a checkpoint not signed by the log's
//! key; 400 for anything malformed.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer;
use sha2::Digest;

/// The latest (size, root) a witness holds, per origin.
pub type Held = Arc<Mutex<HashMap<String, (u64, [u8; 32])>>>;

/// A running test witness.
pub struct TestWitness {
    /// Its URL.
    pub url: String,
    /// Its public key text: `<name>+<key id>+<base64(0x04 || key)>`.
    pub vkey: String,
    /// The latest (size, root) it holds per origin.
    pub held: Held,
}

struct State {
    name: String,
    key_id: [u8; 4],
    key: ed25519_dalek::SigningKey,
    log_vkey: String,
    held: Held,
}

impl TestWitness {
    /// Starts a witness named `name` that knows one log, by its operator's key text.
    pub fn start(name: &str, seed: u8, log_vkey: &str) -> TestWitness {
        let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let public = key.verifying_key().to_bytes();
        let mut hasher = sha2::Sha256::new();
        hasher.update(name.as_bytes());
        hasher.update(b"\n\x04");
        hasher.update(public);
        let digest = hasher.finalize();
        let key_id = [digest[0], digest[1], digest[2], digest[3]];
        let vkey = format!(
            "{name}+{}+{}",
            key_id
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            STANDARD.encode([&[4u8][..], &public].concat())
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let held = Arc::new(Mutex::new(HashMap::new()));
        let state = Arc::new(State {
            name: name.to_owned(),
            key_id,
            key,
            log_vkey: log_vkey.to_owned(),
            held: Arc::clone(&held),
        });
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&state);
                std::thread::spawn(move || serve(&state, stream));
            }
        });
        TestWitness { url, vkey, held }
    }
}

fn serve(state: &State, stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    let (status, reason, answer) = if request_line.starts_with("POST /add-checkpoint ") {
        add_checkpoint(state, &body)
    } else {
        (404, "Not Found", "no such path\n".to_owned())
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
}

fn add_checkpoint(state: &State, body: &[u8]) -> (u16, &'static str, String) {
    let bad = |why: &str| (400, "Bad Request", format!("{why}\n"));
    let Ok(text) = std::str::from_utf8(body) else {
        return bad("not UTF-8");
    };
    let Some((head, note)) = text.split_once("\n\n") else {
        return bad("no empty line before the checkpoint");
    };
    let mut lines = head.split('\n');
    let Some(old) = lines
        .next()
        .and_then(|line| line.strip_prefix("old "))
        .and_then(|size| size.parse::<u64>().ok())
    else {
        return bad("the first line must be old <size>");
    };
    let mut proof = Vec::new();
    for line in lines {
        match STANDARD
            .decode(line)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        {
            Some(hash) => proof.push(tlog_tiles::Hash(hash)),
            None => return bad("a proof line is not a base64 hash"),
        }
    }
    let Ok(parsed) = signed_note::Note::from_bytes(note.as_bytes()) else {
        return bad("not a signed note");
    };
    let verifier = signed_note::StandardVerifier::new(&state.log_vkey).unwrap();
    if parsed
        .verify(&signed_note::VerifierList::new(vec![Box::new(verifier)]))
        .is_err()
    {
        return (
            403,
            "Forbidden",
            "not signed by a log this witness knows\n".to_owned(),
        );
    }
    let Ok(checkpoint) = tlog_tiles::Checkpoint::from_bytes(parsed.text()) else {
        return bad("not a checkpoint");
    };
    let (size, root) = (checkpoint.size(), checkpoint.hash().0);
    let mut held = state.held.lock().unwrap();
    let (held_size, held_root) = held
        .get(checkpoint.origin())
        .copied()
        .unwrap_or((0, [0; 32]));
    if old != held_size {
        return (409, "Conflict", format!("{held_size}\n"));
    }
    if size < held_size {
        return bad("the checkpoint is smaller than the one held");
    }
    let consistent = if held_size == 0 {
        proof.is_empty()
    } else if size == held_size {
        proof.is_empty() && root == held_root
    } else {
        tlog_tiles::check_tree(
            &proof,
            size,
            tlog_tiles::Hash(root),
            held_size,
            tlog_tiles::Hash(held_root),
        )
        .is_ok()
    };
    if !consistent {
        return (
            422,
            "Unprocessable Entity",
            format!("the proof from size {held_size} does not hold\n"),
        );
    }
    held.insert(checkpoint.origin().to_owned(), (size, root));
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let message = format!(
        "cosignature/v1\ntime {time}\n{}",
        String::from_utf8_lossy(parsed.text())
    );
    let signature = state.key.sign(message.as_bytes());
    let mut line = state.key_id.to_vec();
    line.extend_from_slice(&time.to_be_bytes());
    line.extend_from_slice(&signature.to_bytes());
    (
        200,
        "OK",
        format!("\u{2014} {} {}\n", state.name, STANDARD.encode(line)),
    )
}
