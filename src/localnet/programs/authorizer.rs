//! The authorizer program, host-compiled: `authorization_create`, `_grantor_update`,
//! `_grantee_update` and `_close`, with upstream's constraints and error codes (spec 2.4).

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::{args, discriminator_of};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::instructions::authorizer::{
    AuthorizationClose, AuthorizationCreate, AuthorizationGranteeUpdate, AuthorizationGrantorUpdate,
};
use anchor_lang::Discriminator;
use solana_sdk::pubkey::Pubkey;

/// Closing an authorization with delegates waits this long after the last grantor update.
const DELEGATES_CLOSE_DELAY_SECONDS: i64 = 30 * 24 * 60 * 60;

solana_program_runtime::declare_process_instruction!(Entrypoint, 3_000, |invoke_context| {
    let mut ctx = Ctx::new(invoke_context);
    let data = ctx.data()?;
    match discriminator_of(&data)? {
        d if d == AuthorizationCreate::DISCRIMINATOR => {
            let ix: AuthorizationCreate = args(&ctx, &data)?;
            create(&mut ctx, ix)
        }
        d if d == AuthorizationGrantorUpdate::DISCRIMINATOR => {
            let ix: AuthorizationGrantorUpdate = args(&ctx, &data)?;
            grantor_update(&mut ctx, ix)
        }
        d if d == AuthorizationGranteeUpdate::DISCRIMINATOR => {
            let ix: AuthorizationGranteeUpdate = args(&ctx, &data)?;
            grantee_update(&mut ctx, ix)
        }
        d if d == AuthorizationClose::DISCRIMINATOR => close(&mut ctx),
        _ => Err(ctx.fail(101, "InstructionFallbackNotFound", "Fallback functions are not supported")),
    }
});

/// Loads the authorization at `index`, checking owner and discriminator.
fn load(ctx: &Ctx, index: u16) -> Result<Authorization> {
    ctx.load(index, "authorization")
}

/// The authorization at `index`, which the account at `signer` must be the grantor or grantee
/// of (`party` picks which); Anchor's `constraint` on it fails with 2003.
fn load_for(ctx: &Ctx, index: u16, signer: u16, party: fn(&Authorization) -> Pubkey) -> Result<Authorization> {
    let auth = load(ctx, index)?;
    if party(&auth) != ctx.key(signer)? {
        return Err(ctx.constraint_raw("authorization"));
    }
    Ok(auth)
}

fn store(ctx: &mut Ctx, index: u16, auth: &Authorization) -> Result<()> {
    let len = ctx.account(index)?.data.len();
    ctx.set_data(index, &auth.encode(len))
}

fn create(ctx: &mut Ctx, ix: AuthorizationCreate) -> Result<()> {
    const PAYER: u16 = 0;
    const GRANTOR: u16 = 1;
    const AUTHORIZATION: u16 = 2;
    ctx.expect_accounts(4)?;
    ctx.require_signer(PAYER, "payer")?;
    ctx.require_signer(GRANTOR, "grantor")?;
    let program = ctx.program_id()?;
    let (payer, grantor, address) = (ctx.key(PAYER)?, ctx.key(GRANTOR)?, ctx.key(AUTHORIZATION)?);
    let seeds: [&[u8]; 4] = [b"Authorization", grantor.as_ref(), ix.params.grantee.as_ref(), &ix.params.scope];
    let (expected, bump) = Pubkey::find_program_address(&seeds, &program);
    if expected != address {
        return Err(ctx.constraint_seeds("authorization"));
    }
    let space = Authorization::space(ix.params.scope.len(), 0);
    ctx.create_pda(payer, address, space, &program)?;
    let auth = Authorization {
        bump,
        grantor,
        grantee: ix.params.grantee,
        scope: ix.params.scope,
        active: false,
        delegates: Vec::new(),
        grantor_update_unix_timestamp: 0,
    };
    store(ctx, AUTHORIZATION, &auth)
}

fn grantor_update(ctx: &mut Ctx, ix: AuthorizationGrantorUpdate) -> Result<()> {
    const GRANTOR: u16 = 0;
    const AUTHORIZATION: u16 = 1;
    ctx.expect_accounts(2)?;
    ctx.require_signer(GRANTOR, "grantor")?;
    let mut auth = load_for(ctx, AUTHORIZATION, GRANTOR, |a| a.grantor)?;
    auth.active = ix.params.active;
    auth.grantor_update_unix_timestamp = ctx.clock()?.unix_timestamp;
    store(ctx, AUTHORIZATION, &auth)
}

fn grantee_update(ctx: &mut Ctx, ix: AuthorizationGranteeUpdate) -> Result<()> {
    const PAYER: u16 = 0;
    const GRANTEE: u16 = 1;
    const AUTHORIZATION: u16 = 2;
    ctx.expect_accounts(4)?;
    ctx.require_signer(PAYER, "payer")?;
    ctx.require_signer(GRANTEE, "grantee")?;
    let mut auth = load_for(ctx, AUTHORIZATION, GRANTEE, |a| a.grantee)?;
    if ix.params.delegates_clear {
        auth.delegates.clear();
    }
    auth.delegates.extend(ix.params.delegates_added);
    // Anchor's `realloc`, paid by the payer, zero-initialized.
    let space = Authorization::space(auth.scope.len(), auth.delegates.len());
    let current = ctx.account(AUTHORIZATION)?;
    let needed = ctx.rent()?.minimum_balance(space);
    if needed > current.lamports {
        let transfer =
            solana_system_interface::instruction::transfer(&ctx.key(PAYER)?, &current.key, needed - current.lamports);
        ctx.invoke(transfer, &[])?;
    }
    ctx.set_data_length(AUTHORIZATION, space)?;
    store(ctx, AUTHORIZATION, &auth)
}

fn close(ctx: &mut Ctx) -> Result<()> {
    const GRANTOR: u16 = 0;
    const SPILL: u16 = 1;
    const AUTHORIZATION: u16 = 2;
    ctx.expect_accounts(4)?;
    ctx.require_signer(GRANTOR, "grantor")?;
    let auth = load_for(ctx, AUTHORIZATION, GRANTOR, |a| a.grantor)?;
    if auth.active {
        return Err(ctx.fail(6000, "AuthorizationActiveIsTrue", "Authorization is still active"));
    }
    let now = ctx.clock()?.unix_timestamp;
    if !auth.delegates.is_empty() && now < auth.grantor_update_unix_timestamp + DELEGATES_CLOSE_DELAY_SECONDS {
        return Err(ctx.fail(
            6001,
            "AuthorizationClosingConditionsNotReachedYet",
            "Authorization has delegates and was updated less than 30 days ago",
        ));
    }
    ctx.close(AUTHORIZATION, SPILL)
}
