//! Sending many transactions at once: signed with one blockhash, sent with bounded
//! concurrency, confirmed by batched `getSignatureStatuses` polling, and re-signed with a fresh
//! blockhash only when the old one has expired without the transaction landing (so nothing is
//! sent twice). Program failures are final; transport trouble is retried.

use crate::chain::client::{Chain, ChainError};
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Statuses asked for per `getSignatureStatuses` call (the RPC limit).
const STATUS_BATCH: usize = 256;
/// Pause between status polls of transactions not yet landed.
const POLL_INTERVAL: Duration = Duration::from_millis(400);
/// Re-signing rounds before a transaction is reported as not landed.
const MAX_ROUNDS: usize = 8;

/// What happened to one group of instructions.
#[derive(Debug, Clone)]
pub enum Landing {
    Landed(Signature),
    Failed(String),
}

/// Sends each group of `groups` as one transaction; the result is in the same order.
pub fn send_all(
    chain: &Chain,
    groups: &[Vec<Instruction>],
    payer: &Keypair,
    signers: &[&Keypair],
    concurrency: usize,
    on_landed: &(dyn Fn(usize) + Sync),
) -> Vec<Landing> {
    let rpc = Arc::clone(chain.rpc());
    let mut results: Vec<Option<Landing>> = vec![None; groups.len()];
    let mut pending: Vec<usize> = (0..groups.len()).collect();
    let mut all_signers: Vec<&Keypair> = vec![payer];
    all_signers.extend(signers.iter().copied().filter(|s| s.pubkey() != payer.pubkey()));

    for _round in 0..MAX_ROUNDS {
        if pending.is_empty() {
            break;
        }
        let blockhash: Hash = match chain.block_on(rpc.get_latest_blockhash()) {
            Ok(hash) => hash,
            Err(_) => {
                std::thread::sleep(POLL_INTERVAL);
                continue;
            }
        };
        let transactions: Vec<(usize, Transaction)> = pending
            .iter()
            .map(|&i| {
                (i, Transaction::new_signed_with_payer(&groups[i], Some(&payer.pubkey()), &all_signers, blockhash))
            })
            .collect();
        // Send with bounded concurrency; a refusal by preflight is final for that group.
        let sent: Vec<(usize, Signature, Option<ChainError>)> = chain.block_on(async {
            let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
            let mut tasks = tokio::task::JoinSet::new();
            for (i, tx) in transactions {
                let rpc = Arc::clone(&rpc);
                let permit = Arc::clone(&semaphore).acquire_owned().await.expect("semaphore open");
                tasks.spawn(async move {
                    let _permit = permit;
                    let signature = tx.signatures[0];
                    let result = rpc.send_transaction_with_config(&tx, RpcSendTransactionConfig::default()).await;
                    (i, signature, result.err().map(|e| ChainError::from_client(e, Some(signature))))
                });
            }
            let mut out = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                out.push(joined.expect("send tasks do not panic"));
            }
            out
        });
        let mut waiting: HashMap<Signature, usize> = HashMap::new();
        for (i, signature, error) in sent {
            match error {
                Some(err) if err.is_program_failure() => results[i] = Some(Landing::Failed(err.to_string())),
                // Transport trouble: the transaction may or may not have arrived; check its status.
                _ => {
                    waiting.insert(signature, i);
                }
            }
        }
        // Poll until everything landed or the blockhash expired.
        loop {
            let signatures: Vec<Signature> = waiting.keys().copied().collect();
            for chunk in signatures.chunks(STATUS_BATCH) {
                let Ok(statuses) = chain.block_on(rpc.get_signature_statuses(chunk)) else { continue };
                for (signature, status) in chunk.iter().zip(statuses.value) {
                    let Some(status) = status else { continue };
                    let i = waiting.remove(signature).expect("polled signatures are waiting");
                    results[i] = Some(match status.err {
                        None => {
                            on_landed(i);
                            Landing::Landed(*signature)
                        }
                        Some(err) => Landing::Failed(format!("transaction {signature} failed: {err}")),
                    });
                }
            }
            if waiting.is_empty() {
                break;
            }
            let valid = chain.block_on(rpc.is_blockhash_valid(&blockhash, rpc.commitment())).unwrap_or(true);
            if !valid {
                // Expired: the remaining signatures can never land, so they are re-signed.
                break;
            }
            std::thread::sleep(POLL_INTERVAL);
        }
        pending = waiting.into_values().collect();
        pending.sort_unstable();
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Landing::Failed(format!("not landed after {MAX_ROUNDS} attempts"))))
        .collect()
}
