//! The host API's catalogue, generated from the engine's own metadata so it cannot drift from
//! the code: for `psyche-runbook docs`, the REPL's `:functions` and completion, and the
//! names "did you mean" suggests.

use rhai::Engine;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The first paragraph of a `///` doc comment, as one line.
fn summary(doc_comments: &Value) -> String {
    let mut lines = Vec::new();
    for block in doc_comments.as_array().into_iter().flatten().filter_map(Value::as_str) {
        for line in block.lines() {
            let line = line.trim().trim_start_matches("///").trim_start_matches("/**").trim_end_matches("*/").trim();
            if line.is_empty() || line.starts_with("```") {
                if !lines.is_empty() {
                    return lines.join(" ");
                }
                continue;
            }
            lines.push(line.to_string());
        }
    }
    lines.join(" ")
}

/// A Rust type as script authors know it: registered names for host types, `string`,
/// `int`, no references, no `Result` wrapper. A `PubkeyArg` shows as `Pubkey` (it also takes
/// a base58 string or a Signer, as the catalogue's header says).
pub fn script_type(rust: &str, names: &HashMap<String, String>) -> String {
    let mut t = rust.trim().trim_start_matches("&mut ").trim_start_matches('&').trim().to_string();
    if let Some(inner) = t.strip_prefix("Result<").and_then(|r| r.split_once(',')).map(|(ok, _)| ok.trim().to_string())
    {
        t = inner;
    }
    // The API modules' `Res<T>` alias of `Result<T, Box<EvalAltResult>>`.
    if let Some(inner) = t.strip_prefix("Res<").and_then(|r| r.strip_suffix('>')) {
        t = inner.trim().to_string();
    }
    match t.as_str() {
        "str" | "String" | "ImmutableString" => "string".into(),
        "INT" | "i64" => "int".into(),
        "FLOAT" | "f64" => "float".into(),
        "Dynamic" => "any".into(),
        "PubkeyArg" => "Pubkey".into(),
        "()" => "()".into(),
        other => names.get(other).cloned().unwrap_or_else(|| other.to_string()),
    }
}

/// `name(param: type, ...) -> type`, or `Type.property -> type` for getters.
fn signature(f: &Value, names: &HashMap<String, String>) -> String {
    let name = f["name"].as_str().unwrap_or_default();
    let params: Vec<(String, String)> = f["params"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let typ = script_type(p["type"].as_str().unwrap_or("any"), names);
            (p["name"].as_str().unwrap_or("_").to_string(), typ)
        })
        .collect();
    let ret = script_type(f["returnType"].as_str().unwrap_or("()"), names);
    if let (Some(property), Some((_, owner))) = (name.strip_prefix("get$"), params.first()) {
        return format!("{owner}.{property} -> {ret}");
    }
    let list = params.iter().map(|(n, t)| format!("{n}: {t}")).collect::<Vec<_>>().join(", ");
    if ret == "()" { format!("{name}({list})") } else { format!("{name}({list}) -> {ret}") }
}

/// Host types by their Rust name (last path segment) → the name scripts see.
pub fn type_names(meta: &Value) -> HashMap<String, String> {
    meta["customTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let rust = t["typeName"].as_str()?.rsplit("::").next()?.to_string();
            Some((rust, t["displayName"].as_str()?.to_string()))
        })
        .collect()
}

/// `[{name, signature, description}]` for host functions, and the host types.
pub fn catalogue(engine: &Engine) -> (Vec<Value>, Vec<Value>) {
    let json = engine.gen_fn_metadata_to_json(false).expect("metadata serializes");
    let meta: Value = serde_json::from_str(&json).expect("metadata is JSON");
    let names = type_names(&meta);
    let mut functions: Vec<Value> = meta["functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| !f["name"].as_str().unwrap_or("").starts_with("anon$"))
        .map(|f| {
            json!({
                "name": f["name"],
                "signature": signature(f, &names),
                "description": summary(&f["docComments"]),
            })
        })
        .collect();
    functions.sort_by(|a, b| a["signature"].as_str().cmp(&b["signature"].as_str()));
    functions.dedup();
    let types = meta["customTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| json!({"name": t["displayName"], "rust_type": t["typeName"]}))
        .collect();
    (functions, types)
}

/// Every function name the engine knows, with the parameter counts it accepts.
pub fn known_functions(engine: &Engine) -> HashMap<String, HashSet<usize>> {
    let mut known: HashMap<String, HashSet<usize>> = HashMap::new();
    let json = engine.gen_fn_metadata_to_json(true).expect("metadata serializes");
    let meta: serde_json::Value = serde_json::from_str(&json).expect("metadata is JSON");
    for f in meta["functions"].as_array().into_iter().flatten() {
        if let (Some(name), Some(n)) = (f["name"].as_str(), f["numParams"].as_u64()) {
            known.entry(name.to_string()).or_default().insert(n as usize);
        }
    }
    known
}

/// One spelling per type, whether it comes from metadata (`&mut Map`, `INT`) or a value (`map`,
/// `i64`).
pub fn type_key(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "immutablestring" | "str" | "string" | "&str" => "string".into(),
        "i64" | "int" => "int".into(),
        "f64" | "float" => "float".into(),
        other => other.into(),
    }
}

/// Method and property names by the type of their first parameter.
pub fn members_by_type(engine: &Engine) -> HashMap<String, BTreeSet<String>> {
    let json = engine.gen_fn_metadata_to_json(true).expect("metadata serializes");
    let meta: serde_json::Value = serde_json::from_str(&json).expect("metadata is JSON");
    let names = type_names(&meta);
    let mut members: HashMap<String, BTreeSet<String>> = HashMap::new();
    for f in meta["functions"].as_array().into_iter().flatten() {
        let (Some(name), Some(first)) = (f["name"].as_str(), f["params"].get(0)) else { continue };
        let typ = script_type(first["type"].as_str().unwrap_or("any"), &names);
        let member = name.strip_prefix("get$").unwrap_or(name);
        // Operators, setters, indexers and anonymous functions are not typed after a dot.
        if typ == "any" || !member.chars().all(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        members.entry(type_key(&typ)).or_default().insert(member.to_string());
    }
    members
}
