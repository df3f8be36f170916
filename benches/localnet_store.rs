//! The embedded chain as it grows: chains of 0, 20,000 and 200,000 granted users (one chain,
//! grown by `grant_many` from users files of 20,000), and at each size the no-op
//! `top-up-cron.rhai` (median wall time of 5, peak RSS), `localnet serve` start-up until it
//! answers `getHealth` (median of 3), `watch --once` (median of 3), the database's size, and
//! serve's answer times for the index methods (token accounts by owner and delegate, a mint's
//! largest accounts, supply, largest accounts: median and slowest of 20 calls). Each grant
//! invocation reports its rate in transactions per second. With `PSYCHE_TEST_VALIDATOR` set to
//! a solana-test-validator, the same calls are timed on it too (a fresh ledger, one mint).
//!
//! Run: `cargo bench --bench localnet_store` (optional arguments: the sizes, default
//! `0 20000 200000`).

use serde_json::{Value, json};
use solana_program_pack::Pack;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_psyche-runbook");
/// Users granted per invocation.
const GRANT_CHUNK: usize = 20_000;

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env("HOME", dir).stdin(Stdio::null());
    command
}

/// Runs `args` in `dir` to completion; its wall time, peak RSS in KiB and stdout.
fn measure(dir: &Path, args: &[&str]) -> (Duration, i64, String) {
    let started = Instant::now();
    #[allow(clippy::zombie_processes)] // reaped by wait4 below, which also reports its memory
    let mut child = command(dir, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut err = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
        text
    });
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid out-pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let stderr = stderr.join().unwrap();
    assert_eq!(status, 0, "{args:?} failed: {stderr}");
    (started.elapsed(), usage.ru_maxrss, stdout)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// `localnet serve --port 0` from spawn until `getHealth` answers "ok"; then SIGTERM.
fn serve_start(dir: &Path) -> Duration {
    serve_then(dir, |_| ()).0
}

/// Calls timed per size: what wallets and explorers ask first.
fn index_calls(owner: &str, mint: &str) -> Vec<(&'static str, Value)> {
    let token = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
    vec![
        ("getTokenAccountsByOwner", json!([owner, {"programId": token}, {"encoding": "jsonParsed"}])),
        ("getTokenAccountsByDelegate", json!([owner, {"programId": token}, {"encoding": "base64"}])),
        ("getTokenLargestAccounts", json!([mint])),
        ("getSupply", json!([])),
        ("getLargestAccounts", json!([])),
    ]
}

/// Median and slowest of 20 sequential answers to each call, on one connection.
fn answer_times(url: &str, calls: &[(&'static str, Value)]) -> Vec<(Duration, Duration)> {
    let client = reqwest::blocking::Client::new();
    calls
        .iter()
        .map(|(method, params)| {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
            let times: Vec<Duration> = (0..20)
                .map(|_| {
                    let started = Instant::now();
                    let answer: Value = client.post(url).json(&body).send().unwrap().json().unwrap();
                    assert!(answer.get("result").is_some(), "{method}: {answer}");
                    started.elapsed()
                })
                .collect();
            let slowest = *times.iter().max().unwrap();
            (median(times), slowest)
        })
        .collect()
}

/// The payer of the chain in `dir` and the mint of its first token account.
fn payer_and_mint(url: &str, dir: &Path) -> (String, String) {
    let (_, _, status) = measure(dir, &["--output", "json", "localnet", "status"]);
    let payer = serde_json::from_str::<Value>(&status).unwrap()["payer"]["pubkey"].as_str().unwrap().to_string();
    let mint = first_mint(url, &payer);
    (payer, mint)
}

fn first_mint(url: &str, owner: &str) -> String {
    let token = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "getTokenAccountsByOwner",
        "params": [owner, {"programId": token}, {"encoding": "jsonParsed", "commitment": "confirmed"}]});
    let answer: Value = reqwest::blocking::Client::new().post(url).json(&body).send().unwrap().json().unwrap();
    answer["result"]["value"][0]["account"]["data"]["parsed"]["info"]["mint"].as_str().expect("a token account").into()
}

/// `localnet serve --port 0` in `dir`, `then` called with its URL once it answers; the
/// start-up time and what `then` returned.
fn serve_then<T>(dir: &Path, then: impl FnOnce(&str) -> T) -> (Duration, T) {
    let started = Instant::now();
    let mut child = command(dir, &["localnet", "serve", "--port", "0"]).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.find("http://").map(|at| line[at..].trim().to_string()))
        .expect("serve prints its address");
    // Keep reading what it says, so it never writes to a closed pipe.
    let drain = std::thread::spawn(move || lines.for_each(drop));
    let client = reqwest::blocking::Client::new();
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "getHealth"});
    loop {
        let answer = client.post(&url).json(&body).send().and_then(|r| r.json::<serde_json::Value>());
        if answer.is_ok_and(|a| a["result"] == "ok") {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    let result = then(&url);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert!(child.wait().unwrap().success());
    drain.join().unwrap();
    (elapsed, result)
}

/// A mint of 6 decimals and `payer`'s token account holding 5 tokens, on the node at `url`.
fn make_mint(url: &str, payer: &solana_sdk::signature::Keypair) {
    use solana_sdk::signer::Signer;
    let client = solana_rpc_client::rpc_client::RpcClient::new_with_commitment(
        url.to_string(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    let mint = solana_sdk::signature::Keypair::new();
    let (me, token) = (payer.pubkey(), spl_token_interface::ID);
    let account = psyche_runbook::psyche::pdas::associated_token(&me, &mint.pubkey());
    let size = spl_token_interface::state::Mint::LEN;
    let rent = client.get_minimum_balance_for_rent_exemption(size).unwrap();
    let setup = [
        solana_system_interface::instruction::create_account(&me, &mint.pubkey(), rent, size as u64, &token),
        spl_token_interface::instruction::initialize_mint2(&token, &mint.pubkey(), &me, None, 6).unwrap(),
        psyche_runbook::psyche::instructions::system::create_ata_idempotent(&me, &me, &mint.pubkey()),
        spl_token_interface::instruction::mint_to(&token, &mint.pubkey(), &account, &me, &[], 5_000_000).unwrap(),
    ];
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx = solana_sdk::transaction::Transaction::new_signed_with_payer(&setup, Some(&me), &[payer, &mint], blockhash);
    let signature = client.send_and_confirm_transaction(&tx).unwrap();
    // Finalized: the timed calls name no commitment, so they read at the root.
    client
        .poll_for_signature_with_commitment(&signature, solana_commitment_config::CommitmentConfig::finalized())
        .unwrap();
}

/// The index calls on a real solana-test-validator with a fresh ledger and one mint, when
/// `PSYCHE_TEST_VALIDATOR` names one.
fn validator_times() -> Option<Vec<(Duration, Duration)>> {
    let binary = std::env::var_os("PSYCHE_TEST_VALIDATOR")?;
    let dir = tempfile::tempdir().unwrap();
    let key = solana_sdk::signature::Keypair::new();
    let base = 30_000 + (std::process::id() % 300) as u16 * 100;
    let mut validator = Command::new(binary)
        .args(["--ledger", &dir.path().join("ledger").display().to_string(), "--quiet"])
        .args(["--rpc-port", &base.to_string(), "--faucet-port", &(base + 2).to_string()])
        .args([
            "--gossip-port",
            &(base + 3).to_string(),
            "--dynamic-port-range",
            &format!("{}-{}", base + 10, base + 99),
        ])
        .args(["--mint", &solana_sdk::signer::Signer::pubkey(&key).to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{base}");
    let client = reqwest::blocking::Client::new();
    // Healthy and a few slots in: programs of the genesis are callable from slot 2 on.
    let slot = json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot"});
    while !client
        .post(&url)
        .json(&slot)
        .send()
        .and_then(|r| r.json::<Value>())
        .is_ok_and(|a| a["result"].as_u64() > Some(2))
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    make_mint(&url, &key);
    let owner = solana_sdk::signer::Signer::pubkey(&key).to_string();
    let times = answer_times(&url, &index_calls(&owner, &first_mint(&url, &owner)));
    validator.kill().unwrap();
    validator.wait().unwrap();
    Some(times)
}

fn db_bytes(dir: &Path) -> u64 {
    ["chain.db", "chain.db-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(dir.join(".psyche-runbook/localnet").join(name)).ok())
        .map(|m| m.len())
        .sum()
}

struct Row {
    users: usize,
    cron: Duration,
    cron_rss: i64,
    serve: Duration,
    watch: Duration,
    db: u64,
    answers: Vec<(Duration, Duration)>,
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![0, 20_000, 200_000] } else { sizes };
    let dir = tempfile::tempdir().unwrap();
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let cron = runbooks.join("top-up-cron.rhai").display().to_string();
    // The quickstart's run, funded ten epochs ahead by one real cron run.
    measure(dir.path(), &["run", &runbooks.join("quickstart.rhai").display().to_string()]);
    measure(dir.path(), &["-q", "run", &cron]);
    std::fs::write(dir.path().join("grant.rhai"), "output(\"granted\", grant_many(payer(), param(\"users\")));\n")
        .unwrap();

    let mut rows = Vec::new();
    let mut grants = Vec::new();
    let mut granted = 0;
    for &size in &sizes {
        // Operators grant in files of a few ten thousand users: one invocation per 20,000.
        while size > granted {
            let chunk = (size - granted).min(GRANT_CHUNK);
            let mut file = std::fs::File::create(dir.path().join("users.txt")).unwrap();
            for _ in 0..chunk {
                writeln!(file, "{}", solana_sdk::pubkey::Pubkey::new_unique()).unwrap();
            }
            drop(file);
            let (time, rss, stdout) =
                measure(dir.path(), &["-q", "--output", "json", "run", "grant.rhai", "--set", "users=users.txt"]);
            let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let sent = doc["signatures"].as_array().map_or(0, Vec::len);
            // A rate is only worth reporting for a grant that granted everyone.
            let outcome = &doc["outputs"]["granted"];
            assert_eq!(outcome["created"], chunk, "not every user was granted: {}", outcome["failed"]);
            grants.push((granted, granted + chunk, sent, time, rss));
            granted += chunk;
        }
        let samples: Vec<(Duration, i64, String)> =
            (0..5).map(|_| measure(dir.path(), &["-q", "run", &cron])).collect();
        let cron_rss = samples.iter().map(|(_, rss, _)| *rss).max().unwrap_or(0);
        let serve = median((0..3).map(|_| serve_start(dir.path())).collect());
        let (_, answers) = serve_then(dir.path(), |url| {
            let (payer, mint) = payer_and_mint(url, dir.path());
            answer_times(url, &index_calls(&payer, &mint))
        });
        let watch = median((0..3).map(|_| measure(dir.path(), &["watch", "--once"]).0).collect());
        rows.push(Row {
            users: size,
            cron: median(samples.into_iter().map(|(t, _, _)| t).collect()),
            cron_rss,
            serve,
            watch,
            db: db_bytes(dir.path()),
            answers,
        });
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| granted users | database | no-op cron (median of 5) | cron peak RSS | serve to getHealth | watch --once |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} MB | {:.1} ms | {:.1} MiB | {:.1} ms | {:.1} ms |",
            r.users,
            r.db as f64 / 1e6,
            ms(r.cron),
            r.cron_rss as f64 / 1024.0,
            ms(r.serve),
            ms(r.watch)
        );
    }
    println!();
    let names: Vec<&str> = index_calls("", "").into_iter().map(|(name, _)| name).collect();
    println!("| serve's answers (median / slowest of 20) | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    let cells = |answers: &[(Duration, Duration)]| {
        answers.iter().map(|(m, s)| format!("{:.1} / {:.1} ms", ms(*m), ms(*s))).collect::<Vec<_>>().join(" | ")
    };
    for r in &rows {
        println!("| {} users | {} |", r.users, cells(&r.answers));
    }
    if let Some(answers) = validator_times() {
        println!("| solana-test-validator, fresh ledger | {} |", cells(&answers));
    }
    println!();
    println!("| granting | transactions | wall time | rate | users a second | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for (from, to, sent, time, rss) in &grants {
        println!(
            "| {from} → {to} users | {sent} | {:.2} s | {:.0} tx/s | {:.0} | {:.1} MiB |",
            time.as_secs_f64(),
            *sent as f64 / time.as_secs_f64(),
            (to - from) as f64 / time.as_secs_f64(),
            *rss as f64 / 1024.0
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        println!();
        println!(
            "From {} to {} users: no-op cron {:.2}x the time, {:+.1} MiB RSS; serve starts in {:.1} ms.",
            first.users,
            last.users,
            last.cron.as_secs_f64() / first.cron.as_secs_f64(),
            (last.cron_rss - first.cron_rss) as f64 / 1024.0,
            ms(last.serve)
        );
    }
}
