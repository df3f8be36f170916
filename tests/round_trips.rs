//! RPC round trips per operation, counted by the client's own transport (`rpc_round_trips` in
//! the JSON document), on the embedded chain and through `localnet serve` — where the real
//! cluster path runs: priority fees, compute-unit simulation, HTTP. These are the targets an
//! operator paying for RPC relies on; the figures are in BENCHMARKS.md.

mod common;

use common::{Runbook, Server};
use serde_json::Value;
use std::path::Path;

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

/// The JSON document of a successful run with `args` (global flags first).
fn run_json(rb: &Runbook, args: &[&str]) -> Value {
    let mut all: Vec<String> = vec!["--output".into(), "json".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    rb.run_args(all).success().json()
}

fn trips(doc: &Value) -> u64 {
    let by_method = doc["rpc_round_trips_by_method"].as_object().expect("per-method counts");
    let total: u64 = by_method.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(doc["rpc_round_trips"], total, "the total is the sum of the methods: {doc}");
    total
}

fn method(doc: &Value, name: &str) -> u64 {
    doc["rpc_round_trips_by_method"][name].as_u64().unwrap_or(0)
}

fn sent(doc: &Value) -> usize {
    doc["signatures"].as_array().unwrap().len()
}

/// A localnet with the quickstart's rewarded run, its payer holding tokens.
fn quickstart() -> Runbook {
    let rb = Runbook::new();
    run_json(&rb, &["run", &runbook("quickstart.rhai")]);
    rb
}

#[test]
fn top_up_cron_on_the_embedded_chain() {
    let rb = quickstart();
    let top_up = run_json(&rb, &["run", &runbook("top-up-cron.rhai"), "--set", "epochs=20"]);
    assert_eq!(sent(&top_up), 1);
    assert!(trips(&top_up) <= 7, "a real top-up: {top_up}");
    let no_op = run_json(&rb, &["run", &runbook("top-up-cron.rhai"), "--set", "epochs=20"]);
    assert_eq!(sent(&no_op), 0);
    assert!(trips(&no_op) <= 2, "a no-op top-up: {no_op}");
    assert_eq!(method(&no_op, "getAccountInfo"), 0, "reads are batched: {no_op}");
}

#[test]
fn operations_through_serve_need_no_more_round_trips_than_psyche_run_manager() {
    let rb = quickstart();
    // A run to work on over RPC; localnet services (minting) are only for the embedded chain.
    run_json(&rb, &["run", &runbook("create-public-run.rhai")]);
    let server = Server::start(&rb);
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let over_rpc = |args: &[&str]| {
        let mut all = vec!["-u", &server.url, "-k", &payer];
        all.extend_from_slice(args);
        run_json(&rb, &all)
    };

    // The first run through a URL learns which cluster it reaches: one request more, once.
    std::fs::write(rb.path("exists.rhai"), "output(\"exists\", run_exists(\"quickstart\"));").unwrap();
    let first = over_rpc(&["run", "exists.rhai"]);
    let again = over_rpc(&["run", "exists.rhai"]);
    assert_eq!((method(&first, "getGenesisHash"), method(&again, "getGenesisHash")), (1, 0), "{first}\n{again}");
    assert_eq!(trips(&first), trips(&again) + 1, "{first}\n{again}");

    // The cron runbook: a real top-up, then a no-op.
    let top_up = over_rpc(&["run", &runbook("top-up-cron.rhai")]);
    assert_eq!(sent(&top_up), 1);
    assert!(trips(&top_up) <= 7, "a real top-up over RPC: {top_up}");
    let no_op = over_rpc(&["run", &runbook("top-up-cron.rhai")]);
    assert_eq!(sent(&no_op), 0);
    assert!(trips(&no_op) <= 2, "a no-op top-up over RPC: {no_op}");

    // Re-running runbooks with nothing due.
    for name in ["create-public-run.rhai", "pause-update-resume.rhai"] {
        let doc = over_rpc(&["run", &runbook(name)]);
        assert_eq!(sent(&doc), 0, "{name}: {doc}");
        assert!(trips(&doc) <= 3, "{name} with nothing due: {doc}");
    }

    // One operation each, against run-manager's counts for the same operation.
    let ops = [
        ("create_run(#{ run_id: \"rt-direct\" });", 5),
        ("run(\"public-run\").pause();", 6),
        ("run(\"public-run\").update_config(\"changed.toml\");", 7),
        ("run(\"quickstart\").set_rates(4.0, 0.5);", 8),
        ("run(\"quickstart\").top_up(1.0);", 8),
    ];
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/configs/quickstart.toml"));
    std::fs::write(rb.path("changed.toml"), config.unwrap().replacen("warmup_time = 10", "warmup_time = 20", 1))
        .unwrap();
    for (i, (script, run_manager)) in ops.iter().enumerate() {
        let name = format!("op{i}.rhai");
        std::fs::write(rb.path(&name), script).unwrap();
        let doc = over_rpc(&["run", &name]);
        assert_eq!(sent(&doc), 1, "{script}: {doc}");
        assert!(trips(&doc) <= *run_manager, "{script} needs more than run-manager's {run_manager}: {doc}");
    }

    // Listing runs: one program-accounts query and one batched read.
    std::fs::write(rb.path("list.rhai"), "output(\"runs\", list_runs().len());").unwrap();
    let list = over_rpc(&["run", "list.rhai"]);
    assert_eq!(list["outputs"]["runs"], 3);
    assert_eq!(method(&list, "getProgramAccounts"), 1);
    assert_eq!(trips(&list), 2, "{list}");
    assert_eq!(server.stop(), 0);
}

#[test]
fn bulk_grants_pack_eight_users_and_a_rerun_reads_in_batches_of_100() {
    let users: String = (0..1000).map(|_| format!("{}\n", solana_sdk::pubkey::Pubkey::new_unique())).collect();
    let rb = Runbook::new()
        .file("users.txt", &users)
        .file("grant.rhai", "let r = grant_many(payer(), \"users.txt\"); output(\"created\", r.created);");
    let first = run_json(&rb, &["run", "grant.rhai"]);
    assert_eq!(first["outputs"]["created"], 1000);
    assert_eq!(sent(&first), 125, "eight users per transaction");
    let again = run_json(&rb, &["run", "grant.rhai"]);
    assert_eq!(sent(&again), 0);
    assert_eq!(method(&again, "getMultipleAccounts"), 10, "{again}");
    assert_eq!(trips(&again), 10, "{again}");
}

#[test]
fn verbose_runs_end_with_their_round_trips() {
    let rb = Runbook::new().file("one.rhai", "run_exists(\"nothing-here\");");
    let run = rb.run_args(["-v", "run", "one.rhai"]).success();
    let last = run.stderr.lines().last().unwrap_or_default();
    assert_eq!(last, "1 RPC round trip(s) (getMultipleAccounts 1)", "{}", run.stderr);
}
