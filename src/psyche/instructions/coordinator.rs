//! Coordinator program instructions (spec 2.3).

use crate::psyche::config::{CoordinatorConfig, CoordinatorProgress, RunMetadata};
use crate::psyche::ids::{ProgramIds, SYSTEM};
use crate::psyche::instructions::{instruction_data, readonly, signer, writable};
use crate::psyche::model::{Checkpoint, HubRepo, Model};
use anchor_lang::{AnchorDeserialize, AnchorSerialize, InstructionData, ToAccountMetas};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct InitCoordinatorParams {
    pub main_authority: Pubkey,
    pub join_authority: Pubkey,
    pub run_id: String,
    pub client_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct InitCoordinator {
    pub params: InitCoordinatorParams,
}
instruction_data!(InitCoordinator, "init_coordinator");

#[derive(Debug, Clone, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct FreeCoordinator {
    pub params: Empty,
}
instruction_data!(FreeCoordinator, "free_coordinator");

/// Upstream's empty `…Params {}` structs: zero Borsh bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct Update {
    pub metadata: Option<RunMetadata>,
    pub config: Option<CoordinatorConfig>,
    pub model: Option<Model>,
    pub progress: Option<CoordinatorProgress>,
}
instruction_data!(Update, "update");

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct UpdateClientVersion {
    pub new_version: String,
}
instruction_data!(UpdateClientVersion, "update_client_version");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct SetFutureEpochRates {
    pub epoch_earning_rate_total_shared: Option<u64>,
    pub epoch_slashing_rate_per_client: Option<u64>,
}
instruction_data!(SetFutureEpochRates, "set_future_epoch_rates");

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct SetPaused {
    pub paused: bool,
}
instruction_data!(SetPaused, "set_paused");

/// A client's identity: the signing key and its p2p key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct NodeIdentity {
    pub signer: Pubkey,
    pub p2p_identity: [u8; 32],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct JoinRun {
    pub params: JoinRunParams,
}
instruction_data!(JoinRun, "join_run");

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct JoinRunParams {
    pub client_id: NodeIdentity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct Tick {}
instruction_data!(Tick, "tick");

/// A witness bloom: 8 hash keys, then 1024 bits as 16 words (192 Borsh bytes).
pub type Bloom = [u8; 192];

/// `WitnessProof`: the sender's position in the round's witness shuffle, its index in the
/// epoch's clients and whether it is a witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct WitnessProof {
    pub position: u64,
    pub index: u64,
    /// A `SmallBoolean`: any non-zero byte is true.
    pub witness: u8,
}

/// One evaluation result a witness reports (`WitnessEvalResult`).
#[derive(Debug, Clone, Copy, PartialEq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct WitnessEvalResult {
    pub name: [u8; 32],
    pub value: f32,
}

/// `WitnessMetadata`: training statistics sent with each witness and not stored (389 bytes;
/// the fixed vectors are their full arrays followed by a u64 length).
#[derive(Debug, Clone, Copy, PartialEq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct WitnessMetadata {
    pub step: u32,
    pub tokens_per_sec: f32,
    pub bandwidth_per_sec: f32,
    pub loss: f32,
    pub evals: [WitnessEvalResult; 8],
    pub evals_len: u64,
    pub prompt_results: [i32; 16],
    pub prompt_results_len: u64,
    pub prompt_index: u8,
    pub efficiency: f32,
}

#[derive(Debug, Clone, PartialEq, AnchorSerialize, AnchorDeserialize)]
pub struct WitnessIx {
    pub proof: WitnessProof,
    pub participant_bloom: Bloom,
    pub broadcast_bloom: Bloom,
    pub broadcast_merkle: [u8; 32],
    pub metadata: WitnessMetadata,
}
instruction_data!(WitnessIx, "witness");

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct WarmupWitnessIx {
    pub proof: WitnessProof,
    pub participant_bloom: Bloom,
    pub broadcast_bloom: Bloom,
    pub broadcast_merkle: [u8; 32],
}
instruction_data!(WarmupWitnessIx, "warmup_witness");

/// `Committee` of a health check's proof: TieBreaker 0, Verifier 1, Trainer 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct HealthCheckIx {
    pub id: NodeIdentity,
    pub committee: u8,
    pub position: u64,
    pub index: u64,
}
instruction_data!(HealthCheckIx, "health_check");

/// `checkpoint` with the current `Checkpoint` enum argument.
#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct CheckpointIx {
    pub repo: Checkpoint,
}
instruction_data!(CheckpointIx, "checkpoint");

/// `checkpoint` as programs built before 2026-02-20 expect it: a bare `HubRepo`.
#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct CheckpointHubRepoIx {
    pub repo: HubRepo,
}
instruction_data!(CheckpointHubRepoIx, "checkpoint");

/// `OwnerCoordinatorAccounts`: instructions only the run's main authority may send.
pub struct OwnerAccounts {
    pub authority: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
}

impl ToAccountMetas for OwnerAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![signer(self.authority, false), readonly(self.coordinator_instance), writable(self.coordinator_account)]
    }
}

/// `PermissionlessCoordinatorAccounts`: `tick`, `checkpoint`.
pub struct PermissionlessAccounts {
    pub user: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
}

impl ToAccountMetas for PermissionlessAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![signer(self.user, false), readonly(self.coordinator_instance), writable(self.coordinator_account)]
    }
}

pub struct InitCoordinatorAccounts {
    pub payer: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
}

impl ToAccountMetas for InitCoordinatorAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![
            signer(self.payer, true),
            writable(self.coordinator_instance),
            writable(self.coordinator_account),
            readonly(SYSTEM),
        ]
    }
}

pub struct FreeCoordinatorAccounts {
    pub authority: Pubkey,
    pub spill: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
}

impl ToAccountMetas for FreeCoordinatorAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![
            signer(self.authority, false),
            writable(self.spill),
            writable(self.coordinator_instance),
            writable(self.coordinator_account),
        ]
    }
}

pub struct JoinRunAccounts {
    pub user: Pubkey,
    pub authorization: Pubkey,
    pub coordinator_instance: Pubkey,
    pub coordinator_account: Pubkey,
}

impl ToAccountMetas for JoinRunAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![
            signer(self.user, false),
            readonly(self.authorization),
            readonly(self.coordinator_instance),
            writable(self.coordinator_account),
        ]
    }
}

pub fn instruction(ids: &ProgramIds, accounts: &impl ToAccountMetas, data: &impl InstructionData) -> Instruction {
    Instruction { program_id: ids.coordinator, accounts: accounts.to_account_metas(None), data: data.data() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // Sample instruction bytes of spec 2.2.
    #[test]
    fn spec_sample_bytes() {
        assert_eq!(hex(&SetPaused { paused: true }.data()), "5b3c7dc0b0e1a6da01");
        let rates =
            SetFutureEpochRates { epoch_earning_rate_total_shared: Some(5), epoch_slashing_rate_per_client: None };
        assert_eq!(hex(&rates.data()), "ef15a057c7c8b681".to_owned() + "01" + "0500000000000000" + "00");
    }

    #[test]
    fn owner_accounts_flags() {
        let metas = OwnerAccounts {
            authority: Pubkey::new_unique(),
            coordinator_instance: Pubkey::new_unique(),
            coordinator_account: Pubkey::new_unique(),
        }
        .to_account_metas(None);
        let flags: Vec<_> = metas.iter().map(|m| (m.is_signer, m.is_writable)).collect();
        assert_eq!(flags, [(true, false), (false, false), (false, true)]);
    }
}
