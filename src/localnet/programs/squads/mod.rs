//! The Squads v4 program, host-compiled at the upstream ID: multisig creation, vault and config
//! transactions, proposals and votes, execution (the vault signs CPIs into any program) and
//! spending limits, with upstream's constraints, permission checks, time lock, stale
//! transaction rule and error codes. Dispatch and the checks every instruction shares live here.

mod config;
mod create;
mod execute;
mod proposals;
mod spending_limit;

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::{args, discriminator_of};
use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::{Multisig, Permission};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::{
    ConfigTransactionCreateArgs, ConfigTransactionExecute, MultisigCreateArgsV2, ProposalActivate, ProposalCreateArgs,
    SpendingLimitUseArgs, VaultTransactionCreateArgs, VaultTransactionExecute, Vote,
};
use anchor_lang::Discriminator;
use solana_sdk::instruction::InstructionError;
use solana_sdk::pubkey::Pubkey;

solana_program_runtime::declare_process_instruction!(Entrypoint, 5_000, |invoke_context| {
    let mut ctx = Ctx::new(invoke_context);
    let data = ctx.data()?;
    let d = discriminator_of(&ctx, &data)?;
    if d == MultisigCreateArgsV2::DISCRIMINATOR {
        let ix: MultisigCreateArgsV2 = args(&ctx, &data)?;
        return create::multisig_create_v2(&mut ctx, ix);
    }
    if d == VaultTransactionCreateArgs::DISCRIMINATOR {
        let ix: VaultTransactionCreateArgs = args(&ctx, &data)?;
        return proposals::vault_transaction_create(&mut ctx, ix);
    }
    if d == ConfigTransactionCreateArgs::DISCRIMINATOR {
        let ix: ConfigTransactionCreateArgs = args(&ctx, &data)?;
        return config::config_transaction_create(&mut ctx, ix);
    }
    if d == ProposalCreateArgs::DISCRIMINATOR {
        let ix: ProposalCreateArgs = args(&ctx, &data)?;
        return proposals::proposal_create(&mut ctx, ix);
    }
    if d == ProposalActivate::DISCRIMINATOR {
        return proposals::proposal_activate(&mut ctx);
    }
    for vote in [Vote::Approve, Vote::Reject, Vote::Cancel] {
        if d == vote.discriminator() {
            return proposals::vote(&mut ctx, vote);
        }
    }
    if d == VaultTransactionExecute::DISCRIMINATOR {
        return execute::vault_transaction_execute(&mut ctx);
    }
    if d == ConfigTransactionExecute::DISCRIMINATOR {
        return config::config_transaction_execute(&mut ctx);
    }
    if d == SpendingLimitUseArgs::DISCRIMINATOR {
        let ix: SpendingLimitUseArgs = args(&ctx, &data)?;
        return spending_limit::spending_limit_use(&mut ctx, ix);
    }
    Err(ctx.fail(101, "InstructionFallbackNotFound", "Fallback functions are not supported"))
});

/// Logs and returns a Squads error, as upstream's Anchor program fails.
fn fail(ctx: &Ctx, error: MultisigError) -> InstructionError {
    ctx.fail(error.code(), &error.name(), error.message())
}

/// Fails with `error` unless `condition` holds.
fn require(ctx: &Ctx, condition: bool, error: MultisigError) -> Result<()> {
    if condition { Ok(()) } else { Err(fail(ctx, error)) }
}

/// `Account<Multisig>` with `seeds = [prefix, "multisig", create_key], bump = multisig.bump`.
fn load_multisig(ctx: &Ctx, index: u16) -> Result<Multisig> {
    let multisig: Multisig = ctx.load(index, "multisig")?;
    let expected = Pubkey::create_program_address(
        &[b"multisig", b"multisig", multisig.create_key.as_ref(), &[multisig.bump]],
        &ctx.program_id()?,
    );
    if expected.ok() != Some(ctx.key(index)?) {
        return Err(ctx.constraint_seeds("multisig"));
    }
    Ok(multisig)
}

/// Checks that `member` belongs to the multisig (NotAMember) and holds `permission`
/// (Unauthorized).
fn require_member(ctx: &Ctx, multisig: &Multisig, member: &Pubkey, permission: Permission) -> Result<()> {
    require(ctx, multisig.member(member).is_some(), MultisigError::NotAMember)?;
    require(ctx, multisig.has_permission(member, permission), MultisigError::Unauthorized)
}

/// Upstream's `Multisig::invariant`.
fn invariant(ctx: &Ctx, m: &Multisig) -> Result<()> {
    use MultisigError::*;
    require(ctx, m.members.len() <= usize::from(u16::MAX), TooManyMembers)?;
    require(ctx, !m.members.windows(2).any(|w| w[0].key == w[1].key), DuplicateMember)?;
    require(ctx, m.members.iter().all(|x| x.permissions.mask < 8), UnknownPermission)?;
    let count = |p: Permission| m.members.iter().filter(|x| x.permissions.has(p)).count();
    require(ctx, count(Permission::Initiate) > 0, NoProposers)?;
    require(ctx, count(Permission::Execute) > 0, NoExecutors)?;
    let voters = count(Permission::Vote);
    require(ctx, voters > 0, NoVoters)?;
    require(ctx, m.threshold > 0 && usize::from(m.threshold) <= voters, InvalidThreshold)?;
    require(ctx, m.stale_transaction_index <= m.transaction_index, InvalidStaleTransactionIndex)?;
    require(ctx, m.time_lock <= crate::squads::accounts::MAX_TIME_LOCK, TimeLockExceedsMaxAllowed)
}

/// Writes the multisig back, growing the account (by at least ten members, as upstream does)
/// with rent from `rent_payer` when its members no longer fit.
fn store_multisig(ctx: &mut Ctx, index: u16, multisig: &Multisig, rent_payer: Option<u16>) -> Result<()> {
    let current = ctx.account(index)?;
    let needed = Multisig::size(multisig.members.len());
    let size = if current.data.len() >= needed { current.data.len() } else { needed.max(current.data.len() + 330) };
    let top_up = ctx.rent()?.minimum_balance(size).saturating_sub(current.lamports);
    if top_up > 0 {
        let payer = rent_payer.ok_or_else(|| fail(ctx, MultisigError::MissingAccount))?;
        let transfer = solana_system_interface::instruction::transfer(&ctx.key(payer)?, &current.key, top_up);
        ctx.invoke(transfer, &[])?;
    }
    ctx.set_data(index, &multisig.encode(size))
}
