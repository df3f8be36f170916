//! The checks and writes every Squads instruction shares: Anchor errors for the program's own
//! codes, `require!`-style checks, the multisig's seeds, members and invariant, and storing
//! accounts back (reallocating a multisig as upstream does).

use crate::localnet::programs::anchor_error::AnchorError;
use crate::localnet::programs::context::{Ctx, Result};
use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::{Multisig, Permission};
use crate::squads::errors::MultisigError;
use anchor_lang::error::ErrorCode;
use solana_sdk::instruction::InstructionError;
use solana_sdk::pubkey::Pubkey;

pub fn anchor(error: MultisigError) -> AnchorError {
    AnchorError::new(error.code(), error.name(), error.message())
}

/// Upstream's `err!(MultisigError::…)`: logged with the line that raised it.
#[track_caller]
pub fn fail(ctx: &Ctx, error: MultisigError) -> InstructionError {
    ctx.raise(anchor(error).thrown())
}

/// Upstream's `.ok_or(MultisigError::…)?` and `.into()`: logged with no origin.
pub fn occurred(ctx: &Ctx, error: MultisigError) -> InstructionError {
    ctx.raise(anchor(error))
}

/// Upstream's `require!`: fails with `error` unless `condition` holds.
#[track_caller]
pub fn require(ctx: &Ctx, condition: bool, error: MultisigError) -> Result<()> {
    if condition { Ok(()) } else { Err(fail(ctx, error)) }
}

/// Upstream's `require_keys_eq!`: the two keys follow the error.
#[track_caller]
pub fn require_keys_eq(ctx: &Ctx, left: Pubkey, right: Pubkey, error: MultisigError) -> Result<()> {
    if left == right { Ok(()) } else { Err(ctx.raise(anchor(error).pubkeys(left, right).thrown())) }
}

/// Upstream's `require_eq!`: the two values follow the error.
#[track_caller]
pub fn require_eq(ctx: &Ctx, left: usize, right: usize, error: MultisigError) -> Result<()> {
    if left == right { Ok(()) } else { Err(ctx.raise(anchor(error).values(left, right).thrown())) }
}

/// `Account<Multisig>`'s `seeds = [prefix, "multisig", create_key], bump = multisig.bump`
/// (Anchor checks seeds once every account is loaded).
pub fn check_multisig_seeds(ctx: &Ctx, index: u16, multisig: &Multisig) -> Result<()> {
    let expected = Pubkey::create_program_address(
        &[b"multisig", b"multisig", multisig.create_key.as_ref(), &[multisig.bump]],
        &ctx.program_id()?,
    );
    ctx.check_seeds(index, "multisig", expected.ok())
}

/// Checks that `member` belongs to the multisig (NotAMember) and holds `permission`
/// (Unauthorized).
pub fn require_member(ctx: &Ctx, multisig: &Multisig, member: &Pubkey, permission: Permission) -> Result<()> {
    require(ctx, multisig.member(member).is_some(), MultisigError::NotAMember)?;
    require(ctx, multisig.has_permission(member, permission), MultisigError::Unauthorized)
}

/// Upstream's `Multisig::invariant`.
pub fn invariant(ctx: &Ctx, m: &Multisig) -> Result<()> {
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
pub fn store<T: BorshAccount>(ctx: &mut Ctx, index: u16, value: &T, account: &str) -> Result<()> {
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
pub fn store_multisig(ctx: &mut Ctx, index: u16, multisig: &Multisig, rent_payer: Option<u16>) -> Result<()> {
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
