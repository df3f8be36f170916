//! `vault_transaction_execute`: checks the remaining accounts against the stored message, then
//! runs its instructions as CPIs with the vault (and any ephemeral signers) signing. The
//! proposal may not be written by them; afterwards it is Executed.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::proposals::{load_proposal, require_executable};
use crate::localnet::programs::squads::{fail, load_multisig, require};
use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::{ProposalStatus, VaultTransaction};
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
    ctx.expect_accounts(REMAINING)?;
    let multisig = load_multisig(ctx, MULTISIG)?;
    let address = ctx.key(MULTISIG)?;
    let transaction: VaultTransaction = ctx.load(TRANSACTION, "transaction")?;
    let program = ctx.program_id()?;
    let expected = Pubkey::create_program_address(
        &[b"multisig", address.as_ref(), b"transaction", &transaction.index.to_le_bytes(), &[transaction.bump]],
        &program,
    );
    if expected.ok() != Some(ctx.key(TRANSACTION)?) {
        return Err(ctx.constraint_seeds("transaction"));
    }
    let mut proposal = load_proposal(ctx, PROPOSAL, &address)?;
    if proposal.transaction_index != transaction.index {
        return Err(ctx.constraint_seeds("proposal"));
    }
    ctx.require_signer(MEMBER, "member")?;
    require_executable(ctx, &multisig, &proposal, &ctx.key(MEMBER)?)?;

    let message = &transaction.message;
    // Lookup tables are not supported here: no account of this localnet creates one.
    require(ctx, message.address_table_lookups.is_empty(), MultisigError::InvalidNumberOfAccounts)?;
    let (vault, _) = pdas::vault(&address, transaction.vault_index);
    let transaction_key = ctx.key(TRANSACTION)?;
    let ephemeral: Vec<Pubkey> = (0..transaction.ephemeral_signer_bumps.len() as u8)
        .map(|i| pdas::ephemeral_signer(&transaction_key, i).0)
        .collect();
    let remaining = ctx.data_accounts()? - REMAINING as usize;
    require(ctx, remaining == message.account_keys.len(), MultisigError::InvalidNumberOfAccounts)?;
    for (i, key) in message.account_keys.iter().enumerate() {
        let at = REMAINING + i as u16;
        require(ctx, ctx.key(at)? == *key, MultisigError::InvalidAccount)?;
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
        message::instructions(message).map_err(|_| fail(ctx, MultisigError::InvalidTransactionMessage))?;
    for ix in instructions {
        let protected = ix.accounts.iter().any(|a| a.is_writable && a.pubkey == proposal_key);
        require(ctx, !protected, MultisigError::ProtectedAccount)?;
        ctx.invoke(ix, &signers)?;
    }
    proposal.status = ProposalStatus::Executed { timestamp: ctx.clock()?.unix_timestamp };
    let size = ctx.account(PROPOSAL)?.data.len();
    ctx.set_data(PROPOSAL, &proposal.encode(size))
}
