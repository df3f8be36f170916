//! JSON-RPC over HTTP to a cluster, behind the `RpcSender` seam the Solana client uses. Ours
//! rather than agave's `HttpSender` for two reasons: the URL is a secret (transport errors
//! never print it, and `url()` answers the display name), and the cluster's identity is
//! confirmed inside the first request (a JSON-RPC batch of `getGenesisHash` and that request:
//! one round trip). A send is never batched: when a send would be the first request, the
//! genesis hash is asked alone first, so nothing reaches a node that is not the cluster.

use crate::chain::cluster::RpcUrl;
use crate::chain::identity::{GenesisCache, genesis_of, moniker};
use async_trait::async_trait;
use serde_json::{Value, json};
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::{AnyhowError, Error as ClientError, ErrorKind, Result as ClientResult};
use solana_rpc_client_api::custom_error::{
    JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY, JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
    NodeUnhealthyErrorData,
};
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A request's timeout, as agave's client has it.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Answers of 429 waited out before the error is handed to the caller's own retries.
const TOO_MANY_REQUESTS_RETRIES: u32 = 5;

/// The node at a URL answered another genesis hash than the cluster's.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotTheCluster(pub String);

/// True when `err` says a node is not the cluster: never retried, never failed over from.
pub fn is_not_the_cluster(err: &ClientError) -> bool {
    matches!(err.kind(), ErrorKind::Middleware(e) if e.is::<NotTheCluster>())
}

/// What is known of a URL's identity.
enum Check {
    /// Not confirmed by this execution yet: the first request confirms it.
    Pending,
    Confirmed,
    Refused(String),
}

/// The cluster a transport must reach, and whether it has.
pub struct Expected {
    /// The cluster's genesis hash (None: nothing to check).
    pub genesis: Option<String>,
    /// Already confirmed (read from the node while resolving settings).
    pub confirmed: bool,
    /// Where a confirmed or changed identity is remembered.
    pub cache: Option<GenesisCache>,
}

pub struct HttpTransport {
    client: reqwest::Client,
    url: RpcUrl,
    next_id: AtomicU64,
    stats: Mutex<RpcTransportStats>,
    expected: Expected,
    check: Mutex<Check>,
}

impl HttpTransport {
    pub fn new(url: RpcUrl, expected: Expected) -> Self {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .pool_idle_timeout(TIMEOUT)
            .build()
            .expect("an HTTP client with a timeout builds");
        let check = if expected.confirmed || expected.genesis.is_none() { Check::Confirmed } else { Check::Pending };
        Self { client, url, next_id: AtomicU64::new(1), stats: Mutex::default(), expected, check: Mutex::new(check) }
    }

    fn request_json(&self, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if params.is_null() {
            json!({"jsonrpc": "2.0", "id": id, "method": method})
        } else {
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        }
    }

    /// Posts `body`, waiting out 429 answers; the parsed answer.
    async fn post(&self, body: &Value) -> ClientResult<Value> {
        let started = Instant::now();
        let mut rate_limited = Duration::ZERO;
        let mut retries = TOO_MANY_REQUESTS_RETRIES;
        let result = loop {
            let response =
                self.client.post(self.url.expose()).json(body).send().await.map_err(|e| transport_error(e, &self.url));
            let response = match response {
                Ok(response) => response,
                Err(err) => break Err(err),
            };
            let status = response.status();
            if status == reqwest::StatusCode::TOO_MANY_REQUESTS && retries > 0 {
                let wait = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                    .filter(|s| *s < 120)
                    .map_or(Duration::from_millis(500), Duration::from_secs);
                retries -= 1;
                rate_limited += wait;
                tokio::time::sleep(wait).await;
                continue;
            }
            if !status.is_success() {
                break Err(RpcError::RpcRequestError(format!("{}: HTTP status {status}", self.url.display())).into());
            }
            break response.json::<Value>().await.map_err(|e| transport_error(e, &self.url));
        };
        let mut stats = self.stats.lock().expect("stats lock");
        stats.request_count += 1;
        stats.elapsed_time += started.elapsed();
        stats.rate_limited_time += rate_limited;
        result
    }

    async fn call(&self, method: &str, params: Value) -> ClientResult<Value> {
        let answer = self.post(&self.request_json(method, params)).await?;
        result_of(answer)
    }

    /// `getGenesisHash` and `method` in one batch: the genesis hash and the method's answer.
    /// A node that does not take batches is asked twice.
    async fn call_confirming(&self, method: &str, params: Value) -> ClientResult<(String, ClientResult<Value>)> {
        let genesis = self.request_json("getGenesisHash", Value::Null);
        let request = self.request_json(method, params.clone());
        let answers = self.post(&json!([genesis, request])).await?;
        let by_id = |id: &Value| answers.as_array()?.iter().find(|a| a["id"] == *id).cloned();
        match (by_id(&genesis["id"]), by_id(&request["id"])) {
            (Some(genesis), Some(answer)) => Ok((genesis_of(&genesis).map_err(custom)?, result_of(answer))),
            _ => {
                let genesis = self.call("getGenesisHash", Value::Null).await?;
                let genesis = genesis.as_str().map(str::to_string).ok_or_else(|| custom("getGenesisHash: no hash"))?;
                Ok((genesis, self.call(method, params).await))
            }
        }
    }

    /// Compares `found` with the cluster's genesis hash; a node that is another cluster is
    /// refused from now on (and its new identity remembered, so the next execution knows it).
    fn verify(&self, found: &str) -> ClientResult<()> {
        let expected = self.expected.genesis.as_deref().unwrap_or(found);
        let mut check = self.check.lock().expect("identity check lock");
        if found == expected {
            *check = Check::Confirmed;
            if let Some(cache) = &self.expected.cache {
                let _ = cache.put(self.url.expose(), found);
            }
            return Ok(());
        }
        let named =
            |hash: &str| moniker(hash).map_or_else(|| format!("genesis hash {hash}"), |m| format!("{m} ({hash})"));
        let message = format!(
            "the node at {} is not the cluster this execution is for: it answers {}, but {} was expected (a node that was reset, or a URL that now reaches another cluster); nothing was sent through it",
            self.url.display(),
            named(found),
            named(expected)
        );
        if let Some(cache) = &self.expected.cache {
            let _ = cache.put(self.url.expose(), found);
        }
        *check = Check::Refused(message.clone());
        Err(refused(message))
    }
}

fn custom(message: impl Into<String>) -> ClientError {
    ErrorKind::Custom(message.into()).into()
}

fn refused(message: String) -> ClientError {
    ErrorKind::Middleware(AnyhowError::new(NotTheCluster(message))).into()
}

/// A transport failure, without the URL reqwest would print.
fn transport_error(err: reqwest::Error, url: &RpcUrl) -> ClientError {
    let kind = if err.is_timeout() { "timed out" } else { "failed" };
    RpcError::RpcRequestError(format!("request to {} {kind}: {}", url.display(), err.without_url())).into()
}

/// The `result` of a JSON-RPC answer, or its error as agave's client builds it (a preflight
/// failure carries the simulation; an unhealthy node, how far behind it is).
fn result_of(mut answer: Value) -> ClientResult<Value> {
    if !answer["error"].is_object() {
        return Ok(answer["result"].take());
    }
    let error = answer["error"].take();
    let code = error["code"].as_i64().unwrap_or_default();
    let message = error["message"].as_str().unwrap_or_default().to_string();
    let data = match code {
        JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE => {
            serde_json::from_value::<RpcSimulateTransactionResult>(error["data"].clone())
                .map_or(RpcResponseErrorData::Empty, RpcResponseErrorData::SendTransactionPreflightFailure)
        }
        JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY => serde_json::from_value::<NodeUnhealthyErrorData>(error["data"].clone())
            .map_or(RpcResponseErrorData::Empty, |d| RpcResponseErrorData::NodeUnhealthy {
                num_slots_behind: d.num_slots_behind,
            }),
        _ => RpcResponseErrorData::Empty,
    };
    Err(RpcError::RpcResponseError { code, message, data }.into())
}

#[async_trait]
impl RpcSender for HttpTransport {
    async fn send(&self, request: RpcRequest, params: Value) -> ClientResult<Value> {
        let method = request.to_string();
        let pending = match &*self.check.lock().expect("identity check lock") {
            Check::Refused(message) => return Err(refused(message.clone())),
            Check::Pending => true,
            Check::Confirmed => false,
        };
        if !pending {
            return self.call(&method, params).await;
        }
        if matches!(request, RpcRequest::SendTransaction | RpcRequest::RequestAirdrop) {
            let genesis = self.call("getGenesisHash", Value::Null).await?;
            self.verify(genesis.as_str().unwrap_or_default())?;
            return self.call(&method, params).await;
        }
        let (genesis, answer) = self.call_confirming(&method, params).await?;
        self.verify(&genesis)?;
        answer
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.stats.lock().expect("stats lock").clone()
    }

    /// The display name: callers that print a client's URL print no credential.
    fn url(&self) -> String {
        self.url.display()
    }
}
