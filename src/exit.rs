//! Exit codes and the error type that carries one to `main`.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the runbook raised an error (nothing the chain refused) |
//! | 2 | usage, parse or static-check error; bad input refused before anything was sent |
//! | 3 | chain or transaction failure |
//! | 4 | refused by a safety guard (e.g. mainnet without `--yes`) |
//! | 5 | partial failure the runbook did not handle (transactions failed or expired, users unserved) |
//! | 74 | a file could not be written (journal, chain database, log, lock, state) |
//! | 75 | another invocation holds the lock (still running after `--lock-timeout`) |
//! | 130 | interrupted (SIGINT/SIGTERM) |

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    RunbookError = 1,
    Usage = 2,
    Chain = 3,
    Refused = 4,
    Partial = 5,
    Storage = 74,
    Locked = 75,
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error already worded for the operator, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub code: ExitCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitCode::Usage, message)
    }
}
