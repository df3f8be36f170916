//! Authorizer program instructions (spec 2.4).

use crate::psyche::ids::{ProgramIds, SYSTEM};
use crate::psyche::instructions::coordinator::Empty;
use crate::psyche::instructions::{instruction_data, readonly, signer, writable};
use anchor_lang::{AnchorDeserialize, AnchorSerialize, InstructionData, ToAccountMetas};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct AuthorizationCreateParams {
    pub grantee: Pubkey,
    pub scope: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct AuthorizationCreate {
    pub params: AuthorizationCreateParams,
}
instruction_data!(AuthorizationCreate, "authorization_create");

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct AuthorizationGrantorUpdateParams {
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct AuthorizationGrantorUpdate {
    pub params: AuthorizationGrantorUpdateParams,
}
instruction_data!(AuthorizationGrantorUpdate, "authorization_grantor_update");

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct AuthorizationGranteeUpdateParams {
    pub delegates_clear: bool,
    pub delegates_added: Vec<Pubkey>,
}

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct AuthorizationGranteeUpdate {
    pub params: AuthorizationGranteeUpdateParams,
}
instruction_data!(AuthorizationGranteeUpdate, "authorization_grantee_update");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct AuthorizationClose {
    pub params: Empty,
}
instruction_data!(AuthorizationClose, "authorization_close");

pub struct CreateAccounts {
    pub payer: Pubkey,
    pub grantor: Pubkey,
    pub authorization: Pubkey,
}

impl ToAccountMetas for CreateAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![signer(self.payer, true), signer(self.grantor, false), writable(self.authorization), readonly(SYSTEM)]
    }
}

pub struct GrantorUpdateAccounts {
    pub grantor: Pubkey,
    pub authorization: Pubkey,
}

impl ToAccountMetas for GrantorUpdateAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![signer(self.grantor, false), writable(self.authorization)]
    }
}

pub struct GranteeUpdateAccounts {
    pub payer: Pubkey,
    pub grantee: Pubkey,
    pub authorization: Pubkey,
}

impl ToAccountMetas for GranteeUpdateAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![signer(self.payer, true), signer(self.grantee, false), writable(self.authorization), readonly(SYSTEM)]
    }
}

pub struct CloseAccounts {
    pub grantor: Pubkey,
    pub spill: Pubkey,
    pub authorization: Pubkey,
}

impl ToAccountMetas for CloseAccounts {
    fn to_account_metas(&self, _is_signer: Option<bool>) -> Vec<AccountMeta> {
        vec![signer(self.grantor, false), writable(self.spill), writable(self.authorization), readonly(SYSTEM)]
    }
}

pub fn instruction(ids: &ProgramIds, accounts: &impl ToAccountMetas, data: &impl InstructionData) -> Instruction {
    Instruction { program_id: ids.authorizer, accounts: accounts.to_account_metas(None), data: data.data() }
}
