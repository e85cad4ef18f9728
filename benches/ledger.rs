//! Benchmarks: see the next commit.
fn main() {}
