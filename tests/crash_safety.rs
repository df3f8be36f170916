//! The localnet survives SIGKILL at any moment. Processes are killed at 50 random moments
//! (after a random number of the runbook's sends plus a random few milliseconds, from a fixed
//! seed, so a failure repeats and no kill depends on the machine's speed) during bulk grants
//! and top-ups: 25 times the runbook's
//! own process on the embedded chain, 25 times `localnet serve` under a runbook sending to it
//! (and the runbook with it). After each kill the chain opens; every transaction a client
//! journaled as landed is in its history without error; no account reflects half a
//! transaction (the lamports of every account plus the fees of every recorded transaction
//! always add up to the same total, which a commit that kept one without the other would
//! break); and a re-run reaches the intended state with nothing sent twice (every user
//! authorized by one transaction, the treasury exactly at its target, no failed transaction
//! anywhere in the history: a grant or top-up sent again would fail or overshoot).
//!
//! The kill that usually breaks such promises is the client's alone, while the cluster lives
//! on: the client is killed with transactions in flight (a proxy holds the answers to its sends
//! after a chosen number of them, so the kill always finds it alive and mid-send), and the
//! re-run settles what was in flight before it reads anything, reaching token balances exact.

mod common;

use common::{Runbook, Server};
use psyche_runbook::localnet::Localnet;
use psyche_runbook::localnet::TxRecord;
use rusqlite::{Connection, OpenFlags};
use std::process::{Child, Stdio};
use std::time::Duration;

const KILLS_EACH: usize = 25;
const USERS_PER_GRANT: usize = 80;
const TOP_UPS_PER_RUN: usize = 5;

/// Deterministic delays (xorshift).
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

fn db(rb: &Runbook) -> Connection {
    let path = rb.path(".psyche-runbook/localnet/chain.db");
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Lamports of every account plus every recorded fee: constant, since fees are burnt and
/// everything else moves between accounts.
fn lamports_and_fees(rb: &Runbook) -> (u128, usize) {
    let conn = db(rb);
    let mut lamports = 0u128;
    let mut rows = conn.prepare("SELECT lamports FROM accounts").unwrap();
    for value in rows.query_map([], |r| r.get::<_, i64>(0)).unwrap() {
        lamports += u128::from(value.unwrap() as u64);
    }
    let mut failed = 0;
    let mut rows = conn.prepare("SELECT record FROM transactions").unwrap();
    for blob in rows.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap() {
        let record: TxRecord = bincode::deserialize(&blob.unwrap()).unwrap();
        lamports += u128::from(record.fee);
        failed += usize::from(record.err.is_some());
    }
    (lamports, failed)
}

/// How many transactions the journals hold intents for.
fn intents(rb: &Runbook) -> usize {
    let Ok(entries) = std::fs::read_dir(rb.path(".psyche-runbook/journal")) else { return 0 };
    entries
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .map(|text| text.lines().filter(|l| l.contains("\"event\":\"intent\"")).count())
        .sum()
}

/// Waits, however long the machine takes, until `child` has journaled `count` more intents
/// than `before` (or exited), then a random few milliseconds more: the kill lands mid-run,
/// before, during or after a send.
fn kill_moment(rb: &Runbook, child: &mut Child, before: usize, moments: &mut Moments, steps: usize) -> String {
    let count = 1 + moments.next_ms(steps as u64) as usize;
    let started = std::time::Instant::now();
    while intents(rb) < before + count && child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(120), "the runbook made no progress");
        std::thread::sleep(Duration::from_millis(1));
    }
    let extra = moments.next_ms(40);
    std::thread::sleep(Duration::from_millis(extra));
    format!("after intent {count} + {extra} ms")
}

/// Every signature the journals say landed.
fn journaled_landed(rb: &Runbook) -> Vec<String> {
    let mut landed = Vec::new();
    let Ok(entries) = std::fs::read_dir(rb.path(".psyche-runbook/journal")) else { return landed };
    for entry in entries {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            // A line cut by the kill is not a statement the client made.
            let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if event["event"] == "landed" {
                landed.push(event["signature"].as_str().unwrap().to_string());
            }
        }
    }
    landed
}

/// The checks after a kill: the chain opens, what landed is there, nothing is half done.
fn check_after_kill(rb: &Runbook, total: u128, what: &str) {
    let net = Localnet::load_read_only(&rb.path(".psyche-runbook/localnet"))
        .unwrap_or_else(|e| panic!("{what}: the chain does not open: {e}"));
    for signature in journaled_landed(rb) {
        let record = net.record(&signature.parse().unwrap());
        let record =
            record.unwrap_or_else(|| panic!("{what}: {signature} was reported landed but is not in the history"));
        assert!(record.err.is_none(), "{what}: {signature} failed: {:?}", record.err);
    }
    let (now, _) = lamports_and_fees(rb);
    assert_eq!(now, total, "{what}: accounts and fees no longer add up: half a transaction");
    let conn = db(rb);
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok", "{what}");
}

fn kill(child: &mut Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
}

/// Writes the runbook of iteration `i`: a grant of new users, or a run of top-ups; returns
/// its file name and the treasury target it reaches (top-ups).
fn script(rb: &Runbook, i: usize, target: &mut f64) -> String {
    let name = format!("step-{i}.rhai");
    let text = if i.is_multiple_of(2) {
        let users: String =
            (0..USERS_PER_GRANT).map(|_| format!("{}\n", solana_sdk::pubkey::Pubkey::new_unique())).collect();
        std::fs::write(rb.path(&format!("users-{i}.txt")), users).unwrap();
        format!(
            "let g = grant_many(payer(), \"users-{i}.txt\");\noutput(\"granted\", g.created + g.activated + g.unchanged);\n"
        )
    } else {
        let steps: Vec<String> =
            (1..=TOP_UPS_PER_RUN).map(|n| format!("r.top_up_to({:.1});", *target + n as f64)).collect();
        *target += TOP_UPS_PER_RUN as f64;
        format!("let r = run(\"r\");\n{}\noutput(\"funded\", r.funding().funded);\n", steps.join("\n"))
    };
    std::fs::write(rb.path(&name), text).unwrap();
    name
}

/// Transactions step `i` sends when nothing interrupts it.
fn steps(i: usize) -> usize {
    if i.is_multiple_of(2) { USERS_PER_GRANT / 8 } else { TOP_UPS_PER_RUN }
}

/// After the re-run: the step's intended state, reached with nothing sent twice.
fn check_intended(rb: &Runbook, step: &str, i: usize, target: f64, prefix: &[&str]) {
    let mut args: Vec<&str> = prefix.to_vec();
    args.extend(["run", step, "--output", "json"]);
    let doc = rb.run_args(args).success().json();
    if i.is_multiple_of(2) {
        assert_eq!(doc["outputs"]["granted"], USERS_PER_GRANT as u64, "{doc}");
        assert_eq!(doc["signatures"].as_array().unwrap().len(), 0, "a second re-run sends nothing: {doc}");
    } else {
        assert_eq!(doc["outputs"]["funded"].as_f64(), Some(target), "the treasury is at its target: {doc}");
    }
}

/// The quickstart-like setup: a rewarded run "r" and a payer with 1,000 tokens.
fn setup() -> (Runbook, u128) {
    let rb = Runbook::new();
    let setup = "let mint = create_mint(6);\nlet r = create_run(#{ run_id: \"r\", mint: mint }).run;\nmint_tokens(mint, payer().pubkey, 1000.0);\noutput(\"mint\", mint);\n";
    std::fs::write(rb.path("setup.rhai"), setup).unwrap();
    rb.run_args(["run", "setup.rhai"]).success();
    let (total, failed) = lamports_and_fees(&rb);
    assert_eq!(failed, 0);
    (rb, total)
}

#[test]
fn sigkill_of_a_runbook_on_the_embedded_chain_at_25_random_moments() {
    let (rb, total) = setup();
    let mut moments = Moments(0x5eed_0001);
    let mut target = 0.0;
    for i in 0..KILLS_EACH {
        let step = script(&rb, i, &mut target);
        let before = intents(&rb);
        let mut child = rb.command().args(["run", &step]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let moment = kill_moment(&rb, &mut child, before, &mut moments, steps(i));
        kill(&mut child);
        let what = format!("embedded kill {i} {moment}");
        check_after_kill(&rb, total, &what);
        // The re-run settles what was in flight, then finishes the step.
        rb.run_args(["run", &step]).success();
        check_intended(&rb, &step, i, target, &[]);
        check_after_kill(&rb, total, &what);
    }
    assert_eq!(lamports_and_fees(&rb).1, 0, "no transaction failed: nothing was sent twice");
}

#[test]
fn sigkill_of_localnet_serve_under_a_runbook_at_25_random_moments() {
    let (rb, total) = setup();
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let mut moments = Moments(0x5eed_0002);
    let mut target = 0.0;
    for i in 0..KILLS_EACH {
        let step = script(&rb, i, &mut target);
        let mut server = Server::start_with(&rb, &["--slot-ms", "20"]);
        let url = server.url.clone();
        let before = intents(&rb);
        let mut client = rb
            .command()
            .args(["-u", &url, "-k", &payer, "run", &step])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moment = kill_moment(&rb, &mut client, before, &mut moments, steps(i));
        kill(&mut server.child);
        kill(&mut client);
        let what = format!("serve kill {i} {moment}");
        check_after_kill(&rb, total, &what);
        let server = Server::start_with(&rb, &["--slot-ms", "20"]);
        let url = server.url.clone();
        let prefix = ["-u", url.as_str(), "-k", payer.as_str()];
        let mut args = prefix.to_vec();
        args.extend(["run", step.as_str()]);
        rb.run_args(args).success();
        check_intended(&rb, &step, i, target, &prefix);
        assert_eq!(server.stop(), 0);
        check_after_kill(&rb, total, &what);
    }
    assert_eq!(lamports_and_fees(&rb).1, 0, "no transaction failed: nothing was sent twice");
}

/// The payer's token balance (UI units), read from the node.
fn payer_tokens(server: &Server, rb: &Runbook) -> f64 {
    std::fs::write(rb.path("mint.rhai"), "output(\"mint\", run(\"r\").mint);\n").unwrap();
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let doc = rb.run_args(["-u", server.url.as_str(), "-k", payer.as_str(), "--output", "json", "run", "mint.rhai"]);
    let mint: solana_sdk::pubkey::Pubkey = doc.success().json()["outputs"]["mint"].as_str().unwrap().parse().unwrap();
    let bytes: Vec<u8> = serde_json::from_str(&std::fs::read_to_string(&payer).unwrap()).unwrap();
    let owner =
        solana_sdk::signer::Signer::pubkey(&solana_sdk::signature::Keypair::try_from(bytes.as_slice()).unwrap());
    let account = psyche_runbook::psyche::pdas::associated_token(&owner, &mint);
    let balance =
        server.call("getTokenAccountBalance", serde_json::json!([account.to_string(), {"commitment": "confirmed"}]));
    balance["result"]["value"]["uiAmount"].as_f64().unwrap()
}

#[test]
fn sigkill_of_the_client_alone_while_serve_lives_at_moments_chosen_by_landings() {
    let (rb, total) = setup();
    let payer = rb.path(".psyche-runbook/localnet/payer.json").display().to_string();
    let server = Server::start_with(&rb, &["--slot-ms", "20"]);
    let tokens_at_start = payer_tokens(&server, &rb);
    let mut moments = Moments(0x5eed_0003);
    let mut target = 0.0;
    for i in 0..KILLS_EACH {
        let step = script(&rb, i, &mut target);
        // The client's sends are answered until `answered` of them, then held in flight.
        let answered = moments.next_ms(steps(i) as u64) as usize;
        let proxy = common::proxy::Proxy::start(&server.url);
        proxy.hold_sends_after(answered);
        let mut client = rb
            .command()
            .args(["-u", proxy.url.as_str(), "-k", payer.as_str(), "run", step.as_str()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while proxy.count("sendTransaction") <= answered {
            assert!(client.try_wait().unwrap().is_none(), "kill {i}: the client ended before its held send");
            assert!(started.elapsed() < Duration::from_secs(120), "kill {i}: no held send");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(client.try_wait().unwrap().is_none(), "kill {i}: the kill hits a live client");
        kill(&mut client);
        // Through the node itself: what was in flight is settled before anything is read.
        let prefix = ["-u", server.url.as_str(), "-k", payer.as_str()];
        let rerun = rb.run_args(prefix.iter().copied().chain(["run", step.as_str()])).success();
        let settled = rerun.stderr.find("left in flight");
        assert!(settled.is_some(), "kill {i}: nothing settled:\n{}", rerun.stderr);
        let acted = ["top up", "granted"].iter().filter_map(|a| rerun.stderr.find(a)).min();
        assert!(acted.is_none_or(|at| settled < Some(at)), "kill {i}: settled before acting:\n{}", rerun.stderr);
        check_intended(&rb, &step, i, target, &prefix);
        assert_eq!(payer_tokens(&server, &rb), tokens_at_start - target, "kill {i}: the payer's tokens are exact");
    }
    assert_eq!(server.stop(), 0);
    check_after_kill(&rb, total, "client kills");
    assert_eq!(lamports_and_fees(&rb).1, 0, "no transaction failed: nothing was sent twice");
}
