//! `psyche-runbook localnet serve|status|reset|prune-history`.

use crate::chain::settings::Settings;
use crate::exit::{ExitCode, Failure};
use crate::localnet::Localnet;
use crate::localnet::handle::Handle;
use crate::localnet::store;
use crate::localnet::store::history::Retention;
use crate::localnet::trainer::{self, Crew, Trainer};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::coordinator_account::CoordinatorAccount;
use crate::psyche::accounts::instance::{self, CoordinatorInstance};
use crate::ui::Log;
use serde_json::json;
use solana_sdk::account::ReadableAccount;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

fn open(settings: &Settings, log: &Log) -> Result<Arc<Handle>, Failure> {
    let dir = &settings.localnet_dir;
    let waiting = || log.info(&format!("waiting for another process to release the localnet at {}", dir.display()));
    let handle = Handle::open_within(dir, settings.lock_timeout, waiting, crate::localnet::time::wall_clock())
        .map_err(store_failure)?;
    handle.lock().use_program_ids(settings.programs);
    Ok(handle)
}

/// Serves the chain; with clients in `crew`, they train `runs` (every run when empty).
pub fn serve(
    settings: &Settings,
    bind: IpAddr,
    (port, ws_port): (u16, Option<u16>),
    slot_ms: u64,
    (runs, crew): (Vec<String>, Crew),
    log: Log,
) -> Result<ExitCode, Failure> {
    let handle = open(settings, &log)?;
    handle.lock().set_slot_ms(slot_ms);
    if crew.silent + crew.unhealthy > crew.clients {
        return Err(Failure::usage(format!(
            "--silent-clients {} and --unhealthy-clients {} are more than the {} --clients",
            crew.silent, crew.unhealthy, crew.clients
        )));
    }
    let start_training = || {
        if crew.clients > 0 {
            let warn = log.clone();
            trainer::spawn(Arc::downgrade(&handle), Trainer::new(runs, crew), move |problem| {
                warn.warn(&format!("simulated clients: {problem}"))
            });
            log.info(&format!("{} simulated clients are training", crew.clients));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime starts");
    runtime.block_on(async {
        let listen = |port: u16| async move {
            tokio::net::TcpListener::bind(SocketAddr::new(bind, port))
                .await
                .map_err(|e| Failure::usage(format!("cannot listen on {bind}:{port}: {e}")))
        };
        let listener = listen(port).await?;
        let address = listener.local_addr().map_err(|e| Failure::usage(e.to_string()))?;
        // The validator's habit: PubSub on the RPC port + 1 (a free one when the RPC's is).
        let ws_port = ws_port.unwrap_or(if port == 0 { 0 } else { address.port().wrapping_add(1) });
        let ws_listener = listen(ws_port).await?;
        let ws_address = ws_listener.local_addr().map_err(|e| Failure::usage(e.to_string()))?;
        handle.lock().set_addresses(crate::localnet::node::Addresses { rpc: Some(address), pubsub: Some(ws_address) });
        // Always printed (even with -q): scripts and tests read the addresses from here.
        eprintln!("serving the localnet at {} on http://{address}", settings.localnet_dir.display());
        eprintln!("PubSub websocket on ws://{ws_address}");
        start_training();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM can be watched");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            let _ = stop.send(true);
        });
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let warn = log.clone();
        let pubsub = crate::localnet::rpc::pubsub::serve(
            ws_listener,
            Arc::clone(&handle),
            until_stopped(stopped.clone()),
            Arc::new(move |message: &str| warn.warn(message)),
        );
        let warn = log.clone();
        let warn: crate::localnet::server::Warn = Arc::new(move |message| warn.warn(&message));
        let http = crate::localnet::server::serve(listener, Arc::clone(&handle), until_stopped(stopped), warn);
        let (http, _) = tokio::join!(http, pubsub);
        http.map_err(|e| Failure::new(ExitCode::Chain, format!("localnet server: {e}")))
    })?;
    log.info("localnet state saved; server stopped");
    Ok(ExitCode::Success)
}

/// A localnet that could not be opened: its lock held past `--lock-timeout` (exit 75), a file
/// that could not be written (74), or one that is not a localnet's (3).
pub fn store_failure(e: store::StoreError) -> Failure {
    let code = match &e {
        store::StoreError::Locked { .. } => ExitCode::Locked,
        store::StoreError::Io { .. } | store::StoreError::Database { .. } => ExitCode::Storage,
        _ => ExitCode::Chain,
    };
    Failure::new(code, e.to_string())
}

pub fn status(settings: &Settings, log: Log) -> Result<ExitCode, Failure> {
    // A reader: it needs no lock, so it answers while a runbook or `serve` holds the chain.
    let mut net =
        Localnet::load_read_only(&settings.localnet_dir).map_err(|e| Failure::new(ExitCode::Chain, e.to_string()))?;
    net.use_program_ids(settings.programs);
    net.follow_clock();
    let clock = net.clock();
    let runs: Vec<_> = net
        .program_accounts(&net.ids().coordinator)
        .into_iter()
        .filter(|(_, a)| a.data().len() == instance::SIZE)
        .filter_map(|(address, a)| CoordinatorInstance::decode(a.data()).ok().map(|i| (address, i)))
        .map(|(address, i)| {
            let state = net
                .account(&i.coordinator_account)
                .and_then(|a| CoordinatorAccount::decode(&a.data).ok())
                .map_or("unknown", |a| a.run_state.display());
            json!({"run_id": i.run_id, "instance": address.to_string(), "state": state})
        })
        .collect();
    let payer_file = settings.localnet_dir.join("payer.json");
    let payer = std::fs::read_to_string(&payer_file)
        .ok()
        .and_then(|text| crate::chain::signer::keypair_from_secret(&text).ok())
        .map(|k| {
            let key = solana_sdk::signer::Signer::pubkey(&k);
            json!({"pubkey": key.to_string(), "sol": net.balance(&key) as f64 / LAMPORTS_PER_SOL as f64})
        });
    let (bytes, accounts) = net.stored();
    let state_bytes = (bytes > 0).then_some(bytes);
    let fork = net.origin().map(|origin| fork_status(&net, origin));
    let doc = json!({
        "dir": settings.localnet_dir.display().to_string(),
        "slot": clock.slot,
        "unix_timestamp": clock.unix_timestamp,
        "latest_blockhash": net.latest_blockhash().to_string(),
        "state_file_bytes": state_bytes,
        "accounts": accounts,
        "runs": runs,
        "payer": payer,
        "fork": fork,
    });
    if log.json() {
        println!("{}", serde_json::to_string_pretty(&doc).expect("JSON serializes"));
    } else {
        println!(
            "localnet {} (database: {})",
            doc["dir"].as_str().unwrap_or_default(),
            state_bytes.map_or("none yet".into(), |b| format!("{b} bytes, {accounts} accounts"))
        );
        println!("slot {}, clock {}", clock.slot, clock.unix_timestamp);
        if let Some(fork) = &fork {
            println!(
                "fork of {} from its slot {}; {} account(s) read from it, each as it was when first read",
                fork["cluster"].as_str().unwrap_or_default(),
                fork["slot"],
                fork["accounts_read"]
            );
            for program in fork["programs"].as_array().into_iter().flatten() {
                println!(
                    "  {:<14} {}",
                    program["name"].as_str().unwrap_or_default(),
                    program["runs"].as_str().unwrap_or_default()
                );
            }
        }
        if let Some(p) = &payer {
            println!("payer {} ({} SOL)", p["pubkey"].as_str().unwrap_or_default(), p["sol"]);
        }
        println!("{} run(s)", runs.len());
        for run in &runs {
            println!("  {}  {}", run["run_id"].as_str().unwrap_or_default(), run["state"].as_str().unwrap_or_default());
        }
    }
    Ok(ExitCode::Success)
}

/// What a fork is of, and which code runs for each program it knows by name.
fn fork_status(net: &Localnet, origin: &store::Origin) -> serde_json::Value {
    let named = crate::localnet::forked::known_programs(&net.ids());
    let keys: Vec<_> = named.iter().map(|(_, key)| *key).collect();
    let programs: Vec<_> = named
        .iter()
        .zip(net.program_sources(&keys))
        .map(|((name, key), (_, source))| json!({"name": name, "program": key.to_string(), "runs": source.describe()}))
        .collect();
    json!({
        "cluster": origin.name,
        "genesis_hash": origin.genesis,
        "slot": origin.slot,
        "accounts_read": net.read_count(),
        "programs": programs,
    })
}

pub fn reset(settings: &Settings, log: Log) -> Result<ExitCode, Failure> {
    let dir = &settings.localnet_dir;
    // The lock alone: no process uses the chain while its files go.
    let _lock = crate::localnet::lock::DirLock::acquire(dir, settings.lock_timeout, || {
        log.info(&format!("waiting for another process to release the localnet at {}", dir.display()))
    })
    .map_err(store_failure)?;
    crate::localnet::fork_file::ForkFile::remove(dir)
        .map_err(|e| Failure::new(ExitCode::Storage, format!("{}: {e}", dir.display())))?;
    match store::remove(dir) {
        Ok(true) => log.info(&format!("reset the localnet at {}", dir.display())),
        Ok(false) => log.info("the localnet has no state yet"),
        Err(e) => return Err(store_failure(e)),
    }
    Ok(ExitCode::Success)
}

/// Prunes the history to what `keep` (newest records, recent slots) allows, under the lock.
pub fn prune_history(settings: &Settings, keep: (Option<u64>, Option<u64>), log: Log) -> Result<ExitCode, Failure> {
    let handle = open(settings, &log)?;
    let mut net = handle.lock();
    net.follow_clock();
    // Pruning runs in a database transaction of its own.
    net.flush().map_err(|e| Failure::new(ExitCode::Storage, e.to_string()))?;
    let retention = Retention { max_records: keep.0, max_slots: keep.1, current_slot: net.slot() };
    let removed = net
        .store()
        .history()
        .prune(retention)
        .map_err(|e| Failure::new(ExitCode::Chain, format!("{}: {e}", settings.localnet_dir.display())))?;
    let kept = net.store().history().record_count().map_err(|e| Failure::new(ExitCode::Chain, e.to_string()))?;
    if log.json() {
        println!("{}", json!({"removed": removed, "kept": kept}));
    } else {
        log.info(&format!("removed {removed} transaction records; {kept} kept"));
    }
    Ok(ExitCode::Success)
}
