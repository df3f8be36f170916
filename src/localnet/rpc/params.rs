//! Positional parameters read the way the validator's JSON-RPC layer (jsonrpc-core and its
//! derive) reads them, so a bad request gets the validator's code and message: an array with at
//! least the required arguments and at most all of them, each deserialized into the client
//! API's own config types; missing trailing options are `None`. Keys, signatures and hashes
//! that do not parse answer "Invalid param: <error>" as the validator's helpers do.

use crate::localnet::rpc::response::{INVALID_PARAMS, RpcFailure};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt::Debug;
use std::str::FromStr;

pub fn invalid(message: impl Into<String>) -> RpcFailure {
    RpcFailure { code: INVALID_PARAMS, message: message.into(), data: None }
}

/// The arguments of a method taking `required` arguments and up to `total` (the rest optional),
/// as a tuple of `total` elements.
pub fn args<T: DeserializeOwned>(params: &Value, required: usize, total: usize) -> Result<T, RpcFailure> {
    let passed = match params {
        Value::Array(values) => values.clone(),
        Value::Null => Vec::new(),
        _ => return Err(invalid("`params` should be an array")),
    };
    if passed.len() < required {
        return Err(invalid(format!("`params` should have at least {required} argument(s)")));
    }
    if passed.len() > total {
        return Err(RpcFailure {
            code: INVALID_PARAMS,
            message: format!("Expected from {required} to {total} parameters."),
            data: Some(json!(format!("Got: {}", passed.len()))),
        });
    }
    let mut padded = passed;
    padded.resize(total, Value::Null);
    serde_json::from_value(Value::Array(padded)).map_err(|e| invalid(format!("Invalid params: {e}.")))
}

/// A method that takes no arguments.
pub fn none(params: &Value) -> Result<(), RpcFailure> {
    match params {
        Value::Null => Ok(()),
        Value::Array(values) if values.is_empty() => Ok(()),
        other => Err(RpcFailure {
            code: INVALID_PARAMS,
            message: "No parameters were expected".into(),
            data: Some(other.clone()),
        }),
    }
}

/// A pubkey, signature or hash in text, refused as the validator's `verify_*` helpers refuse it.
pub fn parsed<T: FromStr>(text: &str) -> Result<T, RpcFailure>
where
    T::Err: Debug,
{
    text.parse().map_err(|e| invalid(format!("Invalid param: {e:?}")))
}

/// Refuses more than `max` inputs in one request, as the validator does.
pub fn at_most<T>(items: &[T], max: usize) -> Result<(), RpcFailure> {
    if items.len() > max {
        return Err(invalid(format!("Too many inputs provided; max {max}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arity_and_type_errors_read_as_the_validators() {
        let args2 = |p: Value| args::<(String, Option<u64>)>(&p, 1, 2).map_err(|f| (f.code, f.message));
        assert_eq!(args2(json!([])), Err((-32602, "`params` should have at least 1 argument(s)".into())));
        assert_eq!(args2(json!(["a", 1, 2])).unwrap_err().1, "Expected from 1 to 2 parameters.");
        assert_eq!(
            args2(json!([1])),
            Err((-32602, "Invalid params: invalid type: integer `1`, expected a string.".into()))
        );
        assert_eq!(args2(json!({"a": 1})).unwrap_err().1, "`params` should be an array");
        assert_eq!(args2(json!(["a"])), Ok(("a".into(), None)));
        assert_eq!(none(&json!([1])).unwrap_err().message, "No parameters were expected");
        let key: Result<solana_sdk::pubkey::Pubkey, _> = parsed("xyz");
        assert_eq!(key.unwrap_err().message, "Invalid param: WrongSize");
    }
}
