//! The in-process transport: `solana-rpc-client`'s `RpcClient` talks to the embedded chain
//! through the same JSON-RPC dispatcher `localnet serve` uses, so runbooks run one client path
//! for the embedded chain and real clusters, errors included.

use crate::localnet::handle::Handle;
use crate::localnet::rpc::{NODE_UNHEALTHY, PREFLIGHT_FAILURE, RpcFailure};
use crate::localnet::upstream::transaction_of;
use serde_json::Value;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::{Error as ClientError, Result as ClientResult};
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct LocalSender {
    handle: Arc<Handle>,
    stats: Mutex<RpcTransportStats>,
    /// Simulated network round trip added to every request (benchmarks).
    latency: Duration,
    faults: Faults,
    rng: Mutex<u64>,
}

/// Fault injection for the embedded transport, to test how sending copes with a lossy network:
/// `PSYCHE_RUNBOOK_FAULTS="drop_send=0.2,drop_status=0.3,timeout=0.1,expire=0.05,429=0.1,latency_ms=5,seed=7"`.
/// Each rate is the probability that a request meets that fault.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// sendTransaction answers with the signature but the transaction is lost.
    pub drop_send: f64,
    /// getSignatureStatuses forgets what landed.
    pub drop_status: f64,
    /// The request times out (a send may still have landed).
    pub timeout: f64,
    /// Every recent blockhash expires before a send.
    pub expire: f64,
    /// The request is refused with HTTP 429.
    pub rate_limit: f64,
    pub latency: Duration,
    pub seed: u64,
}

impl Faults {
    /// Reads `PSYCHE_RUNBOOK_FAULTS`; unset means no faults.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("PSYCHE_RUNBOOK_FAULTS") {
            Ok(spec) if !spec.trim().is_empty() => Self::parse(&spec),
            _ => Ok(Self::default()),
        }
    }

    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut faults = Faults { seed: 1, ..Default::default() };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) =
                part.split_once('=').ok_or_else(|| format!("PSYCHE_RUNBOOK_FAULTS: {part:?} is not KEY=VALUE"))?;
            let number: f64 =
                value.parse().map_err(|_| format!("PSYCHE_RUNBOOK_FAULTS: {key}={value} is not a number"))?;
            match key {
                "drop_send" => faults.drop_send = number,
                "drop_status" => faults.drop_status = number,
                "timeout" => faults.timeout = number,
                "expire" => faults.expire = number,
                "429" => faults.rate_limit = number,
                "latency_ms" => faults.latency = Duration::from_millis(number as u64),
                "seed" => faults.seed = number as u64,
                other => return Err(format!("PSYCHE_RUNBOOK_FAULTS: unknown fault {other:?}")),
            }
        }
        Ok(faults)
    }
}

impl LocalSender {
    pub fn new(handle: Arc<Handle>) -> Self {
        Self { handle, stats: Mutex::default(), latency: Duration::ZERO, faults: Faults::default(), rng: Mutex::new(1) }
    }

    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.latency = self.latency.max(faults.latency);
        self.rng = Mutex::new(faults.seed.max(1));
        self.faults = faults;
        self
    }

    /// True with probability `rate` (xorshift; deterministic for a seed).
    fn hit(&self, rate: f64) -> bool {
        if rate <= 0.0 {
            return false;
        }
        let mut state = self.rng.lock().expect("rng lock");
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state % 1_000_000) as f64 / 1_000_000.0 < rate
    }

    fn timed_out() -> ClientError {
        ClientError::from(std::io::Error::new(std::io::ErrorKind::TimedOut, "operation timed out (injected)"))
    }

    /// Adds `latency` to every request, as a round trip to a remote cluster would.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

fn signature_of(params: &Value) -> Option<String> {
    transaction_of(params)?.signatures.first().map(ToString::to_string)
}

/// The embedded chain's store failed: the client stops, it does not retry.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageFailed(pub String);

/// The error `HttpSender` would build from the same JSON-RPC error object; a failed store is
/// told apart (in process, nothing can be retried against it).
pub fn client_error(failure: RpcFailure) -> ClientError {
    if failure.code == NODE_UNHEALTHY && failure.data.as_ref().is_some_and(|d| d.get("storage").is_some()) {
        let failed = StorageFailed(failure.message);
        return solana_rpc_client_api::client_error::ErrorKind::Middleware(
            solana_rpc_client_api::client_error::AnyhowError::new(failed),
        )
        .into();
    }
    let data = match (failure.code, failure.data) {
        (PREFLIGHT_FAILURE, Some(data)) => serde_json::from_value::<RpcSimulateTransactionResult>(data)
            .map_or(RpcResponseErrorData::Empty, RpcResponseErrorData::SendTransactionPreflightFailure),
        _ => RpcResponseErrorData::Empty,
    };
    RpcError::RpcResponseError { code: failure.code, message: failure.message, data }.into()
}

#[async_trait::async_trait]
impl RpcSender for LocalSender {
    async fn send(&self, request: RpcRequest, params: Value) -> ClientResult<Value> {
        let started = Instant::now();
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let method = request.to_string();
        // A fork reads what the call needs from its cluster first.
        if let Some(upstream) = self.handle.upstream() {
            upstream.prefetch(self.handle.as_ref(), &method, &params).await?;
        }
        if self.hit(self.faults.rate_limit) {
            return Err(RpcError::RpcRequestError(
                "HTTP status client error (429 Too Many Requests) (injected)".into(),
            )
            .into());
        }
        let is_send = method == "sendTransaction";
        if is_send && self.hit(self.faults.drop_send) {
            // Answer like a cluster that accepted the packet, then lose it.
            return signature_of(&params).map(Value::String).ok_or_else(Self::timed_out);
        }
        if !is_send && self.hit(self.faults.timeout) {
            return Err(Self::timed_out());
        }
        if is_send && self.hit(self.faults.expire) {
            self.handle.lock().expire_blockhashes();
        }
        let result = self.handle.answer(&method, &params);
        {
            let mut stats = self.stats.lock().expect("stats lock");
            stats.request_count += 1;
            stats.elapsed_time += started.elapsed();
        }
        if is_send && self.hit(self.faults.timeout) {
            // The transaction ran, but the answer is lost.
            return Err(Self::timed_out());
        }
        let mut value = result.map_err(client_error)?;
        if method == "getSignatureStatuses"
            && self.hit(self.faults.drop_status)
            && let Some(statuses) = value.get_mut("value").and_then(Value::as_array_mut)
        {
            statuses.iter_mut().for_each(|s| *s = Value::Null);
        }
        Ok(value)
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.stats.lock().expect("stats lock").clone()
    }

    fn url(&self) -> String {
        format!("embedded:{}", self.handle.dir().display())
    }
}
