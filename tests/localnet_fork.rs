//! `localnet fork`: a localnet that starts from a cluster's state. The cluster stands in as a
//! served localnet behind a counting proxy (every request the fork makes is seen), or as the
//! real validator (the real-node lane), whose programs the fork runs from their bytecode.

mod common;

use common::proxy::Proxy;
use common::{Runbook, Server};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use std::path::Path;

fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks").join(name).display().to_string()
}

/// Pauses the quickstart's run, airdrops to the signer (its main authority) and gives it
/// collateral of the cluster's mint, whose authority the fork does not hold.
const REHEARSAL: &str = r#"
let r = run("quickstart");
r.pause();
airdrop(payer().pubkey, 5);
mint_tokens(r.mint, payer().pubkey, 7.0);
output("state", r.state());
output("sol", sol_balance(payer().pubkey));
output("tokens", r.collateral_balance(payer().pubkey));
"#;

/// The pubkey of the served localnet's payer: the quickstart run's main authority.
fn authority(cluster: &Runbook) -> String {
    let text = std::fs::read_to_string(cluster.path(".psyche-runbook/localnet/payer.json")).unwrap();
    let key = psyche_runbook::chain::signer::keypair_from_secret(&text).unwrap();
    key.pubkey().to_string()
}

fn state_on(server_url: &str, rb: &Runbook) -> serde_json::Value {
    let doc = rb.run_args(["-u", server_url, "--output", "json", "run", &runbook("inspect.rhai")]).success().json();
    doc["outputs"]["run"]["coordinator_account"]["status"]["state"].clone()
}

/// The stand-in cluster: the quickstart's chain, served, behind a counting proxy.
fn served_cluster() -> (Runbook, Server, Proxy) {
    let cluster = Runbook::new();
    cluster.run_args(["run", &runbook("quickstart.rhai")]).success();
    let server = Server::start(&cluster);
    let proxy = Proxy::start(&server.url);
    (cluster, server, proxy)
}

#[test]
fn a_rehearsal_on_a_fork_leaves_the_cluster_alone_and_a_second_one_asks_it_nothing() {
    let (cluster, server, proxy) = served_cluster();
    let before = state_on(&server.url, &cluster);

    // Making the fork asks a handful of things, copies nothing.
    let fork = Runbook::new().file("rehearse.rhai", REHEARSAL);
    let secret_url = format!("{}/?api-key=SEKRET-FORK-KEY", proxy.url);
    let made = fork.run_args(["localnet", "fork", &secret_url]).success();
    let made_with: usize = proxy.counts().values().sum();
    assert!(made_with <= 4, "{:?}", proxy.counts());
    assert!(!made.stderr.contains("SEKRET"), "{}", made.stderr);

    // The first rehearsal reads what it needs; the run is paused on the fork only.
    let signer = format!("pubkey:{}", authority(&cluster));
    let first = fork.run_args(["-k", &signer, "--output", "json", "run", "rehearse.rhai"]).success().json();
    assert_eq!(first["outputs"]["state"], "Paused", "{first}");
    assert!(first["signatures"].as_array().unwrap().len() >= 2, "{first}");
    let tokens = first["outputs"]["tokens"].as_f64().unwrap();
    assert!(tokens >= 7.0, "{first}");
    assert_eq!(proxy.count("sendTransaction"), 0, "{:?}", proxy.counts());
    assert_eq!(proxy.count("requestAirdrop"), 0, "{:?}", proxy.counts());
    assert_eq!(state_on(&server.url, &cluster), before, "the cluster's run is unchanged");
    assert_ne!(before, "Paused");

    // A second rehearsal finds everything on the fork.
    let asked = proxy.counts();
    let second = fork.run_args(["-k", &signer, "--output", "json", "run", "rehearse.rhai"]).success().json();
    assert_eq!(second["outputs"]["state"], "Paused", "{second}");
    assert_eq!(second["outputs"]["tokens"].as_f64().unwrap(), tokens + 7.0, "{second}");
    assert_eq!(proxy.counts(), asked, "the second rehearsal asked the cluster");

    // The fork says what it forks (never the URL's credentials), and what it read.
    let status = fork.run_args(["localnet", "status", "--output", "json"]).success();
    assert!(!status.stdout.contains("SEKRET"), "{}", status.stdout);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert!(status["fork"]["accounts_read"].as_u64().unwrap() > 0, "{status}");
    assert!(status["fork"]["cluster"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{status}");
    let files: Vec<String> = walk(fork.dir())
        .into_iter()
        .filter(|path| !path.ends_with("chain.db") && !path.contains("chain.db-"))
        .filter_map(|path| std::fs::read(&path).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
        .collect();
    assert!(files.iter().all(|text| !text.contains("SEKRET")), "a file beside the database holds the URL's key");

    // Served, the fork shows the rehearsed state to a real RPC client; the cluster's is as it was.
    let forked = Server::start(&fork);
    let client = forked.client();
    assert_eq!(state_on(&forked.url, &cluster), "Paused");
    let cluster_client = server.client();
    let on_fork = client.get_slot().unwrap();
    assert!(
        on_fork >= cluster_client.get_slot().unwrap().saturating_sub(1_000),
        "the fork's slots continue from the cluster's"
    );
    drop(forked);
    assert_eq!(state_on(&server.url, &cluster), before);
}

fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn a_pubkey_only_signer_is_taken_on_a_fork_and_refused_on_the_cluster() {
    let (cluster, _server, proxy) = served_cluster();
    let signer = format!("pubkey:{}", authority(&cluster));
    let rb = Runbook::new().file("rehearse.rhai", REHEARSAL);

    let refused = rb.run_args(["-u", &proxy.url, "-k", &signer, "run", "rehearse.rhai"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("a pubkey-only signer is taken by a fork made with `localnet fork` only"),
        "{}",
        refused.stderr
    );
    assert_eq!(proxy.count("sendTransaction"), 0);
    // A dry-run of the cluster is no fork either, nor is a plain localnet.
    let dry = rb.run_args(["-u", &proxy.url, "-k", &signer, "run", "--dry-run", "rehearse.rhai"]);
    assert_eq!(dry.code, 2, "{}", dry.stderr);
    let plain = rb.run_args(["-k", &signer, "run", "rehearse.rhai"]);
    assert_eq!(plain.code, 2, "{}", plain.stderr);

    rb.run_args(["--localnet-dir", "fork", "localnet", "fork", &proxy.url]).success();
    let on_fork = ["--localnet-dir", "fork", "--output", "json", "-k"];
    let done = rb.run_args(on_fork.iter().copied().chain([signer.as_str(), "run", "rehearse.rhai"])).success().json();
    assert_eq!(done["outputs"]["state"], "Paused", "{done}");
    // A stand-in is the key it names and no other: one that is not the run's authority cannot
    // act as it.
    let rb = rb.file("resume.rhai", "run(\"quickstart\").resume();");
    let other = format!("pubkey:{}", Pubkey::new_unique());
    let refused = rb.run_args(on_fork.iter().copied().chain([other.as_str(), "run", "resume.rhai"]));
    assert_ne!(refused.code, 0, "{}", refused.stderr);
    let still =
        rb.run_args(["--localnet-dir", "fork", "--output", "json", "run", &runbook("inspect.rhai")]).success().json();
    assert_eq!(still["outputs"]["run"]["coordinator_account"]["status"]["state"], "Paused");
    assert_eq!(proxy.count("sendTransaction"), 0);
}

/// The memo program's answer to `memo` signed by `payer`: its logs, without the invocation
/// lines' compute figures, and the compute units consumed.
fn memo(client: &solana_rpc_client::rpc_client::RpcClient, payer: &Keypair, text: &str) -> (Vec<String>, u64) {
    let program: Pubkey = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr".parse().unwrap();
    let ix =
        Instruction::new_with_bytes(program, text.as_bytes(), vec![AccountMeta::new_readonly(payer.pubkey(), true)]);
    let blockhash = client.get_latest_blockhash().unwrap();
    let tx =
        solana_sdk::transaction::Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[payer], blockhash);
    let signature = client.send_and_confirm_transaction(&tx).unwrap();
    let config = solana_rpc_client_api::config::RpcTransactionConfig {
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
        ..Default::default()
    };
    let found = client.get_transaction_with_config(&signature, config).unwrap();
    let meta = found.transaction.meta.unwrap();
    let logs: Option<Vec<String>> = meta.log_messages.into();
    let units: Option<u64> = meta.compute_units_consumed.into();
    (logs.unwrap(), units.unwrap())
}

#[test]
fn a_fork_of_the_real_validator_runs_its_memo_program_from_bytecode() {
    let Some(validator) = common::validator::Validator::start() else {
        eprintln!("real-validator lane skipped: PSYCHE_TEST_VALIDATOR is not set");
        return;
    };
    let rb = Runbook::new();
    rb.run_args(["localnet", "fork", &validator.url]).success();
    let server = Server::start(&rb);
    let client = server.client();
    // One signer on both (the memo program logs it, and its cost depends on it), funded on the
    // validator: the fork reads its account from there before the airdrop adds to it.
    let payer = validator.funded(1);
    let airdrop = client.request_airdrop(&payer.pubkey(), 1_000_000_000).unwrap();
    while !client.confirm_transaction(&airdrop).unwrap() {}
    assert_eq!(client.get_balance(&payer.pubkey()).unwrap(), 2_000_000_000);

    let on_fork = memo(&client, &payer, "rehearsed on a fork");
    let on_validator = memo(&validator.client(), &payer, "rehearsed on a fork");
    assert_eq!(on_fork, on_validator, "the fork's memo program answers as the validator's");

    drop(server);
    let status = rb.run_args(["localnet", "status", "--output", "json"]).success().json();
    let memo = status["fork"]["programs"].as_array().unwrap().iter().find(|p| p["name"] == "memo").unwrap().clone();
    assert_eq!(memo["runs"], "the cluster's bytecode (not upgradeable)", "{status}");
    assert!(
        status["fork"]["programs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "coordinator" && p["runs"].as_str().unwrap().contains("embedded one")),
        "{status}"
    );
}

const MAINNET_GENESIS: &str = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d";

fn funded_on(rb: &Runbook, flags: &[&str]) -> (f64, serde_json::Value) {
    let mut args: Vec<&str> = flags.to_vec();
    let inspect = runbook("inspect.rhai");
    args.extend(["--output", "json", "run", inspect.as_str()]);
    let doc = rb.run_args(args).success().json();
    let run = &doc["outputs"];
    (run["funding"]["funded"].as_f64().unwrap(), run["run"]["coordinator_account"]["status"]["state"].clone())
}

#[test]
fn a_fork_of_mainnet_is_a_cluster_of_its_own_and_a_refresh_keeps_its_writes() {
    let (cluster, server, proxy) = served_cluster();
    proxy.answer_genesis(MAINNET_GENESIS);
    let fork = Runbook::new().file("rehearse.rhai", REHEARSAL);
    fork.run_args(["localnet", "fork", &proxy.url]).success();
    let signer = format!("pubkey:{}", authority(&cluster));

    // Not mainnet: no --yes and no terminal needed; named after what it forks.
    let (funded, _) = funded_on(&fork, &[]);
    let done = fork.run_args(["-k", &signer, "--output", "json", "run", "rehearse.rhai"]).success().json();
    assert_eq!(done["cluster"], "fork of mainnet-beta", "{done}");
    // Mainnet's limits apply to its fork.
    std::fs::write(fork.path("psyche-runbook.toml"), "[limits.mainnet-beta]\nallowed_run_ids = [\"another-run\"]\n")
        .unwrap();
    let limited = fork.run_args(["-k", &signer, "run", "rehearse.rhai"]);
    assert_eq!(limited.code, 4, "{}", limited.stderr);
    assert!(limited.stderr.contains("not in allowed_run_ids for"), "{}", limited.stderr);
    std::fs::remove_file(fork.path("psyche-runbook.toml")).unwrap();

    // The cluster moves on; the fork keeps what it read until it is refreshed.
    let cluster_payer = ".psyche-runbook/localnet/payer.json";
    let top_up = runbook("top-up-cron.rhai");
    cluster.run_args(["-u", &server.url, "-k", cluster_payer, "run", &top_up, "--set", "epochs=10"]).success();
    let (on_cluster, cluster_state) = funded_on(&cluster, &["-u", &server.url]);
    assert!(on_cluster > funded, "{on_cluster} {funded}");
    assert_eq!(funded_on(&fork, &[]), (funded, "Paused".into()));
    fork.run_args(["localnet", "fork", "--refresh"]).success();
    assert_eq!(funded_on(&fork, &[]), (on_cluster, "Paused".into()), "refreshed, the fork's pause is kept");
    fork.run_args(["localnet", "fork", "--refresh", "--drop-writes"]).success();
    assert_eq!(funded_on(&fork, &[]), (on_cluster, cluster_state), "the fork's own writes were dropped");
    assert_eq!(proxy.count("sendTransaction"), 0, "the fork sent nothing to its cluster: {:?}", proxy.counts());
}

/// The run's state, epoch and total steps, as `inspect.rhai` reads it with `flags`.
fn progress_on(rb: &Runbook, flags: &[&str]) -> (String, u64, u64) {
    let mut args: Vec<&str> = flags.to_vec();
    let inspect = runbook("inspect.rhai");
    args.extend(["--output", "json", "run", inspect.as_str(), "--set", "run_id=fork-live"]);
    let doc = rb.run_args(args).success().json();
    let account = &doc["outputs"]["run"]["coordinator_account"];
    let status = &account["status"];
    (
        status["state"].as_str().unwrap().to_string(),
        status["epoch"].as_u64().unwrap(),
        account["setup"]["config"]["total_steps"].as_u64().unwrap(),
    )
}

#[test]
fn a_fork_trains_follows_and_serves_training_clients_as_the_embedded_chain_does() {
    // The cluster: a run with short epochs, served behind the counting proxy.
    let cluster = Runbook::new().file("fast.toml", &common::fast_config(25_000));
    let fast = format!("config={}", cluster.path("fast.toml").display());
    let create = runbook("create-public-run.rhai");
    cluster.run_args(["run", &create, "--set", "run_id=fork-live", "--set", &fast]).success();
    let server = Server::start(&cluster);
    let proxy = Proxy::start(&server.url);
    let before = progress_on(&cluster, &["-u", &server.url]);
    assert_eq!(before, ("Waiting for members".to_string(), 0, 25_000));

    let fork = Runbook::new()
        .file("fast-v2.toml", &common::fast_config(24_000))
        .file("simulate.rhai", r#"output("epoch", run("fork-live").simulate_epoch([new_keypair(), new_keypair()]));"#)
        .file(
            "epochs.rhai",
            r#"
let r = run("fork-live");
r.on_epoch_end(|epoch| { print(`epoch ${epoch} ended on the fork`); stop_following(); });
"#,
        );
    fork.run_args(["localnet", "fork", &proxy.url]).success();
    let signer = format!("pubkey:{}", authority(&cluster));

    // `simulate_epoch`: clients the runbook makes join through the cluster's authorization.
    let simulated = fork.run_args(["--output", "json", "run", "simulate.rhai"]).success().json();
    assert_eq!(simulated["outputs"]["epoch"]["state"], "Waiting for members", "{simulated}");
    assert_eq!(progress_on(&fork, &[]).1, 1, "one epoch was simulated");

    // `run --follow --train`: the fork's clients train its run, and the handler sees the
    // epoch they end.
    let follow = fork.run_args(["-k", &signer, "run", "--follow", "--train", "3", "epochs.rhai"]).success();
    assert!(follow.stderr.contains("epoch 1 ended on the fork"), "{}", follow.stderr);
    assert!(progress_on(&fork, &[]).1 >= 2, "an epoch was trained");

    // `run --train`: the example runbook pauses the run, waits for the pause, updates its
    // config and resumes it, all on the fork.
    let v2 = format!("config={}", fork.path("fast-v2.toml").display());
    let pur = runbook("pause-update-resume.rhai");
    let args = ["-k", &signer, "--output", "json", "run", "--train", "3", &pur, "--set", "run_id=fork-live"];
    let done = fork.run_args(args.iter().copied().chain(["--set", &v2, "--set", "timeout=120"])).success().json();
    assert_ne!(done["outputs"]["state"], "Paused", "resumed: {done}");
    assert!(!done["signatures"].as_array().unwrap().is_empty(), "{done}");
    assert_eq!(progress_on(&fork, &[]).2, 24_000);

    // `localnet serve --clients`: the served fork trains its run on to a later epoch.
    let (_, epoch, _) = progress_on(&fork, &[]);
    let forked = Server::start_with(&fork, &["--clients", "3", "--run", "fork-live"]);
    forked.client();
    let started = std::time::Instant::now();
    while progress_on(&cluster, &["-u", &forked.url]).1 <= epoch {
        assert!(started.elapsed() < std::time::Duration::from_secs(180), "the served fork never trained an epoch");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(forked.stop(), 0);

    // None of it reached the cluster: its run is as it was.
    assert_eq!(proxy.count("sendTransaction"), 0, "{:?}", proxy.counts());
    assert_eq!(progress_on(&cluster, &["-u", &server.url]), before);
}
