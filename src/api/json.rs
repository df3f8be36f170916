//! Rhai values to JSON, for `output(...)` and `--output json`. Host types render as operators
//! read them: pubkeys as base58 strings, signers as their public key.

use crate::api::keys::SignerHandle;
use rhai::{Array, Dynamic, Map};
use serde_json::{Number, Value};
use solana_sdk::pubkey::Pubkey;

pub fn to_json(value: &Dynamic) -> Value {
    if value.is_unit() {
        Value::Null
    } else if let Ok(b) = value.as_bool() {
        Value::Bool(b)
    } else if let Ok(i) = value.as_int() {
        Value::Number(i.into())
    } else if let Ok(f) = value.as_float() {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    } else if value.is_string() || value.is_char() {
        Value::String(value.to_string())
    } else if let Some(array) = value.read_lock::<Array>() {
        Value::Array(array.iter().map(to_json).collect())
    } else if let Some(map) = value.read_lock::<Map>() {
        Value::Object(map.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect())
    } else if let Some(key) = value.read_lock::<Pubkey>() {
        Value::String(key.to_string())
    } else if let Some(signer) = value.read_lock::<SignerHandle>() {
        Value::String(signer.pubkey().to_string())
    } else if let Some(blob) = value.read_lock::<rhai::Blob>() {
        Value::Array(blob.iter().map(|b| Value::Number((*b).into())).collect())
    } else {
        Value::String(value.to_string())
    }
}

/// JSON back to a Rhai value (objects become maps, numbers INT or FLOAT).
pub fn from_json(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().map_or(Dynamic::UNIT, Dynamic::from_float),
        },
        Value::String(s) => s.clone().into(),
        Value::Array(items) => Dynamic::from_array(items.iter().map(from_json).collect()),
        Value::Object(map) => Dynamic::from_map(map.iter().map(|(k, v)| (k.into(), from_json(v))).collect()),
    }
}
