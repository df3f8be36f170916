//! The Squads v4 program, host-compiled at the upstream ID: multisig creation, vault and config
//! transactions, proposals and votes (`proposal_cancel_v2` included), execution (the vault signs
//! CPIs into any program), spending limits and the transaction accounts-close instructions,
//! with upstream's constraints in its Anchor structs' order, permission checks, time lock,
//! stale transaction rule, error codes and log lines. The rest of the IDL answers 101, as an
//! Anchor program does for an unknown discriminator. Dispatch and the checks every instruction
//! shares live here.

mod close;
mod config;
mod create;
mod execute;
mod proposals;
mod spending_limit;
mod votes;

use crate::localnet::programs::anchor_error::AnchorError;
use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::{args, discriminator_of, fallback_not_found};
use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::{Multisig, Permission};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::{
    ConfigTransactionAccountsClose, ConfigTransactionCreateArgs, ConfigTransactionExecute, MultisigCreateArgsV2,
    ProposalActivate, ProposalCancelV2, ProposalCreateArgs, ProposalVoteArgs, SpendingLimitUseArgs, TransactionKind,
    VaultTransactionAccountsClose, VaultTransactionCreateArgs, VaultTransactionExecute, Vote,
};
use anchor_lang::Discriminator;
use anchor_lang::error::ErrorCode;
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
            let _: ProposalVoteArgs = args(&ctx, &data)?;
            return votes::vote(&mut ctx, vote);
        }
    }
    if d == ProposalCancelV2::DISCRIMINATOR_BYTES {
        let _: ProposalVoteArgs = args(&ctx, &data)?;
        return votes::proposal_cancel_v2(&mut ctx);
    }
    if d == VaultTransactionExecute::DISCRIMINATOR {
        return execute::vault_transaction_execute(&mut ctx);
    }
    if d == ConfigTransactionExecute::DISCRIMINATOR {
        return config::config_transaction_execute(&mut ctx);
    }
    if d == ConfigTransactionAccountsClose::DISCRIMINATOR {
        return close::transaction_accounts_close(&mut ctx, TransactionKind::Config);
    }
    if d == VaultTransactionAccountsClose::DISCRIMINATOR {
        return close::transaction_accounts_close(&mut ctx, TransactionKind::Vault);
    }
    if d == SpendingLimitUseArgs::DISCRIMINATOR {
        let ix: SpendingLimitUseArgs = args(&ctx, &data)?;
        return spending_limit::spending_limit_use(&mut ctx, ix);
    }
    Err(fallback_not_found(&ctx))
});

fn anchor(error: MultisigError) -> AnchorError {
    AnchorError::new(error.code(), error.name(), error.message())
}

/// Upstream's `err!(MultisigError::…)`: logged with the line that raised it.
#[track_caller]
fn fail(ctx: &Ctx, error: MultisigError) -> InstructionError {
    ctx.raise(anchor(error).thrown())
}

/// Upstream's `.ok_or(MultisigError::…)?` and `.into()`: logged with no origin.
fn occurred(ctx: &Ctx, error: MultisigError) -> InstructionError {
    ctx.raise(anchor(error))
}

/// Upstream's `require!`: fails with `error` unless `condition` holds.
#[track_caller]
fn require(ctx: &Ctx, condition: bool, error: MultisigError) -> Result<()> {
    if condition { Ok(()) } else { Err(fail(ctx, error)) }
}

/// Upstream's `require_keys_eq!`: the two keys follow the error.
#[track_caller]
fn require_keys_eq(ctx: &Ctx, left: Pubkey, right: Pubkey, error: MultisigError) -> Result<()> {
    if left == right { Ok(()) } else { Err(ctx.raise(anchor(error).pubkeys(left, right).thrown())) }
}

/// Upstream's `require_eq!`: the two values follow the error.
#[track_caller]
fn require_eq(ctx: &Ctx, left: usize, right: usize, error: MultisigError) -> Result<()> {
    if left == right { Ok(()) } else { Err(ctx.raise(anchor(error).values(left, right).thrown())) }
}

/// `Account<Multisig>`'s `seeds = [prefix, "multisig", create_key], bump = multisig.bump`
/// (Anchor checks seeds once every account is loaded).
fn check_multisig_seeds(ctx: &Ctx, index: u16, multisig: &Multisig) -> Result<()> {
    let expected = Pubkey::create_program_address(
        &[b"multisig", b"multisig", multisig.create_key.as_ref(), &[multisig.bump]],
        &ctx.program_id()?,
    );
    ctx.check_seeds(index, "multisig", expected.ok())
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

/// Writes `value` over the account at `index`, zero-padded to its size; Anchor's exit fails
/// with `AccountDidNotSerialize` (3004) for `account` when it does not fit.
fn store<T: BorshAccount>(ctx: &mut Ctx, index: u16, value: &T, account: &str) -> Result<()> {
    let size = ctx.account(index)?.data.len();
    let mut data = T::DISCRIMINATOR.to_vec();
    value.serialize(&mut data).expect("serializing to a Vec cannot fail");
    if data.len() > size {
        return Err(ctx.account_error(account, ErrorCode::AccountDidNotSerialize));
    }
    data.resize(size, 0);
    ctx.set_data(index, &data)
}

/// Writes the multisig back, growing the account (by at least ten members, as upstream does)
/// with rent from `rent_payer` when its members no longer fit.
fn store_multisig(ctx: &mut Ctx, index: u16, multisig: &Multisig, rent_payer: Option<u16>) -> Result<()> {
    let current = ctx.account(index)?;
    let needed = Multisig::size(multisig.members.len());
    let size = if current.data.len() >= needed { current.data.len() } else { needed.max(current.data.len() + 330) };
    let top_up = ctx.rent()?.minimum_balance(size).saturating_sub(current.lamports);
    if top_up > 0 {
        let payer = rent_payer.ok_or_else(|| occurred(ctx, MultisigError::MissingAccount))?;
        let transfer = solana_system_interface::instruction::transfer(&ctx.key(payer)?, &current.key, top_up);
        ctx.invoke(transfer, &[])?;
    }
    ctx.set_data(index, &multisig.encode(size))
}
