//! `CoordinatorInstance`: the PDA that names a run and points at its coordinator account.

use crate::psyche::accounts::borsh_account;
use crate::psyche::serde_b58;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

/// Allocated size: 8 + INIT_SPACE (165, with room for a 64-byte run id).
pub const SIZE: usize = 173;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, AnchorSerialize, AnchorDeserialize)]
pub struct CoordinatorInstance {
    pub bump: u8,
    #[serde(with = "serde_b58::pubkey")]
    pub main_authority: Pubkey,
    #[serde(with = "serde_b58::pubkey")]
    pub join_authority: Pubkey,
    #[serde(with = "serde_b58::pubkey")]
    pub coordinator_account: Pubkey,
    pub run_id: String,
}

borsh_account!(CoordinatorInstance, "CoordinatorInstance", min_len = 8 + 1 + 32 * 3 + 4);
