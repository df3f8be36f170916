//! The in-process transport: `solana-rpc-client`'s `RpcClient` talks to the embedded chain
//! through the same JSON-RPC dispatcher `localnet serve` uses, so runbooks run one client path
//! for the embedded chain and real clusters, errors included.

use crate::localnet::handle::Handle;
use crate::localnet::rpc::{PREFLIGHT_FAILURE, RpcFailure, dispatch};
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
}

impl LocalSender {
    pub fn new(handle: Arc<Handle>) -> Self {
        Self { handle, stats: Mutex::default(), latency: Duration::ZERO }
    }

    /// Adds `latency` to every request, as a round trip to a remote cluster would.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

/// The error `HttpSender` would build from the same JSON-RPC error object.
pub fn client_error(failure: RpcFailure) -> ClientError {
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
        let result = {
            let mut net = self.handle.lock();
            dispatch(&mut net, &request.to_string(), &params)
        };
        let mut stats = self.stats.lock().expect("stats lock");
        stats.request_count += 1;
        stats.elapsed_time += started.elapsed();
        result.map_err(client_error)
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.stats.lock().expect("stats lock").clone()
    }

    fn url(&self) -> String {
        format!("embedded:{}", self.handle.dir().display())
    }
}
