//! sanctions-ledger: an append-only, BLAKE3 hash-chained ledger of sanctions events.
//!
//! Layers, each using only those above it in this list (see ARCHITECTURE.md):
//! `limits`, `domain` (pure events), `ledger` (encoding, chain, store, verification),
//! `intake` (untrusted JSON into events), `cli` (presentation), `server` (presentation over
//! HTTP, sharing the CLI's questions and JSON shapes).

pub mod cli;
pub mod domain;
pub mod import;
pub mod intake;
pub mod ledger;
pub mod limits;
pub mod mirror;
pub mod projection;
pub mod proof;
pub mod query;
pub mod schemas;
pub mod server;
pub mod synth;
