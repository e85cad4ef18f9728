//! Hostile and broken input: clear errors, no panic, bounded time and memory, nothing appended.
//! (Byte-level cases through the binary are in tests/cli.rs; limits in tests/limits.rs.)

mod common;

use sanctions_ledger::intake::{InputFormat, read_batch};
use sanctions_ledger::limits;
use std::io::Read;

/// An endless-looking input: valid event lines, `total_bytes` of them, produced on demand and
/// counting how many bytes the reader actually consumed.
struct ValidLines {
    total_bytes: u64,
    produced: u64,
    line: Vec<u8>,
    offset: usize,
    index: u64,
}

impl Read for ValidLines {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.produced >= self.total_bytes {
            return Ok(0);
        }
        if self.offset == self.line.len() {
            self.index += 1;
            self.line = format!(
                "{{\"kind\":\"statement\",\"id\":\"s-{}\",\"effective_on\":\"2021-03-22\",\"sources\":[{{\"publisher\":\"P\",\"title\":\"T\",\"url\":\"https://example.org/\"}}],\"speaker\":\"S\",\"text\":\"Words.\"}}\n",
                self.index
            )
            .into_bytes();
            self.offset = 0;
        }
        let count = buffer.len().min(self.line.len() - self.offset);
        buffer[..count].copy_from_slice(&self.line[self.offset..self.offset + count]);
        self.offset += count;
        self.produced += count as u64;
        Ok(count)
    }
}

#[test]
fn a_gigabyte_of_valid_lines_is_refused_after_a_bounded_read() {
    let mut input = ValidLines {
        total_bytes: 1 << 30,
        produced: 0,
        line: Vec::new(),
        offset: 0,
        index: 0,
    };
    let problems = read_batch(
        std::io::BufReader::new(&mut input),
        "huge.jsonl",
        InputFormat::JsonLines,
    )
    .err()
    .expect("refused");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, Some(limits::BATCH_EVENTS_MAX as u64 + 1));
    assert!(
        problems[0]
            .reason
            .starts_with("more than 10000 events; split the input into batches"),
        "{}",
        problems[0].reason
    );
    // It stopped reading after the first batch's worth: memory stayed bounded by the batch limit.
    assert!(
        input.produced < 4 * 1024 * 1024,
        "read {} bytes of a 1 GiB input",
        input.produced
    );
}

#[test]
fn a_hundred_megabyte_string_through_the_binary_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        common::run_cli(dir.path(), &["init", "ledger"], None)
            .status
            .code(),
        Some(0)
    );
    let mut input = b"{\"kind\":\"statement\",\"id\":\"s\",\"text\":\"".to_vec();
    input.resize(100 * 1024 * 1024, b'a');
    let output = common::run_cli(dir.path(), &["append"], Some(&input));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        common::stderr(&output).contains("<stdin>:1: line longer than 262144 bytes"),
        "{}",
        common::stderr(&output)
    );
    let head = common::run_cli(dir.path(), &["--json", "head"], None);
    assert!(common::stdout(&head).contains("\"sequence\":0"));
}

#[test]
fn a_single_json_document_is_bounded_too() {
    let mut input = b"{\"kind\":\"statement\",\"text\":\"".to_vec();
    input.resize(limits::LINE_BYTES_MAX + 1, b'a');
    let problems = read_batch(&input[..], "one.json", InputFormat::Json)
        .err()
        .unwrap();
    assert_eq!(
        problems[0].reason,
        "larger than 262144 bytes; split it into JSON Lines"
    );
}

/// A valid checkpoint, inclusion proof and bundle of a small ledger, and the key that signed
/// them: material for the mutations below.
fn signed_material() -> (
    sanctions_ledger::ledger::checkpoint::VerifierKey,
    Vec<u8>,
    Vec<u8>,
    Vec<u8>,
) {
    use sanctions_ledger::ledger::Ledger;
    use sanctions_ledger::ledger::checkpoint::SignerKey;
    let ledger = common::ledger_with(9, 9);
    let signer = SignerKey::generate("hostile").unwrap();
    let mut opened = Ledger::open(&ledger.path).unwrap();
    let (_, checkpoint) = opened.checkpoint(&signer, &common::clock(0)).unwrap();
    let proof = sanctions_ledger::proof::prove_inclusion(&opened, 4, &checkpoint).unwrap();
    let mut bundle = Vec::new();
    opened
        .export(&mut bundle, &checkpoint, 1, &mut |_| {})
        .unwrap();
    (
        signer.verifier(),
        checkpoint.text().into_bytes(),
        serde_json::to_vec(&proof).unwrap(),
        bundle,
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    /// Arbitrary bytes, and valid documents cut, spliced and overwritten at random, get an error
    /// from the checkpoint, proof and bundle readers: never a panic, never acceptance.
    #[test]
    fn the_auditors_readers_refuse_mangled_input_without_panicking(
        noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        cut in proptest::prelude::any::<proptest::sample::Index>(),
        at in proptest::prelude::any::<proptest::sample::Index>(),
    ) {
        use sanctions_ledger::ledger::{bundle, checkpoint::SignedCheckpoint};
        thread_local! {
            static MATERIAL: (
                sanctions_ledger::ledger::checkpoint::VerifierKey, Vec<u8>, Vec<u8>, Vec<u8>,
            ) = signed_material();
        }
        MATERIAL.with(|(key, checkpoint, proof, bundle_bytes)| {
            for valid in [checkpoint, proof, bundle_bytes] {
                let mut mangled = valid[..cut.index(valid.len())].to_vec();
                mangled.extend_from_slice(&noise);
                if !noise.is_empty() {
                    let offset = at.index(valid.len());
                    let mut overwritten = valid.clone();
                    let end = (offset + noise.len()).min(valid.len());
                    overwritten[offset..end].copy_from_slice(&noise[..end - offset]);
                    let changed = overwritten != *valid;
                    for candidate in [&mangled, &overwritten, &noise] {
                        let accepted = SignedCheckpoint::open(candidate, key).is_ok()
                            || sanctions_ledger::proof::verify_document(candidate, key).is_ok()
                            || bundle::read(candidate.as_slice(), key, &mut |_| Ok(())).is_ok();
                        if candidate == &overwritten && !changed {
                            continue;
                        }
                        assert!(!accepted, "mangled input was accepted");
                    }
                }
            }
        });
    }
}
