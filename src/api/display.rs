//! Values as people read them, for the REPL's results and `run`'s text output: a pubkey as
//! base58, a signer as its key and source, a run as `Run("id", state, epoch N)`, a run report
//! as its summary, exact integers as their digits, and maps and arrays on one line when they
//! fit, else one entry per line, indented.

use crate::api::big_int::BigInt;
use crate::api::host::Host;
use crate::api::keys::SignerHandle;
use crate::api::runs::RunHandle;
use crate::psyche::report::RunReport;
use rhai::{Array, Dynamic, Map};
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;

/// Lines longer than this are broken, one entry per line.
const WIDTH: usize = 80;
const INDENT: &str = "  ";

/// A value laid out for reading.
enum Shape {
    Atom(String),
    List(Vec<Shape>),
    Record(Vec<(String, Shape)>),
}

/// `value` for people; runs show their state as read through `host` (without one, just the id).
pub fn show(value: &Dynamic, host: Option<&Host>) -> String {
    layout(&of_value(value, host), 0, 0)
}

/// A JSON value for people (the same layout as `show`).
pub fn show_json(value: &Value) -> String {
    layout(&of_json(value), 0, 0)
}

/// `Run("quickstart", Waiting for members, epoch 1)`: the state as the chain has it now (one
/// read, served from the host's reads when it has them).
pub fn run_line(run: &RunHandle, host: Option<&Host>) -> String {
    match host.map(|h| run.coordinator(h)) {
        Some(Ok(account)) => {
            format!("Run({:?}, {}, epoch {})", run.run_id, account.run_state.display(), account.progress.epoch)
        }
        _ => format!("Run({:?})", run.run_id),
    }
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// Map keys bare when they read as words (pubkeys included), quoted otherwise.
fn key(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        quoted(name)
    }
}

fn of_value(value: &Dynamic, host: Option<&Host>) -> Shape {
    if let Some(array) = value.read_lock::<Array>() {
        Shape::List(array.iter().map(|v| of_value(v, host)).collect())
    } else if let Some(map) = value.read_lock::<Map>() {
        Shape::Record(map.iter().map(|(k, v)| (key(k), of_value(v, host))).collect())
    } else {
        Shape::Atom(atom(value, host))
    }
}

fn atom(value: &Dynamic, host: Option<&Host>) -> String {
    if value.is_unit() {
        "()".into()
    } else if value.is_string() {
        quoted(&value.to_string())
    } else if let Some(key) = value.read_lock::<Pubkey>() {
        key.to_string()
    } else if let Some(signer) = value.read_lock::<SignerHandle>() {
        signer.describe()
    } else if let Some(run) = value.read_lock::<RunHandle>() {
        run_line(&run, host)
    } else if let Some(report) = value.read_lock::<RunReport>() {
        report.summary.to_string()
    } else if let Some(big) = value.read_lock::<BigInt>() {
        big.to_string()
    } else {
        value.to_string()
    }
}

fn of_json(value: &Value) -> Shape {
    match value {
        Value::Array(items) => Shape::List(items.iter().map(of_json).collect()),
        Value::Object(map) => Shape::Record(map.iter().map(|(k, v)| (key(k), of_json(v))).collect()),
        Value::String(s) => Shape::Atom(quoted(s)),
        Value::Null => Shape::Atom("()".into()),
        other => Shape::Atom(other.to_string()),
    }
}

/// The one-line form, when every part of it is one line.
fn inline(shape: &Shape) -> Option<String> {
    match shape {
        Shape::Atom(text) => (!text.contains('\n')).then(|| text.clone()),
        Shape::List(items) => {
            let parts = items.iter().map(inline).collect::<Option<Vec<_>>>()?;
            Some(format!("[{}]", parts.join(", ")))
        }
        Shape::Record(entries) if entries.is_empty() => Some("#{}".into()),
        Shape::Record(entries) => {
            let parts =
                entries.iter().map(|(k, v)| inline(v).map(|v| format!("{k}: {v}"))).collect::<Option<Vec<_>>>()?;
            Some(format!("#{{ {} }}", parts.join(", ")))
        }
    }
}

/// `shape` at nesting `depth`, after `used` columns of its first line (indent and key);
/// continuation lines are indented to match.
fn layout(shape: &Shape, depth: usize, used: usize) -> String {
    let pad = INDENT.repeat(depth);
    // One column for the comma that follows a nested entry.
    if let Some(line) = inline(shape)
        && used + line.len() + usize::from(depth > 0) <= WIDTH
    {
        return line;
    }
    let inner = INDENT.repeat(depth + 1);
    match shape {
        // A multi-line text (a summary) keeps its own lines, shifted to this depth.
        Shape::Atom(text) => text.replace('\n', &format!("\n{pad}")),
        Shape::List(items) => {
            let lines: Vec<String> =
                items.iter().map(|v| format!("{inner}{},", layout(v, depth + 1, inner.len()))).collect();
            format!("[\n{}\n{pad}]", lines.join("\n"))
        }
        Shape::Record(entries) => {
            let lines: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{inner}{k}: {},", layout(v, depth + 1, inner.len() + k.len() + 2)))
                .collect();
            format!("#{{\n{}\n{pad}}}", lines.join("\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_values_stay_on_one_line_and_long_ones_break() {
        assert_eq!(show_json(&json!({"changed": false, "signatures": []})), "#{ changed: false, signatures: [] }");
        let long = json!({"a": "x".repeat(50), "b": {"c": "y".repeat(45), "d": 9223372036854775809u64}});
        let expected = format!(
            "#{{\n  a: \"{}\",\n  b: #{{\n    c: \"{}\",\n    d: 9223372036854775809,\n  }},\n}}",
            "x".repeat(50),
            "y".repeat(45)
        );
        assert_eq!(show_json(&long), expected);
    }

    #[test]
    fn host_values_read_as_operators_name_them() {
        let key = Pubkey::new_unique();
        assert_eq!(show(&Dynamic::from(key), None), key.to_string());
        assert_eq!(show(&Dynamic::from(BigInt(11_211_467_328_114_996_294)), None), "11211467328114996294");
        assert_eq!(show(&Dynamic::from("text"), None), "\"text\"");
    }
}
