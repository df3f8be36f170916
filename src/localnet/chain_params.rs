//! The chain's fixed parameters, as on a default cluster: slot time, how long blockhashes stay
//! valid and how many are kept, each slot's blockhash, and fees.

use crate::localnet::commitment::FINALIZED_DEPTH;
use solana_sdk::hash::{Hash, hashv};

/// A validator's default slot time.
pub const DEFAULT_SLOT_MS: u64 = 400;
/// Blockhashes stay valid this many slots, as on a cluster.
pub const BLOCKHASH_VALIDITY_SLOTS: u64 = 150;
/// Blockhashes kept: those the root's bank still accepts, and every newer one.
pub const KEPT_BLOCKHASHES: u64 = BLOCKHASH_VALIDITY_SLOTS + FINALIZED_DEPTH + 1;
/// Fee per signature (LiteSVM's default, the cluster's too).
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// The blockhash of `slot` on the chain seeded with `seed`.
pub fn blockhash_of(seed: &Hash, slot: u64) -> Hash {
    hashv(&[seed.as_ref(), &slot.to_le_bytes()])
}
