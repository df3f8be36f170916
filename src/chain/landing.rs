//! Landing one transaction, the same way on the embedded chain, `localnet serve` and real
//! nodes. Everything happens at the client's commitment level: the blockhash is read there
//! (from the compute-unit simulation's `replacementBlockhash`, or `getLatestBlockhash`), the
//! preflight runs there (a node preflights at `finalized` unless told, and a `finalized` bank
//! does not know a newer blockhash), and a transaction has landed once its status satisfies it.
//!
//! The intent is journaled (signature first), then the transaction is sent and its status
//! polled, resending the same bytes while it is unseen; it expires when the block height at
//! the commitment passes the blockhash's `lastValidBlockHeight`, and only a transaction that
//! history searches agree never landed is re-signed. So is one whose bytes repeat an earlier
//! transaction (the same operation twice within one blockhash, which a cluster runs once),
//! with the next slot's blockhash. On real clusters a simulation first sizes the compute-unit
//! limit (plus a margin) and its failure is the verdict: nothing is sent, and the error shows
//! the simulation's error and logs (naming a program the cluster lacks). A compute-unit price
//! comes from `--with-compute-unit-price` or recent prioritization fees for the written
//! accounts (capped). Transport failures (timeouts, 429) back off and retry.

use crate::chain::client::{Chain, ChainError, FailedTransaction, is_transient, is_unhealthy, message_of};
use crate::chain::journal::Outcome;
use crate::chain::pubsub::{Pushed, What};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::{
    RpcSendTransactionConfig, RpcSignatureSubscribeConfig, RpcSimulateTransactionConfig,
};
use solana_rpc_client_api::response::RpcSignatureResult;
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};
use solana_transaction_status_client_types::TransactionStatus;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

/// Fresh signatures (blockhashes) tried before giving up.
const MAX_SIGNINGS: usize = 6;
/// Highest automatic compute-unit price, in micro-lamports.
const MAX_AUTO_COMPUTE_UNIT_PRICE: u64 = 200_000;
/// Status polls of an unseen transaction between resends of its bytes.
const POLLS_PER_RESEND: usize = 5;
/// How long a node may answer nothing before waiting for it stops: what was sent may or may
/// not have landed, and the journal keeps it for the next execution to settle.
pub const NODE_SILENT_LIMIT: Duration = Duration::from_secs(120);

/// The error of a node that stopped answering.
pub fn node_silent() -> ChainError {
    ChainError::Rpc(format!(
        "the node has answered nothing for {} s; what was sent may or may not have landed (the journal keeps it, and the next run settles it)",
        NODE_SILENT_LIMIT.as_secs()
    ))
}
/// Compute units added to the simulated consumption.
fn with_margin(units: u64) -> u32 {
    (units.saturating_mul(12) / 10 + 1_000).min(1_400_000) as u32
}

pub fn poll_interval(chain: &Chain) -> Duration {
    if chain.is_embedded() { Duration::from_millis(10) } else { Duration::from_millis(400) }
}

/// What sending on a real cluster adds: compute-budget instructions and, from the simulation
/// that sized them, the blockhash to sign with (saving a round trip).
struct Budget {
    instructions: Vec<Instruction>,
    blockhash: Option<(Hash, u64)>,
}

/// Simulation errors that say nothing about the transaction itself: the node was busy or
/// behind. Sending goes on, and the preflight judges.
fn is_transient_simulation(err: &TransactionError) -> bool {
    use TransactionError::*;
    matches!(
        err,
        BlockhashNotFound
            | AccountInUse
            | ClusterMaintenance
            | WouldExceedMaxBlockCostLimit
            | WouldExceedMaxAccountCostLimit
            | WouldExceedMaxVoteCostLimit
            | WouldExceedAccountDataBlockLimit
            | WouldExceedAccountDataTotalLimit
    )
}

/// Compute-budget instructions for a real cluster (none on the embedded chain: flat fees),
/// or the simulation's verdict when the transaction cannot succeed.
fn compute_budget(
    chain: &Chain,
    instructions: &[Instruction],
    payer: &dyn Signer,
    signers: &[&dyn Signer],
) -> Result<Budget, ChainError> {
    if chain.is_embedded() {
        return Ok(Budget { instructions: Vec::new(), blockhash: None });
    }
    let price = chain.compute_unit_price().unwrap_or_else(|| {
        let writable = written(instructions, payer);
        chain
            .read(|rpc| {
                let writable = writable.clone();
                async move { rpc.get_recent_prioritization_fees(&writable).await }
            })
            .map(|fees| {
                let mut values: Vec<u64> = fees.iter().map(|f| f.prioritization_fee).collect();
                values.sort_unstable();
                // The 75th percentile of recent fees lands reliably without paying the peak.
                values.get(values.len() * 3 / 4).copied().unwrap_or(0).min(MAX_AUTO_COMPUTE_UNIT_PRICE)
            })
            .unwrap_or(0)
    });
    let mut budget = Budget { instructions: Vec::new(), blockhash: None };
    // Simulate the transaction signed as it will be (nodes differ in how they treat unsigned
    // simulations, and a limit from a failed simulation would starve the real one), letting the
    // node put in its latest blockhash at our commitment, which the real transaction is then
    // signed with. A device is not asked to approve a probe: its message is simulated unsigned
    // (`sigVerify: false` with `replaceRecentBlockhash`, which agave accepts).
    let mut probe = Transaction::new_with_payer(instructions, Some(&payer.pubkey()));
    if !signers.iter().any(|s| s.is_interactive()) {
        probe.try_sign(&required(&probe, signers), Hash::default()).map_err(signing_failed)?;
    }
    let config = RpcSimulateTransactionConfig {
        sig_verify: false,
        replace_recent_blockhash: true,
        commitment: Some(chain.rpc().commitment()),
        ..Default::default()
    };
    let simulated = chain.read(|rpc| {
        let (probe, config) = (probe.clone(), config.clone());
        async move { rpc.simulate_transaction_with_config(&probe, config).await }
    });
    // A simulation the node could not answer leaves the verdict to the preflight.
    if let Ok(result) = simulated {
        let result = result.value;
        if let Some(err) = result.err.clone().map(TransactionError::from)
            && !is_transient_simulation(&err)
        {
            return Err(simulation_failed(chain, instructions, err, result));
        }
        budget.blockhash =
            result.replacement_blockhash.and_then(|b| Some((b.blockhash.parse().ok()?, b.last_valid_block_height)));
        if result.err.is_none()
            && let Some(units) = result.units_consumed.filter(|u| *u > 0)
        {
            budget.instructions.push(
                solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(with_margin(units)),
            );
        }
    }
    if price > 0 {
        budget
            .instructions
            .push(solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_price(price));
    }
    Ok(budget)
}

/// The error of a simulation that failed for the transaction's own reasons.
fn simulation_failed(
    chain: &Chain,
    instructions: &[Instruction],
    err: TransactionError,
    result: RpcSimulateTransactionResult,
) -> ChainError {
    let message = named_failure(chain, instructions, &err);
    ChainError::Transaction(Box::new(FailedTransaction {
        signature: None,
        message: format!("simulation failed: {message}"),
        error: Some(err),
        logs: result.logs.unwrap_or_default(),
    }))
}

/// A failure's message, naming the program when the cluster lacks one the transaction runs.
pub fn named_failure(chain: &Chain, instructions: &[Instruction], err: &TransactionError) -> String {
    match err {
        TransactionError::ProgramAccountNotFound | TransactionError::InvalidProgramForExecution => {
            chain.missing_program(instructions).unwrap_or_else(|| err.to_string())
        }
        _ => err.to_string(),
    }
}

/// The signers among `candidates` that `tx` needs (a signer only some steps need, like a main
/// authority when another key pays the fees, is asked only where it signs).
pub fn required<'a>(tx: &Transaction, candidates: &[&'a dyn Signer]) -> Vec<&'a dyn Signer> {
    let needed = &tx.message.account_keys[..usize::from(tx.message.header.num_required_signatures)];
    let mut signers: Vec<&dyn Signer> = Vec::new();
    for signer in candidates {
        let key = signer.pubkey();
        if needed.contains(&key) && !signers.iter().any(|s| s.pubkey() == key) {
            signers.push(*signer);
        }
    }
    signers
}

/// A signer that could not sign (a device that was rejected on, unplugged or locked): nothing
/// was sent.
pub fn signing_failed(err: solana_sdk::signer::SignerError) -> ChainError {
    let message = match err {
        solana_sdk::signer::SignerError::Custom(message) => message,
        other => other.to_string(),
    };
    ChainError::Signing(message)
}

/// The accounts a transaction of `instructions` may change: the fee payer and every writable one.
pub fn written(instructions: &[Instruction], payer: &dyn Signer) -> Vec<Pubkey> {
    let mut keys = vec![payer.pubkey()];
    keys.extend(instructions.iter().flat_map(|i| i.accounts.iter().filter(|a| a.is_writable).map(|a| a.pubkey)));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// How the client's commitment is named to the node.
fn send_config(chain: &Chain, preflight: bool) -> RpcSendTransactionConfig {
    RpcSendTransactionConfig {
        skip_preflight: !preflight,
        preflight_commitment: Some(chain.rpc().commitment().commitment),
        ..Default::default()
    }
}

impl Chain {
    /// Signs `instructions` (payer first), sends and confirms them (see `send`).
    pub fn send(
        &self,
        instructions: &[Instruction],
        payer: &dyn Signer,
        signers: &[&dyn Signer],
    ) -> Result<Signature, ChainError> {
        send(self, "transaction", instructions, payer, signers)
    }
}

/// Sends and confirms one transaction; `what` labels it in the journal and errors. Whatever
/// the outcome, the execution's reads forget the accounts it may have changed.
pub fn send(
    chain: &Chain,
    what: &str,
    instructions: &[Instruction],
    payer: &dyn Signer,
    signers: &[&dyn Signer],
) -> Result<Signature, ChainError> {
    let result = sign_and_land(chain, what, instructions, payer, signers);
    chain.reads().forget(written(instructions, payer));
    result
}

fn sign_and_land(
    chain: &Chain,
    what: &str,
    instructions: &[Instruction],
    payer: &dyn Signer,
    signers: &[&dyn Signer],
) -> Result<Signature, ChainError> {
    let mut all_signers: Vec<&dyn Signer> = vec![payer];
    all_signers.extend(signers.iter().copied().filter(|s| s.pubkey() != payer.pubkey()));
    chain.verify_programs(instructions)?;
    let budget = compute_budget(chain, instructions, payer, &all_signers)?;
    let mut all_instructions = budget.instructions;
    all_instructions.extend_from_slice(instructions);
    let mut simulated_blockhash = budget.blockhash;

    // A blockhash whose signing repeated a transaction already processed.
    let mut repeated: Option<Hash> = None;
    let mut sends = 0;
    for _ in 0..MAX_SIGNINGS {
        // The first signing uses the blockhash the compute-unit simulation ran with.
        let (blockhash, last_valid) = match simulated_blockhash.take() {
            Some(pair) => pair,
            None => newer_blockhash(chain, repeated)?,
        };
        // Signed once per blockhash: a device is asked again only when a signing expired.
        let mut tx = Transaction::new_with_payer(&all_instructions, Some(&payer.pubkey()));
        tx.try_sign(&required(&tx, &all_signers), blockhash).map_err(signing_failed)?;
        let signature = tx.signatures[0];
        // The intent is on disk before the send, or nothing is sent.
        let id = chain
            .journal()
            .map(|j| j.intent(what, &signature.to_string(), last_valid, &tx.message_data()))
            .transpose()
            .map_err(|e| ChainError::Storage(format!("{e}; {what} was not sent")))?;
        let settle = |outcome: Outcome| {
            if let (Some(j), Some(id)) = (chain.journal(), id) {
                j.settle(id, &signature.to_string(), outcome);
            }
        };
        match land(chain, &tx, last_valid, &mut sends) {
            Ok(Signing::Repeated) => {
                // The same operation again within one blockhash signs the same bytes, which a
                // cluster runs once: this signing never lands as a new transaction.
                settle(Outcome::Expired);
                repeated = Some(blockhash);
            }
            Ok(Signing::Landed) => {
                settle(Outcome::Landed);
                return Ok(signature);
            }
            Ok(Signing::Expired) => settle(Outcome::Expired),
            Err(err) => {
                let err = match err {
                    ChainError::Transaction(mut failed) => {
                        if let Some(e) = &failed.error {
                            failed.message = named_failure(chain, instructions, e);
                        }
                        ChainError::Transaction(failed)
                    }
                    other => other,
                };
                settle(Outcome::Failed(err.to_string()));
                return Err(err);
            }
        }
    }
    Err(ChainError::NotLanded { what: what.to_string(), signings: MAX_SIGNINGS, sends })
}

/// What one signing of a transaction came to.
enum Signing {
    Landed,
    /// Its blockhash expired without it landing: it never will.
    Expired,
    /// Its first send was refused as already processed: identical bytes (the same operation
    /// earlier, with the same blockhash) ran before it was ever sent.
    Repeated,
}

/// The latest blockhash at the client's commitment, and its last valid block height; newer
/// than one whose signing repeated an earlier transaction (a new one comes with the next
/// slot), after waiting a while for it.
fn newer_blockhash(chain: &Chain, avoid: Option<Hash>) -> Result<(Hash, u64), ChainError> {
    const POLLS: usize = 100;
    let latest = || {
        chain.read(|rpc| async move {
            let commitment = rpc.commitment();
            rpc.get_latest_blockhash_with_commitment(commitment).await
        })
    };
    let mut found = latest()?;
    for _ in 0..POLLS {
        if Some(found.0) != avoid {
            break;
        }
        std::thread::sleep(poll_interval(chain));
        found = latest()?;
    }
    Ok(found)
}

/// The signature's status, None while the node has not seen it (or the query failed).
fn status(chain: &Chain, signature: Signature) -> Option<TransactionStatus> {
    let rpc = chain.rpc();
    chain.block_on(rpc.get_signature_statuses(&[signature])).ok()?.value.into_iter().next().flatten()
}

/// True once the block height at the client's commitment is past `last_valid`: no bank at that
/// level accepts the blockhash any more. A failed query answers no.
pub fn has_expired(chain: &Chain, last_valid: u64) -> bool {
    let rpc = chain.rpc();
    chain.block_on(rpc.get_block_height_with_commitment(rpc.commitment())).is_ok_and(|height| height > last_valid)
}

fn land(chain: &Chain, tx: &Transaction, last_valid: u64, sends: &mut usize) -> Result<Signing, ChainError> {
    let signature = tx.signatures[0];
    let commitment = chain.rpc().commitment();
    let interval = poll_interval(chain);
    let mut first = true;
    let mut heard = std::time::Instant::now();
    loop {
        chain.halted()?;
        let rpc = chain.rpc();
        match chain.block_on(rpc.send_transaction_with_config(tx, send_config(chain, first))) {
            Ok(_) => {
                *sends += 1;
                heard = std::time::Instant::now();
            }
            Err(err) if is_transient(&err) && heard.elapsed() > NODE_SILENT_LIMIT => return Err(node_silent()),
            // An unhealthy node did not forward its first send: nothing can land, so the error
            // is the verdict (another URL, when there is one, is tried first).
            Err(err) if first && is_unhealthy(&err) && !chain.has_other_url() => {
                return Err(ChainError::Rpc(format!("the node refused the transaction: {}", message_of(&err))));
            }
            Err(err) if is_transient(&err) => {
                // It may have arrived before the answer was lost.
                *sends += 1;
                chain.fail_over();
                std::thread::sleep(interval);
            }
            Err(err) => match ChainError::from_client(err, Some(signature)) {
                // The preflight bank does not know the blockhash: never forwarded, so it
                // cannot land; an earlier send of the same bytes may have, before it expired.
                ChainError::Transaction(f) if f.error == Some(TransactionError::BlockhashNotFound) => {
                    if first {
                        return Ok(Signing::Expired);
                    }
                    return settle_expired(chain, signature, commitment);
                }
                // Before this signing was ever sent: an earlier, identical transaction.
                ChainError::Transaction(f) if first && f.error == Some(TransactionError::AlreadyProcessed) => {
                    return Ok(Signing::Repeated);
                }
                // A resend of a transaction that already landed: its status says how.
                ChainError::Transaction(f) if f.error == Some(TransactionError::AlreadyProcessed) => {}
                err => return Err(err),
            },
        }
        // The preflight ran once; resends skip it (the first verdict stands).
        first = false;
        match wait_for_status(chain, signature, commitment, POLLS_PER_RESEND)? {
            Some(outcome) => return Ok(outcome),
            None if has_expired(chain, last_valid) => return settle_expired(chain, signature, commitment),
            // Unseen and still valid: the packet may have been lost, so send the bytes again.
            None => {}
        }
    }
}

/// Polls the status up to `polls` times while the transaction is unseen, and for as long as
/// it is seen below the commitment (it is in a block: no resend needed). None when it stayed
/// unseen.
fn wait_for_status(
    chain: &Chain,
    signature: Signature,
    commitment: CommitmentConfig,
    polls: usize,
) -> Result<Option<Signing>, ChainError> {
    if let Some(pushed) = pushed_status(chain, signature, commitment, polls) {
        return pushed;
    }
    let mut unseen = 0;
    while unseen < polls {
        chain.halted()?;
        match status(chain, signature) {
            Some(s) if s.err.is_some() => return Err(failed_status(signature, s)),
            Some(s) if s.satisfies_commitment(commitment) => {
                chain.count_confirmation(false);
                return Ok(Some(Signing::Landed));
            }
            Some(_) => unseen = 0,
            None => unseen += 1,
        }
        std::thread::sleep(poll_interval(chain));
    }
    Ok(None)
}

/// `wait_for_status` by `signatureSubscribe`: the node tells when the transaction reaches the
/// commitment; while it is silent, one status poll per window tells whether it was seen at all
/// (seen below the commitment: keep waiting; unseen: the caller resends). None when the
/// websocket is unavailable or drops: the caller polls.
fn pushed_status(
    chain: &Chain,
    signature: Signature,
    commitment: CommitmentConfig,
    polls: usize,
) -> Option<Result<Option<Signing>, ChainError>> {
    let (sender, pushes) = std::sync::mpsc::channel();
    let config = RpcSignatureSubscribeConfig { commitment: Some(commitment), enable_received_notification: None };
    let _stop = chain.live()?.subscribe(What::Signature(signature, config), sender)?;
    let window = poll_interval(chain) * polls as u32;
    loop {
        match pushes.recv_timeout(window) {
            Ok(Pushed::Signature(response)) => {
                let RpcSignatureResult::ProcessedSignature(result) = response.value else { continue };
                chain.count_confirmation(true);
                return Some(match result.err {
                    None => Ok(Some(Signing::Landed)),
                    Some(err) => Err(failed_status(
                        signature,
                        TransactionStatus {
                            slot: response.context.slot,
                            confirmations: None,
                            status: Err(err.clone().into()),
                            err: Some(err.into()),
                            confirmation_status: None,
                        },
                    )),
                });
            }
            Ok(Pushed::Ended) | Err(RecvTimeoutError::Disconnected) => return None,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => match status(chain, signature) {
                Some(s) if s.err.is_some() => return Some(Err(failed_status(signature, s))),
                Some(s) if s.satisfies_commitment(commitment) => {
                    chain.count_confirmation(false);
                    return Some(Ok(Some(Signing::Landed)));
                }
                Some(_) => {}
                None => return Some(Ok(None)),
            },
        }
    }
}

/// After its blockhash expired: found in history (then it landed, once its status reaches the
/// commitment; a block that then vanishes was on an abandoned fork) or known never to land.
fn settle_expired(chain: &Chain, signature: Signature, commitment: CommitmentConfig) -> Result<Signing, ChainError> {
    let found = confirm_not_landed(chain, &[signature]).pop().flatten();
    // A chain that stopped answering says nothing about whether it landed.
    chain.halted()?;
    match found {
        None => Ok(Signing::Expired),
        Some(s) if s.err.is_some() => Err(failed_status(signature, s)),
        Some(_) => Ok(wait_for_status(chain, signature, commitment, POLLS_PER_RESEND)?.unwrap_or(Signing::Expired)),
    }
}

/// A landed transaction's failure from its status.
pub fn failed_status(signature: Signature, status: TransactionStatus) -> ChainError {
    let err = status.err.expect("a failed status has an error");
    ChainError::Transaction(Box::new(FailedTransaction {
        signature: Some(signature),
        message: err.to_string(),
        error: Some(err),
        logs: Vec::new(),
    }))
}

/// Status queries that must all miss a signature before it is declared never to land.
const NOT_LANDED_CONFIRMATIONS: usize = 5;

/// After their blockhashes expired: each transaction's status from history (it landed), or
/// None when several queries agree it is not there — it never will land. A lagging node may
/// miss a landed transaction once, so several queries must agree before the caller re-signs:
/// re-signing something that landed would send it twice.
pub fn confirm_not_landed(chain: &Chain, signatures: &[Signature]) -> Vec<Option<TransactionStatus>> {
    const PER_REQUEST: usize = 256;
    let mut found: Vec<Option<TransactionStatus>> = vec![None; signatures.len()];
    let mut misses = vec![0; signatures.len()];
    while misses.iter().zip(&found).any(|(m, f)| f.is_none() && *m < NOT_LANDED_CONFIRMATIONS) && chain.halted().is_ok()
    {
        for (start, chunk) in (0..signatures.len()).step_by(PER_REQUEST).map(|s| (s, &signatures[s..])) {
            let chunk = &chunk[..chunk.len().min(PER_REQUEST)];
            let rpc = chain.rpc();
            // A failed query counts as neither answer: ask again.
            let Ok(response) = chain.block_on(rpc.get_signature_statuses_with_history(chunk)) else { continue };
            for (i, status) in response.value.into_iter().enumerate() {
                match status {
                    Some(status) => found[start + i] = Some(status),
                    None => misses[start + i] += 1,
                }
            }
        }
        std::thread::sleep(poll_interval(chain));
    }
    found
}
