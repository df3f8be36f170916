//! Rhai values to JSON, for `output(...)` and `--output json`, and back. Host types render as
//! operators read them: pubkeys as base58 strings, signers as their public key, runs as their
//! addresses, reports as upstream's JSON, errors as their kind and message. Integers stay exact
//! both ways: a u64 beyond `INT` becomes a `BigInt`, and a `BigInt` becomes a JSON integer again.

use crate::api::values::big_int::{BigInt, from_u64};
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::runs::RunHandle;
use crate::psyche::report::RunReport;
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
    } else if let Some(big) = value.read_lock::<BigInt>() {
        big_int_json(*big)
    } else if let Some(error) = value.read_lock::<HostError>() {
        serde_json::json!({"kind": error.kind_name(), "message": error.message})
    } else if let Some(report) = value.read_lock::<RunReport>() {
        report.json.clone()
    } else if let Some(run) = value.read_lock::<RunHandle>() {
        serde_json::json!({"run_id": run.run_id, "address": run.instance.to_string()})
    } else if let Some(blob) = value.read_lock::<rhai::Blob>() {
        Value::Array(blob.iter().map(|b| Value::Number((*b).into())).collect())
    } else {
        Value::String(value.to_string())
    }
}

/// A JSON integer when serde_json can hold it (any i64 or u64, which covers every chain value);
/// the digits as a string beyond that, rather than a rounded float.
fn big_int_json(big: BigInt) -> Value {
    if let Ok(i) = i64::try_from(big.0) {
        Value::Number(i.into())
    } else if let Ok(u) = u64::try_from(big.0) {
        Value::Number(u.into())
    } else {
        Value::String(big.to_string())
    }
}

/// JSON back to a Rhai value (objects become maps, integers INT or BigInt, others FLOAT).
pub fn from_json(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into(),
            (None, Some(u)) => from_u64(u),
            _ => n.as_f64().map_or(Dynamic::UNIT, Dynamic::from_float),
        },
        Value::String(s) => s.clone().into(),
        Value::Array(items) => Dynamic::from_array(items.iter().map(from_json).collect()),
        Value::Object(map) => Dynamic::from_map(map.iter().map(|(k, v)| (k.into(), from_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_round_trip_exactly_at_and_above_2_53_and_2_63() {
        for n in [(1u64 << 53) + 1, (1u64 << 63) + 1, 11_211_467_328_114_996_294, u64::MAX] {
            let value = json!({"index": n});
            let back = to_json(&from_json(&value));
            assert_eq!(back, value, "{n}");
            assert_eq!(back.to_string(), format!("{{\"index\":{n}}}"));
        }
        assert_eq!(to_json(&Dynamic::from(BigInt(-5))), json!(-5));
        assert_eq!(to_json(&Dynamic::from(BigInt(i128::MAX))), json!(i128::MAX.to_string()));
    }
}
