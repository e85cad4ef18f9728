//! The `sanctions-ledger` binary: hands over to the CLI.

fn main() -> std::process::ExitCode {
    sanctions_ledger::cli::run()
}
