//! An outside client in another language drives `localnet serve`: `tests/clients/solana_py.py`
//! calls every HTTP method of the README's compatibility table and the PubSub subscriptions
//! through solana-py, which parses each answer into solders' typed values. Every call must
//! parse, and the methods it called must be exactly the table's. With the real-validator lane
//! on, the same script runs against a solana-test-validator 3.1.12 and each call must come
//! out as the same type on both.
//!
//! The lane needs a Python with `solana==0.36.6`: `PSYCHE_TEST_PYTHON` names it (`.ci/run`
//! makes a virtual environment and sets it), else a `python3` that has the package is used;
//! without one the test says it was skipped and passes.

mod common;

use common::validator::Validator;
use common::{Runbook, Server};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const PYTHON: &str = "PSYCHE_TEST_PYTHON";

/// A Python that has solana-py, or None (after saying the lane is skipped).
fn python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(PYTHON).map(PathBuf::from) {
        assert!(path.is_file(), "{PYTHON}={} is not a file", path.display());
        return Some(path);
    }
    let imports = Command::new("python3").args(["-c", "import solana, solders, spl.token"]).output();
    if imports.is_ok_and(|o| o.status.success()) {
        return Some(PathBuf::from("python3"));
    }
    eprintln!("typed-client lane skipped: set {PYTHON} to a python with solana==0.36.6 installed");
    None
}

/// One call the script made and the type its answer parsed into.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Parsed {
    method: String,
    parsed: String,
}

/// Runs the script against a node; panics unless every answer parsed.
fn drive(python: &Path, http: &str, ws: &str) -> Vec<Parsed> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/solana_py.py");
    let out = Command::new(python).arg(script).args([http, ws]).output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the typed client failed on {http}:\n{stdout}\n{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.last(), Some(&serde_json::json!({"done": true})), "{stdout}");
    lines[..lines.len() - 1]
        .iter()
        .map(|l| Parsed { method: l["method"].as_str().unwrap().into(), parsed: l["parsed"].as_str().unwrap().into() })
        .collect()
}

/// The HTTP methods of the README's compatibility table.
fn table_methods() -> BTreeSet<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("### Every method a validator answers").nth(1).expect("the compatibility table");
    let section = section.split("\n#").next().unwrap();
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `")?.split('`').next().map(str::to_string))
        .filter(|name| !name.ends_with("Subscribe"))
        .collect()
}

#[test]
fn a_python_client_parses_every_answer_serve_gives() {
    let Some(python) = python() else { return };
    let rb = Runbook::new();
    // 20 ms slots: the script waits for its setup to be finalized.
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let calls = drive(&python, &server.url, &server.ws_url);

    let pubsub = |m: &str| ["Subscribe", "Notification", "Unsubscribe"].iter().any(|s| m.ends_with(s));
    let called: BTreeSet<String> = calls.iter().map(|c| c.method.clone()).filter(|m| !pubsub(m)).collect();
    let mut expected = table_methods();
    assert_eq!(expected.len(), 52, "{expected:?}");
    expected.insert("GET /health".into());
    assert_eq!(called, expected);
    for kind in ["account", "program", "signature", "slot", "root", "logs"] {
        // A signature subscription ends with its notification: nothing to unsubscribe.
        let steps: &[&str] = if kind == "signature" {
            &["Subscribe", "Notification"]
        } else {
            &["Subscribe", "Notification", "Unsubscribe"]
        };
        for step in steps {
            let name = format!("{kind}{step}");
            assert!(calls.iter().any(|c| c.method == name), "no {name} in {calls:?}");
        }
    }
    // Refusals parse too (into typed errors); the only one is the validator's own for an
    // epoch that has not ended.
    let refused: Vec<(&str, &str)> = calls
        .iter()
        .filter(|c| {
            c.parsed.ends_with("Message") || c.parsed.starts_with("RPCError") || c.parsed.starts_with("RpcCustomError")
        })
        .map(|c| (c.method.as_str(), c.parsed.as_str()))
        .collect();
    assert_eq!(refused, [("getInflationReward", "BlockNotAvailableMessage")]);
    assert_eq!(server.stop(), 0);

    // The same script on a real validator: each call parses into the same type on both.
    let Some(validator) = Validator::start() else { return };
    let on_validator = drive(&python, &validator.url, &validator.ws_url);
    let mut ours = calls.clone();
    let mut theirs = on_validator.clone();
    // A young validator has taken no snapshot yet (-32008); serve's database is its snapshot.
    for list in [&mut ours, &mut theirs] {
        list.retain(|c| c.method != "getHighestSnapshotSlot");
        list.sort();
    }
    assert_eq!(ours, theirs);
}
