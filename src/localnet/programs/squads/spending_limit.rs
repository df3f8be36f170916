//! `spending_limit_use`: a member of a spending limit moves tokens (or SOL) out of the vault
//! without a proposal, up to the limit's remaining amount, which resets each period.

use crate::localnet::programs::anchor_error::AnchorError;
use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::squads::checks::{check_multisig_seeds, occurred, require, store};
use crate::squads::accounts::{Multisig, SpendingLimit};
use crate::squads::errors::MultisigError;
use crate::squads::instructions::SpendingLimitUseArgs;
use crate::squads::pdas;
use anchor_lang::error::ErrorCode;
use solana_program_pack::Pack;
use solana_sdk::pubkey::Pubkey;

const MULTISIG: u16 = 0;
const MEMBER: u16 = 1;
const SPENDING_LIMIT: u16 = 2;
const VAULT: u16 = 3;
const DESTINATION: u16 = 4;
const MINT: u16 = 6;
const VAULT_TOKEN_ACCOUNT: u16 = 7;
const DESTINATION_TOKEN_ACCOUNT: u16 = 8;
const TOKEN_PROGRAM: u16 = 9;

pub fn spending_limit_use(ctx: &mut Ctx, args: SpendingLimitUseArgs) -> Result<()> {
    ctx.expect_accounts(&[
        "multisig",
        "member",
        "spending_limit",
        "vault",
        "destination",
        "system_program",
        "mint",
        "vault_token_account",
        "destination_token_account",
        "token_program",
    ])?;
    let multisig: Multisig = ctx.load(MULTISIG, "multisig")?;
    ctx.require_signer(MEMBER, "member")?;
    let mut limit: SpendingLimit = ctx.load(SPENDING_LIMIT, "spending_limit")?;
    let address = ctx.key(MULTISIG)?;
    let program = ctx.program_id()?;
    check_multisig_seeds(ctx, MULTISIG, &multisig)?;
    let expected = Pubkey::create_program_address(
        &[b"multisig", address.as_ref(), b"spending_limit", limit.create_key.as_ref(), &[limit.bump]],
        &program,
    );
    ctx.check_seeds(SPENDING_LIMIT, "spending_limit", expected.ok())?;
    ctx.require_writable(SPENDING_LIMIT, "spending_limit")?;
    let vault = pdas::vault(&address, limit.vault_index).0;
    ctx.check_seeds(VAULT, "vault", Some(vault))?;
    ctx.require_writable(VAULT, "vault")?;
    ctx.require_writable(DESTINATION, "destination")?;
    let (member, destination) = (ctx.key(MEMBER)?, ctx.key(DESTINATION)?);
    require(ctx, limit.members.contains(&member), MultisigError::Unauthorized)?;
    let sol = limit.mint == Pubkey::default();
    let mint = ctx.key(MINT)?;
    require(ctx, if sol { mint == program } else { mint == limit.mint }, MultisigError::InvalidMint)?;
    if !limit.destinations.is_empty() {
        require(ctx, limit.destinations.contains(&destination), MultisigError::InvalidDestination)?;
    }

    let now = ctx.clock()?.unix_timestamp;
    if let Some(period) = limit.period.seconds() {
        let passed = now - limit.last_reset;
        if passed > period {
            limit.remaining_amount = limit.amount;
            limit.last_reset += passed / period * period;
        }
    }
    limit.remaining_amount = limit
        .remaining_amount
        .checked_sub(args.amount)
        .ok_or_else(|| occurred(ctx, MultisigError::SpendingLimitExceeded))?;
    store(ctx, SPENDING_LIMIT, &limit, "spending_limit")?;

    if sol {
        require(ctx, args.decimals == 9, MultisigError::DecimalsMismatch)?;
        let transfer = solana_system_interface::instruction::transfer(&vault, &destination, args.amount);
        return ctx.invoke(transfer, &[vault]);
    }
    let token_program = ctx.key(TOKEN_PROGRAM)?;
    check_token_account(ctx, VAULT_TOKEN_ACCOUNT, "vault_token_account", &limit.mint, &vault)?;
    check_token_account(ctx, DESTINATION_TOKEN_ACCOUNT, "destination_token_account", &limit.mint, &destination)?;
    ctx.log(&format!(
        "token_program {token_program} mint {mint} vault {vault} destination {destination} amount {} decimals {}",
        args.amount, args.decimals
    ));
    let transfer = spl_token_interface::instruction::transfer_checked(
        &token_program,
        &ctx.key(VAULT_TOKEN_ACCOUNT)?,
        &mint,
        &ctx.key(DESTINATION_TOKEN_ACCOUNT)?,
        &vault,
        &[],
        args.amount,
        args.decimals,
    )
    .map_err(|_| occurred(ctx, MultisigError::InvalidAccount))?;
    ctx.invoke(transfer, &[vault])
}

/// Anchor's `token::mint = mint, token::authority = owner` constraints.
fn check_token_account(ctx: &Ctx, index: u16, name: &str, mint: &Pubkey, owner: &Pubkey) -> Result<()> {
    let account = ctx.account(index)?;
    let token = spl_token_interface::state::Account::unpack(&account.data)
        .map_err(|_| ctx.account_error(name, ErrorCode::AccountDidNotDeserialize))?;
    if token.mint != *mint {
        let error = AnchorError::framework(ErrorCode::ConstraintTokenMint).account(name);
        return Err(ctx.raise(error.pubkeys(token.mint, *mint)));
    }
    if token.owner != *owner {
        let error = AnchorError::framework(ErrorCode::ConstraintTokenOwner).account(name);
        return Err(ctx.raise(error.pubkeys(token.owner, *owner)));
    }
    Ok(())
}
