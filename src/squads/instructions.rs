//! Squads v4 instruction builders: Anchor discriminators (`global:<name>`), Borsh arguments
//! in upstream's declaration order, and account metas in the order and with the flags of
//! upstream's `#[derive(Accounts)]` structs. Anchor's absent optional accounts are the program
//! ID itself, read-only.

use crate::psyche::ids::{SYSTEM, TOKEN};
use crate::psyche::instructions::{instruction_data, readonly, signer, writable};
use crate::squads::PROGRAM_ID;
use crate::squads::accounts::{ConfigAction, Member, VaultTransactionMessage};
use crate::squads::message;
use anchor_lang::{AnchorDeserialize, AnchorSerialize, InstructionData};
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct MultisigCreateArgsV2 {
    pub config_authority: Option<Pubkey>,
    pub threshold: u16,
    pub members: Vec<Member>,
    pub time_lock: u32,
    pub rent_collector: Option<Pubkey>,
    pub memo: Option<String>,
}
instruction_data!(MultisigCreateArgsV2, "multisig_create_v2");

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct VaultTransactionCreateArgs {
    pub vault_index: u8,
    pub ephemeral_signers: u8,
    /// Compact `TransactionMessage` bytes (see `message::encode`).
    pub transaction_message: Vec<u8>,
    pub memo: Option<String>,
}
instruction_data!(VaultTransactionCreateArgs, "vault_transaction_create");

#[derive(Debug, Clone, Copy, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct ProposalCreateArgs {
    pub transaction_index: u64,
    pub draft: bool,
}
instruction_data!(ProposalCreateArgs, "proposal_create");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct ProposalActivate;
instruction_data!(ProposalActivate, "proposal_activate");

/// The three votes share one argument type and account list; only the discriminator differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    Approve,
    Reject,
    Cancel,
}

impl Vote {
    pub fn discriminator(self) -> [u8; 8] {
        match self {
            Vote::Approve => ProposalApprove::DISCRIMINATOR_BYTES,
            Vote::Reject => ProposalReject::DISCRIMINATOR_BYTES,
            Vote::Cancel => ProposalCancel::DISCRIMINATOR_BYTES,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct ProposalVoteArgs {
    pub memo: Option<String>,
}

/// Markers carrying the vote discriminators.
pub struct ProposalApprove;
pub struct ProposalReject;
pub struct ProposalCancel;

impl ProposalApprove {
    pub const DISCRIMINATOR_BYTES: [u8; 8] = crate::psyche::encoding::discriminator("global:proposal_approve");
}
impl ProposalReject {
    pub const DISCRIMINATOR_BYTES: [u8; 8] = crate::psyche::encoding::discriminator("global:proposal_reject");
}
impl ProposalCancel {
    pub const DISCRIMINATOR_BYTES: [u8; 8] = crate::psyche::encoding::discriminator("global:proposal_cancel");
}

/// `proposal_cancel_v2`: the cancel vote with `system_program` after the vote's accounts, so
/// the program can grow the proposal when the multisig gained members after it was created.
pub struct ProposalCancelV2;

impl ProposalCancelV2 {
    pub const DISCRIMINATOR_BYTES: [u8; 8] = crate::psyche::encoding::discriminator("global:proposal_cancel_v2");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct ConfigTransactionAccountsClose;
instruction_data!(ConfigTransactionAccountsClose, "config_transaction_accounts_close");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct VaultTransactionAccountsClose;
instruction_data!(VaultTransactionAccountsClose, "vault_transaction_accounts_close");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct VaultTransactionExecute;
instruction_data!(VaultTransactionExecute, "vault_transaction_execute");

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct ConfigTransactionCreateArgs {
    pub actions: Vec<ConfigAction>,
    pub memo: Option<String>,
}
instruction_data!(ConfigTransactionCreateArgs, "config_transaction_create");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, AnchorSerialize, AnchorDeserialize)]
pub struct ConfigTransactionExecute;
instruction_data!(ConfigTransactionExecute, "config_transaction_execute");

#[derive(Debug, Clone, PartialEq, Eq, AnchorSerialize, AnchorDeserialize)]
pub struct SpendingLimitUseArgs {
    pub amount: u64,
    pub decimals: u8,
    pub memo: Option<String>,
}
instruction_data!(SpendingLimitUseArgs, "spending_limit_use");

fn build(accounts: Vec<AccountMeta>, data: Vec<u8>) -> Instruction {
    Instruction { program_id: PROGRAM_ID, accounts, data }
}

pub struct MultisigCreateAccounts {
    pub program_config: Pubkey,
    pub treasury: Pubkey,
    pub multisig: Pubkey,
    pub create_key: Pubkey,
    pub creator: Pubkey,
}

pub fn multisig_create_v2(a: &MultisigCreateAccounts, args: &MultisigCreateArgsV2) -> Instruction {
    build(
        vec![
            readonly(a.program_config),
            writable(a.treasury),
            writable(a.multisig),
            signer(a.create_key, false),
            signer(a.creator, true),
            readonly(SYSTEM),
        ],
        args.data(),
    )
}

/// Accounts of the two transaction-creating instructions and `proposal_create`.
pub struct CreateAccounts {
    pub multisig: Pubkey,
    /// The transaction (or, for `proposal_create`, the proposal) being created.
    pub created: Pubkey,
    pub creator: Pubkey,
    pub rent_payer: Pubkey,
}

impl CreateAccounts {
    /// The accounts every create instruction takes; only a transaction's creation writes the
    /// multisig (its transaction index).
    fn metas(&self, multisig_writable: bool) -> Vec<AccountMeta> {
        let multisig = if multisig_writable { writable(self.multisig) } else { readonly(self.multisig) };
        vec![
            multisig,
            writable(self.created),
            signer(self.creator, false),
            signer(self.rent_payer, true),
            readonly(SYSTEM),
        ]
    }
}

pub fn vault_transaction_create(a: &CreateAccounts, args: &VaultTransactionCreateArgs) -> Instruction {
    build(a.metas(true), args.data())
}

pub fn config_transaction_create(a: &CreateAccounts, args: &ConfigTransactionCreateArgs) -> Instruction {
    build(a.metas(true), args.data())
}

pub fn proposal_create(a: &CreateAccounts, args: &ProposalCreateArgs) -> Instruction {
    build(a.metas(false), args.data())
}

/// `proposal_activate`: a Draft proposal opens for votes.
pub fn proposal_activate(multisig: &Pubkey, member: &Pubkey, proposal: &Pubkey) -> Instruction {
    build(vec![readonly(*multisig), signer(*member, true), writable(*proposal)], ProposalActivate.data())
}

/// `proposal_approve`, `proposal_reject` or `proposal_cancel`.
pub fn proposal_vote(
    vote: Vote,
    multisig: &Pubkey,
    member: &Pubkey,
    proposal: &Pubkey,
    memo: Option<String>,
) -> Instruction {
    let mut data = vote.discriminator().to_vec();
    ProposalVoteArgs { memo }.serialize(&mut data).expect("serializing to a Vec cannot fail");
    build(vec![readonly(*multisig), signer(*member, true), writable(*proposal)], data)
}

/// `proposal_cancel_v2`: `proposal_cancel`'s accounts, then the system program.
pub fn proposal_cancel_v2(multisig: &Pubkey, member: &Pubkey, proposal: &Pubkey, memo: Option<String>) -> Instruction {
    let mut ix = proposal_vote(Vote::Cancel, multisig, member, proposal, memo);
    ix.data[..8].copy_from_slice(&ProposalCancelV2::DISCRIMINATOR_BYTES);
    ix.accounts.push(readonly(SYSTEM));
    ix
}

/// Which transaction kind `transaction_accounts_close` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionKind {
    Config,
    Vault,
}

/// `config_transaction_accounts_close` or `vault_transaction_accounts_close`: the transaction
/// and its proposal (if any) are closed, their rent going to the multisig's rent collector.
pub fn transaction_accounts_close(
    kind: TransactionKind,
    multisig: &Pubkey,
    proposal: &Pubkey,
    transaction: &Pubkey,
    rent_collector: &Pubkey,
) -> Instruction {
    let data = match kind {
        TransactionKind::Config => ConfigTransactionAccountsClose.data(),
        TransactionKind::Vault => VaultTransactionAccountsClose.data(),
    };
    build(
        vec![
            readonly(*multisig),
            writable(*proposal),
            writable(*transaction),
            writable(*rent_collector),
            readonly(SYSTEM),
        ],
        data,
    )
}

/// `vault_transaction_execute` with the message's accounts as remaining accounts (none of
/// them signing at this level: the program signs for the vault).
pub fn vault_transaction_execute(
    multisig: &Pubkey,
    proposal: &Pubkey,
    transaction: &Pubkey,
    member: &Pubkey,
    message: &VaultTransactionMessage,
) -> Instruction {
    let mut accounts = vec![readonly(*multisig), writable(*proposal), readonly(*transaction), signer(*member, false)];
    accounts.extend(message.account_keys.iter().enumerate().map(|(i, key)| AccountMeta {
        pubkey: *key,
        is_signer: false,
        is_writable: message.is_static_writable_index(i),
    }));
    build(accounts, VaultTransactionExecute.data())
}

/// `config_transaction_execute`; `rent_payer` is needed when an action creates an account
/// (a spending limit), and `spending_limits` are the ones the actions add or remove.
pub fn config_transaction_execute(
    multisig: &Pubkey,
    member: &Pubkey,
    proposal: &Pubkey,
    transaction: &Pubkey,
    rent_payer: Option<&Pubkey>,
    spending_limits: &[Pubkey],
) -> Instruction {
    let mut accounts = vec![writable(*multisig), signer(*member, false), writable(*proposal), readonly(*transaction)];
    match rent_payer {
        Some(payer) => accounts.extend([signer(*payer, true), readonly(SYSTEM)]),
        None => accounts.extend([readonly(PROGRAM_ID), readonly(PROGRAM_ID)]),
    }
    accounts.extend(spending_limits.iter().map(|k| writable(*k)));
    build(accounts, ConfigTransactionExecute.data())
}

/// Accounts of `spending_limit_use` for an SPL token.
pub struct SpendingLimitUseAccounts {
    pub multisig: Pubkey,
    pub member: Pubkey,
    pub spending_limit: Pubkey,
    pub vault: Pubkey,
    /// The owner of `destination_token_account`.
    pub destination: Pubkey,
    pub mint: Pubkey,
    pub vault_token_account: Pubkey,
    pub destination_token_account: Pubkey,
}

pub fn spending_limit_use(a: &SpendingLimitUseAccounts, args: &SpendingLimitUseArgs) -> Instruction {
    build(
        vec![
            readonly(a.multisig),
            signer(a.member, false),
            writable(a.spending_limit),
            writable(a.vault),
            writable(a.destination),
            readonly(SYSTEM),
            readonly(a.mint),
            writable(a.vault_token_account),
            writable(a.destination_token_account),
            readonly(TOKEN),
        ],
        args.data(),
    )
}

/// The compact message bytes for `instructions` run by `vault`.
pub fn transaction_message(vault: &Pubkey, instructions: &[Instruction]) -> Result<Vec<u8>, message::MessageError> {
    Ok(message::encode(&message::compile(vault, instructions)?))
}
