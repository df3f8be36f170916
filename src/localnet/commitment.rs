//! Commitment levels as a single validator serves them. `processed` and `confirmed` are the
//! current slot (one node confirms its own blocks at once); `finalized` is the root, 31 slots
//! behind (Tower BFT's lockout history), as a solana-test-validator shows. Every level has its
//! own slot, its own latest blockhash and the blockhashes its bank accepts, and its own view of
//! accounts: a write keeps the account's prior state (once per slot) until the write is rooted,
//! and a `finalized` read puts those prior states back. Without a commitment the validator
//! answers at `finalized`, and so does this chain.

use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use std::collections::{HashMap, VecDeque};

/// Slots between the current slot and the root.
pub const FINALIZED_DEPTH: u64 = 31;

/// The level a request asks for: the validator's default when it names none.
pub fn level(config: Option<CommitmentConfig>) -> CommitmentLevel {
    config.map_or(CommitmentLevel::Finalized, |c| c.commitment)
}

/// The slot a level sees when the current slot is `slot`.
pub fn slot_at(slot: u64, level: CommitmentLevel) -> u64 {
    match level {
        CommitmentLevel::Finalized => slot.saturating_sub(FINALIZED_DEPTH),
        CommitmentLevel::Processed | CommitmentLevel::Confirmed => slot,
    }
}

/// Accounts as they were before the writes of slots that are not rooted yet.
#[derive(Default, Clone)]
pub struct PriorStates {
    /// Per account, its state before the first write of each unrooted slot, oldest first.
    by_key: HashMap<Pubkey, VecDeque<(u64, Option<Account>)>>,
    /// (slot, account) in the order they were recorded, to forget rooted ones.
    order: VecDeque<(u64, Pubkey)>,
}

impl PriorStates {
    /// True when `slot` already wrote `key` (its prior state is kept).
    pub fn wrote_in(&self, slot: u64, key: &Pubkey) -> bool {
        self.by_key.get(key).and_then(VecDeque::back).is_some_and(|(s, _)| *s == slot)
    }

    /// Keeps `before` as `key`'s state before `slot`, unless this slot already wrote it.
    pub fn record(&mut self, slot: u64, key: Pubkey, before: Option<Account>) {
        if self.wrote_in(slot, &key) {
            return;
        }
        self.by_key.entry(key).or_default().push_back((slot, before));
        self.order.push_back((slot, key));
    }

    /// True when `key` has a write that `root` does not see yet.
    pub fn is_recorded(&self, key: &Pubkey) -> bool {
        self.by_key.contains_key(key)
    }

    /// Forgets writes at or below `root`: they are final, so every level sees them.
    pub fn prune(&mut self, root: u64) {
        while let Some((slot, key)) = self.order.front().copied() {
            if slot > root {
                break;
            }
            self.order.pop_front();
            if let Some(states) = self.by_key.get_mut(&key) {
                states.pop_front();
                if states.is_empty() {
                    self.by_key.remove(&key);
                }
            }
        }
    }

    /// `key` as the root sees it: `Some(state)` when a later write changed it, None when the
    /// current state is also the root's.
    pub fn at_root(&self, key: &Pubkey, root: u64) -> Option<Option<&Account>> {
        let states = self.by_key.get(key)?;
        states.iter().find(|(slot, _)| *slot > root).map(|(_, before)| before.as_ref())
    }

    /// Every account written after `root`, with its state at the root.
    pub fn changed_after(&self, root: u64) -> impl Iterator<Item = (&Pubkey, Option<&Account>)> {
        self.by_key.iter().filter_map(move |(key, states)| {
            states.iter().find(|(slot, _)| *slot > root).map(|(_, before)| (key, before.as_ref()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lamports(n: u64) -> Option<Account> {
        Some(Account { lamports: n, ..Account::default() })
    }

    #[test]
    fn the_root_sees_the_state_before_its_first_unrooted_write() {
        let mut prior = PriorStates::default();
        let key = Pubkey::new_unique();
        prior.record(10, key, None);
        prior.record(10, key, lamports(1));
        prior.record(12, key, lamports(2));
        // At root 9: before slot 10's first write (it did not exist).
        assert_eq!(prior.at_root(&key, 9), Some(None));
        // At root 10: before slot 12's write.
        assert_eq!(prior.at_root(&key, 10).flatten().map(|a| a.lamports), Some(2));
        // At root 12: the current state.
        assert_eq!(prior.at_root(&key, 12), None);
        prior.prune(10);
        assert!(prior.is_recorded(&key));
        prior.prune(12);
        assert!(!prior.is_recorded(&key));
        assert_eq!(prior.changed_after(0).count(), 0);
    }
}
