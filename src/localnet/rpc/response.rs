//! What every answer is made of, as a validator writes it: the context around a value (the
//! slot of the bank that answered and the version), and failures with the validator's codes.

use serde_json::{Value, json};

/// The version this endpoint reports (the agave runtime it embeds).
pub const SOLANA_CORE_VERSION: &str = "3.1.14";
pub const INVALID_REQUEST: i64 = -32600;
pub const INVALID_PARAMS: i64 = -32602;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INTERNAL_ERROR: i64 = -32603;
pub const PREFLIGHT_FAILURE: i64 = -32002;

#[derive(Debug, Clone)]
pub struct RpcFailure {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

/// A value with the context a validator puts around it: the slot of the bank that answered.
pub fn with_context(slot: u64, value: Value) -> Value {
    json!({"context": {"slot": slot, "apiVersion": SOLANA_CORE_VERSION}, "value": value})
}

/// The answer to a request that is not a call (no method) or an empty batch.
pub fn invalid_request() -> RpcFailure {
    RpcFailure { code: INVALID_REQUEST, message: "Invalid request".into(), data: None }
}

/// A validator's code for a node that cannot serve: the localnet's, when its store fails.
pub const NODE_UNHEALTHY: i64 = -32005;

/// What a call answers when the localnet's store could not be written: the transaction (or
/// change) was not processed.
pub fn storage_failed(reason: &str) -> RpcFailure {
    RpcFailure {
        code: NODE_UNHEALTHY,
        message: format!(
            "Node is unhealthy: the localnet's storage failed ({reason}); nothing of this call was stored"
        ),
        data: Some(serde_json::json!({"storage": reason})),
    }
}

/// `getHealth` while the store cannot be written.
pub fn unhealthy(reason: &str) -> RpcFailure {
    RpcFailure {
        code: NODE_UNHEALTHY,
        message: format!(
            "Node is unhealthy: its storage cannot be written ({reason}); reads are served, writes refused"
        ),
        data: Some(serde_json::json!({"storage": reason})),
    }
}
