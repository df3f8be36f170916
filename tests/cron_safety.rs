//! Cron safety: lossy networks (injected faults), processes killed mid-way, overlapping
//! invocations, dry-runs, the mainnet guard and limits. Each ends in exactly the intended
//! on-chain state.

mod common;

use common::{Runbook, Server};
use std::process::Stdio;
use std::time::Duration;

const FAULTS: &str = "drop_send=0.2,drop_status=0.3,timeout=0.1,expire=0.05,429=0.1";

fn users(n: usize) -> Vec<String> {
    (0..n).map(|_| solana_sdk::pubkey::Pubkey::new_unique().to_string()).collect()
}

fn json(rb: &Runbook, args: &[&str]) -> serde_json::Value {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--output".into(), "json".into()]);
    rb.run_args(all).success().json()
}

/// A rewarded run "r" whose payer holds 1,000 collateral tokens (6 decimals).
fn rewarded_run(rb: &Runbook) {
    let setup = "let mint = create_mint(6);\nlet r = create_run(#{ run_id: \"r\", mint: mint }).run;\nmint_tokens(mint, payer().pubkey, 1000.0);\n";
    std::fs::write(rb.path("setup.rhai"), setup).unwrap();
    rb.run_args(["run", "setup.rhai"]).success();
}

fn treasury(rb: &Runbook) -> f64 {
    std::fs::write(rb.path("treasury.rhai"), "output(\"funded\", run(\"r\").funding().funded);\n").unwrap();
    json(rb, &["run", "treasury.rhai"])["outputs"]["funded"].as_f64().unwrap()
}

fn grant_script(rb: &Runbook, users: &[String]) {
    let list: Vec<String> = users.iter().map(|u| format!("\"{u}\"")).collect();
    let script = format!("output(\"grant\", grant_many(payer(), [{}]));\n", list.join(", "));
    std::fs::write(rb.path("grant.rhai"), script).unwrap();
}

/// Every user has exactly one active authorization: a clean re-run finds all of them active.
fn assert_all_authorized(rb: &Runbook, count: usize) {
    let doc = json(rb, &["run", "grant.rhai"]);
    assert_eq!(doc["outputs"]["grant"]["unchanged"], count as u64, "{doc}");
    assert_eq!(doc["signatures"].as_array().unwrap().len(), 0);
}

#[test]
fn bulk_grants_and_top_ups_survive_a_lossy_network() {
    for seed in [1, 2, 3] {
        let rb = Runbook::new();
        let list = users(40);
        grant_script(&rb, &list);
        let faulty = rb
            .command()
            .args(["run", "grant.rhai", "--output", "json"])
            .env("PSYCHE_RUNBOOK_FAULTS", format!("{FAULTS},seed={seed}"))
            .output()
            .unwrap();
        assert!(faulty.status.success(), "seed {seed}: {}", String::from_utf8_lossy(&faulty.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&faulty.stdout).unwrap();
        assert_eq!(doc["outputs"]["grant"]["failed"], serde_json::json!([]), "seed {seed}: {doc}");
        assert_eq!(doc["outputs"]["grant"]["activated"], 40, "seed {seed}: {doc}");
        assert_all_authorized(&rb, 40);

        rewarded_run(&rb);
        std::fs::write(
            rb.path("top-up.rhai"),
            "let r = run(\"r\");\nr.top_up(10.0);\nr.top_up(2.5);\nr.top_up_to(20.0);\n",
        )
        .unwrap();
        let faulty = rb
            .command()
            .args(["run", "top-up.rhai"])
            .env("PSYCHE_RUNBOOK_FAULTS", format!("{FAULTS},seed={seed}"))
            .output()
            .unwrap();
        assert!(faulty.status.success(), "seed {seed}: {}", String::from_utf8_lossy(&faulty.stderr));
        // 10 + 2.5, then topped up to 20: each transfer landed exactly once.
        assert_eq!(treasury(&rb), 20.0, "seed {seed}");
    }
}

/// How many intent and landing records the journal of process `pid` holds so far.
fn journal_records(rb: &Runbook, pid: u32) -> usize {
    let Ok(dir) = std::fs::read_dir(rb.path(".psyche-runbook/journal")) else { return 0 };
    let suffix = format!("-{pid}.ndjson");
    dir.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(&suffix))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|text| {
            // A line still being written does not parse, and is not counted yet.
            text.lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|r| r["event"] == "intent" || r["event"] == "landed")
                .count()
        })
        .sum()
}

/// Runs `args` and SIGKILLs it once its journal holds `records` intent or landing records (a
/// bulk send writes a round's intents at once); fails unless the kill is what ended it.
fn kill_after_records(rb: &Runbook, args: &[&str], env: &[(&str, &str)], records: usize) {
    use std::os::unix::process::ExitStatusExt;
    let mut cmd = rb.command();
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let started = std::time::Instant::now();
    while journal_records(rb, child.id()) < records {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{args:?} ended ({status}) before its journal held {records} record(s)");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{args:?}: the journal never held {records} record(s)");
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{args:?} was still running when killed: {status}");
}

const KEEP: &str = "let r = run(\"r\");\nr.set_rates(5.0, 0.0);\nimport \"psyche/runway\" as runway;\nrunway::keep_funded(r, 4, 1000.0);\n";

#[test]
fn killed_top_ups_and_grants_end_in_the_intended_state() {
    // A full run journals four records: the rates' intent and landing, then the top-up's. Each
    // kill point on a chain of its own, so each is reached: after the rates' intent, after
    // they landed, after the top-up's intent.
    for records in [1, 2, 3] {
        let rb = Runbook::new();
        rewarded_run(&rb);
        std::fs::write(rb.path("keep.rhai"), KEEP).unwrap();
        kill_after_records(&rb, &["run", "keep.rhai"], &[("PSYCHE_RUNBOOK_FAULTS", "latency_ms=40")], records);
        rb.run_args(["run", "keep.rhai"]).success();
        // Four epochs at 5 tokens each, whatever moment the earlier run died.
        assert_eq!(treasury(&rb), 20.0, "killed after {records} journal record(s)");
    }

    // Each grant run writes its intents in one round; each is killed once they are on disk, and
    // each grants 16 more users than the one before, so each has something to send.
    let rb = Runbook::new();
    let list = users(48);
    for count in [16, 32, 48] {
        grant_script(&rb, &list[..count]);
        kill_after_records(&rb, &["run", "grant.rhai"], &[("PSYCHE_RUNBOOK_FAULTS", "latency_ms=30")], 1);
    }
    let rerun = json(&rb, &["run", "grant.rhai"]);
    assert_eq!(rerun["outputs"]["grant"]["failed"], serde_json::json!([]), "{rerun}");
    assert_all_authorized(&rb, 48);
    let journal = rb.run_args(["journal", "show"]).success();
    assert!(journal.stdout.contains("start ") && journal.stdout.contains("landed"), "{}", journal.stdout);
}

#[test]
fn overlapping_invocations_do_not_run_twice() {
    // The first invocation's notification goes to a receiver that answers only when released:
    // the first holds its lock, its top-up landed, until the test lets it finish.
    let hold = common::webhook::Receiver::holding(&[200]);
    let rb = Runbook::new().file(
        "psyche-runbook.toml",
        &format!("[notify]\nwebhook = \"{}\"\ntimeout_seconds = 120\nretries = 0\n", hold.url("/hook")),
    );
    rewarded_run(&rb);
    std::fs::write(rb.path("slow.rhai"), "let r = run(\"r\");\nr.top_up_to(30.0);\nnotify(\"topped up\");\n").unwrap();
    let mut first =
        rb.command().args(["run", "slow.rhai"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = std::time::Instant::now();
    while hold.received().is_empty() {
        assert!(first.try_wait().unwrap().is_none(), "the first invocation ended before it notified");
        assert!(started.elapsed() < Duration::from_secs(120), "the first invocation never notified");
        std::thread::sleep(Duration::from_millis(10));
    }
    // It wrote its pid into the lock file right after taking the lock.
    let locks: Vec<String> = std::fs::read_dir(rb.path(".psyche-runbook/locks"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("slow-"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    assert_eq!(locks, [format!("pid {}\n", first.id())], "the first invocation holds the lock");
    let second = rb.run_args(["run", "slow.rhai", "--lock-timeout", "0"]).code(75);
    assert!(second.stderr.contains("still holds") && second.stderr.contains("nothing was sent"), "{}", second.stderr);
    hold.release();
    assert!(first.wait().unwrap().success());
    // A waiting invocation runs after the first and finds nothing to do.
    let third = json(&rb, &["run", "slow.rhai", "--lock-timeout", "30"]);
    assert_eq!(third["signatures"].as_array().unwrap().len(), 0);
    assert_eq!(treasury(&rb), 30.0);
}

#[test]
fn a_dry_run_changes_nothing_and_plans_what_a_real_run_does() {
    let rb = Runbook::new();
    rewarded_run(&rb);
    std::fs::write(rb.path("change.rhai"), "let r = run(\"r\");\nr.top_up(25.0);\nr.set_rates(2.0, 0.0);\n").unwrap();
    let before = common::chain_files(&rb);
    assert!(!before.is_empty());
    let plan =
        rb.run_args(["run", "change.rhai", "--dry-run", "--detailed-exitcode", "--output", "json"]).code(2).json();
    assert_eq!(common::chain_files(&rb), before, "a dry-run must leave the database byte-identical");
    assert_eq!(plan["signatures"], serde_json::json!([]));
    let steps = plan["plan"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["instructions"], serde_json::json!(["token.transfer"]));
    let text = plan["plan"].to_string();
    assert!(text.contains("balance +25") && text.contains("balance -25"), "{text}");
    assert!(text.contains("future_epoch_rates.earning_rate_total_shared: 0 → 2000000"), "{text}");
    // The real run makes exactly those changes.
    let real = json(&rb, &["run", "change.rhai"]);
    assert_eq!(real["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(treasury(&rb), 25.0);
    // A plain top-up always sends, so it is always pending; a top-up to a balance already
    // reached plans nothing and exits 0.
    rb.run_args(["run", "change.rhai", "--dry-run", "--detailed-exitcode"]).code(2);
    std::fs::write(rb.path("steady.rhai"), "run(\"r\").top_up_to(25.0);\n").unwrap();
    let steady = rb.run_args(["run", "steady.rhai", "--dry-run", "--detailed-exitcode"]).success();
    assert!(steady.stderr.contains("plan: no changes"), "{}", steady.stderr);
}

#[test]
fn mainnet_needs_yes_and_limits_hold() {
    let rb = Runbook::new();
    let server = Server::start(&rb);
    // A provider's URL in front of mainnet: the node answers mainnet-beta's genesis hash.
    let proxy = common::proxy::Proxy::start(&server.url);
    proxy.answer_genesis("5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d");
    let url = format!("{}/0123456789abcdef", proxy.url);
    let key = solana_sdk::signature::Keypair::new();
    let rb = rb
        .file("id.json", &serde_json::to_string(&key.to_bytes().to_vec()).unwrap())
        .file("grant.rhai", "grant_public(payer());\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let refused = rb.run_args(["run", "grant.rhai", "-u", &url, "-k", "id.json"]).code(4);
    assert!(refused.stderr.contains("refusing to send on mainnet-beta"), "{}", refused.stderr);
    assert!(refused.stderr.ends_with("nothing was sent\n"), "{}", refused.stderr);

    // At a terminal the operator sees the plan first; declining sends nothing.
    // Confirmed, not the client's default finalized: like a validator, serve roots a slot only
    // 32 slots (about 13 s) later.
    let client = solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
        server.url.clone(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    let airdrop = client.request_airdrop(&solana_sdk::signer::Signer::pubkey(&key), 10_000_000_000).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    let mut cmd = rb.command();
    cmd.args(["run", "grant.rhai", "-u", &url, "-k", "id.json"]);
    let mut pty = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    pty.exp_string("authorizer.authorization_create, authorizer.authorization_grantor_update").unwrap();
    pty.exp_string("Send these 1 transaction(s) on mainnet-beta? [y/N]").unwrap();
    pty.send_line("n").unwrap();
    pty.exp_string("not confirmed; nothing was sent").unwrap();
    pty.exp_eof().unwrap();
    let mut cmd = rb.command();
    cmd.args(["run", "grant.rhai", "-u", &url, "-k", "id.json"]);
    let mut pty = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    pty.exp_string("[y/N]").unwrap();
    pty.send_line("y").unwrap();
    let after = pty.exp_eof().unwrap();
    assert!(after.contains("grant public join:") && !after.contains("error"), "{after}");
    // Now granted: run again through a dead first URL, falling back to the second; nothing to do.
    let again = rb
        .run_args([
            "run",
            "grant.rhai",
            "-u",
            "http://127.0.0.1:9/mainnet-beta",
            "-u",
            &url,
            "-k",
            "id.json",
            "--output",
            "json",
        ])
        .success();
    assert_eq!(again.json()["signatures"], serde_json::json!([]));
    server.stop();

    // Limits from the project config, enforced before signing.
    let limits = Runbook::new().file(
        "psyche-runbook.toml",
        "[limits]\nmax_collateral_per_invocation = 15.0\n[limits.embedded]\nallowed_run_ids = [\"r\"]\n",
    );
    rewarded_run(&limits);
    std::fs::write(limits.path("big.rhai"), "let r = run(\"r\");\nr.top_up(10.0);\nr.top_up(10.0);\n").unwrap();
    let over = limits.run_args(["run", "big.rhai"]).code(4);
    assert!(over.stderr.contains("would exceed max_collateral_per_invocation = 15"), "{}", over.stderr);
    assert!(over.stderr.contains("1 transaction(s) were sent before the error"), "{}", over.stderr);
    std::fs::write(limits.path("other.rhai"), "run(\"other\");\n").unwrap();
    let other = limits.run_args(["run", "other.rhai"]).code(4);
    assert!(other.stderr.contains("is not in allowed_run_ids"), "{}", other.stderr);
}
