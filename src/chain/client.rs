//! The one client path: a nonblocking `RpcClient` on a private tokio runtime, talking HTTP to a
//! cluster or in-process to the embedded localnet. Sending signs with a fresh blockhash, sends,
//! confirms, and turns failures into errors that carry the signature and program logs.

use crate::chain::cluster::{Cluster, RpcUrl};
use crate::chain::http::{self, Expected, HttpTransport};
use crate::chain::journal::Journal;
use crate::chain::programs::{self, Deployment};
use crate::chain::pubsub::Live;
use crate::chain::pubsub::link::{self, Notes};
use crate::chain::reads::{MAX_KEYS_PER_REQUEST, Reads};
use crate::chain::round_trips::{Counting, RoundTrips};
use crate::chain::settings::Settings;
use crate::cli::Commitment;
use crate::localnet::Localnet;
use crate::localnet::handle::Handle;
use crate::localnet::sender::{Faults, LocalSender};
use crate::localnet::store::StoreError;
use crate::localnet::upstream::Upstream;
use crate::psyche::ids::ProgramIds;
use solana_account_decoder_client_types::{UiAccount, UiAccountEncoding};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::RpcClientConfig;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::RpcAccountInfoConfig;
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use solana_sdk::transaction::TransactionError;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("{0}")]
    Rpc(String),
    #[error("{0}")]
    Transaction(Box<FailedTransaction>),
    #[error("localnet: {0}")]
    Localnet(String),
    /// Every signing expired without landing (its blockhash passed) after `sends` sends.
    #[error("{}", not_landed(what, *signings, *sends))]
    NotLanded { what: String, signings: usize, sends: usize },
    /// A signer could not sign (a device rejected on, locked or gone).
    #[error("{0}")]
    Signing(String),
    /// A file could not be written: the journal, the embedded chain's database.
    #[error("{0}")]
    Storage(String),
    /// Another process holds the embedded chain past `--lock-timeout`.
    #[error("{0}")]
    Locked(String),
}

fn not_landed(what: &str, signings: usize, sends: usize) -> String {
    match sends {
        0 => format!("{what}: not sent: the node refused each of {signings} blockhashes as not found"),
        n => format!(
            "{what}: did not land: {n} send(s) under {signings} blockhashes were made, and none landed before its blockhash expired"
        ),
    }
}

/// A transaction the cluster refused or that failed on chain, with what explains it.
#[derive(Debug, thiserror::Error)]
#[error("transaction {}failed: {message}{}", signature.map(|s| format!("{s} ")).unwrap_or_default(), program_error(logs))]
pub struct FailedTransaction {
    pub signature: Option<Signature>,
    pub error: Option<TransactionError>,
    pub message: String,
    pub logs: Vec<String>,
}

/// The log lines that explain a program failure: Anchor's error line when there is one, else
/// what the programs said (up to the last five lines that are not the runtime's bookkeeping of
/// invocations and compute units), ending with the line that names the failing program.
fn program_error(logs: &[String]) -> String {
    const MAX_LINES: usize = 5;
    if let Some(anchor) = logs.iter().rev().find(|l| l.contains("AnchorError") || l.contains("Error Message")) {
        return format!("\n  {anchor}");
    }
    let said: Vec<&String> = logs.iter().filter(|l| !is_bookkeeping(l)).collect();
    said[said.len().saturating_sub(MAX_LINES)..].iter().map(|l| format!("\n  {l}")).collect()
}

/// `Program X invoke [n]`, `Program X success`, `Program X consumed N of M compute units`.
fn is_bookkeeping(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("Program ") else { return false };
    let Some((_, what)) = rest.split_once(' ') else { return false };
    what.starts_with("invoke [") || what == "success" || what.starts_with("consumed ")
}

impl ChainError {
    /// The program's custom error code, when a program refused the transaction.
    pub fn custom_code(&self) -> Option<u32> {
        let ChainError::Transaction(failed) = self else { return None };
        match &failed.error {
            Some(TransactionError::InstructionError(_, solana_sdk::instruction::InstructionError::Custom(code))) => {
                Some(*code)
            }
            _ => None,
        }
    }

    /// True when a program (or the runtime's checks) refused the transaction: resending the
    /// same transaction cannot succeed.
    pub fn is_program_failure(&self) -> bool {
        match self {
            ChainError::Transaction(failed) => !matches!(
                failed.error,
                Some(TransactionError::BlockhashNotFound) | Some(TransactionError::AlreadyProcessed) | None
            ),
            _ => false,
        }
    }

    pub fn from_client(err: ClientError, signature: Option<Signature>) -> Self {
        match err.kind() {
            ErrorKind::RpcError(RpcError::RpcResponseError {
                data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
                ..
            }) => {
                let error: Option<TransactionError> = sim.err.clone().map(Into::into);
                ChainError::Transaction(Box::new(FailedTransaction {
                    signature,
                    message: error.as_ref().map_or_else(|| err.to_string(), |e| e.to_string()),
                    error,
                    logs: sim.logs.clone().unwrap_or_default(),
                }))
            }
            ErrorKind::TransactionError(tx_err) => ChainError::Transaction(Box::new(FailedTransaction {
                signature,
                message: tx_err.to_string(),
                error: Some(tx_err.clone()),
                logs: Vec::new(),
            })),
            _ if is_storage_failure(&err) => ChainError::Storage(message_of(&err)),
            _ => ChainError::Rpc(message_of(&err)),
        }
    }
}

pub struct Chain {
    runtime: tokio::runtime::Runtime,
    /// The cluster's RPC endpoints: the first, then fallbacks, switched to on transport failures.
    rpcs: Vec<Arc<RpcClient>>,
    current: AtomicUsize,
    localnet: Option<Arc<Handle>>,
    journal: OnceLock<Arc<Journal>>,
    /// Compute-unit price in micro-lamports set with `--with-compute-unit-price`.
    compute_unit_price: Option<u64>,
    /// What this execution has read (see `reads`).
    reads: Reads,
    round_trips: Arc<RoundTrips>,
    /// The Psyche program IDs in use, to name programs in errors and plans.
    programs: ProgramIds,
    /// The cluster a dry-run forks, whose programs the plan must find deployed.
    upstream: Option<Arc<RpcClient>>,
    /// Programs checked on the upstream cluster, for the plan.
    deployments: std::sync::Mutex<std::collections::BTreeMap<Pubkey, Deployment>>,
    /// The cluster's PubSub websocket, when one is known (always for the embedded chain).
    ws_url: Option<RpcUrl>,
    live: OnceLock<Live>,
    notes: OnceLock<Notes>,
    /// Transactions confirmed by a push (`signatureSubscribe`) and by status polls.
    confirmed: [AtomicUsize; 2],
}

/// Attempts of a read that fails for transport reasons (timeouts, 429) before giving up.
const READ_ATTEMPTS: u32 = 8;

/// True for failures worth retrying: the request may not have reached the cluster or its answer
/// got lost (timeouts, rate limits, connection errors), as opposed to a refusal (a node that is
/// not the cluster is one).
pub fn is_transient(err: &ClientError) -> bool {
    !matches!(
        err.kind(),
        ErrorKind::TransactionError(_)
            | ErrorKind::SigningError(_)
            | ErrorKind::RpcError(RpcError::RpcResponseError {
                data: RpcResponseErrorData::SendTransactionPreflightFailure(_),
                ..
            })
    ) && !http::is_not_the_cluster(err)
        && !is_storage_failure(err)
}

/// True when the embedded chain's store failed: nothing it answers can be trusted again.
fn is_storage_failure(err: &ClientError) -> bool {
    matches!(err.kind(), ErrorKind::Middleware(e) if e.is::<crate::localnet::sender::StorageFailed>())
}

/// True when the node said it is unhealthy (behind, or its storage failed): a transaction it
/// answers so was not forwarded.
pub fn is_unhealthy(err: &ClientError) -> bool {
    matches!(
        err.kind(),
        ErrorKind::RpcError(RpcError::RpcResponseError { code, .. })
            if *code == solana_rpc_client_api::custom_error::JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY
    )
}

/// What a client error says, without the wrapping a transport's own refusals get.
pub fn message_of(err: &ClientError) -> String {
    match err.kind() {
        ErrorKind::Middleware(e) => e.to_string(),
        _ => err.to_string(),
    }
}

/// A client of the cluster at `url` (checked to be the cluster whose genesis hash is
/// `expected`), its requests counted.
fn http_client(
    url: &RpcUrl,
    expected: Expected,
    commitment: CommitmentConfig,
    round_trips: &Arc<RoundTrips>,
) -> Arc<RpcClient> {
    let sender = Counting::new(HttpTransport::new(url.clone(), expected), Arc::clone(round_trips));
    Arc::new(RpcClient::new_sender(sender, RpcClientConfig::with_commitment(commitment)))
}

/// What the transport to the execution's `index`th URL (0 the cluster's, then the fallbacks)
/// must find there: confirmed already when it answered the genesis hash while settings were
/// resolved, else checked by its first request.
fn expected(settings: &Settings, index: usize) -> Expected {
    Expected {
        genesis: settings.identity.genesis.clone(),
        confirmed: settings.identity.read_from == Some(index),
        cache: Some(settings.genesis_cache()),
    }
}

fn commitment_config(c: Commitment) -> CommitmentConfig {
    match c {
        Commitment::Processed => CommitmentConfig::processed(),
        Commitment::Confirmed => CommitmentConfig::confirmed(),
        Commitment::Finalized => CommitmentConfig::finalized(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime starts")
}

impl Chain {
    /// Connects to the cluster of `settings`; the embedded chain is opened (and locked) here.
    pub fn connect(settings: &Settings, waiting: impl FnOnce()) -> Result<Self, ChainError> {
        let commitment = commitment_config(settings.commitment);
        match &settings.cluster {
            Cluster::Embedded => {
                let handle = Handle::open_within(
                    &settings.localnet_dir,
                    settings.lock_timeout,
                    waiting,
                    crate::localnet::time::wall_clock(),
                )
                .map_err(|e| match e {
                    StoreError::Locked { .. } => ChainError::Locked(e.to_string()),
                    StoreError::Io { .. } | StoreError::Database { .. } => ChainError::Storage(e.to_string()),
                    other => ChainError::Localnet(other.to_string()),
                })?;
                handle.lock().use_program_ids(settings.programs);
                let faults = Faults::from_env().map_err(ChainError::Localnet)?;
                let sender = LocalSender::new(Arc::clone(&handle)).with_faults(faults);
                Ok(Self::embedded_with_sender(sender, handle, commitment))
            }
            Cluster::Rpc { url } => {
                let round_trips = Arc::new(RoundTrips::default());
                if settings.identity.read_from.is_some() {
                    // The request that identified the cluster was this execution's.
                    round_trips.count("getGenesisHash".into());
                }
                let urls = std::iter::once(url).chain(&settings.fallback_urls).enumerate();
                Ok(Self {
                    runtime: runtime(),
                    rpcs: urls.map(|(i, u)| http_client(u, expected(settings, i), commitment, &round_trips)).collect(),
                    current: AtomicUsize::new(0),
                    localnet: None,
                    journal: OnceLock::new(),
                    compute_unit_price: settings.compute_unit_price,
                    reads: Reads::default(),
                    round_trips,
                    programs: settings.programs,
                    upstream: None,
                    deployments: Default::default(),
                    ws_url: settings.ws_url.clone(),
                    live: OnceLock::new(),
                    notes: OnceLock::new(),
                    confirmed: Default::default(),
                })
            }
        }
    }

    /// A dry-run client: a copy-on-write fork of the target inside the embedded VM. The local
    /// chain's state is copied (and never saved); a real cluster's accounts are pulled in on
    /// first use, so later steps see the writes of earlier ones. Nothing reaches the target.
    pub fn dry_run(settings: &Settings) -> Result<Self, ChainError> {
        let commitment = commitment_config(settings.commitment);
        match &settings.cluster {
            Cluster::Embedded => {
                let mut net = Localnet::load_read_only(&settings.localnet_dir)
                    .map_err(|e| ChainError::Localnet(e.to_string()))?;
                net.use_program_ids(settings.programs);
                // A rehearsal on a `localnet fork` reads what it lacks from the fork's cluster.
                let upstream = match net.origin() {
                    Some(origin) => Some(Upstream::to(&origin.url, &origin.genesis).map_err(ChainError::Localnet)?),
                    None => None,
                };
                let handle = Handle::fork_of(net, &settings.localnet_dir, upstream);
                Ok(Self::embedded_with_sender(LocalSender::new(Arc::clone(&handle)), handle, commitment))
            }
            Cluster::Rpc { url } => {
                let mut net = Localnet::new();
                net.use_program_ids(settings.programs);
                let upstream = http_client(url, expected(settings, 0), commitment, &Arc::default());
                let reads = Upstream::new(Arc::clone(&upstream));
                let handle = Handle::fork_of(net, &settings.localnet_dir, Some(reads));
                let sender = LocalSender::new(Arc::clone(&handle));
                let mut chain = Self::embedded_with_sender(sender, handle, commitment);
                chain.upstream = Some(upstream);
                Ok(chain)
            }
        }
    }

    /// A fresh embedded chain in memory, for one runbook test: no directory, lock or journal.
    pub fn in_memory(settings: &Settings) -> Self {
        let handle = Handle::in_memory(&settings.localnet_dir);
        handle.lock().use_program_ids(settings.programs);
        Self::embedded_with_sender(
            LocalSender::new(Arc::clone(&handle)),
            handle,
            commitment_config(settings.commitment),
        )
    }

    /// A scratch copy of this chain to try transactions on: the embedded chain (or dry-run
    /// fork) copied in memory, a real cluster forked lazily. Never saved, never sent from.
    pub fn scratch(&self, settings: &Settings) -> Result<Self, ChainError> {
        match &self.localnet {
            Some(handle) => {
                let net = handle.lock().fork();
                let forked = Handle::fork_of(net, handle.dir(), handle.upstream().cloned());
                Ok(Self::embedded(forked, commitment_config(settings.commitment)))
            }
            None => Self::dry_run(settings),
        }
    }

    /// A client on an already open localnet.
    pub fn embedded(handle: Arc<Handle>, commitment: CommitmentConfig) -> Self {
        Self::embedded_with_sender(LocalSender::new(Arc::clone(&handle)), handle, commitment)
    }

    /// A client on an open localnet through a configured transport (e.g. with latency).
    pub fn embedded_with_sender(sender: LocalSender, handle: Arc<Handle>, commitment: CommitmentConfig) -> Self {
        let round_trips = Arc::new(RoundTrips::default());
        let sender = Counting::new(sender, Arc::clone(&round_trips));
        let rpc = RpcClient::new_sender(sender, RpcClientConfig::with_commitment(commitment));
        let programs = handle.lock().ids();
        Self {
            runtime: runtime(),
            rpcs: vec![Arc::new(rpc)],
            current: AtomicUsize::new(0),
            localnet: Some(handle),
            journal: OnceLock::new(),
            compute_unit_price: None,
            reads: Reads::default(),
            round_trips,
            programs,
            upstream: None,
            deployments: Default::default(),
            ws_url: None,
            live: OnceLock::new(),
            notes: OnceLock::new(),
            confirmed: Default::default(),
        }
    }

    /// The Psyche program IDs this client sends to.
    pub fn program_ids(&self) -> ProgramIds {
        self.programs
    }

    /// What the cluster holds at `programs`: their accounts, then the program data accounts of
    /// the upgradeable ones (two batched reads). A dry-run reads the cluster it forks.
    fn deployments_of(&self, programs: &[Pubkey]) -> Result<Vec<Deployment>, ChainError> {
        let read = |keys: Vec<Pubkey>| -> Result<Vec<Option<Account>>, ChainError> {
            match &self.upstream {
                Some(upstream) => {
                    let mut found = Vec::with_capacity(keys.len());
                    for chunk in keys.chunks(MAX_KEYS_PER_REQUEST) {
                        let accounts = self
                            .block_on(upstream.get_multiple_accounts(chunk))
                            .map_err(|e| ChainError::Rpc(e.to_string()))?;
                        found.extend(accounts);
                    }
                    Ok(found)
                }
                None => self.accounts(&keys),
            }
        };
        let accounts = read(programs.to_vec())?;
        let data_keys: Vec<Option<Pubkey>> =
            accounts.iter().map(|a| a.as_ref().and_then(programs::program_data_address)).collect();
        let wanted: Vec<Pubkey> = data_keys.iter().flatten().copied().collect();
        let mut data = if wanted.is_empty() { Vec::new() } else { read(wanted)? }.into_iter();
        Ok(programs
            .iter()
            .zip(&accounts)
            .zip(&data_keys)
            .map(|((program, account), data_key)| {
                let data = data_key.and_then(|_| data.next().flatten());
                programs::deployment(&self.programs, program, account.as_ref(), data.as_ref())
            })
            .collect())
    }

    /// On a dry-run of a real cluster, checks that every program `instructions` run is deployed
    /// there (the fork runs our models of them, which would hide a missing one); each program
    /// is read once per execution and shown in the plan.
    pub fn verify_programs(&self, instructions: &[Instruction]) -> Result<(), ChainError> {
        if self.upstream.is_none() {
            return Ok(());
        }
        let known: Vec<Pubkey> = self.deployments.lock().expect("deployments lock").keys().copied().collect();
        let unknown: Vec<Pubkey> =
            programs::run_by(&self.programs, instructions).into_iter().filter(|p| !known.contains(p)).collect();
        if !unknown.is_empty() {
            let found = self.deployments_of(&unknown)?;
            self.deployments.lock().expect("deployments lock").extend(unknown.into_iter().zip(found));
        }
        let deployments = self.deployments.lock().expect("deployments lock");
        let problem = programs::run_by(&self.programs, instructions)
            .iter()
            .find_map(|p| deployments.get(p).and_then(Deployment::problem));
        match problem {
            Some(message) => Err(ChainError::Transaction(Box::new(FailedTransaction {
                signature: None,
                error: Some(TransactionError::ProgramAccountNotFound),
                message,
                logs: Vec::new(),
            }))),
            None => Ok(()),
        }
    }

    /// The first program `instructions` run that the cluster lacks, said as the operator reads
    /// it (after a node answered `ProgramAccountNotFound`, which does not say which).
    pub fn missing_program(&self, instructions: &[Instruction]) -> Option<String> {
        self.undeployed(&programs::run_by(&self.programs, instructions))
    }

    /// The first of `programs` the cluster lacks, said as the operator reads it.
    pub fn undeployed(&self, programs: &[Pubkey]) -> Option<String> {
        self.reads.forget(programs.iter().copied());
        self.deployments_of(programs).ok()?.iter().find_map(Deployment::problem)
    }

    /// The programs a dry-run checked on the cluster it forks, for its plan.
    pub fn deployments(&self) -> Vec<Deployment> {
        self.deployments.lock().expect("deployments lock").values().cloned().collect()
    }

    /// The RPC requests this client has made.
    pub fn round_trips(&self) -> &RoundTrips {
        &self.round_trips
    }

    /// What this execution has read, to forget what it changed.
    pub fn reads(&self) -> &Reads {
        &self.reads
    }

    /// Journals every transaction this client sends from now on.
    pub fn set_journal(&self, journal: Arc<Journal>) {
        let _ = self.journal.set(journal);
    }

    pub fn journal(&self) -> Option<&Arc<Journal>> {
        self.journal.get()
    }

    pub fn is_embedded(&self) -> bool {
        self.localnet.is_some()
    }

    pub fn compute_unit_price(&self) -> Option<u64> {
        self.compute_unit_price
    }

    /// Runs a read, retrying transport failures with exponential backoff.
    pub fn read<T, F, Fut>(&self, mut call: F) -> Result<T, ChainError>
    where
        F: FnMut(Arc<RpcClient>) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut delay = if self.is_embedded() { Duration::from_millis(5) } else { Duration::from_millis(250) };
        let mut attempt = 1;
        loop {
            match self.block_on(call(Arc::clone(self.rpc()))) {
                Ok(value) => return Ok(value),
                Err(err) if attempt < READ_ATTEMPTS && is_transient(&err) => {
                    self.fail_over();
                    std::thread::sleep(delay);
                    delay = delay.mul_f32(1.8).min(Duration::from_secs(10));
                    attempt += 1;
                }
                Err(err) if is_storage_failure(&err) => return Err(ChainError::Storage(message_of(&err))),
                Err(err) => return Err(ChainError::Rpc(message_of(&err))),
            }
        }
    }

    /// The RPC endpoint in use.
    pub fn rpc(&self) -> &Arc<RpcClient> {
        &self.rpcs[self.current.load(Ordering::Relaxed) % self.rpcs.len()]
    }

    /// True when there is another RPC endpoint to fail over to.
    pub fn has_other_url(&self) -> bool {
        self.rpcs.len() > 1
    }

    /// Moves to the next RPC endpoint after a transport failure (no-op with only one).
    pub fn fail_over(&self) {
        if self.rpcs.len() > 1 {
            self.current.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The embedded chain, when that is what this client talks to.
    pub fn localnet(&self) -> Option<&Arc<Handle>> {
        self.localnet.as_ref()
    }

    /// Set once the embedded chain's store failed: loops that wait for the chain (statuses,
    /// expiry) stop with this error instead of waiting for answers that will not come.
    pub fn halted(&self) -> Result<(), ChainError> {
        match self.localnet.as_ref().filter(|h| !h.is_fork()).and_then(|h| h.storage_failure()) {
            Some(reason) => Err(ChainError::Storage(format!("the localnet's storage failed: {reason}"))),
            None => Ok(()),
        }
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn count_confirmation(&self, pushed: bool) {
        self.confirmed[usize::from(!pushed)].fetch_add(1, Ordering::Relaxed);
    }

    /// Transactions confirmed so far: (by `signatureSubscribe`, by status polls).
    pub fn confirmations(&self) -> (usize, usize) {
        (self.confirmed[0].load(Ordering::Relaxed), self.confirmed[1].load(Ordering::Relaxed))
    }

    /// Where PubSub notes go (`-v` lines, warnings); set before the first subscription.
    pub fn set_notes(&self, notes: Notes) {
        let _ = self.notes.set(notes);
    }

    /// The PubSub side of this client: the cluster's websocket (None when none is known) or
    /// the embedded chain's own.
    pub fn live(&self) -> Option<&Live> {
        if let Some(live) = self.live.get() {
            return Some(live);
        }
        let notes = self.notes.get().cloned().unwrap_or_else(|| Arc::new(link::warnings_only));
        let live = match (&self.localnet, &self.ws_url) {
            (Some(handle), _) => Live::loopback(Arc::clone(handle), self.runtime.handle().clone(), notes),
            (None, Some(url)) => Live::cluster(url.clone(), self.runtime.handle().clone(), notes),
            (None, None) => return None,
        };
        Some(self.live.get_or_init(|| live))
    }

    /// An account (None when it does not exist), read through the execution's reads.
    pub fn account(&self, key: &Pubkey) -> Result<Option<Account>, ChainError> {
        Ok(self.accounts(std::slice::from_ref(key))?.pop().flatten())
    }

    /// An account read from the cluster now, whatever this execution read before.
    pub fn fresh_account(&self, key: &Pubkey) -> Result<Option<Account>, ChainError> {
        self.reads.forget([*key]);
        self.account(key)
    }

    /// Accounts in the order of `keys`: those not read yet in one `getMultipleAccounts` per
    /// 100 keys, the rest from what this execution already read.
    pub fn accounts(&self, keys: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        // Over a network zstd pays for itself on large, mostly zero accounts; in process it
        // only costs a compressor and a decompressor per account (40% of re-reading 180,000
        // authorizations).
        let encoding = match self.localnet {
            Some(_) => UiAccountEncoding::Base64,
            None => UiAccountEncoding::Base64Zstd,
        };
        for chunk in self.reads.missing(keys).chunks(MAX_KEYS_PER_REQUEST) {
            let fetched = self.read(|rpc| {
                let chunk = chunk.to_vec();
                let config = RpcAccountInfoConfig { encoding: Some(encoding), ..Default::default() };
                async move {
                    let found = rpc.get_multiple_ui_accounts_with_config(&chunk, config).await?.value;
                    found.into_iter().zip(&chunk).map(|(account, key)| decoded(account, key, encoding)).collect()
                }
            })?;
            self.reads.store(chunk, fetched);
        }
        Ok(self.reads.get(keys).into_iter().map(Option::flatten).collect())
    }

    pub fn balance(&self, key: &Pubkey) -> Result<u64, ChainError> {
        let key = *key;
        self.read(move |rpc| async move { rpc.get_balance(&key).await })
    }

    /// Persists the embedded chain if it changed. A no-op on real clusters.
    pub fn finish(&self) -> Result<(), ChainError> {
        if let Some(handle) = &self.localnet {
            handle.save().map_err(|e| ChainError::Storage(e.to_string()))?;
        }
        Ok(())
    }
}

/// An account as the node encoded it, decoded; data that does not decode is an error naming the
/// account, never taken for an absent one.
fn decoded(
    account: Option<UiAccount>,
    key: &Pubkey,
    encoding: UiAccountEncoding,
) -> Result<Option<Account>, ClientError> {
    let Some(account) = account else { return Ok(None) };
    account.decode::<Account>().map(Some).ok_or_else(|| {
        ErrorKind::Custom(format!("getMultipleAccounts: the data of {key} does not decode as {encoding:?}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_shows_what_the_programs_said_without_the_bookkeeping() {
        let logs: Vec<String> = [
            "Program 11111111111111111111111111111111 invoke [1]",
            "Transfer: insufficient lamports 999995000, need 5000000000",
            "Program 11111111111111111111111111111111 failed: custom program error: 0x1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            program_error(&logs),
            "\n  Transfer: insufficient lamports 999995000, need 5000000000\n  Program 11111111111111111111111111111111 failed: custom program error: 0x1"
        );
        let anchor = vec![
            "Program log: Instruction: Update".to_string(),
            "Program log: AnchorError occurred. Error Code: Unauthorized. Error Number: 6000. Error Message: no."
                .to_string(),
            "Program X consumed 10 of 200000 compute units".to_string(),
        ];
        assert_eq!(program_error(&anchor), format!("\n  {}", anchor[1]));
    }
}
