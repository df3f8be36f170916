//! Alerts from runbooks to the webhooks of `[notify]` in `psyche-runbook.toml`: a generic JSON
//! POST (`webhook`), Slack and Discord incoming webhooks (`slack`, `discord`). `payload` shapes
//! the body for each; `deliver` posts it with a timeout and retries. A delivery never fails the
//! runbook: its outcome is logged and reported.

pub mod deliver;
pub mod payload;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Seconds one delivery attempt may take unless `timeout_seconds` says otherwise.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 5.0;
/// Attempts after the first unless `retries` says otherwise.
pub const DEFAULT_RETRIES: u32 = 2;

/// `[notify]` in `psyche-runbook.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// A URL that receives a JSON POST of every notification.
    pub webhook: Option<String>,
    /// A Slack incoming-webhook URL.
    pub slack: Option<String>,
    /// A Discord webhook URL.
    pub discord: Option<String>,
    pub timeout_seconds: Option<f64>,
    pub retries: Option<u32>,
}

impl NotifyConfig {
    /// The configured targets, each with its format.
    pub fn targets(&self) -> Vec<(Format, &str)> {
        [(Format::Webhook, &self.webhook), (Format::Slack, &self.slack), (Format::Discord, &self.discord)]
            .into_iter()
            .filter_map(|(format, url)| url.as_deref().map(|u| (format, u)))
            .collect()
    }

    /// Refuses what would only fail at delivery time: URLs that are not http(s), a timeout
    /// that is not a positive number of seconds.
    pub fn check(&self, origin: &str) -> Result<(), String> {
        for (format, url) in self.targets() {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("{origin} [notify] {}: {url:?} is not an http(s) URL", format.name()));
            }
        }
        match self.timeout_seconds {
            Some(t) if !(t.is_finite() && t > 0.0) => {
                Err(format!("{origin} [notify] timeout_seconds: {t} must be a positive number of seconds"))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Webhook,
    Slack,
    Discord,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Webhook => "webhook",
            Format::Slack => "slack",
            Format::Discord => "discord",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Critical,
}

impl Level {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_lowercase().as_str() {
            "info" => Ok(Level::Info),
            "warning" | "warn" => Ok(Level::Warning),
            "critical" | "error" => Ok(Level::Critical),
            _ => Err(format!("notification level {text:?} is not info, warning or critical")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// One alert, with where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub level: Level,
    pub message: String,
    pub fields: Map<String, Value>,
    pub runbook: String,
    pub cluster: String,
    /// Unix seconds.
    pub timestamp: u64,
}
