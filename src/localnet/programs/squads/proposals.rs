//! Vault transactions and proposals: `vault_transaction_create` stores a compiled message for
//! a vault to run, `proposal_create` opens the vote on a transaction index (or drafts it until
//! `proposal_activate`); and the checks the creating, voting and executing instructions share.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::checks::{
    check_multisig_seeds, fail, invariant, occurred, require, require_member, store, store_multisig,
};
use crate::psyche::ids::SYSTEM;
use crate::squads::accounts::{Multisig, Permission, Proposal, ProposalStatus, VaultTransaction};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::{ProposalCreateArgs, VaultTransactionCreateArgs};
use crate::squads::message;
use anchor_lang::AnchorSerialize;
use solana_sdk::pubkey::Pubkey;

const MULTISIG: u16 = 0;
const CREATED: u16 = 1;
const CREATOR: u16 = 2;
const RENT_PAYER: u16 = 3;
const SYSTEM_PROGRAM: u16 = 4;

/// What a creating instruction creates under the multisig: its name in the accounts struct,
/// the seeds after `["multisig", multisig]` and its size.
struct Created {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    space: usize,
}

/// The accounts of the creating instructions (multisig, the `init` account, creator,
/// rent_payer, system_program), checked in their Anchor structs' order: loaded, then the new
/// account's seeds and creation, then the multisig's seeds and `mut`, and the rent payer's
/// `mut`. Returns the multisig, the creator and the new account's bump.
fn creating(
    ctx: &mut Ctx,
    multisig_mut: bool,
    created: impl FnOnce(&Ctx, &Multisig) -> Result<Created>,
) -> Result<(Multisig, Pubkey, u8)> {
    ctx.expect_accounts(&["multisig", "", "creator", "rent_payer", "system_program"])?;
    let multisig: Multisig = ctx.load(MULTISIG, "multisig")?;
    ctx.require_signer(CREATOR, "creator")?;
    ctx.require_signer(RENT_PAYER, "rent_payer")?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    let created = created(ctx, &multisig)?;
    let (program, address) = (ctx.program_id()?, ctx.key(MULTISIG)?);
    let mut seeds: Vec<&[u8]> = vec![b"multisig", address.as_ref()];
    seeds.extend(created.seeds.iter().map(Vec::as_slice));
    let (expected, bump) = Pubkey::find_program_address(&seeds, &program);
    ctx.check_seeds(CREATED, created.name, Some(expected))?;
    ctx.create_pda(ctx.key(RENT_PAYER)?, expected, created.space, &program)?;
    check_multisig_seeds(ctx, MULTISIG, &multisig)?;
    if multisig_mut {
        ctx.require_writable(MULTISIG, "multisig")?;
    }
    ctx.require_writable(RENT_PAYER, "rent_payer")?;
    Ok((multisig, ctx.key(CREATOR)?, bump))
}

/// The seeds of the next transaction account (`multisig.transaction_index + 1`).
fn next_transaction(multisig: &Multisig, space: usize) -> Created {
    let index = multisig.transaction_index + 1;
    Created { name: "transaction", seeds: vec![b"transaction".to_vec(), index.to_le_bytes().to_vec()], space }
}

/// Creates the next config transaction account for `space` bytes; returns the multisig, the
/// creator and the account's bump (the checks `config_transaction_create` shares).
pub fn creating_transaction(ctx: &mut Ctx, space: impl FnOnce(&Multisig) -> usize) -> Result<(Multisig, Pubkey, u8)> {
    creating(ctx, true, |_, multisig| Ok(next_transaction(multisig, space(multisig))))
}

pub fn vault_transaction_create(ctx: &mut Ctx, args: VaultTransactionCreateArgs) -> Result<()> {
    let mut transaction = None;
    // Upstream sizes the account from the decoded message, so a malformed one fails there.
    let (mut multisig, creator, bump) = creating(ctx, true, |ctx, multisig| {
        let message = message::decode(&args.transaction_message)
            .map_err(|_| occurred(ctx, MultisigError::InvalidTransactionMessage))?;
        let decoded = VaultTransaction {
            multisig: ctx.key(MULTISIG)?,
            creator: Pubkey::default(),
            index: multisig.transaction_index + 1,
            bump: 0,
            vault_index: args.vault_index,
            vault_bump: 0,
            ephemeral_signer_bumps: vec![0; usize::from(args.ephemeral_signers)],
            message,
        };
        let mut body = Vec::new();
        decoded.serialize(&mut body).expect("serializing to a Vec cannot fail");
        transaction = Some(decoded);
        Ok(next_transaction(multisig, 8 + body.len()))
    })?;
    let mut transaction = transaction.expect("set when the accounts were created");
    require_member(ctx, &multisig, &creator, Permission::Initiate)?;

    let (program, address, transaction_key) = (ctx.program_id()?, ctx.key(MULTISIG)?, ctx.key(CREATED)?);
    transaction.creator = creator;
    transaction.bump = bump;
    transaction.vault_bump =
        Pubkey::find_program_address(&[b"multisig", address.as_ref(), b"vault", &[args.vault_index]], &program).1;
    transaction.ephemeral_signer_bumps =
        (0..args.ephemeral_signers).map(|i| crate::squads::pdas::ephemeral_signer(&transaction_key, i).1).collect();
    store(ctx, CREATED, &transaction, "transaction")?;
    multisig.transaction_index = transaction.index;
    invariant(ctx, &multisig)?;
    store_multisig(ctx, MULTISIG, &multisig, None)?;
    ctx.log(&format!("transaction index: {}", transaction.index));
    Ok(())
}

pub fn proposal_create(ctx: &mut Ctx, args: ProposalCreateArgs) -> Result<()> {
    let (multisig, creator, bump) = creating(ctx, false, |_, multisig| {
        let index = args.transaction_index.to_le_bytes().to_vec();
        let seeds = vec![b"transaction".to_vec(), index, b"proposal".to_vec()];
        Ok(Created { name: "proposal", seeds, space: Proposal::size(multisig.members.len()) })
    })?;
    require(ctx, args.transaction_index <= multisig.transaction_index, MultisigError::InvalidTransactionIndex)?;
    require(ctx, args.transaction_index > multisig.stale_transaction_index, MultisigError::StaleProposal)?;
    require(ctx, multisig.member(&creator).is_some(), MultisigError::NotAMember)?;
    let allowed = [Permission::Initiate, Permission::Vote].iter().any(|p| multisig.has_permission(&creator, *p));
    require(ctx, allowed, MultisigError::Unauthorized)?;
    let timestamp = ctx.clock()?.unix_timestamp;
    let proposal = Proposal {
        multisig: ctx.key(MULTISIG)?,
        transaction_index: args.transaction_index,
        status: if args.draft { ProposalStatus::Draft { timestamp } } else { ProposalStatus::Active { timestamp } },
        bump,
        approved: Vec::new(),
        rejected: Vec::new(),
        cancelled: Vec::new(),
    };
    store(ctx, CREATED, &proposal, "proposal")
}

/// The proposal's `seeds = [prefix, multisig, "transaction", index, "proposal"], bump = bump`.
pub fn check_proposal_seeds(ctx: &Ctx, at: u16, multisig: &Pubkey, transaction_index: u64, bump: u8) -> Result<()> {
    let seeds: &[&[u8]] =
        &[b"multisig", multisig.as_ref(), b"transaction", &transaction_index.to_le_bytes(), b"proposal", &[bump]];
    ctx.check_seeds(at, "proposal", Pubkey::create_program_address(seeds, &ctx.program_id()?).ok())
}

/// A transaction's `seeds = [prefix, multisig, "transaction", index], bump = bump`.
pub fn check_transaction_seeds(ctx: &Ctx, at: u16, multisig: &Pubkey, index: u64, bump: u8) -> Result<()> {
    let seeds: &[&[u8]] = &[b"multisig", multisig.as_ref(), b"transaction", &index.to_le_bytes(), &[bump]];
    ctx.check_seeds(at, "transaction", Pubkey::create_program_address(seeds, &ctx.program_id()?).ok())
}

/// `proposal_activate`: a member with Initiate opens a fresh Draft proposal for votes.
pub fn proposal_activate(ctx: &mut Ctx) -> Result<()> {
    const MEMBER: u16 = 1;
    const PROPOSAL: u16 = 2;
    ctx.expect_accounts(&["multisig", "member", "proposal"])?;
    let multisig: Multisig = ctx.load(MULTISIG, "multisig")?;
    ctx.require_signer(MEMBER, "member")?;
    let mut proposal: Proposal = ctx.load(PROPOSAL, "proposal")?;
    check_multisig_seeds(ctx, MULTISIG, &multisig)?;
    ctx.require_writable(MEMBER, "member")?;
    check_proposal_seeds(ctx, PROPOSAL, &ctx.key(MULTISIG)?, proposal.transaction_index, proposal.bump)?;
    ctx.require_writable(PROPOSAL, "proposal")?;
    require_member(ctx, &multisig, &ctx.key(MEMBER)?, Permission::Initiate)?;
    let draft = matches!(proposal.status, ProposalStatus::Draft { .. });
    require(ctx, draft, MultisigError::InvalidProposalStatus)?;
    let fresh = proposal.transaction_index > multisig.stale_transaction_index;
    require(ctx, fresh, MultisigError::StaleProposal)?;
    proposal.status = ProposalStatus::Active { timestamp: ctx.clock()?.unix_timestamp };
    store(ctx, PROPOSAL, &proposal, "proposal")
}

/// The execution gate shared by vault and config transactions: an Execute member, an
/// Approved proposal whose time lock has passed.
pub fn require_executable(ctx: &Ctx, multisig: &Multisig, proposal: &Proposal, member: &Pubkey) -> Result<()> {
    require_member(ctx, multisig, member, Permission::Execute)?;
    match proposal.status {
        ProposalStatus::Approved { timestamp } => {
            let released = ctx.clock()?.unix_timestamp - timestamp >= i64::from(multisig.time_lock);
            require(ctx, released, MultisigError::TimeLockNotReleased)
        }
        _ => Err(fail(ctx, MultisigError::InvalidProposalStatus)),
    }
}
