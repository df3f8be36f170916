//! Runs governed by a Squads v4 multisig, on the embedded localnet: the example runbooks,
//! thresholds, rejections, time locks, permissions, stale proposals, spending-limit top-ups
//! across periods, re-runs and SIGKILL mid-way (through the real binary), and a member
//! approving over JSON-RPC against `localnet serve`. The program's own refusals are in
//! `squads_program.rs`.

mod common;

use common::Runbook;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::squads::accounts::{Proposal, ProposalStatus};
use psyche_runbook::squads::pdas;
use serde_json::Value;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

/// A 2-of-3 multisig "t" (payer, bob, carol; `time_lock` seconds) whose vault holds rewarded
/// run "r", then `body`.
fn script(time_lock: u64, body: &str) -> String {
    format!(
        "let me = payer();\nlet bob = localnet_signer(\"bob\");\nlet carol = localnet_signer(\"carol\");\n\
         let ms = create_multisig(#{{ name: \"t\", members: [me, bob, carol], threshold: 2, time_lock: {time_lock} }}).multisig;\n\
         let vault = ms.vault(0);\n\
         let mint = if run_exists(\"r\") {{ run(\"r\").mint }} else {{ create_mint(6) }};\n\
         let r = create_run(#{{ run_id: \"r\", mint: mint, main_authority: vault, join_authority: vault }}).run;\n{body}"
    )
}

/// `body` on the multisig and run `script` set up, opened as they are (after config changes).
fn reopen(body: &str) -> String {
    format!(
        "let me = payer();\nlet bob = localnet_signer(\"bob\");\nlet ms = localnet_multisig(\"t\");\nlet r = run(\"r\");\n{body}"
    )
}

fn run_json(rb: &Runbook, file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["run", file, "--output", "json"];
    args.extend_from_slice(extra);
    rb.run_args(args).success().json()
}

fn fails(rb: &Runbook, file: &str) -> String {
    let run = rb.run_args(["run", file]);
    assert_ne!(run.code, 0, "expected a failure\nstderr:\n{}", run.stderr);
    run.stderr
}

fn signatures(doc: &Value) -> usize {
    doc["signatures"].as_array().unwrap().len()
}

const PROPOSE_RATES: &str = "let p = ms.propose(\"rates\", || { r.set_rates(3.0, 0.5); });\noutput(\"p\", p);\n";
const PROPOSALS: &str = "output(\"proposals\", ms.proposals());\noutput(\"info\", ms.info());\n";

#[test]
fn the_example_runbooks_govern_a_run_and_change_nothing_when_repeated() {
    let rb = Runbook::new();
    let first = run_json(&rb, &runbook("multisig-run.rhai"), &[]);
    let out = &first["outputs"];
    assert_eq!(out["state"], "Waiting for members", "{first}");
    let proposals = out["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 2);
    assert!(proposals.iter().all(|p| p["status"] == "Executed"), "{proposals:?}");
    assert_eq!(proposals[0]["kind"], "vault");
    assert_eq!(
        proposals[0]["instructions"],
        serde_json::json!([
            "treasurer.run_update (config, model)",
            "treasurer.run_update (earning rate 3000000, slashing rate 500000)",
            "treasurer.run_update (resume)",
            "authorizer.authorization_create",
            "authorizer.authorization_grantor_update"
        ])
    );
    assert_eq!(proposals[1]["kind"], "config");
    // Ten epochs at 3 tokens need 30; the cron key's limit allows 20 a day.
    assert_eq!(out["top_up"]["amount"], 20.0);
    assert_eq!(out["top_up"]["limited_by"], "spending limit");
    assert_eq!(out["funding"]["funded"], 20.0);

    // The vault, as join authority, opened the run to everyone.
    let rb = rb.file("join.rhai", "output(\"can_join\", run(\"multisig-run\").can_join(pubkey(\"Vote111111111111111111111111111111111111111\")));\n");
    assert_eq!(run_json(&rb, "join.rhai", &[])["outputs"]["can_join"], true);
    let second = run_json(&rb, &runbook("multisig-run.rhai"), &[]);
    assert_eq!(signatures(&second), 0, "{second}");
    let review = run_json(&rb, &runbook("multisig-approve.rhai"), &[]);
    assert_eq!(review["outputs"]["reviewed"], serde_json::json!([]));
    assert_eq!(signatures(&review), 0);
}

#[test]
fn a_member_reviews_and_approves_then_executes_with_the_approve_runbook() {
    let rb = Runbook::new()
        .file("propose.rhai", &script(0, &format!("{PROPOSE_RATES}ms.approve(1, me);\n")))
        .file("address.rhai", "output(\"ms\", localnet_multisig(\"t\").address.to_string());\n");
    run_json(&rb, "propose.rhai", &[]);
    let ms = run_json(&rb, "address.rhai", &[])["outputs"]["ms"].as_str().unwrap().to_string();
    // carol (the runbook's default member) approves, the second of two; execute=true runs it.
    let args = ["--set", &format!("multisig={ms}"), "--set", "execute=true"];
    let review = run_json(&rb, &runbook("multisig-approve.rhai"), &args);
    assert_eq!(review["outputs"]["reviewed"], serde_json::json!([1]));
    assert_eq!(review["outputs"]["proposals"][0]["status"], "Executed", "{review}");
    assert_eq!(review["outputs"]["proposals"][0]["approved"].as_array().unwrap().len(), 2);
    assert_eq!(signatures(&run_json(&rb, &runbook("multisig-approve.rhai"), &args)), 0);
}

#[test]
fn a_step_whose_signer_is_a_known_vault_is_proposed_on_its_own() {
    let rb =
        Runbook::new().file("auto.rhai", &script(0, &format!("output(\"o\", r.set_rates(3.0, 0.5));\n{PROPOSALS}")));
    let run = rb.run_args(["run", "auto.rhai", "--output", "json"]).success();
    assert!(run.stderr.contains("its signer is the multisig vault"), "{}", run.stderr);
    let doc = run.json();
    let proposal = &doc["outputs"]["proposals"][0];
    assert_eq!(proposal["status"], "Active");
    assert_eq!(
        proposal["instructions"],
        serde_json::json!(["treasurer.run_update (earning rate 3000000, slashing rate 500000)"])
    );
    // Run again: the same step finds its proposal pending and sends nothing.
    let again = run_json(&rb, "auto.rhai", &[]);
    assert_eq!(signatures(&again), 0, "{again}");
    assert_eq!(again["outputs"]["info"]["transaction_index"], 1);
}

#[test]
fn a_step_that_needs_a_signature_of_its_own_is_not_proposed() {
    let body = "ms.propose(\"grant\", || { grant(me, pubkey(\"Vote111111111111111111111111111111111111111\")); });\n";
    let rb = Runbook::new().file("grant.rhai", &script(0, body)).file("info.rhai", &reopen(PROPOSALS));
    let stderr = fails(&rb, "grant.rhai");
    assert!(stderr.contains("needs a signer of its own, so it cannot be proposed"), "{stderr}");
    assert_eq!(run_json(&rb, "info.rhai", &[])["outputs"]["info"]["transaction_index"], 0);
}

#[test]
fn below_threshold_a_proposal_cannot_execute_and_rejections_end_it() {
    let rb = Runbook::new()
        .file("propose.rhai", &script(0, &format!("{PROPOSE_RATES}ms.approve(p.proposal, me);\n{PROPOSALS}")))
        .file("execute.rhai", &script(0, "ms.execute(1, me);\n"))
        .file("reject.rhai", &script(0, &format!("ms.reject(1, bob);\nms.reject(1, carol);\n{PROPOSALS}")));
    let doc = run_json(&rb, "propose.rhai", &[]);
    assert_eq!(doc["outputs"]["proposals"][0]["status"], "Active");
    assert_eq!(doc["outputs"]["proposals"][0]["approved"].as_array().unwrap().len(), 1);
    let stderr = fails(&rb, "execute.rhai");
    assert!(stderr.contains("has 1 of the 2 approvals it needs; it cannot execute yet"), "{stderr}");
    // Two rejections out of three voters leave the threshold of two out of reach.
    let doc = run_json(&rb, "reject.rhai", &[]);
    assert_eq!(doc["outputs"]["proposals"][0]["status"], "Rejected", "{doc}");
    let stderr = fails(&rb, "execute.rhai");
    assert!(stderr.contains("proposal #1 is Rejected; it cannot execute"), "{stderr}");
}

#[test]
fn a_time_lock_holds_execution_until_it_passes() {
    let body = format!("{PROPOSE_RATES}ms.approve(p.proposal, me);\nms.approve(p.proposal, bob);\n");
    let rb = Runbook::new()
        .file("propose.rhai", &script(3600, &body))
        .file("execute.rhai", &script(3600, &format!("ms.execute(1, me);\n{PROPOSALS}")))
        .file("wait.rhai", "advance_clock(3600);\n");
    run_json(&rb, "propose.rhai", &[]);
    let stderr = fails(&rb, "execute.rhai");
    assert!(stderr.contains("its time lock releases in"), "{stderr}");
    run_json(&rb, "wait.rhai", &[]);
    let doc = run_json(&rb, "execute.rhai", &[]);
    assert_eq!(doc["outputs"]["proposals"][0]["status"], "Executed", "{doc}");
    assert_eq!(doc["outputs"]["info"]["time_lock"], 3600);
}

#[test]
fn a_member_without_execute_permission_is_refused() {
    let setup = "let me = payer();\nlet bob = localnet_signer(\"bob\");\nlet dave = localnet_signer(\"dave\");\n\
        let ms = create_multisig(#{ name: \"v\", members: [me, bob, #{ key: dave, permissions: [\"vote\"] }], threshold: 2 }).multisig;\n\
        let vault = ms.vault(0);\nlet mint = if run_exists(\"r\") { run(\"r\").mint } else { create_mint(6) };\n\
        let r = create_run(#{ run_id: \"r\", mint: mint, main_authority: vault }).run;\n";
    let rb = Runbook::new()
        .file("propose.rhai", &format!("{setup}{PROPOSE_RATES}ms.approve(1, dave);\nms.approve(1, bob);\n"))
        .file("dave.rhai", &format!("{setup}ms.execute(1, dave);\n"))
        .file("bob.rhai", &format!("{setup}ms.execute(1, bob);\n{PROPOSALS}"));
    run_json(&rb, "propose.rhai", &[]);
    let stderr = fails(&rb, "dave.rhai");
    assert!(stderr.contains("may not execute proposals") && stderr.contains("Execute permission"), "{stderr}");
    let doc = run_json(&rb, "bob.rhai", &[]);
    assert_eq!(doc["outputs"]["proposals"][0]["status"], "Executed");
    let members = doc["outputs"]["info"]["members"].as_array().unwrap();
    assert!(members.iter().any(|m| m["permissions"] == serde_json::json!(["vote"])), "{members:?}");
}

#[test]
fn a_config_change_makes_earlier_proposals_stale() {
    let change = "let c = ms.change_threshold(1);\nms.approve(c.proposal, me);\nms.approve(c.proposal, bob);\nms.execute(c.proposal, me);\n";
    let rb = Runbook::new()
        .file("propose.rhai", &script(0, PROPOSE_RATES))
        .file("change.rhai", &script(0, &format!("{change}{PROPOSALS}")))
        .file("approve.rhai", &reopen("ms.approve(1, me);\n"))
        .file("again.rhai", &reopen(PROPOSE_RATES));
    run_json(&rb, "propose.rhai", &[]);
    let doc = run_json(&rb, "change.rhai", &[]);
    let info = &doc["outputs"]["info"];
    assert_eq!(info["threshold"], 1);
    assert_eq!(info["stale_transaction_index"], 2);
    assert_eq!(doc["outputs"]["proposals"][0]["stale"], true, "{doc}");
    let stderr = fails(&rb, "approve.rhai");
    assert!(stderr.contains("proposal #1 is stale"), "{stderr}");
    // Proposing the same steps again opens a fresh proposal rather than reusing the stale one.
    let again = run_json(&rb, "again.rhai", &[]);
    assert_eq!(again["outputs"]["p"]["proposal"], 3, "{again}");
}

#[test]
fn members_are_added_and_removed_through_config_proposals() {
    let vote = |call: &str| {
        format!(
            "let c = {call};\nif c.contains(\"proposal\") {{ ms.approve(c.proposal, me); ms.approve(c.proposal, bob); ms.execute(c.proposal, me); }}\n"
        )
    };
    let add = vote("ms.add_member(localnet_signer(\"erin\"), [\"vote\"])");
    let remove = vote("ms.remove_member(localnet_signer(\"erin\"))");
    let rb = Runbook::new()
        .file("setup.rhai", &script(0, ""))
        .file("add.rhai", &reopen(&format!("{add}{PROPOSALS}")))
        .file("remove.rhai", &reopen(&format!("{remove}{PROPOSALS}")));
    run_json(&rb, "setup.rhai", &[]);
    // A fourth member no longer fits the account: the program grows it, the payer paying rent.
    let doc = run_json(&rb, "add.rhai", &[]);
    let members = doc["outputs"]["info"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 4, "{doc}");
    assert!(doc["outputs"]["proposals"][0]["instructions"][0].as_str().unwrap().ends_with("(vote)"));
    assert_eq!(signatures(&run_json(&rb, "add.rhai", &[])), 0, "adding an existing member is a no-op");
    let doc = run_json(&rb, "remove.rhai", &[]);
    assert_eq!(doc["outputs"]["info"]["members"].as_array().unwrap().len(), 3, "{doc}");
    assert_eq!(doc["outputs"]["info"]["stale_transaction_index"], 2);
}

#[test]
fn a_top_up_capped_by_the_spending_limit_resumes_in_the_next_period() {
    let rb = Runbook::new().file(
        "cron.rhai",
        "let t = run(\"multisig-run\").top_up_to_runway(10, 100.0, localnet_multisig(\"team\"), localnet_signer(\"cron\"));\n\
         output(\"top_up\", t);\noutput(\"funded\", run(\"multisig-run\").funding().funded);\n",
    );
    run_json(&rb, &runbook("multisig-run.rhai"), &[]);
    // Same day: the allowance is spent, the limit (not the runway) stops it.
    let doc = run_json(&rb, "cron.rhai", &[]);
    assert_eq!(doc["outputs"]["top_up"]["amount"], 0.0);
    assert_eq!(doc["outputs"]["top_up"]["limited_by"], "spending limit");
    assert_eq!(signatures(&doc), 0);
    let rb = rb.file("tomorrow.rhai", "advance_clock(86401);\n");
    run_json(&rb, "tomorrow.rhai", &[]);
    let doc = run_json(&rb, "cron.rhai", &[]);
    assert_eq!(doc["outputs"]["top_up"]["amount"], 10.0, "{doc}");
    assert_eq!(doc["outputs"]["top_up"]["limited_by"], Value::Null);
    assert_eq!(doc["outputs"]["funded"], 30.0);
}

#[test]
fn a_re_run_reports_the_pending_proposal_instead_of_duplicating_it() {
    let rb = Runbook::new().file("propose.rhai", &script(0, &format!("{PROPOSE_RATES}{PROPOSALS}")));
    let first = run_json(&rb, "propose.rhai", &[]);
    assert_eq!(first["outputs"]["p"]["proposal"], 1);
    let second = run_json(&rb, "propose.rhai", &[]);
    assert_eq!(second["outputs"]["p"]["proposal"], 1);
    assert_eq!(second["outputs"]["p"]["already_pending"], true);
    assert_eq!(signatures(&second), 0, "{second}");
    assert_eq!(second["outputs"]["info"]["transaction_index"], 1);
}

#[test]
fn sigkill_between_proposal_and_approval_then_a_re_run_finishes_once() {
    let body = format!(
        "{PROPOSE_RATES}if p.contains(\"proposal\") {{\n  ms.approve(p.proposal, me);\n  ms.approve(p.proposal, bob);\n  ms.execute(p.proposal, me);\n}}\n{PROPOSALS}"
    );
    let rb = Runbook::new().file("flow.rhai", &script(0, &body)).file("setup.rhai", &script(0, ""));
    run_json(&rb, "setup.rhai", &[]);
    // Each run is killed after its k-th journal record (an intent or a landing, on disk): the
    // first once the proposal landed, the second mid-way through the approvals (an approval's
    // intent, or the execution's), the third at whatever intent it writes first.
    for records in [2, 3, 1] {
        let mut cmd = rb.command();
        cmd.args(["run", "flow.rhai"]).env("PSYCHE_RUNBOOK_FAULTS", "latency_ms=60");
        kill_after_records(&rb, cmd, records);
    }
    let doc = run_json(&rb, "flow.rhai", &[]);
    // One proposal, executed once, whatever moment the earlier runs died.
    assert_eq!(doc["outputs"]["info"]["transaction_index"], 1, "{doc}");
    assert_eq!(doc["outputs"]["proposals"][0]["status"], "Executed");
    assert_eq!(signatures(&run_json(&rb, "flow.rhai", &[])), 0);
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
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|r| r["event"] == "intent" || r["event"] == "landed")
                .count()
        })
        .sum()
}

/// Spawns `cmd` and SIGKILLs it once its journal holds `records` intent or landing records;
/// fails unless the kill is what ended it.
fn kill_after_records(rb: &Runbook, mut cmd: std::process::Command, records: usize) {
    use std::os::unix::process::ExitStatusExt;
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = std::time::Instant::now();
    while journal_records(rb, child.id()) < records {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before its journal held {records} record(s)");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "the journal never held {records} record(s)");
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "the run was still running when killed: {status}");
}

/// True once the journal records that the transaction proposing #1 landed.
fn proposal_landed(rb: &Runbook) -> bool {
    let Ok(dir) = std::fs::read_dir(rb.path(".psyche-runbook/journal")) else { return false };
    // Ids count within one journal file, so the intent and its landing are matched per file.
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok()).any(|text| {
        let lines: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        let proposing = lines
            .iter()
            .find(|l| l["event"] == "intent" && l["what"].as_str().is_some_and(|w| w.starts_with("propose #1")));
        proposing.is_some_and(|intent| lines.iter().any(|l| l["event"] == "landed" && l["id"] == intent["id"]))
    })
}

#[test]
fn sigkill_right_after_the_proposal_landed_then_a_re_run_approves_and_executes_it() {
    // Against `localnet serve`, so the chain (like a cluster) outlives the killed runbook.
    let bob = Keypair::new();
    let setup = "let me = payer();\nlet bob = signer(\"bob.json\");\n\
        let ms = create_multisig(#{ name: \"k\", members: [me, bob.pubkey, pubkey(\"Vote111111111111111111111111111111111111111\")], threshold: 2 }).multisig;\n\
        let mint = create_mint(6);\n\
        create_run(#{ run_id: \"r\", mint: mint, main_authority: ms.vault(0) });\n\
        output(\"ms\", ms.address.to_string());\n";
    // With pause=true the runbook waits (for a state the run never reaches) between proposing
    // and approving, so the kill lands exactly there.
    let flow = "let me = payer();\nlet bob = signer(\"bob.json\");\nlet ms = multisig(param(\"ms\"));\nlet r = run(\"r\");\n\
        let p = ms.propose(\"rates\", || { r.set_rates(3.0, 0.5); });\noutput(\"p\", p);\n\
        if param(\"pause\", false) { r.wait_for(\"Cooldown\", 120); }\n\
        if p.contains(\"proposal\") { ms.approve(p.proposal, me); ms.approve(p.proposal, bob); ms.execute(p.proposal, me); }\n\
        output(\"proposals\", ms.proposals());\noutput(\"info\", ms.info());\n";
    let rb = Runbook::new()
        .file("bob.json", &serde_json::to_string(&bob.to_bytes().to_vec()).unwrap())
        .file("setup.rhai", setup)
        .file("flow.rhai", flow);
    let ms = run_json(&rb, "setup.rhai", &[])["outputs"]["ms"].as_str().unwrap().to_string();
    let server = common::Server::start(&rb);
    let ms_arg = format!("ms={ms}");
    let args = ["-u", &server.url, "-k", ".psyche-runbook/localnet/payer.json", "--set", &ms_arg];
    let mut child = rb
        .command()
        .args(["run", "flow.rhai", "--set", "pause=true"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !proposal_landed(&rb) {
        assert!(started.elapsed() < Duration::from_secs(120), "the proposal never landed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.try_wait().unwrap().is_none(), "the runbook was still between proposal and approval");
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();

    let doc = run_json(&rb, "flow.rhai", &args);
    assert_eq!(doc["outputs"]["p"]["already_pending"], true, "{doc}");
    assert_eq!(doc["outputs"]["info"]["transaction_index"], 1);
    assert_eq!(doc["outputs"]["proposals"][0]["status"], "Executed");
    assert_eq!(doc["outputs"]["proposals"][0]["approved"].as_array().unwrap().len(), 2);
    assert_eq!(signatures(&run_json(&rb, "flow.rhai", &args)), 0);
    assert_eq!(server.stop(), 0);
}

#[test]
fn a_dry_run_plans_the_proposal_and_its_execution_as_if_approved() {
    let rb = Runbook::new().file("setup.rhai", &script(0, "")).file("propose.rhai", &script(0, PROPOSE_RATES));
    run_json(&rb, "setup.rhai", &[]);
    let before = common::chain_files(&rb);
    let doc = run_json(&rb, "propose.rhai", &["--dry-run"]);
    let plan = doc["plan"].as_array().unwrap();
    let names: Vec<String> = plan.iter().map(|t| t["instructions"].to_string()).collect();
    assert!(
        names[0].contains(
            "squads.vault_transaction_create [treasurer.run_update (earning rate 3000000, slashing rate 500000)]"
        ),
        "{names:?}"
    );
    assert!(names[1].contains("rehearsed as if approved"), "{names:?}");
    let fields = plan[1]["changes"].to_string();
    assert!(fields.contains("future_epoch_rates.earning_rate_total_shared: 0 → 3000000"), "{fields}");
    assert_eq!(common::chain_files(&rb), before, "a dry-run leaves the chain as it was");
}

#[test]
fn a_member_approves_and_executes_over_json_rpc_against_localnet_serve() {
    use solana_rpc_client::rpc_client::RpcClient;
    let carol = Keypair::new();
    let setup = "let me = payer();\nlet carol = signer(\"carol.json\");\n\
        let ms = create_multisig(#{ name: \"s\", members: [me, carol.pubkey], threshold: 2 }).multisig;\n\
        let vault = ms.vault(0);\nlet mint = create_mint(6);\n\
        let r = create_run(#{ run_id: \"r\", mint: mint, main_authority: vault }).run;\n\
        let p = ms.propose(\"rates\", || { r.set_rates(3.0, 0.5); });\nms.approve(p.proposal, me);\n\
        output(\"ms\", ms.address.to_string());\n";
    let rb = Runbook::new()
        .file("carol.json", &serde_json::to_string(&carol.to_bytes().to_vec()).unwrap())
        .file("setup.rhai", setup);
    let ms = run_json(&rb, "setup.rhai", &[])["outputs"]["ms"].as_str().unwrap().to_string();

    let server = common::Server::start(&rb);
    // Confirmed: at the default, finalized, the root has not seen the execution yet.
    // Serve prints its URL once it listens, so the client's requests wait in the backlog.
    let client =
        RpcClient::new_with_commitment(server.url.clone(), solana_commitment_config::CommitmentConfig::confirmed());
    let args = [
        "-u",
        &server.url,
        "-k",
        ".psyche-runbook/localnet/payer.json",
        "--set",
        &format!("multisig={ms}"),
        "--set",
        "member=carol.json",
        "--set",
        "execute=true",
    ];
    let review = run_json(&rb, &runbook("multisig-approve.rhai"), &args);
    assert_eq!(review["cluster"].as_str().map(|c| c.starts_with("http://127.0.0.1")), Some(true), "{review}");
    assert_eq!(review["outputs"]["proposals"][0]["status"], "Executed", "{review}");
    // A plain Solana client reads the same proposal from the Squads program's accounts.
    let multisig: Pubkey = ms.parse().unwrap();
    let account = client.get_account(&pdas::proposal(&multisig, 1).0).unwrap();
    assert_eq!(account.owner, psyche_runbook::squads::PROGRAM_ID);
    let proposal = Proposal::decode(&account.data).unwrap();
    assert!(matches!(proposal.status, ProposalStatus::Executed { .. }));
    assert!(proposal.approved.contains(&carol.pubkey()));
    assert_eq!(server.stop(), 0);
}
