//! Config transactions: `config_transaction_create` stores actions on the multisig itself
//! (members, threshold, time lock, spending limits, rent collector) and
//! `config_transaction_execute` applies them once approved. Changing members, threshold or
//! time lock makes every earlier transaction stale.

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::checks::{
    anchor, check_multisig_seeds, fail, invariant, occurred, require, require_keys_eq, require_member, store,
    store_multisig,
};
use crate::localnet::programs::squads::proposals::{
    check_proposal_seeds, check_transaction_seeds, creating_transaction, require_executable,
};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::ids::SYSTEM;
use crate::squads::accounts::{
    ConfigAction, ConfigTransaction, MAX_TIME_LOCK, Multisig, Permission, Proposal, ProposalStatus, SpendingLimit,
};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::ConfigTransactionCreateArgs;
use anchor_lang::AnchorSerialize;
use solana_sdk::pubkey::Pubkey;

pub fn config_transaction_create(ctx: &mut Ctx, args: ConfigTransactionCreateArgs) -> Result<()> {
    const MULTISIG: u16 = 0;
    const TRANSACTION: u16 = 1;
    // Keys and numbers have fixed sizes: placeholders size the account exactly.
    let mut transaction = ConfigTransaction {
        multisig: Pubkey::default(),
        creator: Pubkey::default(),
        index: 0,
        bump: 0,
        actions: args.actions,
    };
    let mut body = Vec::new();
    transaction.serialize(&mut body).expect("serializing to a Vec cannot fail");
    let (mut multisig, creator, bump) = creating_transaction(ctx, |_| 8 + body.len())?;
    require_keys_eq(ctx, multisig.config_authority, Pubkey::default(), MultisigError::NotSupportedForControlled)?;
    require_member(ctx, &multisig, &creator, Permission::Initiate)?;
    require(ctx, !transaction.actions.is_empty(), MultisigError::NoActions)?;
    for action in &transaction.actions {
        if let ConfigAction::SetTimeLock { new_time_lock } = action {
            require(ctx, *new_time_lock <= MAX_TIME_LOCK, MultisigError::TimeLockExceedsMaxAllowed)?;
        }
    }
    let index = multisig.transaction_index + 1;
    transaction.multisig = ctx.key(MULTISIG)?;
    transaction.creator = creator;
    transaction.index = index;
    transaction.bump = bump;
    store(ctx, TRANSACTION, &transaction, "transaction")?;
    multisig.transaction_index = index;
    invariant(ctx, &multisig)?;
    store_multisig(ctx, MULTISIG, &multisig, None)?;
    ctx.log(&format!("transaction index: {index}"));
    Ok(())
}

pub fn config_transaction_execute(ctx: &mut Ctx) -> Result<()> {
    const MULTISIG: u16 = 0;
    const MEMBER: u16 = 1;
    const PROPOSAL: u16 = 2;
    const TRANSACTION: u16 = 3;
    const RENT_PAYER: u16 = 4;
    const SYSTEM_PROGRAM: u16 = 5;
    /// Spending limits the actions create or close.
    const REMAINING: u16 = 6;
    ctx.expect_accounts(&["multisig", "member", "proposal", "transaction"])?;
    let program = ctx.program_id()?;
    let given = ctx.data_accounts()?;
    let mut multisig = ctx.load::<Multisig>(MULTISIG, "multisig")?;
    ctx.require_signer(MEMBER, "member")?;
    let mut proposal: Proposal = ctx.load(PROPOSAL, "proposal")?;
    let transaction: ConfigTransaction = ctx.load(TRANSACTION, "transaction")?;
    // Anchor's optional accounts: missing, or the program ID itself, stand for "absent".
    let present = |at: u16| -> Result<bool> { Ok(usize::from(at) < given && ctx.key(at)? != program) };
    let rent_payer = present(RENT_PAYER)?.then_some(RENT_PAYER);
    if rent_payer.is_some() {
        ctx.require_signer(RENT_PAYER, "rent_payer")?;
    }
    if present(SYSTEM_PROGRAM)? {
        ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    }
    let address = ctx.key(MULTISIG)?;
    check_multisig_seeds(ctx, MULTISIG, &multisig)?;
    ctx.require_writable(MULTISIG, "multisig")?;
    check_proposal_seeds(ctx, PROPOSAL, &address, transaction.index, proposal.bump)?;
    ctx.require_writable(PROPOSAL, "proposal")?;
    check_transaction_seeds(ctx, TRANSACTION, &address, transaction.index, transaction.bump)?;
    if rent_payer.is_some() {
        ctx.require_writable(RENT_PAYER, "rent_payer")?;
    }
    require_executable(ctx, &multisig, &proposal, &ctx.key(MEMBER)?)?;
    require(ctx, proposal.transaction_index > multisig.stale_transaction_index, MultisigError::StaleProposal)?;
    for action in &transaction.actions {
        apply(ctx, &mut multisig, action, rent_payer, REMAINING)?;
    }
    invariant(ctx, &multisig)?;
    store_multisig(ctx, MULTISIG, &multisig, rent_payer)?;
    proposal.status = ProposalStatus::Executed { timestamp: ctx.clock()?.unix_timestamp };
    store(ctx, PROPOSAL, &proposal, "proposal")
}

/// The index among the remaining accounts of `key` (MissingAccount when absent).
fn remaining_index(ctx: &Ctx, from: u16, key: &Pubkey) -> Result<u16> {
    for i in from..ctx.data_accounts()? as u16 {
        if ctx.key(i)? == *key {
            return Ok(i);
        }
    }
    Err(occurred(ctx, MultisigError::MissingAccount))
}

fn apply(
    ctx: &mut Ctx,
    multisig: &mut Multisig,
    action: &ConfigAction,
    rent_payer: Option<u16>,
    from: u16,
) -> Result<()> {
    let address = ctx.key(0)?;
    match action {
        ConfigAction::AddMember { new_member } => {
            multisig.members.push(*new_member);
            multisig.members.sort_by_key(|m| m.key);
            multisig.stale_transaction_index = multisig.transaction_index;
        }
        ConfigAction::RemoveMember { old_member } => {
            let position = multisig.members.binary_search_by_key(old_member, |m| m.key);
            let position = position.map_err(|_| fail(ctx, MultisigError::NotAMember))?;
            multisig.members.remove(position);
            multisig.stale_transaction_index = multisig.transaction_index;
        }
        ConfigAction::ChangeThreshold { new_threshold } => {
            multisig.threshold = *new_threshold;
            multisig.stale_transaction_index = multisig.transaction_index;
        }
        ConfigAction::SetTimeLock { new_time_lock } => {
            multisig.time_lock = *new_time_lock;
            multisig.stale_transaction_index = multisig.transaction_index;
        }
        ConfigAction::AddSpendingLimit { create_key, vault_index, mint, amount, period, members, destinations } => {
            let (key, bump) = crate::squads::pdas::spending_limit(&address, create_key);
            let index = remaining_index(ctx, from, &key)?;
            let payer = rent_payer.ok_or_else(|| occurred(ctx, MultisigError::MissingAccount))?;
            let mut members = members.clone();
            members.sort();
            let limit = SpendingLimit {
                multisig: address,
                create_key: *create_key,
                vault_index: *vault_index,
                mint: *mint,
                amount: *amount,
                period: *period,
                remaining_amount: *amount,
                last_reset: ctx.clock()?.unix_timestamp,
                bump,
                members,
                destinations: destinations.clone(),
            };
            if limit.amount == 0 {
                // Upstream's `require_neq!`: both values follow the error.
                let error = anchor(MultisigError::SpendingLimitInvalidAmount).values(limit.amount, 0).thrown();
                return Err(ctx.raise(error));
            }
            require(ctx, !limit.members.is_empty(), MultisigError::EmptyMembers)?;
            require(ctx, !limit.members.windows(2).any(|w| w[0] == w[1]), MultisigError::DuplicateMember)?;
            let space = SpendingLimit::size(limit.members.len(), limit.destinations.len());
            let program = ctx.program_id()?;
            ctx.create_pda(ctx.key(payer)?, key, space, &program)?;
            ctx.set_data(index, &limit.encode(space))?;
        }
        ConfigAction::RemoveSpendingLimit { spending_limit } => {
            let index = remaining_index(ctx, from, spending_limit)?;
            let payer = rent_payer.ok_or_else(|| occurred(ctx, MultisigError::MissingAccount))?;
            let limit: SpendingLimit = ctx.load(index, "spending_limit")?;
            require_keys_eq(ctx, limit.multisig, address, MultisigError::InvalidAccount)?;
            ctx.close(index, payer)?;
        }
        ConfigAction::SetRentCollector { new_rent_collector } => {
            multisig.rent_collector = *new_rent_collector;
        }
    }
    Ok(())
}
