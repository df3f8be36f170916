//! One subscription's view of the chain: what it last told its client, and what to tell it now.
//! Each is polled against the chain after every change (a transaction, a new slot, a new root)
//! and answers the notifications due, so a notification is derived from state, never from a
//! stream of events that could be missed. Accounts are compared by a fingerprint of what a
//! client would see; a signature subscription ends with its one result, as on a validator.

use crate::localnet::Localnet;
use crate::localnet::rpc::accounts::{allows, encode};
use crate::localnet::rpc::pubsub::requests::{Encoding, Kind, LogsFilter};
use serde_json::{Value, json};
use solana_account_decoder::UiAccountEncoding;
use solana_commitment_config::CommitmentLevel;
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::transaction::VersionedTransaction;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Most slots (or roots) one poll reports after a jump (a warp): the latest ones.
const MAX_SLOTS_PER_POLL: u64 = 32;

enum Seen {
    Account(u64),
    Program(HashMap<Pubkey, u64>),
    Signature,
    Slot(u64),
    Root(u64),
    Logs(u64),
}

pub struct Watch {
    kind: Kind,
    seen: Seen,
}

/// The notifications due (their `result` values) and whether the subscription is over.
#[derive(Default)]
pub struct Due {
    pub results: Vec<Value>,
    pub done: bool,
}

fn fingerprint(account: Option<&Account>) -> u64 {
    let mut hasher = DefaultHasher::new();
    if let Some(a) = account {
        (a.lamports, a.owner, a.executable, &a.data, a.rent_epoch).hash(&mut hasher);
    }
    hasher.finish()
}

fn context(slot: u64, value: Value) -> Value {
    json!({"context": {"slot": slot}, "value": value})
}

/// An account as the subscription encodes it; a combination the HTTP side refuses (base58 of
/// a large account) falls back to base64 rather than ending the subscription.
fn encoded(net: &Localnet, key: &Pubkey, account: &Account, how: &Encoding) -> Value {
    let ui = encode(net, key, account, how.encoding, how.slice)
        .or_else(|_| encode(net, key, account, UiAccountEncoding::Base64, how.slice))
        .expect("base64 encodes any account");
    json!(ui)
}

fn program_accounts(
    net: &Localnet,
    owner: &Pubkey,
    filters: &[solana_rpc_client_api::filter::RpcFilterType],
    level: CommitmentLevel,
) -> Vec<(Pubkey, Account)> {
    // A `dataSize` filter is the store's index; the others are checked here.
    let size = filters.iter().find_map(|f| match f {
        solana_rpc_client_api::filter::RpcFilterType::DataSize(size) => Some(*size),
        _ => None,
    });
    net.program_accounts_at(owner, size, level)
        .into_iter()
        .map(|(key, account)| (key, Account::from(account)))
        .filter(|(_, account)| filters.iter().all(|f| allows(net, f, account)))
        .collect()
}

fn mentions(record_tx: &[u8], key: &Pubkey) -> bool {
    bincode::deserialize::<VersionedTransaction>(record_tx)
        .is_ok_and(|tx| tx.message.static_account_keys().contains(key))
}

impl Watch {
    /// Starts watching from the chain as it is: nothing is due for what already is, except a
    /// signature already settled at the subscription's level, which is answered at once.
    pub fn start(kind: Kind, net: &Localnet) -> (Self, Due) {
        let seen = match &kind {
            Kind::Account { key, level, .. } => Seen::Account(fingerprint(net.account_at(key, *level).as_ref())),
            Kind::Program { owner, filters, level, .. } => Seen::Program(
                program_accounts(net, owner, filters, *level)
                    .iter()
                    .map(|(key, account)| (*key, fingerprint(Some(account))))
                    .collect(),
            ),
            Kind::Signature { .. } => Seen::Signature,
            Kind::Slot => Seen::Slot(net.slot()),
            Kind::Root => Seen::Root(net.root_slot()),
            Kind::Logs { .. } => Seen::Logs(net.transaction_count()),
        };
        let mut watch = Self { kind, seen };
        let due = match watch.kind {
            Kind::Signature { .. } => watch.poll(net),
            _ => Due::default(),
        };
        (watch, due)
    }

    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// The notifications due since the last poll.
    pub fn poll(&mut self, net: &Localnet) -> Due {
        let mut due = Due::default();
        match (&self.kind, &mut self.seen) {
            (Kind::Account { key, encoding, level }, Seen::Account(last)) => {
                let account = net.account_at(key, *level);
                let now = fingerprint(account.as_ref());
                if now != *last {
                    *last = now;
                    // A closed account reads as an empty one owned by the system program.
                    let account = account.unwrap_or_default();
                    due.results.push(context(net.slot_at(*level), encoded(net, key, &account, encoding)));
                }
            }
            (Kind::Program { owner, filters, encoding, level }, Seen::Program(last)) => {
                let slot = net.slot_at(*level);
                let mut now = HashMap::new();
                for (key, account) in program_accounts(net, owner, filters, *level) {
                    let print = fingerprint(Some(&account));
                    if last.get(&key) != Some(&print) {
                        let value =
                            json!({"pubkey": key.to_string(), "account": encoded(net, &key, &account, encoding)});
                        due.results.push(context(slot, value));
                    }
                    now.insert(key, print);
                }
                *last = now;
            }
            (Kind::Signature { signature, level }, Seen::Signature) => {
                if let Some(record) = net.record(signature)
                    && record.slot <= net.slot_at(*level)
                {
                    due.results.push(context(record.slot, json!({"err": record.err})));
                    due.done = true;
                }
            }
            (Kind::Slot, Seen::Slot(last)) => {
                let slot = net.slot();
                let from = (*last + 1).max(slot.saturating_sub(MAX_SLOTS_PER_POLL - 1));
                for s in from..=slot {
                    let root = s.min(net.root_slot());
                    due.results.push(json!({"slot": s, "parent": s.saturating_sub(1), "root": root}));
                }
                *last = slot.max(*last);
            }
            (Kind::Root, Seen::Root(last)) => {
                let root = net.root_slot();
                let from = (*last + 1).max(root.saturating_sub(MAX_SLOTS_PER_POLL - 1));
                due.results.extend((from..=root).map(|r| json!(r)));
                *last = root.max(*last);
            }
            (Kind::Logs { filter, level }, Seen::Logs(cursor)) => {
                let visible = net.slot_at(*level);
                for (signature, record) in net.records_after(*cursor) {
                    if record.slot > visible {
                        break;
                    }
                    *cursor += 1;
                    if let LogsFilter::Mentions(key) = filter
                        && !mentions(&record.transaction, key)
                    {
                        continue;
                    }
                    let value = json!({"signature": signature.to_string(), "err": record.err, "logs": record.logs});
                    due.results.push(context(record.slot, value));
                }
            }
            _ => unreachable!("a watch's state matches its kind"),
        }
        due
    }
}
