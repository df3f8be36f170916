//! The one node a localnet is, as cluster queries describe it: an identity and a vote account
//! derived from the chain's genesis (the same on every restart), the leader of every slot, and
//! the addresses `localnet serve` listens on. A chain not served has no addresses.

use solana_sdk::hash::{Hash, hashv};
use solana_sdk::pubkey::Pubkey;
use std::net::SocketAddr;

/// Where the node answers (set by `localnet serve`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Addresses {
    pub rpc: Option<SocketAddr>,
    pub pubsub: Option<SocketAddr>,
}

/// The node's identity: the leader of every slot.
pub fn identity(genesis: &Hash) -> Pubkey {
    Pubkey::new_from_array(hashv(&[b"psyche-runbook localnet node identity", genesis.as_ref()]).to_bytes())
}

/// The node's vote account.
pub fn vote_account(genesis: &Hash) -> Pubkey {
    Pubkey::new_from_array(hashv(&[b"psyche-runbook localnet vote account", genesis.as_ref()]).to_bytes())
}

/// The stake the node votes with: a validator's default for a single-node test cluster.
pub const ACTIVATED_STAKE: u64 = 999_999_997_717_120;
