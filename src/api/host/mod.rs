//! The state host functions share during one execution: resolved settings, the payer (loaded
//! on first use), the outputs a runbook emits and the signatures it sent. The engine stores an
//! `Arc<Host>` as its default tag; host functions reach it through their call context.
//!
//! Features plug into the host instead of the host knowing them: a `StepSink` takes a step's
//! instructions before they are sent (a feature may propose them to a governing account
//! instead), and may give the steps a chain of its own to read.
//!
//! Files a runbook names are read through the host's `files` boundary; secrets it loads are
//! taught to the log's redactor, which every output edge applies.

use crate::api::values::error::HostError;
use crate::api::values::handlers::Handlers;
use crate::api::values::keys::SignerHandle;
use crate::chain::client::Chain;
use crate::chain::cluster::Cluster;
use crate::chain::journal::Journal;
use crate::chain::recovery::settle_pending;
use crate::chain::settings::Settings;
use crate::chain::signer::Approval;
use crate::files::boundary::FileBoundary;
use crate::localnet::handle::Handle;
use crate::secrets::redact::Redactor;
use crate::ui::Log;
use rhai::{Dynamic, NativeCallContext};
use serde_json::Value;
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signer::Signer;
use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

mod signers;
mod sinks;

pub struct Host {
    pub settings: Settings,
    pub log: Log,
    /// `--set` values (and `$RUN_ID`), also pushed into the script scope as constants.
    pub params: BTreeMap<String, Dynamic>,
    /// Which files the runbook may read: every host function that reads one goes through it.
    /// Relative paths resolve from the runbook's folder first.
    pub files: FileBoundary,
    /// The runbook's name, for the journal.
    pub runbook: String,
    outputs: Mutex<BTreeMap<String, Value>>,
    /// The outputs as people read them, for text mode.
    output_texts: Mutex<BTreeMap<String, String>>,
    sent: Mutex<Vec<String>>,
    payer: OnceLock<Result<SignerHandle, HostError>>,
    /// `--fee-payer`, when given.
    fee_payer: OnceLock<Result<SignerHandle, HostError>>,
    chain: OnceLock<Result<Arc<Chain>, HostError>>,
    /// The operator's answer to the mainnet confirmation, asked once per execution.
    mainnet_confirmed: OnceLock<bool>,
    /// Collateral (UI units) sent to treasuries so far, against `max_collateral_per_invocation`.
    collateral_sent: Mutex<f64>,
    /// A rehearsal: the chain is a fork, nothing is journaled or sent to the cluster.
    dry_run: AtomicBool,
    /// Transactions that failed or never landed, for `--metrics-file`.
    failed: AtomicU64,
    /// Sends made of transactions that never landed (their blockhashes expired).
    unlanded_sends: AtomicU64,
    /// Run ids the runbook resolved, for the per-run gauges of `--metrics-file`.
    touched_runs: Mutex<BTreeSet<String>>,
    /// `notify` deliveries, for the `notifications` array of `--output json`.
    notifications: Mutex<Vec<Value>>,
    /// Where steps go before the cluster, the last installed asked first.
    sinks: Mutex<Vec<Arc<dyn StepSink>>>,
    /// Follow mode's handlers, registered by the runbook.
    pub handlers: Handlers,
    /// Services other than the cluster that requests went to (a transfer's service), so an
    /// error does not claim that nothing was sent.
    off_chain: Mutex<BTreeSet<String>>,
    /// Bulk operations that left work undone, which the runbook has not said it handled.
    unserved: Mutex<Vec<Unserved>>,
}

/// A bulk operation's failures (users it could not serve): unhandled until the runbook
/// accepts them (`res.accept_failures()`), and then no reason for a non-zero exit.
#[derive(Debug, Clone)]
pub struct Unserved {
    /// The operation (`grant_many`).
    pub what: String,
    /// Its `failed` entries (`#{user, error}`).
    pub failed: rhai::Array,
}

impl Unserved {
    /// `grant_many: 3 user(s) unserved (KEY, KEY, …: the first error)`.
    pub fn describe(&self) -> String {
        let entries: Vec<rhai::Map> = self.failed.iter().filter_map(|f| f.clone().try_cast::<rhai::Map>()).collect();
        let user = |f: &rhai::Map| f.get("user").and_then(|u| u.clone().try_cast::<Pubkey>()).map(|u| u.to_string());
        let mut first: Vec<String> = entries.iter().take(3).filter_map(user).collect();
        if entries.len() > first.len() {
            first.push("…".into());
        }
        let error = entries.first().and_then(|f| f.get("error")).map(ToString::to_string).unwrap_or_default();
        format!("{}: {} user(s) unserved ({}: {error})", self.what, self.failed.len(), first.join(", "))
    }
}

/// Journals and execution logs kept (the oldest beyond this are removed).
const KEEP_EXECUTIONS: usize = 1_000;

impl Host {
    /// `script` is the runbook file (or, for the REPL, the working directory).
    pub fn new(settings: Settings, log: Log, params: &[(String, Dynamic)], script: &Path) -> Arc<Self> {
        let base_dir = if script.is_dir() {
            script.to_path_buf()
        } else {
            script.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        // The configured signer and the credentials of the URLs in use are redacted from the
        // start, before anything signs or is journaled (`--set` refuses key material).
        settings.signer.learn_unattended(&log.redactor);
        for url in settings.urls() {
            log.redactor.learn_url(url);
        }
        let mut denied: Vec<PathBuf> = settings.signer.key_file().map(Path::to_path_buf).into_iter().collect();
        denied.push(settings.localnet_dir.clone());
        let files = FileBoundary::new(&base_dir, &settings.read_roots, &denied);
        Arc::new(Self {
            settings,
            log,
            params: params.iter().cloned().collect(),
            runbook: script.display().to_string(),
            files,
            outputs: Mutex::default(),
            output_texts: Mutex::default(),
            sent: Mutex::default(),
            payer: OnceLock::new(),
            fee_payer: OnceLock::new(),
            chain: OnceLock::new(),
            mainnet_confirmed: OnceLock::new(),
            collateral_sent: Mutex::new(0.0),
            dry_run: AtomicBool::new(false),
            failed: AtomicU64::new(0),
            unlanded_sends: AtomicU64::new(0),
            touched_runs: Mutex::default(),
            notifications: Mutex::default(),
            sinks: Mutex::default(),
            handlers: Handlers::default(),
            off_chain: Mutex::default(),
            unserved: Mutex::default(),
        })
    }

    /// The host behind a native call.
    pub fn of(ctx: &NativeCallContext) -> Arc<Host> {
        ctx.tag()
            .and_then(|tag| tag.read_lock::<Arc<Host>>().map(|host| Arc::clone(&host)))
            .expect("the engine's tag holds its Host")
    }

    /// The chain client, connected on first use (opening and locking the embedded chain).
    pub fn chain(&self) -> Result<Arc<Chain>, HostError> {
        if let Some(own) = self.installed_sinks().iter().find_map(|sink| sink.chain()) {
            return Ok(own);
        }
        self.chain
            .get_or_init(|| {
                let dir = self.settings.localnet_dir.display().to_string();
                let waiting =
                    || self.log.info(&format!("waiting for another process to release the localnet at {dir}"));
                let chained = |e: crate::chain::client::ChainError| HostError::from_chain(e, None);
                if self.is_dry_run() {
                    let chain = Chain::dry_run(&self.settings).map_err(chained)?;
                    chain.set_notes(pubsub_notes(self));
                    return Ok(Arc::new(chain));
                }
                let chain = Chain::connect(&self.settings, waiting).map_err(chained)?;
                chain.set_notes(pubsub_notes(self));
                let dir = self.settings.state_dir().join("journal");
                let (identity, cache) = (&self.settings.identity, self.settings.genesis_cache());
                settle_pending(&chain, &dir, &|key, legacy| identity.owns(key, legacy, &cache), &|line| {
                    self.log.info(&line)
                })
                .map_err(chained)?;
                crate::chain::journal::prune(&dir, "ndjson", KEEP_EXECUTIONS);
                crate::chain::journal::prune(&self.settings.state_dir().join("logs"), "log", KEEP_EXECUTIONS);
                // Without a journal nothing may be sent.
                let journal = Journal::create(&dir, identity, &self.runbook)
                    .map_err(|e| {
                        HostError::storage(format!("the journal in {} could not be written: {e}", dir.display()))
                    })?
                    .redacting(self.log.redactor.clone());
                chain.set_journal(Arc::new(journal));
                Ok(Arc::new(chain))
            })
            .clone()
    }

    /// Runs this execution on `chain` (before anything used one): a runbook test's chain, shared
    /// by the runbooks the test runs. No journal: nothing on it outlives the test.
    pub fn use_chain(&self, chain: Arc<Chain>) {
        let _ = self.chain.set(Ok(chain));
    }

    /// The first file this execution could not write, if one could not: the journal, the
    /// embedded chain's database, the execution log. It decides the exit code (74).
    pub fn storage_failure(&self) -> Option<String> {
        let chain = self.opened_chain();
        let journal = chain.as_ref().and_then(|c| c.journal().and_then(|j| j.failure()).map(ToString::to_string));
        let localnet = || {
            chain
                .as_ref()
                .filter(|_| !self.is_dry_run())
                .and_then(|c| c.localnet()?.storage_failure())
                .map(|reason| format!("the localnet's storage failed: {reason}"))
        };
        journal.or_else(localnet).or_else(|| self.log.write_failure())
    }

    /// The embedded chain; localnet services are refused on real clusters.
    pub fn localnet(&self) -> Result<Arc<Handle>, HostError> {
        if self.settings.cluster != Cluster::Embedded {
            return Err(HostError::input(format!(
                "this is a localnet service, not available on {}",
                self.settings.cluster_name()
            )));
        }
        let chain = self.chain()?;
        // Localnet services change the chain behind the reads' back.
        chain.reads().forget_all();
        Ok(Arc::clone(chain.localnet().expect("the embedded cluster has a localnet")))
    }

    /// The dry-run's fork of the chain (None outside dry-runs or before the chain is used).
    pub fn localnet_fork(&self) -> Option<Arc<Handle>> {
        match (self.is_dry_run(), self.chain.get()) {
            (true, Some(Ok(chain))) => chain.localnet().cloned(),
            _ => None,
        }
    }

    /// Makes this execution a dry-run (before the chain is first used).
    pub fn set_dry_run(&self) {
        self.dry_run.store(true, Ordering::SeqCst);
    }

    pub fn is_dry_run(&self) -> bool {
        self.dry_run.load(Ordering::SeqCst)
    }

    /// The dry-run's plan so far (empty when not a dry-run).
    pub fn take_plan(&self) -> Vec<crate::localnet::plan::PlannedTransaction> {
        match (self.is_dry_run(), self.chain.get()) {
            (true, Some(Ok(chain))) => chain.localnet().map(|h| h.lock().take_plan()).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The programs a dry-run of a real cluster found there, for the plan's header.
    pub fn deployments(&self) -> Vec<crate::chain::programs::Deployment> {
        match (self.is_dry_run(), self.chain.get()) {
            (true, Some(Ok(chain))) => chain.deployments(),
            _ => Vec::new(),
        }
    }

    /// The mainnet guard: mutations on mainnet-beta need `--yes`, or a "yes" typed at the
    /// terminal (asked once per execution); without a terminal they are refused.
    pub fn allow_send(&self, what: &str) -> Result<(), HostError> {
        if !self.settings.is_mainnet() || self.settings.yes || self.is_dry_run() {
            return Ok(());
        }
        let confirmed = *self.mainnet_confirmed.get_or_init(|| {
            if !std::io::stdin().is_terminal() {
                return false;
            }
            eprint!(
                "About to send on mainnet-beta: {}\nProceed with this and later transactions of this run? [y/N] ",
                self.log.redactor.text(what)
            );
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes")
        });
        if confirmed {
            Ok(())
        } else {
            Err(HostError::refused(format!(
                "refusing to send on mainnet-beta ({what}) without --yes or a confirmation at a terminal"
            )))
        }
    }

    /// The allowed-run-ids limit, checked before a run is touched.
    pub fn check_run_allowed(&self, run_id: &str) -> Result<(), HostError> {
        match &self.settings.limits.allowed_run_ids {
            Some(allowed) if !allowed.iter().any(|a| a == run_id) => Err(HostError::refused(format!(
                "run \"{run_id}\" is not in allowed_run_ids for {} ({})",
                self.settings.cluster_name(),
                allowed.join(", ")
            ))),
            _ => Ok(()),
        }
    }

    /// Counts `amount` (UI units) against `max_collateral_per_invocation` before it is sent.
    pub fn spend_collateral(&self, amount: f64) -> Result<(), HostError> {
        let mut sent = self.collateral_sent.lock().expect("collateral lock");
        if let Some(max) = self.settings.limits.max_collateral_per_invocation
            && *sent + amount > max + 1e-9
        {
            return Err(HostError::refused(format!(
                "sending {amount} collateral would exceed max_collateral_per_invocation = {max} for {} ({} already sent)",
                self.settings.cluster_name(),
                *sent
            )));
        }
        *sent += amount;
        Ok(())
    }

    /// Signs `instructions` with the payer (and `signers`), sends and confirms them, and records
    /// the signature. `what` names the operation in logs and errors. An installed sink may
    /// take them instead.
    pub fn send(
        &self,
        what: &str,
        instructions: &[Instruction],
        signers: &[&SignerHandle],
    ) -> Result<String, HostError> {
        // What is written on chain is public forever: a key or an RPC credential never is.
        if instructions.iter().any(|ix| self.log.redactor.holds_secret(&ix.data)) {
            return Err(HostError::refused(format!(
                "{what}: refusing to sign: its instruction data holds a secret (key material or an RPC credential)"
            )));
        }
        for sink in self.installed_sinks() {
            if let Some(result) = sink.take(self, what, instructions, signers) {
                return result;
            }
        }
        self.allow_send(what)?;
        let (payer, fee_payer) = (self.payer()?, self.fee_payer()?);
        let chain = self.chain()?;
        // The payer signs where a step needs it (always, unless another key pays the fees).
        let handles: Vec<&SignerHandle> = std::iter::once(&payer).chain(signers.iter().copied()).collect();
        let approval = Approval {
            what: what.to_string(),
            instructions: instructions.iter().map(crate::localnet::plan::describe).collect(),
        };
        for device in std::iter::once(&fee_payer).chain(handles.iter().copied()).filter_map(SignerHandle::device) {
            device.expect(approval.clone());
        }
        let all: Vec<&dyn Signer> = handles.iter().map(|h| h.signer()).collect();
        match crate::chain::landing::send(&chain, what, instructions, fee_payer.signer(), &all) {
            Ok(signature) => {
                let signature = signature.to_string();
                self.record_sent(signature.clone());
                let prefix = if self.is_dry_run() { "[dry-run] would send " } else { "" };
                self.log.info(&format!("{prefix}{what}: {signature}"));
                Ok(signature)
            }
            // A signer that would not sign (rejected on a device, locked, unplugged): this
            // signing was never sent.
            Err(crate::chain::client::ChainError::Signing(message)) => {
                Err(HostError::refused(format!("{what}: {message}")))
            }
            Err(err) => {
                self.record_failed(1);
                if let crate::chain::client::ChainError::NotLanded { sends, .. } = &err {
                    self.unlanded_sends.fetch_add(*sends as u64, Ordering::Relaxed);
                    // The error names the operation itself.
                    return Err(HostError::from_chain(err, None));
                }
                Err(HostError::from_chain(err, Some(what)))
            }
        }
    }

    /// The text of the data file `path` a runbook named (`what` it should be, for errors),
    /// read within the file boundary, and where it was read from.
    pub fn read_data(&self, path: &str, what: &str) -> Result<(PathBuf, String), HostError> {
        self.files.read_text(path, what).map_err(|e| HostError::input(e.0))
    }

    /// The execution's redactor: what leaves the engine passes through it.
    pub fn redactor(&self) -> &Redactor {
        &self.log.redactor
    }

    /// Reads an account (None when it does not exist) through the execution's reads.
    pub fn account(&self, key: &Pubkey) -> Result<Option<Account>, HostError> {
        self.chain()?.account(key).map_err(|e| HostError::chain(e.to_string()))
    }

    /// Reads accounts in the order of `keys`, those not read yet in one batched request.
    pub fn accounts(&self, keys: &[Pubkey]) -> Result<Vec<Option<Account>>, HostError> {
        self.chain()?.accounts(keys).map_err(|e| HostError::chain(e.to_string()))
    }

    /// Subscribes to changes of `key` at the client's commitment (`accountSubscribe`); None
    /// when no websocket is available (poll instead).
    pub fn watch_account(
        &self,
        key: &Pubkey,
        out: std::sync::mpsc::Sender<crate::chain::pubsub::Pushed>,
    ) -> Option<crate::chain::pubsub::Stop> {
        let chain = self.chain().ok()?;
        let config = solana_rpc_client_api::config::RpcAccountInfoConfig {
            encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
            commitment: Some(chain.rpc().commitment()),
            ..Default::default()
        };
        chain.live()?.subscribe(crate::chain::pubsub::What::Account(*key, config), out)
    }

    /// The cluster's slot at the client's commitment, read now.
    pub fn slot(&self) -> Result<u64, HostError> {
        self.chain()?
            .read(|rpc| async move {
                let commitment = rpc.commitment();
                rpc.get_slot_with_commitment(commitment).await
            })
            .map_err(|e| HostError::chain(e.to_string()))
    }

    /// Reads an account from the cluster now (for polling: `wait_for`).
    pub fn fresh_account(&self, key: &Pubkey) -> Result<Option<Account>, HostError> {
        self.chain()?.fresh_account(key).map_err(|e| HostError::chain(e.to_string()))
    }

    /// Persists the embedded chain if this execution changed it.
    pub fn finish(&self) -> Result<(), HostError> {
        match self.chain.get() {
            Some(Ok(chain)) => chain.finish().map_err(|e| HostError::chain(e.to_string())),
            _ => Ok(()),
        }
    }

    /// Transactions confirmed (by `signatureSubscribe`, by status polls), when a chain was used.
    pub fn confirmations(&self) -> Option<(usize, usize)> {
        match self.chain.get() {
            Some(Ok(chain)) => Some(chain.confirmations()),
            _ => None,
        }
    }

    /// The RPC requests this execution made (none when it never touched a chain).
    pub fn round_trips(&self) -> Option<&crate::chain::round_trips::RoundTrips> {
        match self.chain.get() {
            Some(Ok(chain)) => Some(chain.round_trips()),
            _ => None,
        }
    }

    /// Closes the journal with the execution's exit code.
    pub fn end(&self, exit_code: i32) {
        if let Some(Ok(chain)) = self.chain.get()
            && let Some(journal) = chain.journal()
        {
            journal.end(exit_code, self.sent().len());
        }
    }

    pub fn set_output(&self, name: String, value: Value) {
        self.outputs.lock().expect("outputs lock").insert(name, value);
    }

    pub fn outputs(&self) -> BTreeMap<String, Value> {
        self.outputs.lock().expect("outputs lock").clone()
    }

    pub fn set_output_text(&self, name: String, text: String) {
        self.output_texts.lock().expect("outputs lock").insert(name, text);
    }

    pub fn output_texts(&self) -> BTreeMap<String, String> {
        self.output_texts.lock().expect("outputs lock").clone()
    }

    /// Records a signature the moment it is sent, so an interrupted or failed run still
    /// reports it.
    pub fn record_sent(&self, signature: String) {
        self.sent.lock().expect("sent lock").push(signature);
    }

    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().expect("sent lock").clone()
    }

    /// Counts transactions that failed or never landed.
    pub fn record_failed(&self, count: u64) {
        self.failed.fetch_add(count, Ordering::Relaxed);
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Sends made of transactions that expired without landing.
    pub fn unlanded_sends(&self) -> u64 {
        self.unlanded_sends.load(Ordering::Relaxed)
    }

    /// Notes a run the runbook works on.
    pub fn touch_run(&self, run_id: &str) {
        self.touched_runs.lock().expect("runs lock").insert(run_id.to_string());
    }

    pub fn touched_runs(&self) -> Vec<String> {
        self.touched_runs.lock().expect("runs lock").iter().cloned().collect()
    }

    /// The chain client if the runbook connected to one (never connects).
    pub fn opened_chain(&self) -> Option<Arc<Chain>> {
        self.chain.get().and_then(|c| c.as_ref().ok()).cloned()
    }

    /// RPC requests made so far (every endpoint), `None` when no chain was reached.
    pub fn rpc_round_trips(&self) -> Option<u64> {
        self.round_trips().map(|r| r.total())
    }

    /// Notes that requests are going to `service`, a service other than the cluster.
    pub fn record_off_chain(&self, service: &str) {
        self.off_chain.lock().expect("off-chain lock").insert(service.to_string());
    }

    /// The services other than the cluster that requests went to.
    pub fn off_chain(&self) -> Vec<String> {
        self.off_chain.lock().expect("off-chain lock").iter().cloned().collect()
    }

    /// Notes a bulk operation's failures: the execution exits 5 unless the runbook accepts them.
    pub fn record_unserved(&self, what: &str, failed: &rhai::Array) {
        if !failed.is_empty() {
            let entry = Unserved { what: what.to_string(), failed: failed.clone() };
            self.unserved.lock().expect("unserved lock").push(entry);
        }
    }

    /// The runbook handled these failures (a result's `failed`): they no longer fail the
    /// execution. True when they were outstanding.
    pub fn accept_failures(&self, failed: &rhai::Array) -> bool {
        let same = |a: &rhai::Array| {
            a.len() == failed.len() && a.iter().zip(failed).all(|(x, y)| x.to_string() == y.to_string())
        };
        let mut unserved = self.unserved.lock().expect("unserved lock");
        let before = unserved.len();
        unserved.retain(|u| !same(&u.failed));
        unserved.len() != before
    }

    /// Bulk failures the runbook did not handle.
    pub fn unserved(&self) -> Vec<Unserved> {
        self.unserved.lock().expect("unserved lock").clone()
    }

    pub fn record_notification(&self, delivery: Value) {
        self.notifications.lock().expect("notifications lock").push(delivery);
    }

    pub fn notifications(&self) -> Vec<Value> {
        self.notifications.lock().expect("notifications lock").clone()
    }
}

/// PubSub notes in the execution's log: connections and fallbacks under `-v`, warnings always,
/// and warnings to the webhooks of `[notify]` too (off the async worker that noticed).
fn pubsub_notes(host: &Host) -> crate::chain::pubsub::link::Notes {
    let log = host.log.clone();
    let webhooks = (!host.is_dry_run() && !host.settings.notify.targets().is_empty())
        .then(|| (host.settings.notify.clone(), host.runbook.clone(), host.settings.cluster_name().to_string()));
    Arc::new(move |note| match note {
        crate::chain::pubsub::link::Note::Debug(message) => log.debug(&message),
        crate::chain::pubsub::link::Note::Warning(message) => {
            log.warn(&message);
            if let Some((config, runbook, cluster)) = webhooks.clone() {
                let timestamp =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let level = crate::notify::Level::Warning;
                let fields = Default::default();
                let n = crate::notify::Notification { level, message, fields, runbook, cluster, timestamp };
                std::thread::spawn(move || crate::notify::deliver::deliver(&config, &n));
            }
        }
    })
}

/// Takes a step's instructions before they are sent: a feature built on the host installs one
/// (one that proposes what steps would send, for example). `Host::send` asks every installed sink, the
/// last installed first; the first that takes the step answers for it.
pub trait StepSink: Any + Send + Sync {
    /// The step `what`, signed by the payer and `signers`: `Some(result)` when this sink takes
    /// it (the result stands for the send's signature), `None` to let it go on.
    fn take(
        &self,
        host: &Host,
        what: &str,
        instructions: &[Instruction],
        signers: &[&SignerHandle],
    ) -> Option<Result<String, HostError>>;

    /// The chain steps read while this sink is installed, when it keeps one of its own (a
    /// scratch chain where what it took already ran, so each step sees the last).
    fn chain(&self) -> Option<Arc<Chain>> {
        None
    }

    /// True when the runbook may act as `authority` because this sink takes its steps.
    fn acts_as(&self, _authority: &Pubkey) -> bool {
        false
    }
}

/// `sink` as the sink type `S`, when it is one.
pub(super) fn as_sink<S: StepSink>(sink: &Arc<dyn StepSink>) -> Option<Arc<S>> {
    let any: Arc<dyn Any + Send + Sync> = Arc::<dyn StepSink>::clone(sink);
    any.downcast::<S>().ok()
}
