//! The authorizer program, host-compiled: `authorization_create`, `_grantor_update`,
//! `_grantee_update` and `_close`, with upstream's constraints and error codes (spec 2.4).

use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::{args, discriminator_of, fallback_not_found};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::ids::SYSTEM;
use crate::psyche::instructions::authorizer::{
    AuthorizationClose, AuthorizationCreate, AuthorizationGranteeUpdate, AuthorizationGrantorUpdate,
};
use anchor_lang::Discriminator;
use anchor_lang::error::ErrorCode;
use solana_sdk::pubkey::Pubkey;

/// Anchor's `MAX_PERMITTED_DATA_INCREASE`: how much one instruction may grow an account.
const MAX_REALLOC_GROWTH: usize = 10 * 1024;

/// Closing an authorization with delegates waits this long after the last grantor update.
const DELEGATES_CLOSE_DELAY_SECONDS: i64 = 30 * 24 * 60 * 60;

solana_program_runtime::declare_process_instruction!(Entrypoint, 3_000, |invoke_context| {
    let mut ctx = Ctx::new(invoke_context);
    let data = ctx.data()?;
    match discriminator_of(&ctx, &data)? {
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
        _ => Err(fallback_not_found(&ctx)),
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
    const SYSTEM_PROGRAM: u16 = 3;
    ctx.expect_accounts(&["payer", "grantor", "", "system_program"])?;
    ctx.require_signer(PAYER, "payer")?;
    ctx.require_signer(GRANTOR, "grantor")?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    ctx.require_writable(PAYER, "payer")?;
    let program = ctx.program_id()?;
    let (payer, grantor, address) = (ctx.key(PAYER)?, ctx.key(GRANTOR)?, ctx.key(AUTHORIZATION)?);
    let seeds: [&[u8]; 4] = [b"Authorization", grantor.as_ref(), ix.params.grantee.as_ref(), &ix.params.scope];
    // Upstream derives the address with `find_program_address`, which panics on a seed over
    // 32 bytes (a scope that long): the transaction fails as a panicking program's does.
    let Some((expected, bump)) = Pubkey::try_find_program_address(&seeds, &program) else {
        return Err(ctx.panic("Unable to find a viable program address bump seed"));
    };
    ctx.check_seeds(AUTHORIZATION, "authorization", Some(expected))?;
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
    ctx.expect_accounts(&["grantor", "authorization"])?;
    ctx.require_signer(GRANTOR, "grantor")?;
    load(ctx, AUTHORIZATION)?;
    ctx.require_writable(AUTHORIZATION, "authorization")?;
    let mut auth = load_for(ctx, AUTHORIZATION, GRANTOR, |a| a.grantor)?;
    auth.active = ix.params.active;
    auth.grantor_update_unix_timestamp = ctx.clock()?.unix_timestamp;
    store(ctx, AUTHORIZATION, &auth)
}

fn grantee_update(ctx: &mut Ctx, ix: AuthorizationGranteeUpdate) -> Result<()> {
    const PAYER: u16 = 0;
    const GRANTEE: u16 = 1;
    const AUTHORIZATION: u16 = 2;
    const SYSTEM_PROGRAM: u16 = 3;
    ctx.expect_accounts(&["payer", "grantee", "authorization", "system_program"])?;
    ctx.require_signer(PAYER, "payer")?;
    ctx.require_signer(GRANTEE, "grantee")?;
    load(ctx, AUTHORIZATION)?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    ctx.require_writable(PAYER, "payer")?;
    ctx.require_writable(AUTHORIZATION, "authorization")?;
    let mut auth = load_for(ctx, AUTHORIZATION, GRANTEE, |a| a.grantee)?;
    if ix.params.delegates_clear {
        auth.delegates.clear();
    }
    auth.delegates.extend(ix.params.delegates_added);
    realloc(ctx, AUTHORIZATION, PAYER, Authorization::space(auth.scope.len(), auth.delegates.len()))?;
    store(ctx, AUTHORIZATION, &auth)
}

/// Anchor's `realloc` with `realloc::payer` and `realloc::zero`: growth (at most 10 KiB per
/// instruction, else 3016) is paid by the payer up to rent exemption; shrinking refunds the
/// lamports above rent exemption to the payer.
fn realloc(ctx: &mut Ctx, index: u16, payer: u16, space: usize) -> Result<()> {
    let current = ctx.account(index)?;
    if space > current.data.len() && space - current.data.len() > MAX_REALLOC_GROWTH {
        return Err(ctx.account_error("authorization", ErrorCode::AccountReallocExceedsLimit));
    }
    let needed = ctx.rent()?.minimum_balance(space);
    if needed > current.lamports {
        let transfer =
            solana_system_interface::instruction::transfer(&ctx.key(payer)?, &current.key, needed - current.lamports);
        ctx.invoke(transfer, &[])?;
    } else if needed < current.lamports {
        ctx.move_lamports(index, payer, current.lamports - needed)?;
    }
    ctx.set_data_length(index, space)
}

fn close(ctx: &mut Ctx) -> Result<()> {
    const GRANTOR: u16 = 0;
    const SPILL: u16 = 1;
    const AUTHORIZATION: u16 = 2;
    const SYSTEM_PROGRAM: u16 = 3;
    ctx.expect_accounts(&["grantor", "spill", "authorization", "system_program"])?;
    ctx.require_signer(GRANTOR, "grantor")?;
    ctx.require_system_owned(SPILL, "spill")?;
    load(ctx, AUTHORIZATION)?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    ctx.require_writable(SPILL, "spill")?;
    ctx.require_writable(AUTHORIZATION, "authorization")?;
    let auth = load_for(ctx, AUTHORIZATION, GRANTOR, |a| a.grantor)?;
    if auth.active {
        return Err(ctx.throw(6000, "AuthorizationActiveIsTrue", "AuthorizationActive is true"));
    }
    let now = ctx.clock()?.unix_timestamp;
    if !auth.delegates.is_empty()
        && now < auth.grantor_update_unix_timestamp.saturating_add(DELEGATES_CLOSE_DELAY_SECONDS)
    {
        return Err(ctx.throw(
            6001,
            "AuthorizationClosingConditionsNotReachedYet",
            "Authorization closing conditions not reached yet",
        ));
    }
    ctx.close(AUTHORIZATION, SPILL)
}
