//! Anchor's errors as an Anchor program logs them before it fails (anchor-lang's
//! `AnchorError::log`), so clients that parse the logs (Anchor's TypeScript `AnchorError.parse`,
//! explorers, our own `chain` layer) read the localnet's failures as a cluster's. The first
//! line has one of three forms, picked by where the error came from:
//!
//! - `AnchorError occurred. Error Code: <Name>. Error Number: <n>. Error Message: <msg>.` when
//!   it carries no origin (framework checks, custom errors returned with `.into()`);
//! - `AnchorError thrown in <file>:<line>. Error Code: …` for `require!`, `err!` and `error!`
//!   (the file and line are the localnet program's own source);
//! - `AnchorError caused by account: <name>. Error Code: …` for account loading and constraints.
//!
//! Compared values follow: `Left:`, the left pubkey, `Right:`, the right pubkey (each on its own
//! line), or `Left: <value>` and `Right: <value>`.

use anchor_lang::error::ErrorCode;
use solana_sdk::pubkey::Pubkey;
use std::panic::Location;

/// Where an error was raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    None,
    Source { file: &'static str, line: u32 },
    Account(String),
}

/// The two values a failed comparison logs after the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compared {
    Pubkeys(Pubkey, Pubkey),
    Values(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorError {
    pub code: u32,
    pub name: String,
    pub message: String,
    pub origin: Origin,
    pub compared: Option<Compared>,
}

impl AnchorError {
    /// A program's own error (numbered from 6000), with no origin yet.
    pub fn new(code: u32, name: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code, name: name.into(), message: message.into(), origin: Origin::None, compared: None }
    }

    /// One of Anchor's framework errors, named and worded by anchor-lang itself.
    pub fn framework(code: ErrorCode) -> Self {
        Self::new(code.into(), code.name(), code.to_string())
    }

    /// Raised by the caller's source line, as `error!` records `file!()` and `line!()`.
    #[track_caller]
    pub fn thrown(mut self) -> Self {
        let at = Location::caller();
        self.origin = Origin::Source { file: at.file(), line: at.line() };
        self
    }

    /// Raised while loading or checking the account named `name` in the accounts struct.
    pub fn account(mut self, name: &str) -> Self {
        self.origin = Origin::Account(name.to_string());
        self
    }

    pub fn pubkeys(mut self, left: Pubkey, right: Pubkey) -> Self {
        self.compared = Some(Compared::Pubkeys(left, right));
        self
    }

    pub fn values(mut self, left: impl ToString, right: impl ToString) -> Self {
        self.compared = Some(Compared::Values(left.to_string(), right.to_string()));
        self
    }

    /// The program log lines, without the runtime's `Program log: ` prefix.
    pub fn lines(&self) -> Vec<String> {
        let fields =
            format!("Error Code: {}. Error Number: {}. Error Message: {}.", self.name, self.code, self.message);
        let first = match &self.origin {
            Origin::None => format!("AnchorError occurred. {fields}"),
            Origin::Source { file, line } => format!("AnchorError thrown in {file}:{line}. {fields}"),
            Origin::Account(name) => format!("AnchorError caused by account: {name}. {fields}"),
        };
        let mut lines = vec![first];
        match &self.compared {
            Some(Compared::Pubkeys(left, right)) => {
                lines.extend(["Left:".to_string(), left.to_string(), "Right:".to_string(), right.to_string()])
            }
            Some(Compared::Values(left, right)) => lines.extend([format!("Left: {left}"), format!("Right: {right}")]),
            None => {}
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms_and_compared_values_read_as_anchor_writes_them() {
        let occurred = AnchorError::framework(ErrorCode::InstructionFallbackNotFound);
        assert_eq!(
            occurred.lines(),
            ["AnchorError occurred. Error Code: InstructionFallbackNotFound. Error Number: 101. \
              Error Message: Fallback functions are not supported."]
        );
        let key = Pubkey::new_unique();
        let account = AnchorError::framework(ErrorCode::ConstraintSeeds).account("proposal").pubkeys(key, key);
        assert_eq!(
            account.lines(),
            [
                "AnchorError caused by account: proposal. Error Code: ConstraintSeeds. Error Number: 2006. \
                 Error Message: A seeds constraint was violated."
                    .to_string(),
                "Left:".into(),
                key.to_string(),
                "Right:".into(),
                key.to_string(),
            ]
        );
        let (thrown, line) =
            (AnchorError::new(6007, "StaleProposal", "Proposal is stale").values(3, 5).thrown(), line!());
        let lines = thrown.lines();
        assert_eq!(
            lines[0],
            format!(
                "AnchorError thrown in {}:{line}. Error Code: StaleProposal. Error Number: 6007. \
                 Error Message: Proposal is stale.",
                file!()
            )
        );
        assert_eq!(lines[1..], ["Left: 3", "Right: 5"]);
    }
}
