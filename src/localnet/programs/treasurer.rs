//! The treasurer program, host-compiled (spec 2.5): rewarded runs own their coordinator through a
//! `Run` PDA, which signs the coordinator CPIs and the collateral transfers of claims.

use crate::localnet::programs::anchor_error::AnchorError;
use crate::localnet::programs::context::{Ctx, Result};
use crate::localnet::programs::{args, discriminator_of, fallback_not_found};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::coordinator_account::CoordinatorAccount;
use crate::psyche::accounts::treasurer::{PARTICIPANT_SIZE, Participant, RUN_SIZE, TreasurerRun};
use crate::psyche::ids::{ASSOCIATED_TOKEN, SYSTEM, TOKEN};
use crate::psyche::instructions::coordinator::{
    self, InitCoordinator, InitCoordinatorAccounts, OwnerAccounts, SetFutureEpochRates, SetPaused, Update,
    UpdateClientVersion,
};
use crate::psyche::instructions::system::token_transfer;
use crate::psyche::instructions::treasurer::{ParticipantClaim, ParticipantCreate, RunCreate, RunUpdate};
use crate::psyche::pdas::{MAX_RUN_ID_LEN, associated_token};
use anchor_lang::Discriminator;
use anchor_lang::error::ErrorCode;
use solana_program_pack::Pack;
use solana_sdk::pubkey::Pubkey;

solana_program_runtime::declare_process_instruction!(Entrypoint, 5_000, |invoke_context| {
    let mut ctx = Ctx::new(invoke_context);
    let data = ctx.data()?;
    match discriminator_of(&ctx, &data)? {
        d if d == RunCreate::DISCRIMINATOR => {
            let ix: RunCreate = args(&ctx, &data)?;
            run_create(&mut ctx, ix)
        }
        d if d == RunUpdate::DISCRIMINATOR => {
            let ix: RunUpdate = args(&ctx, &data)?;
            run_update(&mut ctx, ix)
        }
        d if d == ParticipantCreate::DISCRIMINATOR => participant_create(&mut ctx),
        d if d == ParticipantClaim::DISCRIMINATOR => {
            let ix: ParticipantClaim = args(&ctx, &data)?;
            participant_claim(&mut ctx, ix)
        }
        _ => Err(fallback_not_found(&ctx)),
    }
});

#[track_caller]
fn invalid_parameter(ctx: &Ctx, why: &str) -> solana_sdk::instruction::InstructionError {
    ctx.log(why);
    ctx.throw(6000, "InvalidParameter", "Invalid parameter")
}

fn load_run(ctx: &Ctx, index: u16) -> Result<TreasurerRun> {
    ctx.load(index, "run")
}

fn run_create(ctx: &mut Ctx, ix: RunCreate) -> Result<()> {
    const PAYER: u16 = 0;
    const RUN: u16 = 1;
    const RUN_COLLATERAL: u16 = 2;
    const COLLATERAL_MINT: u16 = 3;
    const INSTANCE: u16 = 4;
    const ACCOUNT: u16 = 5;
    const COORDINATOR_PROGRAM: u16 = 6;
    const ASSOCIATED_TOKEN_PROGRAM: u16 = 7;
    const TOKEN_PROGRAM: u16 = 8;
    const SYSTEM_PROGRAM: u16 = 9;
    ctx.expect_accounts(&[
        "payer",
        "",
        "",
        "collateral_mint",
        "coordinator_instance",
        "coordinator_account",
        "coordinator_program",
        "associated_token_program",
        "token_program",
        "system_program",
    ])?;
    ctx.require_signer(PAYER, "payer")?;
    let ids = ctx.ids();
    let mint = ctx.account(COLLATERAL_MINT)?;
    if mint.is_empty() {
        return Err(ctx.not_initialized("collateral_mint"));
    }
    if mint.owner != TOKEN {
        return Err(ctx.wrong_owner("collateral_mint", mint.owner, TOKEN));
    }
    spl_token_interface::state::Mint::unpack(&mint.data)
        .map_err(|_| ctx.account_error("collateral_mint", ErrorCode::AccountDidNotDeserialize))?;
    ctx.require_program(COORDINATOR_PROGRAM, &ids.coordinator, "coordinator_program")?;
    ctx.require_program(ASSOCIATED_TOKEN_PROGRAM, &ASSOCIATED_TOKEN, "associated_token_program")?;
    ctx.require_program(TOKEN_PROGRAM, &TOKEN, "token_program")?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    ctx.require_writable(PAYER, "payer")?;
    let params = ix.params;
    if params.run_id.len() > MAX_RUN_ID_LEN {
        return Err(ctx.throw(6001, "RunIdInvalidLength", "run_id must be 32 bytes or less"));
    }
    let program = ctx.program_id()?;
    let (payer, run) = (ctx.key(PAYER)?, ctx.key(RUN)?);
    let (expected, bump) = Pubkey::find_program_address(&[b"Run", &params.index.to_le_bytes()], &program);
    ctx.check_seeds(RUN, "run", Some(expected))?;
    if ctx.key(RUN_COLLATERAL)? != associated_token(&run, &mint.key) {
        return Err(ctx.account_error("run_collateral", ErrorCode::AccountNotAssociatedTokenAccount));
    }
    ctx.require_writable(INSTANCE, "coordinator_instance")?;
    ctx.require_writable(ACCOUNT, "coordinator_account")?;
    ctx.create_pda(payer, run, RUN_SIZE, &program)?;
    let create_ata = spl_associated_token_account_interface::instruction::create_associated_token_account(
        &payer, &run, &mint.key, &TOKEN,
    );
    ctx.invoke(create_ata, &[])?;
    let (instance, account) = (ctx.key(INSTANCE)?, ctx.key(ACCOUNT)?);
    let init = InitCoordinator {
        params: coordinator::InitCoordinatorParams {
            main_authority: run,
            join_authority: params.join_authority,
            run_id: params.run_id,
            client_version: params.client_version,
        },
    };
    let accounts = InitCoordinatorAccounts { payer, coordinator_instance: instance, coordinator_account: account };
    ctx.invoke(coordinator::instruction(&ids, &accounts, &init), &[run])?;
    let state = TreasurerRun {
        bump,
        index: params.index,
        main_authority: params.main_authority,
        join_authority: params.join_authority,
        coordinator_account: account,
        coordinator_instance: instance,
        collateral_mint: mint.key,
        total_claimed_collateral_amount: 0,
        total_claimed_earned_points: 0,
    };
    ctx.set_data(RUN, &state.encode(RUN_SIZE))
}

fn run_update(ctx: &mut Ctx, ix: RunUpdate) -> Result<()> {
    const AUTHORITY: u16 = 0;
    const RUN: u16 = 1;
    const INSTANCE: u16 = 2;
    const ACCOUNT: u16 = 3;
    const COORDINATOR_PROGRAM: u16 = 4;
    ctx.expect_accounts(&["authority", "run", "coordinator_instance", "coordinator_account", "coordinator_program"])?;
    ctx.require_signer(AUTHORITY, "authority")?;
    let state = load_run(ctx, RUN)?;
    let ids = ctx.ids();
    check_coordinator_owned(ctx, INSTANCE, &ids.coordinator, "coordinator_instance")?;
    check_coordinator_owned(ctx, ACCOUNT, &ids.coordinator, "coordinator_account")?;
    ctx.require_program(COORDINATOR_PROGRAM, &ids.coordinator, "coordinator_program")?;
    if state.main_authority != ctx.key(AUTHORITY)? {
        return Err(ctx.constraint_raw("run"));
    }
    let (instance, account) = (ctx.key(INSTANCE)?, ctx.key(ACCOUNT)?);
    if state.coordinator_instance != instance || state.coordinator_account != account {
        return Err(ctx.constraint_raw("run"));
    }
    ctx.require_writable(ACCOUNT, "coordinator_account")?;
    let run = ctx.key(RUN)?;
    let owner = OwnerAccounts { authority: run, coordinator_instance: instance, coordinator_account: account };
    let p = ix.params;
    // The program's fixed order: update, rates, paused, client version.
    if p.metadata.is_some() || p.config.is_some() || p.model.is_some() || p.progress.is_some() {
        let update = Update { metadata: p.metadata, config: p.config, model: p.model, progress: p.progress };
        ctx.invoke(coordinator::instruction(&ids, &owner, &update), &[run])?;
    }
    if p.epoch_earning_rate_total_shared.is_some() || p.epoch_slashing_rate_per_client.is_some() {
        let rates = SetFutureEpochRates {
            epoch_earning_rate_total_shared: p.epoch_earning_rate_total_shared,
            epoch_slashing_rate_per_client: p.epoch_slashing_rate_per_client,
        };
        ctx.invoke(coordinator::instruction(&ids, &owner, &rates), &[run])?;
    }
    if let Some(paused) = p.paused {
        ctx.invoke(coordinator::instruction(&ids, &owner, &SetPaused { paused }), &[run])?;
    }
    if let Some(new_version) = p.client_version {
        ctx.invoke(coordinator::instruction(&ids, &owner, &UpdateClientVersion { new_version }), &[run])?;
    }
    Ok(())
}

fn participant_create(ctx: &mut Ctx) -> Result<()> {
    const PAYER: u16 = 0;
    const USER: u16 = 1;
    const RUN: u16 = 2;
    const PARTICIPANT: u16 = 3;
    const SYSTEM_PROGRAM: u16 = 4;
    ctx.expect_accounts(&["payer", "user", "run", "", "system_program"])?;
    ctx.require_signer(PAYER, "payer")?;
    ctx.require_signer(USER, "user")?;
    load_run(ctx, RUN)?;
    ctx.require_program(SYSTEM_PROGRAM, &SYSTEM, "system_program")?;
    ctx.require_writable(PAYER, "payer")?;
    let program = ctx.program_id()?;
    let (payer, user, run, participant) = (ctx.key(PAYER)?, ctx.key(USER)?, ctx.key(RUN)?, ctx.key(PARTICIPANT)?);
    let (expected, bump) = Pubkey::find_program_address(&[b"Participant", run.as_ref(), user.as_ref()], &program);
    ctx.check_seeds(PARTICIPANT, "participant", Some(expected))?;
    ctx.create_pda(payer, participant, PARTICIPANT_SIZE, &program)?;
    let state = Participant { bump, claimed_collateral_amount: 0, claimed_earned_points: 0 };
    ctx.set_data(PARTICIPANT, &state.encode(PARTICIPANT_SIZE))
}

/// `Account<T>` / `AccountLoader<T>` of a coordinator type: initialized (3012) and owned by
/// the coordinator program (3007).
fn check_coordinator_owned(ctx: &Ctx, index: u16, coordinator: &Pubkey, account: &str) -> Result<()> {
    let acc = ctx.account(index)?;
    if acc.is_empty() {
        return Err(ctx.not_initialized(account));
    }
    if acc.owner != *coordinator {
        return Err(ctx.wrong_owner(account, acc.owner, *coordinator));
    }
    Ok(())
}

/// `Account<TokenAccount>`: owned by the token program (3007) and a token account (3003).
fn load_token_account(ctx: &Ctx, index: u16, account: &str) -> Result<spl_token_interface::state::Account> {
    let acc = ctx.account(index)?;
    if acc.is_empty() {
        return Err(ctx.not_initialized(account));
    }
    if acc.owner != TOKEN {
        return Err(ctx.wrong_owner(account, acc.owner, TOKEN));
    }
    spl_token_interface::state::Account::unpack(&acc.data)
        .map_err(|_| ctx.account_error(account, ErrorCode::AccountDidNotDeserialize))
}

fn participant_claim(ctx: &mut Ctx, ix: ParticipantClaim) -> Result<()> {
    const USER: u16 = 0;
    const USER_COLLATERAL: u16 = 1;
    const RUN: u16 = 2;
    const RUN_COLLATERAL: u16 = 3;
    const ACCOUNT: u16 = 4;
    const PARTICIPANT: u16 = 5;
    const TOKEN_PROGRAM: u16 = 6;
    ctx.expect_accounts(&[
        "user",
        "user_collateral",
        "run",
        "run_collateral",
        "coordinator_account",
        "participant",
        "token_program",
    ])?;
    ctx.require_signer(USER, "user")?;
    let user = ctx.key(USER)?;
    let user_token = load_token_account(ctx, USER_COLLATERAL, "user_collateral")?;
    let mut run_state = load_run(ctx, RUN)?;
    let run_token = load_token_account(ctx, RUN_COLLATERAL, "run_collateral")?;
    check_coordinator_owned(ctx, ACCOUNT, &ctx.ids().coordinator, "coordinator_account")?;
    let mut participant: Participant = ctx.load(PARTICIPANT, "participant")?;
    ctx.require_program(TOKEN_PROGRAM, &TOKEN, "token_program")?;
    let run = ctx.key(RUN)?;
    ctx.require_writable(USER_COLLATERAL, "user_collateral")?;
    if user_token.mint != run_state.collateral_mint || user_token.owner != user || user_token.delegate.is_some() {
        return Err(ctx.constraint_raw("user_collateral"));
    }
    ctx.require_writable(RUN, "run")?;
    let account = ctx.account(ACCOUNT)?;
    if account.key != run_state.coordinator_account {
        return Err(ctx.constraint_raw("run"));
    }
    ctx.require_writable(RUN_COLLATERAL, "run_collateral")?;
    // `associated_token::…`: the owner first, then the address (each with the two keys).
    if run_token.owner != run {
        let error = AnchorError::framework(ErrorCode::ConstraintTokenOwner).account("run_collateral");
        return Err(ctx.raise(error.pubkeys(run_token.owner, run)));
    }
    let (given, ata) = (ctx.key(RUN_COLLATERAL)?, associated_token(&run, &run_state.collateral_mint));
    if given != ata {
        return Err(ctx.raise(
            AnchorError::framework(ErrorCode::ConstraintAssociated).account("run_collateral").pubkeys(given, ata),
        ));
    }
    let coordinator =
        CoordinatorAccount::decode(&account.data).map_err(|_| ctx.constraint_raw("coordinator_account"))?;
    ctx.require_writable(PARTICIPANT, "participant")?;
    let expected = Pubkey::create_program_address(
        &[b"Participant", run.as_ref(), user.as_ref(), &[participant.bump]],
        &ctx.program_id()?,
    );
    ctx.check_seeds(PARTICIPANT, "participant", expected.ok())?;
    let earned = coordinator.clients.iter().find(|c| c.signer == user).map_or(0, |c| c.earned);
    let claim = ix.params.claim_earned_points;
    let claimable = earned.saturating_sub(participant.claimed_earned_points);
    if claim > claimable {
        return Err(invalid_parameter(ctx, &format!("claim of {claim} points exceeds the {claimable} claimable")));
    }
    participant.claimed_earned_points += claim;
    participant.claimed_collateral_amount += claim;
    run_state.total_claimed_earned_points += claim;
    run_state.total_claimed_collateral_amount += claim;
    ctx.set_data(PARTICIPANT, &participant.encode(PARTICIPANT_SIZE))?;
    ctx.set_data(RUN, &run_state.encode(RUN_SIZE))?;
    let transfer = token_transfer(&ctx.key(RUN_COLLATERAL)?, &ctx.key(USER_COLLATERAL)?, &run, claim);
    ctx.invoke(transfer, &[run])?;
    Ok(())
}
