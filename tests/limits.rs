//! Every bound on outside data, tested at the bound and one past it.

mod common;

use sanctions_ledger::intake::{InputFormat, event_from_json, read_batch};
use sanctions_ledger::ledger::record::encode_event;
use sanctions_ledger::ledger::{Ledger, LedgerError};
use sanctions_ledger::limits;
use serde_json::{Value, json};

fn statement(id: &str, text: &str) -> Value {
    json!({"kind": "statement", "id": id, "effective_on": "2021-03-22", "sources": [common::source()],
           "speaker": "Speaker", "text": text})
}

fn jsonl(count: usize) -> String {
    (0..count)
        .map(|index| format!("{}\n", statement(&format!("s-{index}"), "Words.")))
        .collect()
}

#[test]
fn batch_size_at_and_past_the_limit() {
    let at_limit = read_batch(
        jsonl(limits::BATCH_EVENTS_MAX).as_bytes(),
        "at",
        InputFormat::JsonLines,
    )
    .expect("at the limit");
    assert_eq!(at_limit.events.len(), limits::BATCH_EVENTS_MAX);
    let past = read_batch(
        jsonl(limits::BATCH_EVENTS_MAX + 1).as_bytes(),
        "past",
        InputFormat::JsonLines,
    )
    .err()
    .expect("past the limit");
    assert_eq!(past.len(), 1);
    assert_eq!(past[0].line, Some(limits::BATCH_EVENTS_MAX as u64 + 1));
    assert!(
        past[0].reason.starts_with("more than 10000 events"),
        "{}",
        past[0].reason
    );

    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&dir.path().join("ledger"), "limits", &common::clock(0)).unwrap();
    let mut events = at_limit.events;
    ledger
        .append(&events, &common::options(), &common::clock(1))
        .expect("a full batch appends");
    assert_eq!(ledger.head().sequence, limits::BATCH_EVENTS_MAX as u64);
    events.push(common::event(statement("one-more", "Words.")));
    match ledger.append(&events, &common::options(), &common::clock(2)) {
        Err(LedgerError::BatchTooLarge { count, max }) => assert_eq!(
            (count, max),
            (limits::BATCH_EVENTS_MAX + 1, limits::BATCH_EVENTS_MAX)
        ),
        other => panic!("expected BatchTooLarge, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn line_length_at_and_past_the_limit() {
    // A line of exactly LINE_BYTES_MAX bytes (plus its newline) is read; it fails for its text
    // length, not its line length. One byte more is refused as too long.
    let line_of = |bytes: usize| {
        let empty = statement("s", "").to_string();
        let filler = "x".repeat(bytes - empty.len());
        let line = statement("s", &filler).to_string();
        assert_eq!(line.len(), bytes);
        format!("{line}\n")
    };
    let at = read_batch(
        line_of(limits::LINE_BYTES_MAX).as_bytes(),
        "at",
        InputFormat::JsonLines,
    )
    .err()
    .unwrap();
    assert!(
        at.iter()
            .all(|problem| !problem.reason.contains("line longer")),
        "{at:?}"
    );
    assert_eq!(at[0].pointer, "/text");
    let past = read_batch(
        line_of(limits::LINE_BYTES_MAX + 1).as_bytes(),
        "past",
        InputFormat::JsonLines,
    )
    .err()
    .unwrap();
    assert!(
        past[0].reason.starts_with("line longer than 262144 bytes"),
        "{past:?}"
    );
}

#[test]
fn a_huge_input_is_refused_after_reading_a_bounded_amount() {
    // 100 MB of one string on one line: refused after LINE_BYTES_MAX + 1 bytes.
    let huge = std::io::repeat(b'a').take_bounded(100_000_000);
    let problems = read_batch(
        std::io::BufReader::new(huge),
        "huge",
        InputFormat::JsonLines,
    )
    .err()
    .unwrap();
    assert!(
        problems[0].reason.starts_with("line longer than"),
        "{problems:?}"
    );
}

trait TakeBounded: std::io::Read + Sized {
    fn take_bounded(self, bytes: u64) -> std::io::Take<Self> {
        std::io::Read::take(self, bytes)
    }
}
impl<R: std::io::Read> TakeBounded for R {}

#[test]
fn text_length_at_and_past_the_limit() {
    let at = "x".repeat(limits::TEXT_CHARS_MAX);
    assert!(event_from_json(&statement("s", &at)).is_ok());
    let past = "x".repeat(limits::TEXT_CHARS_MAX + 1);
    let problems = event_from_json(&statement("s", &past)).unwrap_err();
    assert_eq!(problems[0].pointer, "/text");
    assert_eq!(
        problems[0].reason,
        "a text that is 20001 characters long; at most 20000 are allowed"
    );
}

#[test]
fn event_bytes_at_and_past_the_limit() {
    // Find the statement text that makes the encoded event exactly EVENT_BYTES_MAX bytes:
    // the text's bytes grow the encoding one for one (its length prefix keeps its size here).
    let encoded_len =
        |text: &str| encode_event(&common::event(statement("s", text))).map(|b| b.len());
    let base = encoded_len(&"中".repeat(1000)).unwrap() - 3000;
    let text_bytes = limits::EVENT_BYTES_MAX - base;
    let text = format!(
        "{}{}",
        "中".repeat(text_bytes / 3),
        "x".repeat(text_bytes % 3)
    );
    assert_eq!(encoded_len(&text), Ok(limits::EVENT_BYTES_MAX));
    let past = format!("{text}x");
    let error = encoded_len(&past).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{} bytes; at most {} are allowed",
            limits::EVENT_BYTES_MAX + 1,
            limits::EVENT_BYTES_MAX
        )
    );
    // The ledger refuses it with the event's position and appends nothing.
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&dir.path().join("ledger"), "limits", &common::clock(0)).unwrap();
    let events = vec![
        common::event(statement("ok", "fine")),
        common::event(statement("big", &past)),
    ];
    match ledger.append(&events, &common::options(), &common::clock(1)) {
        Err(LedgerError::Encoding { index, .. }) => assert_eq!(index, 1),
        other => panic!("expected an encoding error, got {:?}", other.map(|_| ())),
    }
    assert_eq!(ledger.head().sequence, 0);
    ledger
        .append(
            &[common::event(statement("s", &text))],
            &common::options(),
            &common::clock(1),
        )
        .expect("at the limit");
}

fn designation_with(subjects: usize, sources: usize) -> Value {
    let subjects: Vec<Value> = (0..subjects)
        .map(|i| json!({"id": format!("s{i}"), "kind": "person", "names": [format!("N{i}")]}))
        .collect();
    json!({"kind": "designation", "id": "d", "effective_on": "2021-03-22", "sources": vec![common::source(); sources],
           "authority": "A", "programme": "P", "legal_basis": ["L"], "subjects": subjects, "measures": ["asset_freeze"]})
}

#[test]
fn list_counts_at_and_past_their_limits() {
    assert!(
        event_from_json(&designation_with(
            limits::SUBJECTS_PER_EVENT_MAX,
            limits::SOURCES_PER_EVENT_MAX
        ))
        .is_ok()
    );
    let problems = event_from_json(&designation_with(
        limits::SUBJECTS_PER_EVENT_MAX + 1,
        limits::SOURCES_PER_EVENT_MAX + 1,
    ))
    .unwrap_err();
    let found: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.pointer.as_str(), p.reason.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("/sources", "has 33 items; at most 32 are allowed"),
            ("/subjects", "has 501 items; at most 500 are allowed")
        ]
    );
}

#[test]
fn operator_and_origin_names_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let at = "o".repeat(limits::ORIGIN_BYTES_MAX);
    assert!(Ledger::init(&dir.path().join("a"), &at, &common::clock(0)).is_ok());
    assert!(matches!(
        Ledger::init(&dir.path().join("b"), &format!("{at}o"), &common::clock(0)),
        Err(LedgerError::InvalidOrigin { .. })
    ));
    let mut ledger = Ledger::open(&dir.path().join("a")).unwrap();
    let events = [common::event(statement("s", "Words."))];
    let mut options = common::options();
    options.appended_by = "p".repeat(limits::OPERATOR_BYTES_MAX + 1);
    assert!(matches!(
        ledger.append(&events, &options, &common::clock(1)),
        Err(LedgerError::InvalidOperator { .. })
    ));
    options.appended_by = "p".repeat(limits::OPERATOR_BYTES_MAX);
    assert!(ledger.append(&events, &options, &common::clock(1)).is_ok());
}

#[test]
fn key_names_checkpoints_and_proofs_are_bounded() {
    use sanctions_ledger::ledger::checkpoint::{CheckpointError, SignedCheckpoint, SignerKey};
    let name = "k".repeat(limits::KEY_NAME_BYTES_MAX);
    assert!(SignerKey::generate(&name).is_ok());
    assert!(SignerKey::generate(&format!("{name}k")).is_err());

    // Signature lines: up to the limit parse, one more is refused.
    let ledger = common::ledger_with(3, 3);
    let signer = SignerKey::generate("ops").unwrap();
    let (_, signed) = Ledger::open(&ledger.path)
        .unwrap()
        .checkpoint(&signer, &common::clock(0))
        .unwrap();
    let text = signed.text();
    let line = text.lines().last().unwrap().to_owned() + "\n";
    let with = |count: usize| format!("{text}{}", line.repeat(count - 1));
    let at = with(limits::CHECKPOINT_SIGNATURES_MAX);
    assert!(at.len() <= limits::CHECKPOINT_BYTES_MAX);
    assert_eq!(
        SignedCheckpoint::parse(at.as_bytes())
            .unwrap()
            .signatures
            .len(),
        limits::CHECKPOINT_SIGNATURES_MAX
    );
    assert!(matches!(
        SignedCheckpoint::parse(with(limits::CHECKPOINT_SIGNATURES_MAX + 1).as_bytes()),
        Err(CheckpointError::Malformed { .. })
    ));
    // Size: at the limit the text is read (and found malformed); past it, refused unread.
    let padded = |size: usize| format!("{text}{}", "x".repeat(size - text.len()));
    assert!(matches!(
        SignedCheckpoint::parse(padded(limits::CHECKPOINT_BYTES_MAX).as_bytes()),
        Err(CheckpointError::Malformed { .. })
    ));
    assert!(matches!(
        SignedCheckpoint::parse(padded(limits::CHECKPOINT_BYTES_MAX + 1).as_bytes()),
        Err(CheckpointError::TooLarge { .. })
    ));

    // Proof documents.
    let verifier = signer.verifier();
    let at = " ".repeat(limits::PROOF_BYTES_MAX);
    let error = sanctions_ledger::proof::verify_document(at.as_bytes(), &verifier)
        .unwrap_err()
        .to_string();
    assert!(!error.contains("at most"), "{error}");
    let past = " ".repeat(limits::PROOF_BYTES_MAX + 1);
    let error = sanctions_ledger::proof::verify_document(past.as_bytes(), &verifier)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("at most {}", limits::PROOF_BYTES_MAX)),
        "{error}"
    );

    // Key files given to the CLI.
    let dir = ledger.dir.path();
    let key_text = verifier.text();
    std::fs::write(
        dir.join("at.pub"),
        format!(
            "{key_text}{}",
            "\n".repeat(limits::KEY_FILE_BYTES_MAX - key_text.len())
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("past.pub"),
        format!(
            "{key_text}{}",
            "\n".repeat(limits::KEY_FILE_BYTES_MAX + 1 - key_text.len())
        ),
    )
    .unwrap();
    std::fs::write(dir.join("cp"), &text).unwrap();
    let at = common::run_cli(
        dir,
        &["verify", "--checkpoint", "cp", "--key", "at.pub"],
        None,
    );
    assert_eq!(at.status.code(), Some(0), "{}", common::stderr(&at));
    let past = common::run_cli(
        dir,
        &["verify", "--checkpoint", "cp", "--key", "past.pub"],
        None,
    );
    assert_eq!(past.status.code(), Some(2));
    assert!(common::stderr(&past).contains(&format!("at most {}", limits::KEY_FILE_BYTES_MAX)));
}
