//! `psyche-runbook localnet fork URL` and `localnet fork --refresh [--drop-writes]`: a
//! localnet that starts from a cluster's state (see `localnet::forked`).
//!
//! Making a fork asks the cluster three things: its genesis hash (which cluster it is), its
//! clock (the fork's slot and time continue from it) and its feature accounts (the fork's VM
//! runs with the features the cluster has active). No account is copied: each is read the
//! first time anything asks for it.

use crate::chain::cluster::{Cluster, RpcUrl};
use crate::chain::identity::{fetch_genesis, moniker};
use crate::chain::settings::Settings;
use crate::commands::localnet::store_failure;
use crate::exit::{ExitCode, Failure};
use crate::localnet::fork_file::ForkFile;
use crate::localnet::handle::Handle;
use crate::localnet::store::{self, Origin};
use crate::localnet::upstream::Upstream;
use crate::ui::Log;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_sdk::account::Account;
use solana_sdk::clock::Clock;
use solana_sdk::pubkey::Pubkey;

const FEATURE_OWNER: Pubkey = solana_sdk::pubkey!("Feature111111111111111111111111111111111111");
const CLOCK: Pubkey = solana_sdk::pubkey!("SysvarC1ock11111111111111111111111111111111");

/// What the cluster says when a fork is made.
struct Snapshot {
    clock: Clock,
    /// Active features: (feature, activation slot).
    features: Vec<(Pubkey, u64)>,
}

fn chain_error(message: String) -> Failure {
    Failure::new(ExitCode::Chain, format!("{message}; no fork was made"))
}

async fn snapshot(upstream: &Upstream) -> Result<Snapshot, String> {
    let client = upstream.client();
    let clock = client.get_account(&CLOCK).await.map_err(|e| format!("reading the cluster's clock: {e}"))?;
    let clock: Clock = bincode::deserialize(&clock.data).map_err(|e| format!("the cluster's clock: {e}"))?;
    let config = RpcProgramAccountsConfig {
        account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
        ..Default::default()
    };
    let features = client
        .get_program_ui_accounts_with_config(&FEATURE_OWNER, config)
        .await
        .map_err(|e| format!("reading the cluster's features: {e}"))?
        .into_iter()
        .filter_map(|(key, ui)| {
            let account: Account = ui.decode()?;
            // A feature account holds `Option<u64>`: the slot it was activated at.
            let activated: Option<u64> = bincode::deserialize(&account.data).ok()?;
            activated.map(|slot| (key, slot))
        })
        .collect();
    Ok(Snapshot { clock, features })
}

/// `localnet fork URL`.
pub fn make(settings: &Settings, url: &str, log: Log) -> Result<ExitCode, Failure> {
    let url = match Cluster::parse(url).map_err(Failure::usage)? {
        Cluster::Rpc { url } => url,
        Cluster::Embedded => return Err(Failure::usage("localnet fork: the embedded chain is no cluster to fork")),
    };
    log.redactor.learn_url(&url);
    let dir = &settings.localnet_dir;
    if dir.join(store::DB_FILE).exists() || dir.join(store::STATE_FILE).exists() {
        return Err(Failure::usage(format!(
            "{} already holds a chain: `localnet reset` discards it, or give the fork a --localnet-dir of its own",
            dir.display()
        )));
    }
    create(settings, &url, &log)?;
    Ok(ExitCode::Success)
}

fn create(settings: &Settings, url: &RpcUrl, log: &Log) -> Result<(), Failure> {
    let dir = &settings.localnet_dir;
    let genesis = fetch_genesis(url).map_err(|e| chain_error(format!("{}: {e}", url.display())))?;
    let name = moniker(&genesis).map_or_else(|| url.display(), str::to_string);
    let upstream = Upstream::to(url.expose(), &genesis).map_err(Failure::usage)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts");
    let snapshot = runtime.block_on(snapshot(&upstream)).map_err(chain_error)?;
    let waiting = || log.info(&format!("waiting for another process to release the localnet at {}", dir.display()));
    let handle = Handle::open_within(dir, settings.lock_timeout, waiting, crate::localnet::time::wall_clock())
        .map_err(store_failure)?;
    let created_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let origin = Origin {
        url: url.expose().to_string(),
        name: name.clone(),
        genesis: genesis.clone(),
        slot: snapshot.clock.slot,
        created_ms: created_ms as u64,
    };
    handle
        .lock()
        .become_fork(origin, &snapshot.features, snapshot.clock.unix_timestamp)
        .map_err(|e| Failure::new(ExitCode::Storage, e.to_string()))?;
    ForkFile { name: name.clone(), genesis, slot: snapshot.clock.slot }.write(dir).map_err(|e| {
        Failure::new(ExitCode::Storage, format!("{}: {e}", dir.join(crate::localnet::fork_file::FILE).display()))
    })?;
    log.info(&format!(
        "{} forks {name} from slot {} ({} active features); accounts are read from it the first time they are used",
        dir.display(),
        snapshot.clock.slot,
        snapshot.features.len()
    ));
    Ok(())
}

/// `localnet fork --refresh [--drop-writes]`.
pub fn refresh(settings: &Settings, drop_writes: bool, log: Log) -> Result<ExitCode, Failure> {
    let dir = &settings.localnet_dir;
    let not_a_fork = || Failure::usage(format!("{} is not a fork (make one with `localnet fork URL`)", dir.display()));
    let waiting = || log.info(&format!("waiting for another process to release the localnet at {}", dir.display()));
    let handle = Handle::open_within(dir, settings.lock_timeout, waiting, crate::localnet::time::wall_clock())
        .map_err(store_failure)?;
    let origin = handle.lock().origin().cloned().ok_or_else(not_a_fork)?;
    let url = RpcUrl::parse(&origin.url).map_err(Failure::usage)?;
    log.redactor.learn_url(&url);
    if drop_writes {
        drop(handle);
        let _lock =
            crate::localnet::lock::DirLock::acquire(dir, settings.lock_timeout, || {}).map_err(store_failure)?;
        store::remove(dir).map_err(store_failure)?;
        ForkFile::remove(dir).map_err(|e| Failure::new(ExitCode::Storage, format!("{}: {e}", dir.display())))?;
        drop(_lock);
        create(settings, &url, &log)?;
        log.info(&format!("the fork's own writes were dropped; {} forks {} anew", dir.display(), origin.name));
        return Ok(ExitCode::Success);
    }
    let upstream = handle.upstream().cloned().ok_or_else(not_a_fork)?;
    let read = handle.lock().forget_reads().map_err(|e| Failure::new(ExitCode::Storage, e))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts");
    runtime
        .block_on(upstream.read(handle.as_ref(), read.clone()))
        .map_err(|e| Failure::new(ExitCode::Chain, format!("reading {}: {e}", origin.name)))?;
    handle.lock().flush().map_err(|e| Failure::new(ExitCode::Storage, e.to_string()))?;
    log.info(&format!("read {} account(s) from {} again; the fork's own writes are kept", read.len(), origin.name));
    Ok(ExitCode::Success)
}
