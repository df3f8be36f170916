//! One PubSub websocket connection: requests are read in order and answered through the
//! connection's queue (see `hub`), which a writer task drains onto the socket. Frames that are
//! not JSON-RPC get the validator's answers (`-32700` for what is not JSON, `-32600` for what
//! is not a call); a subscription is registered off the async workers, since it reads the
//! chain under its lock.

use crate::localnet::handle::Handle;
use crate::localnet::rpc::params::invalid;
use crate::localnet::rpc::pubsub::hub::Hub;
use crate::localnet::rpc::pubsub::requests::{Request, parse};
use crate::localnet::rpc::response::{RpcFailure, invalid_request};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Largest request frame accepted (requests are small; this bounds what a client can make
/// the server buffer).
const MAX_FRAME_BYTES: usize = 1 << 20;
const PARSE_ERROR: i64 = -32700;

fn error(id: Value, failure: RpcFailure) -> Value {
    let mut error = json!({"code": failure.code, "message": failure.message});
    if let Some(data) = failure.data {
        error["data"] = data;
    }
    json!({"jsonrpc": "2.0", "error": error, "id": id})
}

/// Serves one accepted TCP connection until either side closes it.
pub async fn run(stream: TcpStream, handle: Arc<Handle>, hub: Arc<Hub>) {
    let _ = stream.set_nodelay(true);
    let Ok(peer) = stream.peer_addr() else { return };
    let config =
        WebSocketConfig::default().max_message_size(Some(MAX_FRAME_BYTES)).max_frame_size(Some(MAX_FRAME_BYTES));
    let Ok(socket) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else { return };
    let (mut sink, mut source) = socket.split();
    let (connection, mut queue) = hub.connect(peer);
    let mut writer = tokio::spawn(async move {
        while let Some(text) = queue.recv().await {
            // Frames are flushed once the queue is empty: a burst costs one write, not many.
            if sink.feed(Message::text(text)).await.is_err() {
                return;
            }
            if queue.is_empty() && sink.flush().await.is_err() {
                return;
            }
        }
        // The hub dropped this connection (its queue overflowed) or it is closing.
        let _ = sink.close().await;
    });
    loop {
        let frame = tokio::select! {
            frame = source.next() => frame,
            _ = &mut writer => break,
        };
        match frame {
            Some(Ok(Message::Text(text))) => answer(&handle, &hub, connection, text.as_str()).await,
            Some(Ok(Message::Binary(bytes))) => match std::str::from_utf8(&bytes) {
                Ok(text) => answer(&handle, &hub, connection, text).await,
                Err(_) => hub.reply(connection, parse_error()),
            },
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
            // Pings are answered by the websocket layer.
            Some(Ok(_)) => {}
        }
    }
    hub.disconnect(connection);
    writer.abort();
}

fn parse_error() -> Value {
    error(Value::Null, RpcFailure { code: PARSE_ERROR, message: "Parse error".into(), data: None })
}

async fn answer(handle: &Arc<Handle>, hub: &Arc<Hub>, connection: u64, text: &str) {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return hub.reply(connection, parse_error());
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return hub.reply(connection, error(Value::Null, invalid_request()));
    };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    match parse(method, &params) {
        Err(failure) => hub.reply(connection, error(id, failure)),
        Ok(Request::Unsubscribe(subscription)) => match hub.unsubscribe(connection, subscription) {
            true => hub.reply(connection, json!({"jsonrpc": "2.0", "result": true, "id": id})),
            false => hub.reply(connection, error(id, invalid("Invalid subscription id."))),
        },
        Ok(Request::Subscribe(kind)) => {
            let (handle, hub) = (Arc::clone(handle), Arc::clone(hub));
            let _ = tokio::task::spawn_blocking(move || {
                let mut net = handle.lock();
                net.follow_clock();
                // A subscription starts from stored state; a store that failed is said, so the
                // subscriber never waits for an answer.
                match net.flush() {
                    Ok(()) => hub.subscribe(connection, id, kind, &net),
                    Err(failure) => {
                        handle.failed(&mut net, failure.0.clone());
                        hub.reply(connection, error(id, crate::localnet::rpc::storage_failed(&failure.0)));
                    }
                }
            })
            .await;
        }
    }
}
