//! The example runbooks, as an operator runs them, on a fresh embedded localnet: each runs
//! green and a second run sends nothing; bad inputs are refused before anything is sent.

mod common;

use common::Runbook;
use std::path::Path;

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

fn run_json(rb: &Runbook, args: &[&str]) -> serde_json::Value {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--output".into(), "json".into()]);
    rb.run_args(all).success().json()
}

fn signatures(doc: &serde_json::Value) -> usize {
    doc["signatures"].as_array().unwrap().len()
}

#[test]
fn every_example_runbook_runs_green_and_is_idempotent() {
    let rb = Runbook::new();
    // Order matters only where a runbook works on a run another one created.
    let order = [
        "quickstart.rhai",
        "create-public-run.rhai",
        "create-private-run.rhai",
        "top-up-cron.rhai",
        "follow-alerts.rhai",
        "pause-update-resume.rhai",
        "inspect.rhai",
        "multisig-run.rhai",
        "multisig-approve.rhai",
    ];
    let mut listed: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".rhai"))
        .collect();
    listed.sort();
    let mut expected: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected, "a runbook was added to runbooks/ without a place in this test");
    for name in order {
        let first = run_json(&rb, &["run", &runbook(name)]);
        assert_eq!(first["ok"], true, "{name}: {first}");
        let second = run_json(&rb, &["run", &runbook(name)]);
        assert_eq!(signatures(&second), 0, "{name} sent transactions on its second run: {second}");
    }
    // The quickstart's run ends its first epoch with three clients paid and the treasury full.
    let info = run_json(&rb, &["run", &runbook("inspect.rhai")]);
    assert_eq!(info["outputs"]["run"]["coordinator_account"]["status"]["epoch"], 1);
    assert_eq!(info["outputs"]["run"]["treasurer_run"]["total_claimed_earned_points"], 3_000_000);
    // top-up-cron keeps 10 epochs funded after the quickstart's 5.
    assert_eq!(info["outputs"]["funding"]["funded_epochs"], 10.0);
}

#[test]
fn pause_update_resume_changes_a_running_run_once() {
    let rb = Runbook::new();
    run_json(&rb, &["run", &runbook("create-public-run.rhai")]);
    let original = std::fs::read_to_string(runbook("configs/quickstart.toml")).unwrap();
    let rb = rb.file("v2.toml", &original.replace("total_steps = 1000\n", "total_steps = 2000\n"));
    let config = rb.path("v2.toml").display().to_string();
    let args = [
        "run",
        &runbook("pause-update-resume.rhai"),
        "--set",
        &format!("config={config}"),
        "--set",
        "client_version=v2",
    ];
    let first = run_json(&rb, &args);
    assert!(signatures(&first) >= 3, "pause, update, resume: {first}");
    assert_eq!(first["outputs"]["state"], "Waiting for members");
    assert_eq!(first["outputs"]["client_version"], "v2");
    assert_eq!(signatures(&run_json(&rb, &args)), 0);
}

#[test]
fn the_allowlist_follows_the_users_file() {
    let users: Vec<String> = (0..4).map(|_| solana_sdk::pubkey::Pubkey::new_unique().to_string()).collect();
    let rb = Runbook::new().file("users.txt", &format!("# team\n{}\n{}\n\n{}\n", users[0], users[1], users[2]));
    let args = ["run", &runbook("create-private-run.rhai"), "--set", "users=users.txt"];
    let users_path = rb.path("users.txt").display().to_string();
    let args_abs: Vec<String> =
        args.iter().map(|a| a.replace("users=users.txt", &format!("users={users_path}"))).collect();
    let args_abs: Vec<&str> = args_abs.iter().map(String::as_str).collect();
    let first = run_json(&rb, &args_abs);
    assert_eq!(first["outputs"]["allowlist"]["granted"], 3);
    // Replace user 1 by user 3.
    std::fs::write(&users_path, format!("{}\n{}\n{}\n", users[0], users[2], users[3])).unwrap();
    let second = run_json(&rb, &args_abs);
    assert_eq!(second["outputs"]["allowlist"]["granted"], 1);
    assert_eq!(second["outputs"]["allowlist"]["revoked"], 1);
    assert_eq!(second["outputs"]["allowlist"]["unchanged"], 2);
    assert_eq!(signatures(&run_json(&rb, &args_abs)), 0);
}

#[test]
fn bulk_grants_report_what_they_did() {
    let users: Vec<String> = (0..30).map(|_| format!("\"{}\"", solana_sdk::pubkey::Pubkey::new_unique())).collect();
    let script = format!(
        "let users = [{}];\nlet first = grant_many(payer(), users);\nlet second = grant_many(payer(), users);\noutput(\"first\", first);\noutput(\"second\", second);\n",
        users.join(", ")
    );
    let doc = run_json(&Runbook::new().file("bulk.rhai", &script), &["run", "bulk.rhai"]);
    let first = &doc["outputs"]["first"];
    assert_eq!(first["created"], 30);
    assert_eq!(first["activated"], 30);
    assert_eq!(first["failed"], serde_json::json!([]));
    // Eight create+activate pairs fit in one transaction.
    assert_eq!(first["signatures"].as_array().unwrap().len(), 4);
    assert_eq!(doc["outputs"]["second"]["unchanged"], 30);
    assert_eq!(doc["outputs"]["second"]["changed"], false);
}

/// A list longer than one window (16,384 users) is granted window by window; the counts add up
/// across the boundary, and users already granted are left alone in whichever window they fall.
#[test]
fn a_bulk_grant_longer_than_a_window_adds_up_across_windows() {
    let users: Vec<String> = (0..16_390).map(|_| solana_sdk::pubkey::Pubkey::new_unique().to_string()).collect();
    let early: Vec<String> = users[..3].iter().chain(&users[16_386..]).map(|u| format!("\"{u}\"")).collect();
    let rb = Runbook::new()
        .file("users.txt", &users.join("\n"))
        .file("early.rhai", &format!("output(\"early\", grant_many(payer(), [{}]).created);\n", early.join(", ")))
        .file(
            "all.rhai",
            "let first = grant_many(payer(), \"users.txt\");\nlet second = grant_many(payer(), \"users.txt\");\n\
             output(\"first\", #{ created: first.created, unchanged: first.unchanged, failed: first.failed.len(), \
             signatures: first.signatures.len() });\noutput(\"second\", second.unchanged);\n",
        );
    assert_eq!(run_json(&rb, &["run", "early.rhai"])["outputs"]["early"], 7);
    let doc = run_json(&rb, &["run", "all.rhai"]);
    let first = &doc["outputs"]["first"];
    assert_eq!(first["created"], 16_383);
    assert_eq!(first["unchanged"], 7);
    assert_eq!(first["failed"], 0);
    // The first window holds 16,381 new users (2,048 transactions), the second 2 (one).
    assert_eq!(first["signatures"], 2_049);
    assert_eq!(doc["outputs"]["second"], 16_390);
}

#[test]
fn delegates_join_through_their_master_key() {
    let script = "\
        let r = create_run(#{ run_id: \"private\" }).run;\n\
        let master = new_keypair();\n\
        let delegate = new_keypair();\n\
        grant(payer(), master.pubkey);\n\
        output(\"first\", set_delegates(master, payer().pubkey, [delegate.pubkey]).changed);\n\
        output(\"second\", set_delegates(master, payer().pubkey, [delegate.pubkey]).changed);\n\
        output(\"master\", r.can_join(master.pubkey));\n\
        output(\"delegate_alone\", r.can_join(delegate.pubkey));\n\
        output(\"delegate_of_master\", r.can_join(delegate.pubkey, master.pubkey));\n\
        output(\"delegates\", authorization(payer().pubkey, master.pubkey).delegates.len());\n";
    let doc = run_json(&Runbook::new().file("d.rhai", script), &["run", "d.rhai"]);
    let o = &doc["outputs"];
    assert_eq!((o["first"].clone(), o["second"].clone()), (serde_json::json!(true), serde_json::json!(false)));
    assert_eq!(o["master"], true);
    assert_eq!(o["delegate_alone"], false);
    assert_eq!(o["delegate_of_master"], true);
    assert_eq!(o["delegates"], 1);
}

fn refused(rb: &Runbook, script: &str, expected: &str) {
    let rb_file = rb.path("bad.rhai");
    std::fs::write(&rb_file, script).unwrap();
    let run = rb.run_args(["run", "bad.rhai"]).code(2);
    assert!(run.stderr.contains(expected), "expected {expected:?} in:\n{}", run.stderr);
    assert!(run.stderr.ends_with("nothing was sent\n"), "{}", run.stderr);
}

#[test]
fn bad_inputs_are_refused_before_anything_is_sent() {
    let rb = Runbook::new()
        .file("users.txt", &format!("{}\n\n# comment\nnot-a-key\n", solana_sdk::pubkey::Pubkey::new_unique()));
    refused(&rb, "grant_many(payer(), \"users.txt\");\n", "users.txt:4:1: invalid pubkey \"not-a-key\"");
    refused(
        &rb,
        "grant_many(payer(), [\"11111111111111111111111111111112\", \"bad\"]);\n",
        "users[1]: invalid pubkey \"bad\"",
    );
    refused(
        &rb,
        &format!("create_run(#{{ run_id: \"{}\" }});\n", "x".repeat(33)),
        "is 33 bytes; it must be 1 to 32 bytes",
    );
    refused(&rb, "run(\"no-such-run\");\n", "run \"no-such-run\" does not exist on embedded");

    // A rewarded run whose payer holds no collateral.
    let setup = "let mint = create_mint(6);\ncreate_run(#{ run_id: \"rewarded\", mint: mint });\n";
    std::fs::write(rb.path("setup.rhai"), setup).unwrap();
    rb.run_args(["run", "setup.rhai"]).success();
    refused(&rb, "run(\"rewarded\").top_up(5.0);\n", "has no token account for mint");
    refused(&rb, "run(\"rewarded\").top_up(-1.0);\n", "top-up amount: -1 is negative");
    refused(&rb, "run(\"rewarded\").top_up(parse_float(\"NaN\"));\n", "is not a finite amount");
    refused(&rb, "run(\"rewarded\").top_up(0.0000001);\n", "has more decimal places than the mint's 6");

    // A config that breaks a rule names the key.
    let config = std::fs::read_to_string(runbook("configs/quickstart.toml"))
        .unwrap()
        .replace("witness_nodes = 0", "witness_nodes = 40");
    std::fs::write(rb.path("bad.toml"), config).unwrap();
    refused(
        &rb,
        "run(\"rewarded\").update_config(\"bad.toml\");\n",
        "config.witness_nodes = 40: must be <= min_clients (1) and <= 32",
    );
}
