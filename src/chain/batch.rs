//! Sending many transactions at once: signed with one blockhash, journaled, sent with bounded
//! concurrency, confirmed by batched `getSignatureStatuses` polling, resent (same bytes) while
//! they have not landed, and re-signed with a fresh blockhash only once the old one expired
//! without them landing — so nothing is sent twice. Program failures are final; transport
//! trouble (timeouts, 429, lost packets) is retried.

use crate::chain::client::{Chain, ChainError, is_transient};
use crate::chain::landing::written;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Statuses asked for per `getSignatureStatuses` call (the RPC limit).
const STATUS_BATCH: usize = 256;
/// Re-signing rounds before a transaction is reported as not landed.
const MAX_ROUNDS: usize = 8;
/// Status polls between resends of what has not landed.
const POLLS_PER_RESEND: usize = 3;

/// What happened to one group of instructions.
#[derive(Debug, Clone)]
pub enum Landing {
    Landed(Signature),
    Failed(String),
}

/// How a send attempt ended for one transaction.
enum Sent {
    Accepted,
    Refused(String),
    Expired,
}

fn send_concurrently(
    chain: &Chain,
    txs: Vec<(usize, Transaction)>,
    preflight: bool,
    concurrency: usize,
) -> Vec<(usize, Sent)> {
    let rpc = Arc::clone(chain.rpc());
    chain.block_on(async {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, tx) in txs {
            let rpc = Arc::clone(&rpc);
            let permit = Arc::clone(&semaphore).acquire_owned().await.expect("semaphore open");
            tasks.spawn(async move {
                let _permit = permit;
                let config = RpcSendTransactionConfig { skip_preflight: !preflight, ..Default::default() };
                let outcome = match rpc.send_transaction_with_config(&tx, config).await {
                    Ok(_) => Sent::Accepted,
                    // It may or may not have arrived: its status will tell.
                    Err(err) if is_transient(&err) => Sent::Accepted,
                    Err(err) => match ChainError::from_client(err, Some(tx.signatures[0])) {
                        ChainError::Transaction(f) if f.error == Some(TransactionError::BlockhashNotFound) => {
                            Sent::Expired
                        }
                        ChainError::Transaction(f) if f.error == Some(TransactionError::AlreadyProcessed) => {
                            Sent::Accepted
                        }
                        other => Sent::Refused(other.to_string()),
                    },
                };
                (i, outcome)
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            out.push(joined.expect("send tasks do not panic"));
        }
        out
    })
}

/// Sends each group of `groups` as one transaction; the result is in the same order. The
/// execution's reads forget every account the groups may have changed.
pub fn send_all(
    chain: &Chain,
    groups: &[Vec<Instruction>],
    payer: &Keypair,
    signers: &[&Keypair],
    concurrency: usize,
    on_landed: &(dyn Fn(usize) + Sync),
) -> Vec<Landing> {
    let results = land_all(chain, groups, payer, signers, concurrency, on_landed);
    chain.reads().forget(groups.iter().flat_map(|g| written(g, payer)));
    results
}

fn land_all(
    chain: &Chain,
    groups: &[Vec<Instruction>],
    payer: &Keypair,
    signers: &[&Keypair],
    concurrency: usize,
    on_landed: &(dyn Fn(usize) + Sync),
) -> Vec<Landing> {
    let rpc = Arc::clone(chain.rpc());
    let interval = if chain.is_embedded() { Duration::from_millis(10) } else { Duration::from_millis(400) };
    let mut results: Vec<Option<Landing>> = vec![None; groups.len()];
    let mut pending: Vec<usize> = (0..groups.len()).collect();
    let mut all_signers: Vec<&Keypair> = vec![payer];
    all_signers.extend(signers.iter().copied().filter(|s| s.pubkey() != payer.pubkey()));
    let journal = chain.journal();

    for _round in 0..MAX_ROUNDS {
        if pending.is_empty() {
            break;
        }
        let Ok((blockhash, last_valid)) = chain.read(|rpc| async move {
            let commitment = rpc.commitment();
            rpc.get_latest_blockhash_with_commitment(commitment).await
        }) else {
            continue;
        };
        let mut signed: HashMap<usize, (Transaction, Option<u64>)> = HashMap::new();
        for &i in &pending {
            let tx = Transaction::new_signed_with_payer(&groups[i], Some(&payer.pubkey()), &all_signers, blockhash);
            let id = journal
                .map(|j| j.intent("batch transaction", &tx.signatures[0].to_string(), last_valid, &tx.message_data()));
            signed.insert(i, (tx, id));
        }
        let mut waiting: HashMap<Signature, usize> = HashMap::new();
        let first = signed.iter().map(|(i, (tx, _))| (*i, tx.clone())).collect();
        for (i, outcome) in send_concurrently(chain, first, true, concurrency) {
            let (tx, id) = &signed[&i];
            match outcome {
                Sent::Accepted => {
                    waiting.insert(tx.signatures[0], i);
                }
                Sent::Refused(error) => {
                    if let (Some(j), Some(id)) = (journal, id) {
                        j.failed(*id, &tx.signatures[0].to_string(), &error);
                    }
                    results[i] = Some(Landing::Failed(error));
                }
                Sent::Expired => {
                    if let (Some(j), Some(id)) = (journal, id) {
                        j.expired(*id, &tx.signatures[0].to_string());
                    }
                }
            }
        }
        let mut polls = 0;
        while !waiting.is_empty() {
            let signatures: Vec<Signature> = waiting.keys().copied().collect();
            for chunk in signatures.chunks(STATUS_BATCH) {
                let Ok(statuses) = chain.block_on(rpc.get_signature_statuses(chunk)) else { continue };
                for (signature, status) in chunk.iter().zip(statuses.value) {
                    let Some(status) = status else { continue };
                    let i = waiting.remove(signature).expect("polled signatures are waiting");
                    let id = signed[&i].1;
                    results[i] = Some(match status.err {
                        None => {
                            if let (Some(j), Some(id)) = (journal, id) {
                                j.landed(id, &signature.to_string());
                            }
                            on_landed(i);
                            Landing::Landed(*signature)
                        }
                        Some(err) => {
                            let error = format!("transaction {signature} failed: {err}");
                            if let (Some(j), Some(id)) = (journal, id) {
                                j.failed(id, &signature.to_string(), &error);
                            }
                            Landing::Failed(error)
                        }
                    });
                }
            }
            if waiting.is_empty() {
                break;
            }
            polls += 1;
            if polls % POLLS_PER_RESEND == 0 {
                let commitment = rpc.commitment();
                if let Ok(false) = chain.block_on(rpc.is_blockhash_valid(&blockhash, commitment)) {
                    // Expired: each remaining transaction either landed (history says so) or never
                    // will; only the latter are re-signed.
                    for (signature, i) in std::mem::take(&mut waiting) {
                        let id = signed[&i].1;
                        match crate::chain::landing::confirm_not_landed(chain, signature) {
                            Ok(crate::chain::landing::Outcome::Landed) => {
                                if let (Some(j), Some(id)) = (journal, id) {
                                    j.landed(id, &signature.to_string());
                                }
                                on_landed(i);
                                results[i] = Some(Landing::Landed(signature));
                            }
                            Ok(crate::chain::landing::Outcome::Expired) => {
                                if let (Some(j), Some(id)) = (journal, id) {
                                    j.expired(id, &signature.to_string());
                                }
                            }
                            Err(err) => {
                                if let (Some(j), Some(id)) = (journal, id) {
                                    j.failed(id, &signature.to_string(), &err.to_string());
                                }
                                results[i] = Some(Landing::Failed(err.to_string()));
                            }
                        }
                    }
                    break;
                } else {
                    // Lost packets: send the same bytes again (same signature, cannot double-land).
                    let again = waiting.values().map(|i| (*i, signed[i].0.clone())).collect();
                    send_concurrently(chain, again, false, concurrency);
                }
            }
            std::thread::sleep(interval);
        }
        pending = (0..groups.len()).filter(|i| results[*i].is_none()).collect();
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Landing::Failed(format!("not landed after {MAX_ROUNDS} attempts"))))
        .collect()
}
