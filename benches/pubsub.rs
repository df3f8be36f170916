//! Push versus poll on `localnet serve` with three runs that simulated clients train:
//! - HTTP requests of `watch` (its exporter mode, refreshing every 5 s), counted by a proxy:
//!   its first refresh, then over a window, and an hour's worth from those, first without a
//!   websocket (polling), then with serve's;
//! - the delay from a coordinator account change (heard by this bench's own
//!   `accountSubscribe`, at most one poll of serve's notifier after it landed) to the follow
//!   mode handler that reacts to the state transition it made (its line on the follower's
//!   stderr), over the transitions of a window.
//!
//! Run: `cargo bench --bench pubsub` (optionally `-- SECONDS` for each window, default 60).

#[path = "../tests/common/mod.rs"]
mod common;

use common::proxy::Proxy;
use common::{Runbook, Server, fast_config};
use futures_util::StreamExt;
use psyche_runbook::psyche::accounts::BorshAccount;
use psyche_runbook::psyche::accounts::coordinator_account::CoordinatorAccount;
use psyche_runbook::psyche::accounts::instance::CoordinatorInstance;
use psyche_runbook::psyche::ids::ProgramIds;
use psyche_runbook::psyche::pdas;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client_api::config::RpcAccountInfoConfig;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RUNS: [&str; 3] = ["bench-a", "bench-b", "bench-c"];

fn runbook(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

/// Requests `watch` makes through a proxy with `ws_url` as its websocket: its first refresh
/// (what it reads in the first `SETTLE`), then over `window`, and from those an hour's worth.
fn watch_requests(rb: &Runbook, server: &Server, ws_url: &str, window: Duration) -> (usize, usize, f64) {
    const SETTLE: Duration = Duration::from_secs(3);
    let proxy = Proxy::start(&server.url);
    let mut watch = rb
        .command()
        .args(["watch", "--interval", "5", "--metrics-port", "0", "-u", &proxy.url, "--ws-url", ws_url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let total = || proxy.counts().values().sum::<usize>();
    std::thread::sleep(SETTLE);
    let first = total();
    std::thread::sleep(window);
    let steady = total() - first;
    let _ = watch.kill();
    let _ = watch.wait();
    (first, steady, first as f64 + steady as f64 * 3600.0 / window.as_secs_f64())
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let seconds: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(60);
    let window = Duration::from_secs(seconds);
    let key = Keypair::new();
    let rb = Runbook::new()
        .file("id.json", &serde_json::to_string(&key.to_bytes().to_vec()).unwrap())
        .file("fast.toml", &fast_config(25_000))
        .file("follow.rhai", "let r = run(param(\"run_id\"));\nr.on_transition(|from, to| ());\n");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(rb.path("id.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Server::start_with(&rb, &["--clients", "3"]);
    let client = server.client();
    let airdrop = client.request_airdrop(&key.pubkey(), 10 * LAMPORTS_PER_SOL).unwrap();
    assert!(client.confirm_transaction(&airdrop).unwrap());
    let fast = rb.path("fast.toml").display().to_string();
    for run_id in RUNS {
        let id = format!("run_id={run_id}");
        let config = format!("config={fast}");
        let create = runbook("create-public-run.rhai");
        let args = ["run", &create, "--set", &id, "--set", &config, "-u", &server.url, "-k", "id.json"];
        rb.run_args(args).success();
    }

    println!(
        "| `watch` on {} training runs, every 5 s | first refresh | then in {seconds} s | an hour (first + rate) |",
        RUNS.len()
    );
    println!("|---|---|---|---|");
    let (first, polled, polled_hour) = watch_requests(&rb, &server, "ws://127.0.0.1:9", window);
    println!("| polling (no websocket) | {first} | {polled} | {polled_hour:.0} |");
    let (first, pushed, pushed_hour) = watch_requests(&rb, &server, &server.ws_url, window);
    println!("| PubSub (serve's websocket) | {first} | {pushed} | {pushed_hour:.0} |");
    println!("| ratio | | | {:.0}x fewer |", polled_hour / pushed_hour.max(1.0));

    // The follower's transition lines, stamped as they arrive.
    let mut follower = rb
        .command()
        .args(["run", "--follow", "follow.rhai", "--set", "run_id=bench-a", "-u", &server.url])
        .args(["--ws-url", &server.ws_url, "-k", "id.json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let stderr = follower.stderr.take().unwrap();
    let heard = Arc::clone(&lines);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            heard.lock().unwrap().push((Instant::now(), line));
        }
    });
    // The account changes, stamped as this bench hears them, with the state each left.
    let instance = client.get_account(&pdas::coordinator_instance(&ProgramIds::default(), "bench-a")).unwrap();
    let account = CoordinatorInstance::decode(&instance.data).unwrap().coordinator_account;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let changes: Vec<(Instant, String)> = runtime.block_on(async {
        let pubsub = PubsubClient::new(server.ws_url.as_str()).await.unwrap();
        let config = RpcAccountInfoConfig {
            encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
            commitment: Some(CommitmentConfig::processed()),
            ..Default::default()
        };
        let (mut stream, _) = pubsub.account_subscribe(&account, Some(config)).await.unwrap();
        let mut changes = Vec::new();
        let mut last = String::new();
        let until = tokio::time::Instant::now() + window;
        while let Ok(Some(update)) = tokio::time::timeout_at(until, stream.next()).await {
            let data: Vec<u8> = update.value.data.decode().unwrap();
            let state = CoordinatorAccount::decode(&data).unwrap().run_state.display().to_string();
            if state != last {
                changes.push((Instant::now(), state.clone()));
                last = state;
            }
        }
        changes
    });
    let _ = follower.kill();
    let _ = follower.wait();
    // Each change's delay: to the first handler line of the transition into its state after it.
    let lines = lines.lock().unwrap().clone();
    let delays: Vec<f64> = changes
        .iter()
        .skip(1)
        .filter_map(|(at, state)| {
            let call = format!("-> {state}: on_transition");
            lines.iter().find(|(t, l)| t >= at && l.contains(&call)).map(|(t, _)| (*t - *at).as_secs_f64() * 1000.0)
        })
        .collect();
    let mut sorted = delays.clone();
    sorted.sort_by(f64::total_cmp);
    let p90 = sorted.get(sorted.len() * 9 / 10).copied().unwrap_or(f64::NAN);
    let max = sorted.last().copied().unwrap_or(f64::NAN);
    println!();
    println!("| follow mode, transition to handler | transitions | median | p90 | max |");
    println!("|---|---|---|---|---|");
    println!("| serve, 400 ms slots | {} | {:.0} ms | {p90:.0} ms | {max:.0} ms |", delays.len(), median(delays));
    assert_eq!(server.stop(), 0);
}
