//! Bearer tokens for the server's write routes: created, listed and revoked with `sanctions-ledger
//! token`, kept in the ledger folder's `tokens.json` as their SHA-256 only (the token itself is
//! shown once, when it is created), and checked in constant time. A token's principal is what
//! the records it appends store as their operator (`appended_by`).
//!
//! Owns the token file and its format. Must not: keep a token's text anywhere, or compare a
//! presented token with a branch that depends on how much of it matched.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::domain::Timestamp;
use crate::ledger::chain;
use crate::limits;

/// The token file's name in a ledger folder.
pub const TOKENS_FILE: &str = "tokens.json";
/// What the token file's `format` field says.
const TOKENS_FORMAT: &str = "sanctions-ledger tokens v1";
/// How every token starts (so a leaked one is recognisable).
const TOKEN_PREFIX: &str = "slt_";

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Append events (`POST /v1/events`).
    Append,
    /// Import list snapshots (`POST /v1/imports`).
    Import,
    /// Sign checkpoints (`POST /v1/checkpoints`).
    Checkpoint,
    /// Everything the other scopes allow.
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [
        Scope::Append,
        Scope::Import,
        Scope::Checkpoint,
        Scope::Admin,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Append => "append",
            Scope::Import => "import",
            Scope::Checkpoint => "checkpoint",
            Scope::Admin => "admin",
        }
    }

    /// The scope named `text`.
    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == text)
    }
}

/// One token as the file keeps it.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenEntry {
    /// Its public id (also the token's first part): what `token revoke` names.
    pub id: String,
    /// Who uses it: stored as the operator of every record it appends.
    pub principal: String,
    /// What it may do.
    #[schemars(with = "Vec<String>")]
    pub scopes: Vec<Scope>,
    /// SHA-256 of the token's text, in hex.
    pub sha256: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was revoked (RFC 3339), if it was.
    pub revoked_at: Option<String>,
}

impl TokenEntry {
    /// Whether it allows `scope` (admin allows everything).
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }
}

#[derive(Serialize, Deserialize)]
struct TokensFile {
    format: String,
    tokens: Vec<TokenEntry>,
}

/// A token file problem.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a token file this build reads.
    #[error("{path}: not a token file ({reason}); it is written only by `sanctions-ledger token`")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A request the file cannot take.
    #[error("{0}")]
    Refused(String),
}

/// The outcome of checking a presented token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A live token: its principal and scopes.
    Valid(TokenEntry),
    /// A token that was revoked (and when).
    Revoked(String),
    /// No token has this text.
    Unknown,
}

impl PartialEq for TokenEntry {
    fn eq(&self, other: &TokenEntry) -> bool {
        self.id == other.id
    }
}
impl Eq for TokenEntry {}

/// The token file of the ledger at `ledger`.
pub fn tokens_path(ledger: &Path) -> PathBuf {
    ledger.join(TOKENS_FILE)
}

/// Every token (none when the file does not exist yet).
pub fn load(ledger: &Path) -> Result<Vec<TokenEntry>, TokenError> {
    let path = tokens_path(ledger);
    let io = |source| TokenError::Io {
        path: path.clone(),
        source,
    };
    let bytes = match std::fs::File::open(&path) {
        Ok(file) => {
            let mut bytes = Vec::new();
            use std::io::Read;
            file.take(limits::TOKENS_FILE_BYTES_MAX as u64 + 1)
                .read_to_end(&mut bytes)
                .map_err(io)?;
            bytes
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io(error)),
    };
    let malformed = |reason: String| TokenError::Malformed {
        path: path.clone(),
        reason,
    };
    if bytes.len() > limits::TOKENS_FILE_BYTES_MAX {
        return Err(malformed(format!(
            "larger than {} bytes (TOKENS_FILE_BYTES_MAX)",
            limits::TOKENS_FILE_BYTES_MAX
        )));
    }
    let file: TokensFile =
        serde_json::from_slice(&bytes).map_err(|error| malformed(error.to_string()))?;
    if file.format != TOKENS_FORMAT {
        return Err(malformed(format!(
            "format \"{}\", expected \"{TOKENS_FORMAT}\"",
            file.format
        )));
    }
    Ok(file.tokens)
}

/// Writes the token file whole: a temporary file, synced, renamed over the old one, the folder
/// synced (a crash leaves the old file or the new one, never a mix).
fn store(ledger: &Path, tokens: Vec<TokenEntry>) -> Result<(), TokenError> {
    let path = tokens_path(ledger);
    let temporary = ledger.join(format!("{TOKENS_FILE}.new"));
    let io = |source| TokenError::Io {
        path: path.clone(),
        source,
    };
    let text = serde_json::to_vec_pretty(&TokensFile {
        format: TOKENS_FORMAT.to_owned(),
        tokens,
    })
    .map_err(|error| TokenError::Refused(error.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(io)?;
    file.write_all(&text).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&temporary, &path).map_err(io)?;
    std::fs::File::open(ledger)
        .and_then(|folder| folder.sync_all())
        .map_err(io)
}

/// Creates a token for `principal` with `scopes`: its entry, and its text (shown only now).
pub fn create(
    ledger: &Path,
    principal: &str,
    scopes: &[Scope],
    now: Timestamp,
) -> Result<(TokenEntry, String), TokenError> {
    if !ledger.join("log").is_dir() {
        return Err(TokenError::Refused(format!(
            "{}: no ledger here (tokens belong to a ledger folder)",
            ledger.display()
        )));
    }
    crate::ledger::check_operator_name(principal)
        .map_err(|reason| TokenError::Refused(format!("--name \"{principal}\" {reason}")))?;
    if scopes.is_empty() {
        return Err(TokenError::Refused(
            "give at least one --scope: append, import, checkpoint or admin".to_owned(),
        ));
    }
    let mut tokens = load(ledger)?;
    if tokens.len() >= limits::TOKENS_MAX {
        return Err(TokenError::Refused(format!(
            "the ledger already has {} tokens (TOKENS_MAX); revoked ones count too",
            tokens.len()
        )));
    }
    let mut random = [0u8; 36];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut random);
    let id: String = random[..4]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&random[4..]);
    let text = format!("{TOKEN_PREFIX}{id}_{secret}");
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let entry = TokenEntry {
        id,
        principal: principal.to_owned(),
        scopes,
        sha256: hex(&chain::sha256(text.as_bytes())),
        created_at: now.to_string(),
        revoked_at: None,
    };
    tokens.push(entry.clone());
    store(ledger, tokens)?;
    Ok((entry, text))
}

/// Revokes the token with id `id` (at `now`); revoking twice keeps the first time.
pub fn revoke(ledger: &Path, id: &str, now: Timestamp) -> Result<TokenEntry, TokenError> {
    let mut tokens = load(ledger)?;
    let Some(entry) = tokens.iter_mut().find(|entry| entry.id == id) else {
        return Err(TokenError::Refused(format!(
            "no token with id \"{id}\"; `sanctions-ledger token list` shows them"
        )));
    };
    if entry.revoked_at.is_none() {
        entry.revoked_at = Some(now.to_string());
    }
    let revoked = entry.clone();
    store(ledger, tokens)?;
    Ok(revoked)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The token file as last read, read again whenever it changed (its size, time or inode: a
/// `token create` or `revoke` renames a new file over it), so a revocation holds from the next
/// request without the file being parsed on every one.
#[derive(Default)]
pub struct TokenCache {
    loaded: std::sync::Mutex<Option<(FileStamp, std::sync::Arc<Vec<TokenEntry>>)>>,
}

type FileStamp = (Option<std::time::SystemTime>, u64, u64);

fn stamp(path: &Path) -> Option<FileStamp> {
    let metadata = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Some((metadata.modified().ok(), metadata.len(), inode))
}

impl TokenCache {
    /// The ledger's tokens now.
    pub fn tokens(&self, ledger: &Path) -> Result<std::sync::Arc<Vec<TokenEntry>>, TokenError> {
        let now = stamp(&tokens_path(ledger));
        let mut loaded = self
            .loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let (Some(now), Some((seen, tokens))) = (now, loaded.as_ref())
            && now == *seen
        {
            return Ok(std::sync::Arc::clone(tokens));
        }
        let tokens = std::sync::Arc::new(load(ledger)?);
        *loaded = now.map(|now| (now, std::sync::Arc::clone(&tokens)));
        Ok(tokens)
    }
}

/// Checks a presented token against every entry: the SHA-256 of the text is compared with each
/// stored one in constant time, and every entry is looked at whatever matched.
pub fn check(tokens: &[TokenEntry], presented: &str) -> Check {
    let digest = hex(&chain::sha256(presented.as_bytes()));
    let mut found: Option<&TokenEntry> = None;
    for entry in tokens {
        let same = entry.sha256.as_bytes().ct_eq(digest.as_bytes());
        if bool::from(same) {
            found = Some(entry);
        }
    }
    match found {
        Some(entry) => match &entry.revoked_at {
            Some(time) => Check::Revoked(time.clone()),
            None => Check::Valid(entry.clone()),
        },
        None => Check::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_tokens_check_and_revoked_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("log")).unwrap();
        let now = Timestamp::from_unix_micros(0);
        let (entry, text) = create(dir.path(), "alice", &[Scope::Append], now).unwrap();
        let stored = std::fs::read_to_string(tokens_path(dir.path())).unwrap();
        assert!(!stored.contains(&text), "the token's text is never stored");
        let tokens = load(dir.path()).unwrap();
        assert_eq!(check(&tokens, &text), Check::Valid(entry.clone()));
        assert_eq!(check(&tokens, &format!("{text}x")), Check::Unknown);
        revoke(dir.path(), &entry.id, now).unwrap();
        let tokens = load(dir.path()).unwrap();
        assert!(matches!(check(&tokens, &text), Check::Revoked(_)));
        assert!(create(dir.path(), "bad\u{7}name", &[Scope::Append], now).is_err());
        assert!(create(dir.path(), "bob", &[], now).is_err());
    }
}
