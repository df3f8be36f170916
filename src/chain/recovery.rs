//! Before an execution sends anything, transactions an earlier execution journaled but never
//! saw the end of (it was killed, or lost its connection) are settled: found landed, or known
//! never to land. Only then do the runbook's chain reads reflect everything that was sent, so
//! its checks-before-sending cannot send an operation a second time.

use crate::chain::client::{Chain, ChainError};
use crate::chain::journal::{self, Pending};
use solana_sdk::signature::Signature;
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest wait for an in-flight transaction's blockhash to expire on a real cluster.
const MAX_WAIT: Duration = Duration::from_secs(180);

/// Settles every pending intent of the journals `ours` claims (by their cluster key, or the
/// name an earlier release wrote); returns how many were found landed.
pub fn settle_pending(
    chain: &Chain,
    dir: &Path,
    ours: &journal::Owns,
    note: &dyn Fn(String),
) -> Result<usize, ChainError> {
    let pending = journal::pending(dir, ours);
    if pending.is_empty() {
        return Ok(0);
    }
    note(format!("checking {} transaction(s) an earlier run left in flight", pending.len()));
    let mut landed = 0;
    for p in &pending {
        let outcome = settle_one(chain, p)?;
        if outcome == "landed" {
            landed += 1;
        }
        journal::settle(p, outcome).map_err(|e| ChainError::Storage(format!("{}: {e}", p.journal.display())))?;
        note(format!("  {} ({}): {outcome}", p.signature, p.what));
    }
    // Later executions need not read these journals again.
    let mut journals: Vec<&Path> = pending.iter().map(|p| p.journal.as_path()).collect();
    journals.dedup();
    for path in journals {
        journal::mark_settled(path).map_err(|e| ChainError::Storage(format!("{}: {e}", path.display())))?;
    }
    Ok(landed)
}

fn settle_one(chain: &Chain, p: &Pending) -> Result<&'static str, ChainError> {
    let signature: Signature = p
        .signature
        .parse()
        .map_err(|_| ChainError::Localnet(format!("bad signature {} in {}", p.signature, p.journal.display())))?;
    let started = Instant::now();
    loop {
        let statuses = chain.read(|rpc| async move { rpc.get_signature_statuses_with_history(&[signature]).await })?;
        if let Some(Some(status)) = statuses.value.into_iter().next() {
            return Ok(if status.err.is_none() { "landed" } else { "failed" });
        }
        // The embedded chain saves its history with its state: what is not there never ran.
        if chain.is_embedded() {
            return Ok("expired");
        }
        let height = chain.read(|rpc| async move { rpc.get_block_height().await })?;
        if height > p.last_valid_block_height {
            return Ok("expired");
        }
        if started.elapsed() > MAX_WAIT {
            return Err(ChainError::Rpc(format!(
                "transaction {signature} is still neither landed nor expired after {} s",
                MAX_WAIT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
