//! Vault transactions and proposals: `vault_transaction_create` stores a compiled message for
//! a vault to run, `proposal_create` opens the vote on a transaction index (or drafts it until
//! `proposal_activate`), and the votes
//! (approve, reject, cancel) move it to Approved, Rejected or Cancelled.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::{fail, invariant, load_multisig, require, require_member, store_multisig};
use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::{Multisig, Permission, Proposal, ProposalStatus, VaultTransaction};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::{ProposalCreateArgs, VaultTransactionCreateArgs, Vote};
use crate::squads::message;
use anchor_lang::AnchorSerialize;
use solana_sdk::pubkey::Pubkey;

const MULTISIG: u16 = 0;
const CREATED: u16 = 1;
const CREATOR: u16 = 2;
const RENT_PAYER: u16 = 3;

/// The PDA of the next transaction, created for `space` bytes (Anchor's `init`).
pub fn create_transaction_account(ctx: &mut Ctx, multisig: &Multisig, space: usize) -> Result<(u64, u8)> {
    let program = ctx.program_id()?;
    let index = multisig.transaction_index + 1;
    let address = ctx.key(MULTISIG)?;
    let (expected, bump) =
        Pubkey::find_program_address(&[b"multisig", address.as_ref(), b"transaction", &index.to_le_bytes()], &program);
    if expected != ctx.key(CREATED)? {
        return Err(ctx.constraint_seeds("transaction"));
    }
    ctx.create_pda(ctx.key(RENT_PAYER)?, expected, space, &program)?;
    Ok((index, bump))
}

/// The signer checks and loaded multisig shared by the creating instructions.
pub fn creating(ctx: &Ctx, permission_any: &[Permission]) -> Result<(Multisig, Pubkey)> {
    ctx.expect_accounts(5)?;
    let multisig = load_multisig(ctx, MULTISIG)?;
    ctx.require_signer(CREATOR, "creator")?;
    ctx.require_signer(RENT_PAYER, "rent_payer")?;
    let creator = ctx.key(CREATOR)?;
    require(ctx, multisig.member(&creator).is_some(), MultisigError::NotAMember)?;
    let allowed = permission_any.iter().any(|p| multisig.has_permission(&creator, *p));
    require(ctx, allowed, MultisigError::Unauthorized)?;
    Ok((multisig, creator))
}

pub fn vault_transaction_create(ctx: &mut Ctx, args: VaultTransactionCreateArgs) -> Result<()> {
    let (mut multisig, creator) = creating(ctx, &[Permission::Initiate])?;
    let message =
        message::decode(&args.transaction_message).map_err(|_| fail(ctx, MultisigError::InvalidTransactionMessage))?;
    let program = ctx.program_id()?;
    let address = ctx.key(MULTISIG)?;
    let vault_bump =
        Pubkey::find_program_address(&[b"multisig", address.as_ref(), b"vault", &[args.vault_index]], &program).1;
    let mut transaction = VaultTransaction {
        multisig: address,
        creator,
        index: 0,
        bump: 0,
        vault_index: args.vault_index,
        vault_bump,
        ephemeral_signer_bumps: Vec::new(),
        message,
    };
    let mut body = Vec::new();
    transaction.serialize(&mut body).expect("serializing to a Vec cannot fail");
    let space = 8 + body.len() + usize::from(args.ephemeral_signers);
    let (index, bump) = create_transaction_account(ctx, &multisig, space)?;
    let transaction_key = ctx.key(CREATED)?;
    transaction.index = index;
    transaction.bump = bump;
    transaction.ephemeral_signer_bumps =
        (0..args.ephemeral_signers).map(|i| crate::squads::pdas::ephemeral_signer(&transaction_key, i).1).collect();
    ctx.set_data(CREATED, &transaction.encode(space))?;
    multisig.transaction_index = index;
    invariant(ctx, &multisig)?;
    store_multisig(ctx, MULTISIG, &multisig, None)?;
    ctx.log(&format!("transaction index: {index}"));
    Ok(())
}

pub fn proposal_create(ctx: &mut Ctx, args: ProposalCreateArgs) -> Result<()> {
    let (multisig, _) = creating(ctx, &[Permission::Initiate, Permission::Vote])?;
    require(ctx, args.transaction_index <= multisig.transaction_index, MultisigError::InvalidTransactionIndex)?;
    require(ctx, args.transaction_index > multisig.stale_transaction_index, MultisigError::StaleProposal)?;
    let program = ctx.program_id()?;
    let address = ctx.key(MULTISIG)?;
    let seeds: &[&[u8]] =
        &[b"multisig", address.as_ref(), b"transaction", &args.transaction_index.to_le_bytes(), b"proposal"];
    let (expected, bump) = Pubkey::find_program_address(seeds, &program);
    if expected != ctx.key(CREATED)? {
        return Err(ctx.constraint_seeds("proposal"));
    }
    let space = Proposal::size(multisig.members.len());
    ctx.create_pda(ctx.key(RENT_PAYER)?, expected, space, &program)?;
    let timestamp = ctx.clock()?.unix_timestamp;
    let proposal = Proposal {
        multisig: address,
        transaction_index: args.transaction_index,
        status: if args.draft { ProposalStatus::Draft { timestamp } } else { ProposalStatus::Active { timestamp } },
        bump,
        approved: Vec::new(),
        rejected: Vec::new(),
        cancelled: Vec::new(),
    };
    ctx.set_data(CREATED, &proposal.encode(space))
}

/// `Account<Proposal>` with its PDA seeds checked against `multisig`.
pub fn load_proposal(ctx: &Ctx, index: u16, multisig: &Pubkey) -> Result<Proposal> {
    let proposal: Proposal = ctx.load(index, "proposal")?;
    let expected = Pubkey::create_program_address(
        &[
            b"multisig",
            multisig.as_ref(),
            b"transaction",
            &proposal.transaction_index.to_le_bytes(),
            b"proposal",
            &[proposal.bump],
        ],
        &ctx.program_id()?,
    );
    if expected.ok() != Some(ctx.key(index)?) {
        return Err(ctx.constraint_seeds("proposal"));
    }
    Ok(proposal)
}

/// `proposal_activate`: a member with Initiate opens a fresh Draft proposal for votes.
pub fn proposal_activate(ctx: &mut Ctx) -> Result<()> {
    const MULTISIG: u16 = 0;
    const MEMBER: u16 = 1;
    const PROPOSAL: u16 = 2;
    ctx.expect_accounts(3)?;
    let multisig = load_multisig(ctx, MULTISIG)?;
    ctx.require_signer(MEMBER, "member")?;
    let mut proposal = load_proposal(ctx, PROPOSAL, &ctx.key(MULTISIG)?)?;
    require_member(ctx, &multisig, &ctx.key(MEMBER)?, Permission::Initiate)?;
    let draft = matches!(proposal.status, ProposalStatus::Draft { .. });
    require(ctx, draft, MultisigError::InvalidProposalStatus)?;
    let fresh = proposal.transaction_index > multisig.stale_transaction_index;
    require(ctx, fresh, MultisigError::StaleProposal)?;
    proposal.status = ProposalStatus::Active { timestamp: ctx.clock()?.unix_timestamp };
    let size = ctx.account(PROPOSAL)?.data.len();
    ctx.set_data(PROPOSAL, &proposal.encode(size))
}

/// Inserts `member` into a sorted vote list; false when it is already there.
fn insert_sorted(list: &mut Vec<Pubkey>, member: Pubkey) -> bool {
    match list.binary_search(&member) {
        Ok(_) => false,
        Err(position) => {
            list.insert(position, member);
            true
        }
    }
}

pub fn vote(ctx: &mut Ctx, vote: Vote) -> Result<()> {
    const MULTISIG: u16 = 0;
    const MEMBER: u16 = 1;
    const PROPOSAL: u16 = 2;
    ctx.expect_accounts(3)?;
    let multisig = load_multisig(ctx, MULTISIG)?;
    ctx.require_signer(MEMBER, "member")?;
    let address = ctx.key(MULTISIG)?;
    let mut proposal = load_proposal(ctx, PROPOSAL, &address)?;
    let member = ctx.key(MEMBER)?;
    require_member(ctx, &multisig, &member, Permission::Vote)?;
    match vote {
        Vote::Approve | Vote::Reject => {
            let active = matches!(proposal.status, ProposalStatus::Active { .. });
            require(ctx, active, MultisigError::InvalidProposalStatus)?;
            let fresh = proposal.transaction_index > multisig.stale_transaction_index;
            require(ctx, fresh, MultisigError::StaleProposal)?;
        }
        Vote::Cancel => {
            let approved = matches!(proposal.status, ProposalStatus::Approved { .. });
            require(ctx, approved, MultisigError::InvalidProposalStatus)?;
        }
    }
    let timestamp = ctx.clock()?.unix_timestamp;
    match vote {
        Vote::Approve => {
            proposal.rejected.retain(|k| *k != member);
            require(ctx, insert_sorted(&mut proposal.approved, member), MultisigError::AlreadyApproved)?;
            if proposal.approved.len() >= usize::from(multisig.threshold) {
                proposal.status = ProposalStatus::Approved { timestamp };
            }
        }
        Vote::Reject => {
            proposal.approved.retain(|k| *k != member);
            require(ctx, insert_sorted(&mut proposal.rejected, member), MultisigError::AlreadyRejected)?;
            if proposal.rejected.len() >= multisig.cutoff() {
                proposal.status = ProposalStatus::Rejected { timestamp };
            }
        }
        Vote::Cancel => {
            proposal.cancelled.retain(|k| multisig.member(k).is_some());
            require(ctx, insert_sorted(&mut proposal.cancelled, member), MultisigError::AlreadyCancelled)?;
            if proposal.cancelled.len() >= usize::from(multisig.threshold) {
                proposal.status = ProposalStatus::Cancelled { timestamp };
            }
        }
    }
    let size = ctx.account(PROPOSAL)?.data.len();
    ctx.set_data(PROPOSAL, &proposal.encode(size))
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
