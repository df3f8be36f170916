//! Treasurer program instructions (spec 2.5).

use crate::psyche::config::{CoordinatorConfig, CoordinatorProgress, RunMetadata};
use crate::psyche::ids::{ASSOCIATED_TOKEN, ProgramIds, SYSTEM, TOKEN};
use crate::psyche::instructions::coordinator::Empty;
use crate::psyche::instructions::{instruction_data, readonly, signer, writable};
use crate::psyche::model::Model;
use anchor_lang::{AnchorDeserialize, AnchorSerialize, InstructionData, ToAccountMetas};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

/// Field order as upstream declares it (index first, authorities last).
#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct RunCreateParams {
    pub index: u64,
    pub run_id: String,
    pub client_version: String,
    pub main_authority: Pubkey,
    pub join_authority: Pubkey,
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct RunCreate {
    pub params: RunCreateParams,
}
instruction_data!(RunCreate, "run_create");

/// Everything a treasurer run's owner can change; the program applies the parts in a fixed
/// order: update, rates, paused, client version.
#[derive(Debug, Clone, PartialEq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct RunUpdateParams {
    pub metadata: Option<RunMetadata>,
    pub config: Option<CoordinatorConfig>,
    pub model: Option<Model>,
    pub progress: Option<CoordinatorProgress>,
    pub epoch_earning_rate_total_shared: Option<u64>,
    pub epoch_slashing_rate_per_client: Option<u64>,
    pub paused: Option<bool>,
    pub client_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct RunUpdate {
    pub params: RunUpdateParams,
}
instruction_data!(RunUpdate, "run_update");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct ParticipantCreate {
    pub params: Empty,
}
instruction_data!(ParticipantCreate, "participant_create");

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct ParticipantClaimParams {
    pub claim_earned_points: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct ParticipantClaim {
    pub params: ParticipantClaimParams,
}
instruction_data!(ParticipantClaim, "participant_claim");

pub struct RunCreateAccounts {
    pub payer: Pubkey,
    pub run: Pubkey,
    pub run_collateral: Pubkey,
    pub collateral_mint: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
    pub coordinator_program: Pubkey,
}

impl ToAccountMetas for RunCreateAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![
            signer(self.payer, true),
            writable(self.run),
            writable(self.run_collateral),
            readonly(self.collateral_mint),
            writable(self.coordinator_instance),
            writable(self.coordinator_account),
            readonly(self.coordinator_program),
            readonly(ASSOCIATED_TOKEN),
            readonly(TOKEN),
            readonly(SYSTEM),
        ]
    }
}

pub struct RunUpdateAccounts {
    pub authority: Pubkey,
    pub run: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
    pub coordinator_program: Pubkey,
}

impl ToAccountMetas for RunUpdateAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![
            signer(self.authority, false),
            readonly(self.run),
            readonly(self.coordinator_instance),
            writable(self.coordinator_account),
            readonly(self.coordinator_program),
        ]
    }
}

pub struct ParticipantCreateAccounts {
    pub payer: Pubkey,
    pub user: Pubkey,
    pub run: Pubkey,
    pub participant: Pubkey,
}

impl ToAccountMetas for ParticipantCreateAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![
            signer(self.payer, true),
            signer(self.user, false),
            readonly(self.run),
            writable(self.participant),
            readonly(SYSTEM),
        ]
    }
}

pub struct ParticipantClaimAccounts {
    pub user: Pubkey,
    pub user_collateral: Pubkey,
    pub run: Pubkey,
    pub run_collateral: Pubkey,
    pub coordinator_account: Pubkey,
    pub participant: Pubkey,
}

impl ToAccountMetas for ParticipantClaimAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![
            signer(self.user, false),
            writable(self.user_collateral),
            writable(self.run),
            writable(self.run_collateral),
            readonly(self.coordinator_account),
            writable(self.participant),
            readonly(TOKEN),
        ]
    }
}

pub fn instruction(ids: &ProgramIds, accounts: &impl ToAccountMetas, data: &impl InstructionData) -> Instruction {
    Instruction { program_id: ids.treasurer, accounts: accounts.to_account_metas(None), data: data.data() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_run_update_resume_bytes() {
        let data = RunUpdate { params: RunUpdateParams { paused: Some(false), ..Default::default() } }.data();
        assert_eq!(&data[8..], &[0, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
