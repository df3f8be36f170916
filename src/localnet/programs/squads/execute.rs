//! `vault_transaction_execute`: checks the remaining accounts against the stored message, then
//! runs its instructions as CPIs with the vault (and any ephemeral signers) signing. The
//! proposal may not be written by them; afterwards it is Executed.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::checks::{
    check_multisig_seeds, occurred, require, require_eq, require_keys_eq, store,
};
use crate::localnet::programs::squads::proposals::{check_proposal_seeds, check_transaction_seeds, require_executable};
use crate::squads::accounts::{Multisig, Proposal, ProposalStatus, VaultTransaction};
use crate::squads::errors::MultisigError;
use crate::squads::{message, pdas};
use solana_sdk::pubkey::Pubkey;

const MULTISIG: u16 = 0;
const PROPOSAL: u16 = 1;
const TRANSACTION: u16 = 2;
const MEMBER: u16 = 3;
/// Where the message's accounts start.
const REMAINING: u16 = 4;

pub fn vault_transaction_execute(ctx: &mut Ctx) -> Result<()> {
    ctx.expect_accounts(&["multisig", "proposal", "transaction", "member"])?;
    let multisig: Multisig = ctx.load(MULTISIG, "multisig")?;
    let mut proposal: Proposal = ctx.load(PROPOSAL, "proposal")?;
    let transaction: VaultTransaction = ctx.load(TRANSACTION, "transaction")?;
    ctx.require_signer(MEMBER, "member")?;
    let address = ctx.key(MULTISIG)?;
    check_multisig_seeds(ctx, MULTISIG, &multisig)?;
    check_proposal_seeds(ctx, PROPOSAL, &address, transaction.index, proposal.bump)?;
    ctx.require_writable(PROPOSAL, "proposal")?;
    check_transaction_seeds(ctx, TRANSACTION, &address, transaction.index, transaction.bump)?;
    require_executable(ctx, &multisig, &proposal, &ctx.key(MEMBER)?)?;

    let message = &transaction.message;
    // Lookup tables are not supported here: no account of this localnet creates one.
    require_eq(ctx, 0, message.address_table_lookups.len(), MultisigError::InvalidNumberOfAccounts)?;
    let (vault, _) = pdas::vault(&address, transaction.vault_index);
    let transaction_key = ctx.key(TRANSACTION)?;
    let ephemeral: Vec<Pubkey> = (0..transaction.ephemeral_signer_bumps.len() as u8)
        .map(|i| pdas::ephemeral_signer(&transaction_key, i).0)
        .collect();
    let remaining = ctx.data_accounts()? - REMAINING as usize;
    require_eq(ctx, remaining, message.account_keys.len(), MultisigError::InvalidNumberOfAccounts)?;
    for (i, key) in message.account_keys.iter().enumerate() {
        let at = REMAINING + i as u16;
        require_keys_eq(ctx, ctx.key(at)?, *key, MultisigError::InvalidAccount)?;
        if message.is_signer_index(i) && *key != vault && !ephemeral.contains(key) {
            require(ctx, ctx.is_signer(at)?, MultisigError::InvalidAccount)?;
        }
        if message.is_static_writable_index(i) {
            require(ctx, ctx.is_writable(at)?, MultisigError::InvalidAccount)?;
        }
    }
    let proposal_key = ctx.key(PROPOSAL)?;
    let mut signers = ephemeral;
    signers.push(vault);
    let instructions =
        message::instructions(message).map_err(|_| occurred(ctx, MultisigError::InvalidTransactionMessage))?;
    for ix in instructions {
        let protected = ix.accounts.iter().any(|a| a.is_writable && a.pubkey == proposal_key);
        require(ctx, !protected, MultisigError::ProtectedAccount)?;
        ctx.invoke(ix, &signers)?;
    }
    proposal.status = ProposalStatus::Executed { timestamp: ctx.clock()?.unix_timestamp };
    store(ctx, PROPOSAL, &proposal, "proposal")
}
