//! The treasurer's `Run` (one per rewarded run) and `Participant` (one per claiming user).
//! Both are allocated as 8 + the Rust size and stored as Borsh, so trailing bytes are zero.

use crate::psyche::accounts::borsh_account;
use crate::psyche::serde_b58;
use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

pub const RUN_SIZE: usize = 200;
pub const PARTICIPANT_SIZE: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, AnchorSerialize, AnchorDeserialize)]
pub struct TreasurerRun {
    pub bump: u8,
    pub index: u64,
    #[serde(with = "serde_b58::pubkey")]
    pub main_authority: Pubkey,
    #[serde(with = "serde_b58::pubkey")]
    pub join_authority: Pubkey,
    #[serde(with = "serde_b58::pubkey")]
    pub coordinator_account: Pubkey,
    #[serde(with = "serde_b58::pubkey")]
    pub coordinator_instance: Pubkey,
    #[serde(with = "serde_b58::pubkey")]
    pub collateral_mint: Pubkey,
    pub total_claimed_collateral_amount: u64,
    pub total_claimed_earned_points: u64,
}

borsh_account!(TreasurerRun, "Run", min_len = RUN_SIZE);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, AnchorSerialize, AnchorDeserialize)]
pub struct Participant {
    pub bump: u8,
    pub claimed_collateral_amount: u64,
    pub claimed_earned_points: u64,
}

borsh_account!(Participant, "Participant", min_len = PARTICIPANT_SIZE);
