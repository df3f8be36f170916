//! psyche-runbook: a runbook engine for operators of Psyche training runs on Solana.
//!
//! Data flows one way: runbook (`engine`) → host functions (`api`) → wire layer (`psyche`) →
//! sending (`chain`). `run` is what `main`, the integration tests and the REPL start from.

pub mod api;
pub mod chain;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod exit;
pub mod files;
pub mod localnet;
pub mod metrics;
pub mod notify;
pub mod psyche;
pub mod rundown;
pub mod secrets;
pub mod squads;
pub mod testing;
pub mod ui;
pub mod watch;

use crate::cli::Cli;
use crate::ui::Log;
use clap::Parser;
use std::ffi::OsString;

/// Parses `args`, runs the command, prints any error once, and returns the exit code.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { exit::ExitCode::Usage.code() } else { 0 };
        }
    };
    let log = Log::new(cli.global.quiet, cli.global.verbose, cli.global.output);
    match commands::dispatch(cli, log.clone()) {
        Ok(code) => code.code(),
        Err(failure) => {
            log.error(&format!("error: {}", failure.message));
            if log.json() {
                // Machine readers still get their one document, saying what went wrong.
                let document = serde_json::json!({
                    "schema_version": commands::run::SCHEMA_VERSION,
                    "ok": false,
                    "exit_code": failure.code.code(),
                    "signatures": [],
                    "error": {"message": failure.message},
                });
                log.document(&document);
            }
            failure.code.code()
        }
    }
}
