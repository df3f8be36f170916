//! The execution's read layer. Operations ask for the accounts they need; this fetches the
//! ones it does not hold in one `getMultipleAccounts` per 100 keys and remembers them, so a
//! runbook that checks a run five ways reads it once. What the execution's own transactions
//! wrote is forgotten as soon as they are sent (and localnet services forget everything), so
//! idempotency checks always see the chain as our writes left it. Entries also age out after
//! `FRESH_FOR`: a long runbook re-reads what others may have changed meanwhile.

use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys one `getMultipleAccounts` request may carry.
pub const MAX_KEYS_PER_REQUEST: usize = 100;

/// How long a read stands in for the chain when nothing of ours touched the account.
const FRESH_FOR: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Reads {
    entries: Mutex<HashMap<Pubkey, (Instant, Option<Account>)>>,
}

impl Reads {
    /// The keys of `keys` not held (or held too long), each once, in order.
    pub fn missing(&self, keys: &[Pubkey]) -> Vec<Pubkey> {
        let entries = self.entries.lock().expect("reads lock");
        let mut missing: Vec<Pubkey> = Vec::new();
        for key in keys {
            let fresh = entries.get(key).is_some_and(|(at, _)| at.elapsed() < FRESH_FOR);
            if !fresh && !missing.contains(key) {
                missing.push(*key);
            }
        }
        missing
    }

    pub fn store(&self, keys: &[Pubkey], accounts: Vec<Option<Account>>) {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("reads lock");
        for (key, account) in keys.iter().zip(accounts) {
            entries.insert(*key, (now, account));
        }
    }

    /// The held value of each key (`None` for a key not held; `Some(None)` for no account).
    pub fn get(&self, keys: &[Pubkey]) -> Vec<Option<Option<Account>>> {
        let entries = self.entries.lock().expect("reads lock");
        keys.iter().map(|k| entries.get(k).map(|(_, account)| account.clone())).collect()
    }

    pub fn forget(&self, keys: impl IntoIterator<Item = Pubkey>) {
        let mut entries = self.entries.lock().expect("reads lock");
        for key in keys {
            entries.remove(&key);
        }
    }

    pub fn forget_all(&self) {
        self.entries.lock().expect("reads lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_are_unique_and_forgotten_keys_are_missing_again() {
        let reads = Reads::default();
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        assert_eq!(reads.missing(&[a, b, a]), vec![a, b]);
        reads.store(&[a, b], vec![None, Some(Account::default())]);
        assert!(reads.missing(&[a, b]).is_empty());
        assert_eq!(reads.get(&[b, a]), vec![Some(Some(Account::default())), Some(None)]);
        reads.forget([a]);
        assert_eq!(reads.missing(&[a, b]), vec![a]);
        reads.forget_all();
        assert_eq!(reads.missing(&[b]), vec![b]);
    }
}
