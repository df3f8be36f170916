//! `localnet serve`: the embedded chain as a Solana JSON-RPC HTTP endpoint. It takes a bound
//! listener and a shutdown future, answers single and batch requests through the shared
//! dispatcher (malformed JSON and requests with the validator's -32700 / -32600), commits what
//! landed within a tenth of a second even when no call reports it, and when it stops.

use crate::localnet::handle::Handle;
use crate::localnet::rpc::{INTERNAL_ERROR, RpcFailure, invalid_request};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

const PARSE_ERROR: i64 = -32700;
/// How long landed transactions may wait in an open group (see `persist`) when no call that
/// reports them comes: other processes then see them within a fraction of a slot.
const COMMIT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// Commit ticks between probes of a store that could not be written.
const PROBES_EVERY: u64 = 10;

fn error_response(id: Value, failure: RpcFailure) -> Value {
    let mut error = json!({"code": failure.code, "message": failure.message});
    if let Some(data) = failure.data {
        error["data"] = data;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

fn answer(handle: &Handle, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return error_response(Value::Null, invalid_request());
    };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    match handle.answer(method, &params) {
        Ok(value) => json!({"jsonrpc": "2.0", "id": id, "result": value}),
        Err(failure) => error_response(id, failure),
    }
}

fn respond(handle: &Handle, body: &[u8]) -> Value {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        let failure = RpcFailure { code: PARSE_ERROR, message: "Parse error".into(), data: None };
        return error_response(Value::Null, failure);
    };
    match &request {
        Value::Array(batch) if batch.is_empty() => error_response(Value::Null, invalid_request()),
        Value::Array(batch) => Value::Array(batch.iter().map(|r| answer(handle, r)).collect()),
        single => answer(handle, single),
    }
}

/// On a fork, reads from its cluster what the body's calls need (nothing is answered from a
/// fork that could not read it).
async fn read_upstream(handle: &Handle, body: &[u8]) -> Result<(), RpcFailure> {
    let Some(upstream) = handle.upstream() else { return Ok(()) };
    let Ok(request) = serde_json::from_slice::<Value>(body) else { return Ok(()) };
    let calls = match &request {
        Value::Array(batch) => batch.iter().collect(),
        single => vec![single],
    };
    for call in calls {
        let Some(method) = call.get("method").and_then(Value::as_str) else { continue };
        let params = call.get("params").cloned().unwrap_or(Value::Null);
        upstream.prefetch(handle, method, &params).await.map_err(|e| RpcFailure {
            code: INTERNAL_ERROR,
            message: format!("the fork could not read its cluster: {e}"),
            data: None,
        })?;
    }
    Ok(())
}

async fn rpc(State(handle): State<Arc<Handle>>, body: Bytes) -> Json<Value> {
    let handle = Arc::clone(&handle);
    if let Err(failure) = read_upstream(&handle, &body).await {
        return Json(error_response(Value::Null, failure));
    }
    // Execution is CPU work on the chain; keep it off the async workers.
    let response = tokio::task::spawn_blocking(move || respond(&handle, &body)).await.unwrap_or_else(|e| {
        error_response(Value::Null, RpcFailure { code: INTERNAL_ERROR, message: e.to_string(), data: None })
    });
    Json(response)
}

/// Commits what landed every tenth of a second; while the store cannot be written, tries it
/// instead, and says when it fails and when it is writable again.
async fn commit_forever(handle: Arc<Handle>, warn: Warn) {
    let mut every = tokio::time::interval(COMMIT_EVERY);
    for tick in 0u64.. {
        every.tick().await;
        let (handle, warn) = (Arc::clone(&handle), Arc::clone(&warn));
        let _ = tokio::task::spawn_blocking(move || match handle.storage_failure() {
            // A probe a second while the store cannot be written.
            Some(_) if tick % PROBES_EVERY != 0 => {}
            Some(_) => {
                if handle.probe() {
                    warn("the localnet's storage can be written again: sends are taken again".into());
                }
            }
            None => {
                if let Err(failure) = handle.flush() {
                    warn(format!("{failure}: sends are refused (with that reason) until it can be written; reads are served from what is stored"));
                }
            }
        })
        .await;
    }
}

/// Where serve's warnings go (the operator's terminal and log).
pub type Warn = Arc<dyn Fn(String) + Send + Sync>;

/// Serves until `shutdown` completes, then saves the chain.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: Arc<Handle>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    warn: Warn,
) -> std::io::Result<()> {
    // Any path answers (providers put API keys or cluster names in the path).
    let app = Router::new().route("/", post(rpc)).fallback(post(rpc)).with_state(Arc::clone(&handle));
    // Without TCP_NODELAY a small response waits for the client's delayed ACK: 40 ms a call.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let committer = tokio::spawn(commit_forever(Arc::clone(&handle), warn));
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    committer.abort();
    served?;
    handle.save().map_err(std::io::Error::other)?;
    Ok(())
}
