//! Run data in and out through Nous's run-down service: `service` asks it for signed storage
//! URLs (each request signed by the operator's key, in the host), `upload` sends files to them,
//! `download` fetches a run's results into a directory (temp file and rename, skipping what is
//! complete, resuming what is partial), `paths` keeps listed paths inside that directory,
//! `checksum` reads the storage's hashes and `progress` shows bytes moving.

pub mod checksum;
pub mod download;
pub mod paths;
pub mod progress;
pub mod service;
pub mod upload;

use serde::Deserialize;

/// The service upstream's run-manager talks to.
pub const DEFAULT_URL: &str = "https://run-down.nousresearch.com/v1";
/// How long signed URLs stay valid unless a runbook says otherwise (run-manager's default).
pub const DEFAULT_EXPIRES_IN_SECONDS: u64 = 3600;

/// `[run_down]` in `psyche-runbook.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunDownConfig {
    /// The service's base URL, `.../v1`.
    pub url: Option<String>,
}

impl RunDownConfig {
    /// The configured base URL (checked), or Nous's.
    pub fn url(&self, origin: &str) -> Result<String, String> {
        match &self.url {
            Some(url) => Self::checked_url(url, origin),
            None => Ok(DEFAULT_URL.to_string()),
        }
    }

    /// `url` without a trailing slash, refused unless it is http(s).
    pub fn checked_url(url: &str, origin: &str) -> Result<String, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) || reqwest::Url::parse(url).is_err() {
            return Err(format!("{origin}: {url:?} is not an http(s) URL"));
        }
        Ok(url.trim_end_matches('/').to_string())
    }
}

/// Why a transfer stopped: `sent` says whether anything reached the service or the storage
/// (a refusal before that leaves both untouched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferError {
    pub sent: bool,
    pub message: String,
}

impl TransferError {
    /// Refused before any request.
    pub fn before(message: impl Into<String>) -> Self {
        Self { sent: false, message: message.into() }
    }

    /// Failed after requests were made.
    pub fn after(message: impl Into<String>) -> Self {
        Self { sent: true, message: message.into() }
    }
}

/// One file moved (or, in a dry-run, that would move): its relative path and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub path: String,
    pub bytes: u64,
    /// What happened: "uploaded", "downloaded", "resumed", "skipped" (already complete), or
    /// "planned" (a dry-run).
    pub how: &'static str,
}
