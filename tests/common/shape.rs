//! Comparing JSON-RPC answers with a real validator's by shape: the same keys at every level,
//! the same value types, the same nesting (values differ run to run; shapes do not).

use serde_json::Value;

/// Differences in shape between the validator's `expected` and serve's `actual`, by path.
pub fn shape_differences(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{key}: missing"));
            }
            for key in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{key}: not in the validator's answer"));
            }
            for (key, value) in e {
                if let Some(other) = a.get(key) {
                    shape_differences(value, other, &format!("{path}.{key}"), out);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            // Tuples (["…", "base64"], [0, {"Custom": 1}]) compare position by position;
            // lists compare each element with the validator's first.
            let tuple = e.len() == a.len() && e.iter().any(|v| kind(v) != kind(&e[0]));
            for (i, value) in a.iter().enumerate() {
                let model = if tuple {
                    &e[i]
                } else if let Some(first) = e.first() {
                    first
                } else {
                    continue;
                };
                shape_differences(model, value, &format!("{path}[{i}]"), out);
            }
        }
        (e, a) if kind(e) != kind(a) => out.push(format!("{path}: {} where the validator has {}", kind(a), kind(e))),
        _ => {}
    }
}
