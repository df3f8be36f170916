//! `localnet serve`: the embedded chain as a Solana JSON-RPC HTTP endpoint. It takes a bound
//! listener and a shutdown future, answers single and batch requests through the shared
//! dispatcher, and persists the chain when it stops.

use crate::localnet::handle::Handle;
use crate::localnet::rpc::dispatch;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;

fn answer(handle: &Handle, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "Invalid request"}});
    };
    let params = request.get("params").cloned().unwrap_or(Value::Array(Vec::new()));
    let result = {
        let mut net = handle.lock();
        dispatch(&mut net, method, &params)
    };
    match result {
        Ok(value) => json!({"jsonrpc": "2.0", "id": id, "result": value}),
        Err(failure) => {
            let mut error = json!({"code": failure.code, "message": failure.message});
            if let Some(data) = failure.data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        }
    }
}

async fn rpc(State(handle): State<Arc<Handle>>, Json(body): Json<Value>) -> Json<Value> {
    let handle = Arc::clone(&handle);
    // Execution is CPU work on the chain; keep it off the async workers.
    let response = tokio::task::spawn_blocking(move || match &body {
        Value::Array(batch) => Value::Array(batch.iter().map(|r| answer(&handle, r)).collect()),
        single => answer(&handle, single),
    })
    .await
    .unwrap_or_else(|e| json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32603, "message": e.to_string()}}));
    Json(response)
}

/// Serves until `shutdown` completes, then saves the chain.
pub async fn serve(
    listener: tokio::net::TcpListener,
    handle: Arc<Handle>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Any path answers (providers put API keys or cluster names in the path).
    let app = Router::new().route("/", post(rpc)).fallback(post(rpc)).with_state(Arc::clone(&handle));
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    handle.save().map_err(std::io::Error::other)?;
    Ok(())
}
