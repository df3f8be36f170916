//! The product's one websocket to a cluster's PubSub endpoint, opened on first use and kept:
//! a lost connection is reopened with exponential backoff and jitter, and while it is down
//! every caller falls back to polling. The operator hears of it (`notes`) when it connects, and
//! once when it has been down longer than `DOWN_WARNING` and polling has taken over.

use crate::chain::cluster::RpcUrl;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Down this long, the operator is told that polling has taken over.
pub const DOWN_WARNING: Duration = Duration::from_secs(60);

/// What the link tells the operator: `Debug` under `-v`, `Warning` always.
pub enum Note {
    Debug(String),
    Warning(String),
}

pub type Notes = Arc<dyn Fn(Note) + Send + Sync>;
/// How a subscription is ended on the node.
pub type Unsubscribe = Box<dyn FnOnce() -> futures_util::future::BoxFuture<'static, ()> + Send>;

/// The notes of a client nobody set notes on: warnings to stderr.
pub fn warnings_only(note: Note) {
    if let Note::Warning(message) = note {
        eprintln!("warning: {message}");
    }
}

struct State {
    client: Option<Arc<PubsubClient>>,
    /// No attempt before this instant (backing off).
    next_attempt: Instant,
    backoff: Duration,
    down_since: Option<Instant>,
    warned: bool,
    ever_connected: bool,
}

pub struct Link {
    /// A secret: it is connected to, and named in notes by its display only.
    url: RpcUrl,
    state: Mutex<State>,
    /// Serializes connection attempts (one socket, however many callers).
    connecting: tokio::sync::Mutex<()>,
    notes: Notes,
}

/// A random fraction in [0.5, 1.5) from the clock, enough to spread reconnecting clients.
fn jitter(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    base.mul_f64(0.5 + f64::from(nanos % 1000) / 1000.0)
}

impl Link {
    pub fn new(url: RpcUrl, notes: Notes) -> Self {
        let state = State {
            client: None,
            next_attempt: Instant::now(),
            backoff: FIRST_BACKOFF,
            down_since: None,
            warned: false,
            ever_connected: false,
        };
        Self { url, state: Mutex::new(state), connecting: tokio::sync::Mutex::new(()), notes }
    }

    pub fn url(&self) -> &RpcUrl {
        &self.url
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The open connection, opening it if it is due; None while backing off (poll instead).
    pub async fn client(&self) -> Option<Arc<PubsubClient>> {
        if let Some(client) = self.state().client.clone() {
            return Some(client);
        }
        let _one = self.connecting.lock().await;
        {
            let state = self.state();
            if let Some(client) = state.client.clone() {
                return Some(client);
            }
            if Instant::now() < state.next_attempt {
                return None;
            }
        }
        let opened = tokio::time::timeout(CONNECT_TIMEOUT, PubsubClient::new(self.url.expose())).await;
        let mut state = self.state();
        match opened {
            Ok(Ok(client)) => {
                let client = Arc::new(client);
                let again = if state.ever_connected { "reconnected" } else { "connected" };
                (self.notes)(Note::Debug(format!("websocket {again}: {}", self.url)));
                if state.warned {
                    (self.notes)(Note::Warning(format!("websocket {} is back: subscriptions resumed", self.url)));
                }
                *state = State {
                    client: Some(Arc::clone(&client)),
                    next_attempt: Instant::now(),
                    backoff: FIRST_BACKOFF,
                    down_since: None,
                    warned: false,
                    ever_connected: true,
                };
                Some(client)
            }
            Ok(Err(e)) => {
                // The client's errors may quote the URL it was given.
                let why = e.to_string().replace(self.url.expose(), &self.url.display());
                self.failed(&mut state, &why);
                None
            }
            Err(_) => {
                self.failed(&mut state, "connection timed out");
                None
            }
        }
    }

    fn failed(&self, state: &mut State, why: &str) {
        let now = Instant::now();
        let since = *state.down_since.get_or_insert(now);
        (self.notes)(Note::Debug(format!(
            "websocket {} unavailable ({why}): polling instead; next attempt in {:.1} s",
            self.url,
            state.backoff.as_secs_f64()
        )));
        state.next_attempt = now + jitter(state.backoff);
        state.backoff = (state.backoff * 2).min(MAX_BACKOFF);
        if !state.warned && now.duration_since(since) >= DOWN_WARNING {
            state.warned = true;
            (self.notes)(Note::Warning(format!(
                "websocket {} has been down for {} s: polling has taken over",
                self.url,
                now.duration_since(since).as_secs()
            )));
        }
    }

    /// A subscription failed or its stream ended: the connection is gone; reopen it later.
    pub fn lost(&self, client: &Arc<PubsubClient>) {
        let mut state = self.state();
        if state.client.as_ref().is_some_and(|c| Arc::ptr_eq(c, client)) {
            state.client = None;
            state.down_since.get_or_insert_with(Instant::now);
            (self.notes)(Note::Debug(format!("websocket {} lost", self.url)));
        }
    }

    /// A subscription was refused: a connection that cannot subscribe is treated as lost.
    pub fn failed_subscription(&self, client: &Arc<PubsubClient>, why: &str) {
        (self.notes)(Note::Debug(format!("subscription on {} failed: {why}", self.url)));
        self.lost(client);
    }

    /// True while a connection is open.
    pub fn is_up(&self) -> bool {
        self.state().client.is_some()
    }
}
