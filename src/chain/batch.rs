//! Sending many transactions at once, with the same rules as `landing`: signed with one
//! blockhash read at the client's commitment, journaled, sent with bounded concurrency and a
//! preflight at that commitment, confirmed by batched `getSignatureStatuses` polling until each
//! status satisfies it, resent (same bytes) while unseen, and re-signed with a fresh blockhash
//! only once the block height passed the old one's last valid height and history searches
//! agree the transaction never landed — so nothing is sent twice. Program failures are final;
//! transport trouble (timeouts, 429, lost packets) is retried.

use crate::chain::client::{Chain, ChainError, is_transient, is_unhealthy};
use crate::chain::journal::{Journal, Outcome};
use crate::chain::landing::{confirm_not_landed, has_expired, named_failure, poll_interval, written};
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError};
use solana_transaction_status_client_types::TransactionStatus;
use std::collections::HashMap;
use std::sync::Arc;

/// Statuses asked for per `getSignatureStatuses` call (the RPC limit).
const STATUS_BATCH: usize = 256;
/// Re-signing rounds before a transaction is reported as not landed.
const MAX_ROUNDS: usize = 8;
/// Status polls between resends of what is unseen.
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
    Refused(ChainError),
    /// The preflight bank did not know the blockhash: never forwarded.
    Expired,
}

fn send_concurrently(
    chain: &Chain,
    txs: Vec<(usize, Transaction)>,
    preflight: bool,
    concurrency: usize,
) -> Vec<(usize, Sent)> {
    let rpc = Arc::clone(chain.rpc());
    let config = RpcSendTransactionConfig {
        skip_preflight: !preflight,
        preflight_commitment: Some(rpc.commitment().commitment),
        ..Default::default()
    };
    chain.block_on(async {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, tx) in txs {
            let rpc = Arc::clone(&rpc);
            let permit = Arc::clone(&semaphore).acquire_owned().await.expect("semaphore open");
            tasks.spawn(async move {
                let _permit = permit;
                let outcome = match rpc.send_transaction_with_config(&tx, config).await {
                    Ok(_) => Sent::Accepted,
                    // An unhealthy node did not forward the first send of these bytes.
                    Err(err) if preflight && is_unhealthy(&err) => Sent::Refused(ChainError::Rpc(format!(
                        "the node refused the transaction: {}",
                        crate::chain::client::message_of(&err)
                    ))),
                    // It may or may not have arrived: its status will tell.
                    Err(err) if is_transient(&err) => Sent::Accepted,
                    Err(err) => match ChainError::from_client(err, Some(tx.signatures[0])) {
                        ChainError::Transaction(f) if f.error == Some(TransactionError::BlockhashNotFound) => {
                            Sent::Expired
                        }
                        ChainError::Transaction(f) if f.error == Some(TransactionError::AlreadyProcessed) => {
                            Sent::Accepted
                        }
                        other => Sent::Refused(other),
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
    let results = match chain.verify_programs(&groups.concat()) {
        Ok(()) => land_all(chain, groups, payer, signers, concurrency, on_landed),
        Err(err) => vec![Landing::Failed(err.to_string()); groups.len()],
    };
    chain.reads().forget(groups.iter().flat_map(|g| written(g, payer)));
    results
}

/// One round: the pending groups signed with one blockhash, and what became of each.
struct Round<'a> {
    chain: &'a Chain,
    journal: Option<&'a Arc<Journal>>,
    groups: &'a [Vec<Instruction>],
    on_landed: &'a (dyn Fn(usize) + Sync),
    signed: HashMap<usize, (Transaction, Option<u64>)>,
    results: &'a mut [Option<Landing>],
    /// Failure messages already explained, by error (a missing program is named once).
    explained: HashMap<String, String>,
    /// Outcomes not journaled yet: written together by `journal_outcomes`.
    outcomes: Vec<(u64, String, Outcome)>,
}

impl Round<'_> {
    fn signature(&self, i: usize) -> Signature {
        self.signed[&i].0.signatures[0]
    }

    fn journal(&mut self, i: usize, outcome: Outcome) {
        if let (Some(_), Some(id)) = (self.journal, self.signed[&i].1) {
            let signature = self.signature(i).to_string();
            self.outcomes.push((id, signature, outcome));
        }
    }

    /// Writes the outcomes filed since the last call, with one fsync. An outcome lost to a
    /// crash before this only makes the next execution look its transaction up again.
    fn journal_outcomes(&mut self) {
        if let Some(journal) = self.journal {
            journal.settle_all(&std::mem::take(&mut self.outcomes));
        }
    }

    fn landed(&mut self, i: usize) {
        self.journal(i, Outcome::Landed);
        (self.on_landed)(i);
        self.results[i] = Some(Landing::Landed(self.signature(i)));
    }

    fn failed(&mut self, i: usize, err: ChainError) {
        let message = match err {
            ChainError::Transaction(mut failed) => {
                if let Some(error) = &failed.error {
                    let (chain, group) = (self.chain, &self.groups[i]);
                    failed.message = self
                        .explained
                        .entry(format!("{error:?}"))
                        .or_insert_with(|| named_failure(chain, group, error))
                        .clone();
                }
                ChainError::Transaction(failed).to_string()
            }
            other => other.to_string(),
        };
        self.journal(i, Outcome::Failed(message.clone()));
        self.results[i] = Some(Landing::Failed(message));
    }

    fn expired(&mut self, i: usize) {
        self.journal(i, Outcome::Expired);
    }

    /// Files a status: true when the transaction is settled (landed or failed).
    fn settle(&mut self, i: usize, status: &TransactionStatus) -> bool {
        if status.err.is_some() {
            let signature = self.signature(i);
            self.failed(i, crate::chain::landing::failed_status(signature, status.clone()));
            return true;
        }
        if status.satisfies_commitment(self.chain.rpc().commitment()) {
            self.landed(i);
            return true;
        }
        false
    }
}

fn land_all(
    chain: &Chain,
    groups: &[Vec<Instruction>],
    payer: &Keypair,
    signers: &[&Keypair],
    concurrency: usize,
    on_landed: &(dyn Fn(usize) + Sync),
) -> Vec<Landing> {
    let mut results: Vec<Option<Landing>> = vec![None; groups.len()];
    // Sends made of each group (resends included), for an honest report of what never landed.
    let mut sends = vec![0usize; groups.len()];
    let mut all_signers: Vec<&Keypair> = vec![payer];
    all_signers.extend(signers.iter().copied().filter(|s| s.pubkey() != payer.pubkey()));

    for _round in 0..MAX_ROUNDS {
        let pending: Vec<usize> = (0..groups.len()).filter(|i| results[*i].is_none()).collect();
        if pending.is_empty() {
            break;
        }
        let Ok((blockhash, last_valid)) = chain.read(|rpc| async move {
            let commitment = rpc.commitment();
            rpc.get_latest_blockhash_with_commitment(commitment).await
        }) else {
            continue;
        };
        let journal = chain.journal();
        let txs: Vec<Transaction> = crate::chain::parallel::map(&pending, |&i| {
            Transaction::new_signed_with_payer(&groups[i], Some(&payer.pubkey()), &all_signers, blockhash)
        });
        // Every intent of the round is on disk before the first send, or none is sent.
        let ids: Vec<Option<u64>> = match journal {
            Some(j) => {
                let entries: Vec<(String, Vec<u8>)> =
                    txs.iter().map(|tx| (tx.signatures[0].to_string(), tx.message_data())).collect();
                match j.intents("batch transaction", last_valid, &entries) {
                    Ok(ids) => ids.into_iter().map(Some).collect(),
                    Err(e) => {
                        for &i in &pending {
                            results[i] = Some(Landing::Failed(format!("{e}; not sent")));
                        }
                        break;
                    }
                }
            }
            None => vec![None; txs.len()],
        };
        let mut round = Round {
            chain,
            journal,
            groups,
            on_landed,
            signed: HashMap::new(),
            results: &mut results,
            explained: HashMap::new(),
            outcomes: Vec::new(),
        };
        for ((&i, tx), id) in pending.iter().zip(txs).zip(ids) {
            round.signed.insert(i, (tx, id));
        }
        // Unseen by the node, and seen below the commitment (in a block: no resend needed).
        let mut unseen: HashMap<Signature, usize> = HashMap::new();
        let mut seen: HashMap<Signature, usize> = HashMap::new();
        let first = round.signed.iter().map(|(i, (tx, _))| (*i, tx.clone())).collect();
        for (i, outcome) in send_concurrently(chain, first, true, concurrency) {
            match outcome {
                Sent::Accepted => {
                    sends[i] += 1;
                    unseen.insert(round.signature(i), i);
                }
                Sent::Refused(err) => round.failed(i, err),
                Sent::Expired => round.expired(i),
            }
        }
        round.journal_outcomes();
        let mut polls = 0;
        let mut expired = false;
        let mut heard = std::time::Instant::now();
        while !unseen.is_empty() || !seen.is_empty() {
            // A node that answers nothing more: what is pending stays in the journal.
            if heard.elapsed() > crate::chain::landing::NODE_SILENT_LIMIT {
                round.journal_outcomes();
                for result in round.results.iter_mut().filter(|r| r.is_none()) {
                    *result = Some(Landing::Failed(crate::chain::landing::node_silent().to_string()));
                }
                return results.into_iter().map(|r| r.expect("every group has a result")).collect();
            }
            // A chain whose store failed answers nothing more: what is pending fails with it.
            // (Their intents stay unsettled: the next execution finds out what became of them.)
            if let Err(err) = chain.halted() {
                round.journal_outcomes();
                for result in round.results.iter_mut().filter(|r| r.is_none()) {
                    *result = Some(Landing::Failed(err.to_string()));
                }
                return results.into_iter().map(|r| r.expect("every group has a result")).collect();
            }
            let signatures: Vec<Signature> = unseen.keys().chain(seen.keys()).copied().collect();
            for chunk in signatures.chunks(STATUS_BATCH) {
                let rpc = chain.rpc();
                let Ok(statuses) = chain.block_on(rpc.get_signature_statuses(chunk)) else { continue };
                heard = std::time::Instant::now();
                for (signature, status) in chunk.iter().zip(statuses.value) {
                    let i = unseen.remove(signature).or_else(|| seen.remove(signature)).expect("polled");
                    match status {
                        Some(status) if round.settle(i, &status) => {}
                        Some(_) => {
                            seen.insert(*signature, i);
                        }
                        // Seen once, gone after its blockhash expired: it was on an abandoned fork.
                        None if expired => round.expired(i),
                        None => {
                            unseen.insert(*signature, i);
                        }
                    }
                }
            }
            polls += 1;
            if !unseen.is_empty() && polls % POLLS_PER_RESEND == 0 {
                if has_expired(chain, last_valid) {
                    // Each unseen transaction either landed (history says so) or never will;
                    // only the latter are re-signed.
                    expired = true;
                    let lost: Vec<(Signature, usize)> = unseen.drain().collect();
                    let keys: Vec<Signature> = lost.iter().map(|(s, _)| *s).collect();
                    for ((signature, i), status) in lost.into_iter().zip(confirm_not_landed(chain, &keys)) {
                        match status {
                            Some(status) if round.settle(i, &status) => {}
                            Some(_) => {
                                seen.insert(signature, i);
                            }
                            None => round.expired(i),
                        }
                    }
                } else {
                    // Lost packets: send the same bytes again (same signature, cannot double-land).
                    let again: Vec<(usize, Transaction)> =
                        unseen.values().map(|i| (*i, round.signed[i].0.clone())).collect();
                    again.iter().for_each(|(i, _)| sends[*i] += 1);
                    send_concurrently(chain, again, false, concurrency);
                }
            }
            round.journal_outcomes();
            if unseen.is_empty() && seen.is_empty() {
                break;
            }
            std::thread::sleep(poll_interval(chain));
        }
    }
    results
        .into_iter()
        .zip(sends)
        .map(|(r, sends)| {
            r.unwrap_or_else(|| {
                Landing::Failed(match sends {
                    0 => format!("not sent: the node refused each of {MAX_ROUNDS} blockhashes as not found"),
                    n => format!(
                        "did not land: {n} send(s) under {MAX_ROUNDS} blockhashes were made, and none landed before its blockhash expired"
                    ),
                })
            })
        })
        .collect()
}
