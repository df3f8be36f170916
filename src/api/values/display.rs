//! Values as people read them, for the REPL's results and `run`'s text output: a pubkey as
//! base58, a signer as its key and source, a run as `Run("id", state, epoch N)`, a run report
//! as its summary, exact integers as their digits, and maps and arrays on one line when they
//! fit, else one entry per line, indented. A long array (hundreds of signatures) shows its
//! first entries and a count; `--output json` keeps every entry.

use crate::api::values::big_int::BigInt;
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::runs::RunHandle;
use crate::psyche::report::RunReport;
use rhai::{Array, Dynamic, Map};
use solana_sdk::pubkey::Pubkey;

/// Lines longer than this are broken, one entry per line.
const WIDTH: usize = 80;
const INDENT: &str = "  ";
/// Arrays longer than this show only their first `SHOWN_ENTRIES` and a count of the rest.
const MAX_ENTRIES: usize = 20;
const SHOWN_ENTRIES: usize = 10;

/// A value laid out for reading.
enum Shape {
    Atom(String),
    List(Vec<Shape>),
    Record(Vec<(String, Shape)>),
}

/// How a run is shown: with its state as the execution reads it now (`ops::runs::handle`).
pub type RunLine<'a> = &'a dyn Fn(&RunHandle) -> String;

/// `value` for people; runs show through `run_line` (without one, just their id).
pub fn show(value: &Dynamic, run_line: Option<RunLine>) -> String {
    layout(&of_value(value, run_line), 0, 0)
}

/// `Run("quickstart")`: a run by its id alone.
pub fn bare_run_line(run: &RunHandle) -> String {
    format!("Run({:?})", run.run_id)
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

/// The entries of a list as shown: all of a short one, the first few of a long one and a count.
fn entries<T>(items: &[T], shape: impl Fn(&T) -> Shape) -> Shape {
    if items.len() <= MAX_ENTRIES {
        return Shape::List(items.iter().map(shape).collect());
    }
    let mut shown: Vec<Shape> = items[..SHOWN_ENTRIES].iter().map(shape).collect();
    shown.push(Shape::Atom(format!("… and {} more", items.len() - SHOWN_ENTRIES)));
    Shape::List(shown)
}

fn of_value(value: &Dynamic, run_line: Option<RunLine>) -> Shape {
    if let Some(array) = value.read_lock::<Array>() {
        entries(&array, |v| of_value(v, run_line))
    } else if let Some(map) = value.read_lock::<Map>() {
        Shape::Record(map.iter().map(|(k, v)| (key(k), of_value(v, run_line))).collect())
    } else {
        Shape::Atom(atom(value, run_line))
    }
}

fn atom(value: &Dynamic, run_line: Option<RunLine>) -> String {
    if value.is_unit() {
        "()".into()
    } else if value.is_string() {
        quoted(&value.to_string())
    } else if let Some(key) = value.read_lock::<Pubkey>() {
        key.to_string()
    } else if let Some(signer) = value.read_lock::<SignerHandle>() {
        signer.describe()
    } else if let Some(run) = value.read_lock::<RunHandle>() {
        run_line.map_or_else(|| bare_run_line(&run), |line| line(&run))
    } else if let Some(report) = value.read_lock::<RunReport>() {
        report.summary.to_string()
    } else if let Some(big) = value.read_lock::<BigInt>() {
        big.to_string()
    } else if let Some(error) = value.read_lock::<HostError>() {
        format!("Error({} error: {})", error.kind_name(), error.message)
    } else {
        value.to_string()
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
    use crate::api::values::json::from_json;
    use serde_json::json;

    fn show_json(value: &serde_json::Value) -> String {
        show(&from_json(value), None)
    }

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
    fn long_arrays_show_their_first_entries_and_a_count() {
        let short = show_json(&json!((0..20).collect::<Vec<_>>()));
        let all: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert_eq!(short, format!("[{}]", all.join(", ")));
        let long = show_json(&json!((0..625).collect::<Vec<_>>()));
        assert_eq!(long, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … and 615 more]");
    }

    #[test]
    fn host_values_read_as_operators_name_them() {
        let key = Pubkey::new_unique();
        assert_eq!(show(&Dynamic::from(key), None), key.to_string());
        assert_eq!(show(&Dynamic::from(BigInt(11_211_467_328_114_996_294)), None), "11211467328114996294");
        assert_eq!(show(&Dynamic::from("text"), None), "\"text\"");
    }
}
