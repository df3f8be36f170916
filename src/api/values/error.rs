//! Errors raised by host functions. They carry a kind that decides the exit code, and reach
//! scripts as an `Error` value (`catch (e) { print(e.message) }`).

use rhai::{Dynamic, Engine, EvalAltResult, Position};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input, refused before anything was sent (exit 2).
    Input,
    /// The chain or a transaction failed (exit 3).
    Chain,
    /// A safety guard refused the operation (exit 4).
    Refused,
    /// A file could not be written: the journal, the chain's database, a lock (exit 74).
    Storage,
    /// Another process holds what this one needs past `--lock-timeout` (exit 75).
    Locked,
}

#[derive(Debug, Clone)]
pub struct HostError {
    pub kind: ErrorKind,
    pub message: String,
}

impl HostError {
    pub fn input(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Input, message: message.into() }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Refused, message: message.into() }
    }

    pub fn chain(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Chain, message: message.into() }
    }

    pub fn storage(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Storage, message: message.into() }
    }

    /// A chain error, kept apart when it is a storage failure or a lock held elsewhere.
    pub fn from_chain(err: crate::chain::client::ChainError, what: Option<&str>) -> Self {
        use crate::chain::client::ChainError;
        let message = match what {
            Some(what) => format!("{what}: {err}"),
            None => err.to_string(),
        };
        let kind = match err {
            ChainError::Storage(_) => ErrorKind::Storage,
            ChainError::Locked(_) => ErrorKind::Locked,
            _ => ErrorKind::Chain,
        };
        Self { kind, message }
    }

    /// The exit code an execution that ends with this error has.
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self.kind {
            ErrorKind::Input => ExitCode::Usage,
            ErrorKind::Chain => ExitCode::Chain,
            ErrorKind::Refused => ExitCode::Refused,
            ErrorKind::Storage => ExitCode::Storage,
            ErrorKind::Locked => ExitCode::Locked,
        }
    }

    /// The kind as scripts see it (`e.kind`).
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ErrorKind::Input => "input",
            ErrorKind::Chain => "chain",
            ErrorKind::Refused => "refused",
            ErrorKind::Storage => "storage",
            ErrorKind::Locked => "locked",
        }
    }
}

impl From<HostError> for Box<EvalAltResult> {
    fn from(err: HostError) -> Self {
        // Rhai fills in the call site's position.
        EvalAltResult::ErrorRuntime(Dynamic::from(err), Position::NONE).into()
    }
}

/// The `HostError` inside a Rhai error, if the error came from a host function.
pub fn host_error(err: &EvalAltResult) -> Option<HostError> {
    match err {
        EvalAltResult::ErrorRuntime(value, _) => value.clone().try_cast::<HostError>(),
        _ => None,
    }
}

/// The type and its kind; how scripts read the message is an operation
/// (`ops::runbook::errors`: it redacts the execution's secrets).
pub fn register_types(engine: &mut Engine) {
    engine
        .register_type_with_name::<HostError>("Error")
        .register_get("kind", |e: &mut HostError| e.kind_name().to_string());
}
