//! The votes on a proposal: `proposal_approve` and `proposal_reject` on an Active one,
//! `proposal_cancel` on an Approved one, moving it to Approved, Rejected or Cancelled at the
//! threshold (or the rejection cutoff). `proposal_cancel_v2` is the cancel vote that also
//! takes the system program: the proposal was sized for the members it was created with, so
//! when the multisig has gained members since, it grows the account (the member paying the
//! rent) where `proposal_cancel` would fail to store the votes.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::checks::{check_multisig_seeds, require, require_member, store};
use crate::localnet::programs::squads::proposals::check_proposal_seeds;
use crate::psyche::ids::SYSTEM;
use crate::squads::accounts::{Multisig, Permission, Proposal, ProposalStatus};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::Vote;
use solana_sdk::pubkey::Pubkey;

const MULTISIG: u16 = 0;
const MEMBER: u16 = 1;
const PROPOSAL: u16 = 2;
const SYSTEM_PROGRAM: u16 = 3;
const VOTE_ACCOUNTS: [&str; 3] = ["multisig", "member", "proposal"];

/// `ProposalVote`'s accounts in Anchor's order: the three loaded, then the multisig's seeds,
/// `member`'s `mut`, the proposal's seeds and `mut`.
fn vote_accounts(ctx: &Ctx) -> Result<(Multisig, Proposal)> {
    ctx.expect_accounts(&VOTE_ACCOUNTS)?;
    let multisig: Multisig = ctx.load(MULTISIG, "multisig")?;
    ctx.require_signer(MEMBER, "member")?;
    let proposal: Proposal = ctx.load(PROPOSAL, "proposal")?;
    check_multisig_seeds(ctx, MULTISIG, &multisig)?;
    ctx.require_writable(MEMBER, "member")?;
    check_proposal_seeds(ctx, PROPOSAL, &ctx.key(MULTISIG)?, proposal.transaction_index, proposal.bump)?;
    ctx.require_writable(PROPOSAL, "proposal")?;
    Ok((multisig, proposal))
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

/// Upstream's `validate(vote)` and the vote itself, on the proposal in memory.
fn cast(ctx: &Ctx, multisig: &Multisig, proposal: &mut Proposal, vote: Vote) -> Result<()> {
    let member = ctx.key(MEMBER)?;
    require_member(ctx, multisig, &member, Permission::Vote)?;
    match vote {
        Vote::Approve | Vote::Reject => {
            let active = matches!(proposal.status, ProposalStatus::Active { .. });
            require(ctx, active, MultisigError::InvalidProposalStatus)?;
            let fresh = proposal.transaction_index > multisig.stale_transaction_index;
            require(ctx, fresh, MultisigError::StaleProposal)?;
        }
        // A stale proposal may still be cancelled.
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
            // Cancellations by former members no longer count.
            proposal.cancelled.retain(|k| multisig.member(k).is_some());
            require(ctx, insert_sorted(&mut proposal.cancelled, member), MultisigError::AlreadyCancelled)?;
            if proposal.cancelled.len() >= usize::from(multisig.threshold) {
                proposal.status = ProposalStatus::Cancelled { timestamp };
            }
        }
    }
    Ok(())
}

/// `proposal_approve`, `proposal_reject` and `proposal_cancel`.
pub fn vote(ctx: &mut Ctx, vote: Vote) -> Result<()> {
    let (multisig, mut proposal) = vote_accounts(ctx)?;
    cast(ctx, &multisig, &mut proposal, vote)?;
    store(ctx, PROPOSAL, &proposal, "proposal")
}

/// `proposal_cancel_v2`: the cancel vote, then the proposal grown to fit every current member
/// (upstream's `Proposal::realloc_if_needed`).
pub fn proposal_cancel_v2(ctx: &mut Ctx) -> Result<()> {
    // The vote's accounts are a nested struct, checked in full before the system program.
    let (multisig, mut proposal) = vote_accounts(ctx)?;
    let mut all = VOTE_ACCOUNTS.to_vec();
    all.push("system_program");
    ctx.expect_accounts(&all)?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    cast(ctx, &multisig, &mut proposal, Vote::Cancel)?;
    let current = ctx.account(PROPOSAL)?;
    let needed = Proposal::size(multisig.members.len());
    if current.data.len() < needed {
        ctx.set_data_length(PROPOSAL, needed)?;
        let top_up = ctx.rent()?.minimum_balance(needed).max(1).saturating_sub(current.lamports);
        if top_up > 0 {
            let transfer = solana_system_interface::instruction::transfer(&ctx.key(MEMBER)?, &current.key, top_up);
            ctx.invoke(transfer, &[])?;
        }
    }
    // Written back when the nested accounts struct exits, so a failure names it.
    store(ctx, PROPOSAL, &proposal, "proposal_vote")
}
