//! Posting a notification to every configured target at once, each with a per-attempt timeout
//! and retries with backoff for what may pass on a second try (timeouts, connection errors,
//! 408, 429, 5xx). Webhook URLs carry secrets, so outcomes name only the target's host.

use crate::notify::payload::body;
use crate::notify::{DEFAULT_RETRIES, DEFAULT_TIMEOUT_SECONDS, Format, Notification, NotifyConfig};
use serde::Serialize;
use std::time::{Duration, Instant};

/// The first pause between attempts; it doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What happened to a notification at one target.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub target: Format,
    /// The URL's host (the rest may be a secret).
    pub host: String,
    pub ok: bool,
    pub attempts: u32,
    /// The last HTTP status received, if any.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_else(|| "?".into())
}

/// The error with its causes ("error sending request: connection refused"): reqwest's own
/// message alone does not say what went wrong.
fn describe(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text += &format!(": {cause}");
        source = cause.source();
    }
    text
}

fn retryable(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429
}

/// How long an attempt may take and how many more attempts follow a failed one.
#[derive(Debug, Clone, Copy)]
struct Policy {
    timeout_seconds: f64,
    retries: u32,
}

/// Posts `n` to one target until it is accepted, refused for good, or attempts run out.
fn post(client: &reqwest::blocking::Client, format: Format, url: &str, n: &Notification, policy: Policy) -> Delivery {
    let started = Instant::now();
    let payload = body(format, n);
    let mut delivery = Delivery {
        target: format,
        host: host_of(url),
        ok: false,
        attempts: 0,
        status: None,
        error: None,
        elapsed_ms: 0,
    };
    let mut backoff = FIRST_BACKOFF;
    while delivery.attempts <= policy.retries {
        if delivery.attempts > 0 {
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        delivery.attempts += 1;
        match client.post(url).json(&payload).send() {
            Ok(response) if response.status().is_success() => {
                delivery.status = Some(response.status().as_u16());
                delivery.ok = true;
                delivery.error = None;
                break;
            }
            Ok(response) => {
                let status = response.status();
                delivery.status = Some(status.as_u16());
                delivery.error = Some(format!("HTTP {status}"));
                if !retryable(status) {
                    break;
                }
            }
            Err(e) if e.is_timeout() => {
                delivery.error = Some(format!("timed out after {} s", policy.timeout_seconds));
            }
            Err(e) => delivery.error = Some(describe(e.without_url())),
        }
    }
    delivery.elapsed_ms = started.elapsed().as_millis() as u64;
    delivery
}

/// Posts `n` to every target of `config` concurrently; one delivery per target, in the order
/// the targets are configured (webhook, slack, discord).
pub fn deliver(config: &NotifyConfig, n: &Notification) -> Vec<Delivery> {
    let targets = config.targets();
    if targets.is_empty() {
        return Vec::new();
    }
    let policy = Policy {
        timeout_seconds: config.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS),
        retries: config.retries.unwrap_or(DEFAULT_RETRIES),
    };
    let timeout = Duration::from_secs_f64(policy.timeout_seconds);
    let client = match reqwest::blocking::Client::builder().timeout(timeout).build() {
        Ok(client) => client,
        Err(e) => {
            let error = Some(format!("no HTTP client: {e}"));
            return targets
                .into_iter()
                .map(|(target, url)| Delivery {
                    target,
                    host: host_of(url),
                    ok: false,
                    attempts: 0,
                    status: None,
                    error: error.clone(),
                    elapsed_ms: 0,
                })
                .collect();
        }
    };
    std::thread::scope(|scope| {
        let posts: Vec<_> = targets
            .into_iter()
            .map(|(format, url)| {
                let client = &client;
                scope.spawn(move || post(client, format, url, n, policy))
            })
            .collect();
        posts.into_iter().map(|p| p.join().expect("delivery threads do not panic")).collect()
    })
}
