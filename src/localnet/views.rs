//! The chain as each commitment level sees it (see `commitment`): its slot, latest blockhash
//! and accepted blockhashes, its accounts, and a way to run a simulation against the root's
//! state, as a validator's preflight at `finalized` runs on the root's bank.

use crate::localnet::chain_params::BLOCKHASH_VALIDITY_SLOTS;
use crate::localnet::commitment::{FINALIZED_DEPTH, slot_at};
use crate::localnet::store::tokens::{self, Holder, Narrow};
use crate::localnet::{Localnet, TxRecord};
use solana_commitment_config::CommitmentLevel;
use solana_sdk::account::{Account, AccountSharedData, ReadableAccount};
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use std::collections::BTreeSet;

impl Localnet {
    /// The highest rooted (finalized) slot.
    pub fn root_slot(&self) -> u64 {
        self.slot().saturating_sub(FINALIZED_DEPTH)
    }

    pub fn slot_at(&self, level: CommitmentLevel) -> u64 {
        slot_at(self.slot(), level)
    }

    /// The blockhash of the slot `level` sees, and the last block height that accepts it.
    pub fn latest_blockhash_at(&self, level: CommitmentLevel) -> (Hash, u64) {
        let slot = self.slot_at(level);
        let oldest = self.recent_blockhashes.front().map(|(h, _)| *h).unwrap_or_default();
        let hash = self.recent_blockhashes.iter().rev().find(|(_, s)| *s <= slot).map_or(oldest, |(h, _)| *h);
        (hash, slot + BLOCKHASH_VALIDITY_SLOTS)
    }

    /// True when the bank at `level` accepts `hash`: a blockhash of one of the 150 slots up
    /// to its own (a newer one it has not seen yet).
    pub fn is_blockhash_valid_at(&self, hash: &Hash, level: CommitmentLevel) -> bool {
        let at = self.slot_at(level);
        self.blockhash_slot(hash).is_some_and(|slot| slot <= at && slot + BLOCKHASH_VALIDITY_SLOTS >= at)
    }

    /// An account as `level` sees it.
    pub fn account_at(&self, key: &Pubkey, level: CommitmentLevel) -> Option<Account> {
        if level == CommitmentLevel::Finalized
            && let Some(rooted) = self.prior.at_root(key, self.root_slot())
        {
            return rooted.filter(|a| a.lamports > 0).cloned();
        }
        self.account(key)
    }

    pub fn balance_at(&self, key: &Pubkey, level: CommitmentLevel) -> u64 {
        self.account_at(key, level).map_or(0, |a| a.lamports)
    }

    /// Every account owned by `owner` (of `size` bytes, when given) as `level` sees them, by
    /// address.
    pub fn program_accounts_at(
        &self,
        owner: &Pubkey,
        size: Option<u64>,
        level: CommitmentLevel,
    ) -> Vec<(Pubkey, AccountSharedData)> {
        let mut found = self.program_accounts_sized(owner, size);
        if level != CommitmentLevel::Finalized {
            return found;
        }
        let root = self.root_slot();
        found.retain(|(key, _)| self.prior.at_root(key, root).is_none());
        found.extend(self.prior.changed_after(root).filter_map(|(key, before)| {
            let sized = |a: &&Account| size.is_none_or(|s| a.data.len() as u64 == s);
            let before = before.filter(|a| a.owner == *owner && a.lamports > 0).filter(sized)?;
            Some((*key, AccountSharedData::from(before.clone())))
        }));
        found.sort_by_key(|(k, _)| *k);
        found
    }

    /// The token accounts of `holder` narrowed by `narrow` as `level` sees them, by address:
    /// the store's index of the latest state, with the accounts written since the root read
    /// again at `finalized`.
    pub fn token_accounts_at(&self, holder: Holder, narrow: Narrow, level: CommitmentLevel) -> Vec<(Pubkey, Account)> {
        let wanted =
            |a: &Account| tokens::token_account(a).is_some_and(|t| holder.holds(&t) && narrow.admits(&a.owner, &t));
        self.indexed_at(self.store().token_accounts(holder, narrow), level, wanted)
    }

    /// The `limit` token accounts of `mint` holding the most as `level` sees them, most first.
    pub fn largest_token_accounts_at(&self, mint: &Pubkey, limit: usize, level: CommitmentLevel) -> Vec<(Pubkey, u64)> {
        let of_mint = |a: &Account| tokens::token_account(a).is_some_and(|t| t.mint == *mint);
        let mut found: Vec<(Pubkey, u64)> = self
            .indexed_at(self.store().largest_token_accounts(mint, limit), level, of_mint)
            .into_iter()
            .filter_map(|(key, account)| Some((key, tokens::token_account(&account)?.amount)))
            .collect();
        found.sort_by(|(ka, a), (kb, b)| b.cmp(a).then(ka.cmp(kb)));
        found.truncate(limit);
        found
    }

    /// `keys` from an index of the latest state, as `level` sees them: at `finalized` the
    /// accounts written since the root join them, and only those `wanted` there are kept.
    fn indexed_at(
        &self,
        keys: Vec<Pubkey>,
        level: CommitmentLevel,
        wanted: impl Fn(&Account) -> bool,
    ) -> Vec<(Pubkey, Account)> {
        let mut keys: BTreeSet<Pubkey> = keys.into_iter().collect();
        if level == CommitmentLevel::Finalized {
            keys.extend(self.prior.changed_after(self.root_slot()).map(|(key, _)| *key));
        }
        keys.into_iter()
            .filter_map(|key| self.account_at(&key, level).filter(|a| wanted(a)).map(|a| (key, a)))
            .collect()
    }

    /// Runs `f` on the chain as `level` sees it: at `finalized`, the writes the root does not
    /// see are taken back for the call and put back after it.
    pub fn at_level<T>(&mut self, level: CommitmentLevel, f: impl FnOnce(&mut Localnet) -> T) -> T {
        let root = self.root_slot();
        let unrooted: Vec<(Pubkey, Option<Account>)> = if level == CommitmentLevel::Finalized {
            self.prior.changed_after(root).map(|(k, before)| (*k, before.cloned())).collect()
        } else {
            Vec::new()
        };
        let current: Vec<(Pubkey, Account)> =
            unrooted.iter().map(|(key, _)| (*key, self.account(key).unwrap_or_default())).collect();
        for (key, before) in unrooted {
            self.put_back(key, before.unwrap_or_default());
        }
        let result = f(self);
        for (key, account) in current {
            self.put_back(key, account);
        }
        result
    }

    fn put_back(&mut self, key: Pubkey, account: Account) {
        // Only plain accounts are ever written by transactions here: programs are built in.
        if !account.executable() {
            let _ = self.svm.set_account(key, account);
        }
    }
}

impl Localnet {
    /// The transactions recorded after the chain's first `seen` (by `transaction_count`),
    /// oldest first, with their signatures: what a logs subscription has not heard of yet
    /// (of the latest few thousand).
    pub fn records_after(&self, seen: u64) -> impl Iterator<Item = (&Signature, TxRecord)> {
        let first_kept = self.transaction_count().saturating_sub(self.recent.len() as u64);
        let skip = seen.saturating_sub(first_kept) as usize;
        self.recent.iter().skip(skip).filter_map(|s| Some((s, self.record(s)?)))
    }
}
