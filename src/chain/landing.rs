//! Landing one transaction. Sign with a fresh blockhash, journal the intent (signature first),
//! send, and poll its status, resending the same bytes until it lands or its blockhash
//! expires; only a transaction known not to have landed is re-signed, and so is one whose
//! bytes repeat an earlier transaction (the same operation twice within one blockhash, which a
//! cluster would run once), with the next slot's blockhash. On real clusters a
//! compute-unit limit from simulation (plus a margin) and a compute-unit price (from
//! `--with-compute-unit-price`, or recent prioritization fees for the written accounts, capped)
//! are added. Transport failures (timeouts, 429) back off and retry; program failures are final.

use crate::chain::client::{Chain, ChainError, FailedTransaction, is_transient};
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcSimulateTransactionConfig};
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};
use std::time::Duration;

/// Fresh signatures (blockhashes) tried before giving up.
const MAX_SIGNINGS: usize = 6;
/// Highest automatic compute-unit price, in micro-lamports.
const MAX_AUTO_COMPUTE_UNIT_PRICE: u64 = 200_000;
/// Compute units added to the simulated consumption.
fn with_margin(units: u64) -> u32 {
    (units.saturating_mul(12) / 10 + 1_000).min(1_400_000) as u32
}

fn poll_interval(chain: &Chain) -> Duration {
    if chain.is_embedded() { Duration::from_millis(10) } else { Duration::from_millis(500) }
}

/// What sending on a real cluster adds: compute-budget instructions and, when the simulation
/// that sized them supplied one, the blockhash to sign with (saving a round trip).
struct Budget {
    instructions: Vec<Instruction>,
    blockhash: Option<(Hash, u64)>,
}

/// Compute-budget instructions for a real cluster; none on the embedded chain (flat fees).
fn compute_budget(chain: &Chain, instructions: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> Budget {
    if chain.is_embedded() {
        return Budget { instructions: Vec::new(), blockhash: None };
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
    // node put in its latest blockhash, which the real transaction is then signed with.
    let probe = Transaction::new_signed_with_payer(instructions, Some(&payer.pubkey()), signers, Hash::default());
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
    if let Ok(result) = simulated {
        let result = result.value;
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
    budget
}

/// The accounts a transaction of `instructions` may change: the fee payer and every writable one.
pub fn written(instructions: &[Instruction], payer: &Keypair) -> Vec<Pubkey> {
    let mut keys = vec![payer.pubkey()];
    keys.extend(instructions.iter().flat_map(|i| i.accounts.iter().filter(|a| a.is_writable).map(|a| a.pubkey)));
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Sends and confirms one transaction; `what` labels it in the journal and errors. Whatever
/// the outcome, the execution's reads forget the accounts it may have changed.
pub fn send(
    chain: &Chain,
    what: &str,
    instructions: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
) -> Result<Signature, ChainError> {
    let result = sign_and_land(chain, what, instructions, payer, signers);
    chain.reads().forget(written(instructions, payer));
    result
}

fn sign_and_land(
    chain: &Chain,
    what: &str,
    instructions: &[Instruction],
    payer: &Keypair,
    signers: &[&Keypair],
) -> Result<Signature, ChainError> {
    let mut all_signers: Vec<&Keypair> = vec![payer];
    all_signers.extend(signers.iter().copied().filter(|s| s.pubkey() != payer.pubkey()));
    let budget = compute_budget(chain, instructions, payer, &all_signers);
    let mut all_instructions = budget.instructions;
    all_instructions.extend_from_slice(instructions);
    let mut simulated_blockhash = budget.blockhash;

    // A blockhash whose signing repeated a transaction already processed.
    let mut repeated: Option<Hash> = None;
    for _ in 0..MAX_SIGNINGS {
        // The first signing uses the blockhash the compute-unit simulation ran with.
        let (blockhash, last_valid) = match simulated_blockhash.take() {
            Some(pair) => pair,
            None => newer_blockhash(chain, repeated)?,
        };
        let tx = Transaction::new_signed_with_payer(&all_instructions, Some(&payer.pubkey()), &all_signers, blockhash);
        let signature = tx.signatures[0];
        let id = chain.journal().map(|j| j.intent(what, &signature.to_string(), last_valid, &tx.message_data()));
        match land(chain, &tx, blockhash) {
            Ok(Signing::Repeated) => {
                // The same operation again within one blockhash signs the same bytes, which a
                // cluster runs once: this signing never lands as a new transaction.
                if let (Some(j), Some(id)) = (chain.journal(), id) {
                    j.expired(id, &signature.to_string());
                }
                repeated = Some(blockhash);
            }
            Ok(Signing::Done(Outcome::Landed)) => {
                if let (Some(j), Some(id)) = (chain.journal(), id) {
                    j.landed(id, &signature.to_string());
                }
                return Ok(signature);
            }
            Ok(Signing::Done(Outcome::Expired)) => {
                if let (Some(j), Some(id)) = (chain.journal(), id) {
                    j.expired(id, &signature.to_string());
                }
            }
            Err(err) => {
                if let (Some(j), Some(id)) = (chain.journal(), id) {
                    j.failed(id, &signature.to_string(), &err.to_string());
                }
                return Err(err);
            }
        }
    }
    Err(ChainError::Transaction(Box::new(FailedTransaction {
        signature: None,
        error: None,
        message: format!("{what}: did not land after {MAX_SIGNINGS} blockhashes"),
        logs: Vec::new(),
    })))
}

pub enum Outcome {
    Landed,
    /// The blockhash expired without the signature landing: it never will.
    Expired,
}

/// What one signing of a transaction came to.
enum Signing {
    Done(Outcome),
    /// Its first send was refused as already processed: identical bytes (the same operation
    /// earlier, with the same blockhash) ran before it was ever sent.
    Repeated,
}

/// Polls for a newer blockhash than one whose signing repeated an earlier transaction (a new
/// one comes with the next slot); gives up waiting after a while and returns the latest.
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

fn land(chain: &Chain, tx: &Transaction, blockhash: Hash) -> Result<Signing, ChainError> {
    let signature = tx.signatures[0];
    let interval = poll_interval(chain);
    let mut preflight = true;
    loop {
        let config = RpcSendTransactionConfig { skip_preflight: !preflight, ..Default::default() };
        let rpc = chain.rpc();
        match chain.block_on(rpc.send_transaction_with_config(tx, config)) {
            Ok(_) => {}
            Err(err) if is_transient(&err) => {
                chain.fail_over();
                std::thread::sleep(interval);
            }
            Err(err) => {
                let err = ChainError::from_client(err, Some(signature));
                match &err {
                    // An earlier send of these bytes may have landed before the blockhash expired.
                    ChainError::Transaction(f) if f.error == Some(TransactionError::BlockhashNotFound) => {
                        return confirm_not_landed(chain, signature).map(Signing::Done);
                    }
                    // Before this signing was ever sent: an earlier, identical transaction.
                    ChainError::Transaction(f) if preflight && f.error == Some(TransactionError::AlreadyProcessed) => {
                        return Ok(Signing::Repeated);
                    }
                    // A resend of a transaction that already landed: its status says how.
                    ChainError::Transaction(f) if f.error == Some(TransactionError::AlreadyProcessed) => {}
                    _ => return Err(err),
                }
            }
        }
        // Preflight ran once; resends skip it (the first verdict stands).
        preflight = false;
        for _ in 0..5 {
            let status = chain.block_on(rpc.get_signature_statuses(&[signature]));
            if let Ok(response) = status
                && let Some(Some(status)) = response.value.into_iter().next()
            {
                return status_outcome(signature, status.err).map(Signing::Done);
            }
            std::thread::sleep(interval);
        }
        let commitment = rpc.commitment();
        if let Ok(false) = chain.block_on(rpc.is_blockhash_valid(&blockhash, commitment)) {
            return confirm_not_landed(chain, signature).map(Signing::Done);
        }
    }
}

/// A landed transaction's outcome from its status.
fn status_outcome(signature: Signature, err: Option<TransactionError>) -> Result<Outcome, ChainError> {
    match err {
        None => Ok(Outcome::Landed),
        Some(err) => Err(ChainError::Transaction(Box::new(FailedTransaction {
            signature: Some(signature),
            message: err.to_string(),
            error: Some(err),
            logs: Vec::new(),
        }))),
    }
}

/// Status queries that must all miss a signature before it is declared never to land.
const NOT_LANDED_CONFIRMATIONS: usize = 5;

/// After its blockhash expired: the transaction landed (found in history) or never will. A
/// lagging node may miss a landed transaction once, so several queries must agree before the
/// caller re-signs — re-signing something that landed would send it twice.
pub fn confirm_not_landed(chain: &Chain, signature: Signature) -> Result<Outcome, ChainError> {
    let rpc = chain.rpc();
    let mut misses = 0;
    while misses < NOT_LANDED_CONFIRMATIONS {
        // A failed query counts as neither answer: ask again.
        if let Ok(response) = chain.block_on(rpc.get_signature_statuses_with_history(&[signature])) {
            match response.value.into_iter().next().flatten() {
                Some(status) => return status_outcome(signature, status.err),
                None => misses += 1,
            }
        }
        std::thread::sleep(poll_interval(chain));
    }
    Ok(Outcome::Expired)
}
