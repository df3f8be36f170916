//! Counting RPC round trips. On real clusters every request costs 100–400 ms and counts
//! against rate limits, so an execution reports how many it made, per method (`-v`, and
//! `rpc_round_trips` in `--output json`). The counter wraps whichever transport the client
//! uses — HTTP or the embedded chain's in-process sender — so both count the same way.

use async_trait::async_trait;
use serde_json::Value;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::Result as ClientResult;
use solana_rpc_client_api::request::RpcRequest;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Requests made so far, by JSON-RPC method name.
#[derive(Debug, Default)]
pub struct RoundTrips {
    by_method: Mutex<BTreeMap<String, u64>>,
}

impl RoundTrips {
    pub fn count(&self, method: String) {
        *self.by_method.lock().expect("round-trip counter lock").entry(method).or_default() += 1;
    }

    pub fn by_method(&self) -> BTreeMap<String, u64> {
        self.by_method.lock().expect("round-trip counter lock").clone()
    }

    pub fn total(&self) -> u64 {
        self.by_method.lock().expect("round-trip counter lock").values().sum()
    }

    /// One line for people: `12 RPC round trips (getMultipleAccounts 2, sendTransaction 1, …)`.
    pub fn summary(&self) -> String {
        let by_method = self.by_method();
        let total: u64 = by_method.values().sum();
        let parts: Vec<String> = by_method.iter().map(|(m, n)| format!("{m} {n}")).collect();
        if parts.is_empty() {
            format!("{total} RPC round trips")
        } else {
            format!("{total} RPC round trip(s) ({})", parts.join(", "))
        }
    }
}

/// A transport that counts each request before passing it on.
pub struct Counting<S> {
    inner: S,
    counter: Arc<RoundTrips>,
}

impl<S> Counting<S> {
    pub fn new(inner: S, counter: Arc<RoundTrips>) -> Self {
        Self { inner, counter }
    }
}

#[async_trait]
impl<S: RpcSender + Send + Sync> RpcSender for Counting<S> {
    async fn send(&self, request: RpcRequest, params: Value) -> ClientResult<Value> {
        self.counter.count(request.to_string());
        self.inner.send(request, params).await
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.inner.get_transport_stats()
    }

    fn url(&self) -> String {
        self.inner.url()
    }
}
