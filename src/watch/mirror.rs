//! The accounts `watch` shows, kept current by PubSub pushes instead of re-reads. The first
//! refresh reads the cluster and subscribes to what it read (`programSubscribe` with the same
//! filters for the run listing, `accountSubscribe` for each account): from then on a refresh
//! is answered here and a steady view makes no request at all. New keys (a new run, a treasury
//! seen for the first time) are subscribed first, then read once. When the connection drops,
//! everything is forgotten, so the next refresh reads the whole view again (nothing that
//! happened meanwhile is missed) and subscribes anew; while subscriptions cannot be opened,
//! refreshes read the cluster every interval, as without a websocket.

use crate::chain::client::{Chain, ChainError};
use crate::chain::pubsub::{Pushed, Stop, What};
use crate::watch::read::Fetch;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// How often a wait checks whether the view is closing.
const TICK: Duration = Duration::from_millis(100);
/// Pushes arriving this soon after one are taken into the same refresh.
const SETTLE: Duration = Duration::from_millis(20);

enum Update {
    Account(Pubkey, Pushed),
    Listing(usize, Pushed),
}

/// A program listing kept by a subscription with the same filters.
struct Listing {
    program: Pubkey,
    config: String,
    keys: BTreeSet<Pubkey>,
}

#[derive(Default)]
struct State {
    /// Accounts followed by a subscription (None: followed, and absent).
    accounts: HashMap<Pubkey, Option<Account>>,
    listings: Vec<Listing>,
    stops: Vec<Stop>,
    slot: u64,
}

pub struct Mirror {
    state: Mutex<State>,
    sender: Sender<Update>,
    pushes: Mutex<Receiver<Update>>,
}

impl Default for Mirror {
    fn default() -> Self {
        let (sender, pushes) = channel();
        Self { state: Mutex::default(), sender, pushes: Mutex::new(pushes) }
    }
}

fn decoded(account: &solana_account_decoder_client_types::UiAccount) -> Option<Account> {
    account.decode::<Account>().filter(|a| a.lamports > 0)
}

impl Mirror {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// True while pushes keep the mirror current.
    pub fn is_following(&self) -> bool {
        !self.state().stops.is_empty()
    }

    /// Reads through this mirror on `chain`.
    pub fn on<'a>(&'a self, chain: &'a Chain) -> Through<'a> {
        Through { mirror: self, chain }
    }

    fn apply(&self, update: Update) {
        let mut state = self.state();
        let (key, pushed, listing) = match update {
            Update::Account(key, pushed) => (Some(key), pushed, None),
            Update::Listing(i, pushed) => (None, pushed, Some(i)),
        };
        match pushed {
            Pushed::Account(response) => {
                state.slot = state.slot.max(response.context.slot);
                if let Some(key) = key {
                    state.accounts.insert(key, decoded(&response.value));
                }
            }
            Pushed::Keyed(response) => {
                state.slot = state.slot.max(response.context.slot);
                let Ok(key) = response.value.pubkey.parse::<Pubkey>() else { return };
                if let Some(listing) = listing.and_then(|i| state.listings.get_mut(i)) {
                    listing.keys.insert(key);
                }
                state.accounts.insert(key, decoded(&response.value.account));
            }
            // The connection is gone: forget everything, read it all again next time.
            Pushed::Ended => *state = State::default(),
            Pushed::Signature(_) => {}
        }
    }

    /// Waits for the next change (pushes, taken in together), or `interval` when nothing is
    /// followed; returns early once `stop` is set.
    pub fn wait(&self, interval: Duration, stop: &AtomicBool) {
        let pushes = self.pushes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            if !self.is_following() && started.elapsed() >= interval {
                return;
            }
            match pushes.recv_timeout(TICK) {
                Ok(update) => {
                    self.apply(update);
                    while let Ok(more) = pushes.recv_timeout(SETTLE) {
                        self.apply(more);
                    }
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

/// Reads answered by the mirror, the cluster asked only for what it does not follow yet.
pub struct Through<'a> {
    mirror: &'a Mirror,
    chain: &'a Chain,
}

fn account_config(chain: &Chain) -> RpcAccountInfoConfig {
    RpcAccountInfoConfig {
        encoding: Some(UiAccountEncoding::Base64),
        commitment: Some(chain.rpc().commitment()),
        ..Default::default()
    }
}

impl Through<'_> {
    /// Subscribes to `key`'s changes; false when no subscription could be opened.
    fn follow(&self, key: Pubkey) -> bool {
        let Some(live) = self.chain.live() else { return false };
        let what = What::Account(key, account_config(self.chain));
        match live.subscribe_tagged(what, self.mirror.sender.clone(), move |p| Update::Account(key, p)) {
            Some(stop) => {
                self.mirror.state().stops.push(stop);
                true
            }
            None => false,
        }
    }
}

impl Fetch for Through<'_> {
    fn slot(&self) -> Result<u64, ChainError> {
        if self.mirror.is_following() {
            return Ok(self.mirror.state().slot);
        }
        self.chain.slot()
    }

    fn multiple(&self, keys: &[Pubkey]) -> Result<(u64, Vec<Option<Account>>), ChainError> {
        let unknown: Vec<Pubkey> = {
            let state = self.mirror.state();
            keys.iter().filter(|k| !state.accounts.contains_key(k)).copied().collect()
        };
        let mut read = HashMap::new();
        if !unknown.is_empty() {
            // Subscribed first: a change between the read and the subscription is not lost.
            let followed: Vec<bool> = unknown.iter().map(|k| self.follow(*k)).collect();
            let (slot, accounts) = self.chain.multiple(&unknown)?;
            let mut state = self.mirror.state();
            state.slot = state.slot.max(slot);
            for ((key, account), followed) in unknown.iter().zip(accounts).zip(followed) {
                if followed {
                    state.accounts.entry(*key).or_insert(account.clone());
                }
                read.insert(*key, account);
            }
        }
        let state = self.mirror.state();
        let accounts = keys
            .iter()
            .map(|k| read.get(k).cloned().unwrap_or_else(|| state.accounts.get(k).cloned().flatten()))
            .collect();
        Ok((state.slot, accounts))
    }

    fn program_accounts(
        &self,
        program: Pubkey,
        config: RpcProgramAccountsConfig,
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let asked = serde_json::to_string(&config).expect("configs serialize");
        {
            let state = self.mirror.state();
            if let Some(listing) = state.listings.iter().find(|l| l.program == program && l.config == asked) {
                let found = listing.keys.iter().filter_map(|k| Some((*k, state.accounts.get(k)?.clone()?))).collect();
                return Ok(found);
            }
        }
        let mut subscribed = config.clone();
        subscribed.account_config = account_config(self.chain);
        let index = self.mirror.state().listings.len();
        let stop = self.chain.live().and_then(|live| {
            let what = What::Program(program, subscribed);
            live.subscribe_tagged(what, self.mirror.sender.clone(), move |p| Update::Listing(index, p))
        });
        let accounts = self.chain.program_accounts(program, config)?;
        if let Some(stop) = stop {
            let mut state = self.mirror.state();
            state.stops.push(stop);
            for (key, account) in &accounts {
                state.accounts.insert(*key, Some(account.clone()));
            }
            let keys = accounts.iter().map(|(k, _)| *k).collect();
            state.listings.push(Listing { program, config: asked, keys });
        }
        Ok(accounts)
    }
}
