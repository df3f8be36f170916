//! Reports for runbooks: the run and user reports (upstream's `json-dump-run` and
//! `json-dump-user` shapes), the treasury's funding, and whether a user may join.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::runs::RunHandle;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::accounts::instance::CoordinatorInstance;
use crate::psyche::accounts::treasurer::{Participant, TreasurerRun};
use crate::psyche::pdas::{self, JOIN_RUN_SCOPE, PERMISSIONLESS_GRANTEE};
use crate::psyche::report::{self, ParticipantView};
use crate::psyche::run_view::{Funding, RunView, TreasurerView};
use serde_json::Value;
use solana_program_pack::Pack;
use solana_sdk::pubkey::Pubkey;

/// The balance (native units) of a token account, 0 when it does not exist.
pub fn token_balance(host: &Host, account: &Pubkey) -> Result<u64, HostError> {
    Ok(match host.account(account)? {
        Some(a) => spl_token_interface::state::Account::unpack(&a.data).map(|t| t.amount).unwrap_or(0),
        None => 0,
    })
}

/// The treasurer Run, its collateral balance and the mint's decimals.
pub struct Treasury {
    pub address: Pubkey,
    pub run: TreasurerRun,
    pub collateral: Pubkey,
    pub balance: u64,
    pub decimals: u8,
}

pub fn treasury(host: &Host, r: &RunHandle) -> Result<Treasury, HostError> {
    let t = r.treasurer.as_ref().ok_or_else(|| {
        HostError::input(format!("run \"{}\" has no treasury (it was created without a collateral mint)", r.run_id))
    })?;
    let collateral = pdas::associated_token(&t.address, &t.mint);
    // One batched read for what treasury operations and reports need, the coordinator included.
    host.accounts(&[t.address, collateral, t.mint, r.account])?;
    let account =
        host.account(&t.address)?.ok_or_else(|| HostError::chain(format!("treasurer run {} is gone", t.address)))?;
    let run = TreasurerRun::decode(&account.data).map_err(|e| HostError::chain(e.to_string()))?;
    Ok(Treasury {
        address: t.address,
        balance: token_balance(host, &collateral)?,
        collateral,
        decimals: r.decimals(host)?,
        run,
    })
}

pub fn funding(host: &Host, r: &RunHandle) -> Result<(Funding, u8), HostError> {
    let t = treasury(host, r)?;
    Ok((Funding::new(&r.coordinator(host)?, &t.run, t.balance), t.decimals))
}

pub fn run_report(host: &Host, r: &RunHandle) -> Result<report::RunReport, HostError> {
    let instance_account = host.account(&r.instance)?.ok_or_else(|| HostError::chain("the run's instance is gone"))?;
    let instance = CoordinatorInstance::decode(&instance_account.data).map_err(|e| HostError::chain(e.to_string()))?;
    let account = r.coordinator(host)?;
    let treasury = match r.treasurer {
        Some(_) => Some(treasury(host, r)?),
        None => None,
    };
    let view = RunView {
        instance_address: r.instance,
        instance: &instance,
        account_address: r.account,
        account: &account,
        treasurer: treasury.as_ref().map(|t| TreasurerView {
            address: t.address,
            run: &t.run,
            collateral_amount: t.balance,
            mint_decimals: t.decimals,
        }),
    };
    Ok(report::run_report(&view))
}

pub fn user_report(host: &Host, r: &RunHandle, user: &Pubkey) -> Result<Value, HostError> {
    let account = r.coordinator(host)?;
    let lamports = host.chain()?.balance(user).map_err(|e| HostError::chain(e.to_string()))?;
    let participant = match &r.treasurer {
        Some(t) => {
            let address = pdas::participant(&host.settings.programs, &t.address, user);
            host.account(&address)?.and_then(|a| Participant::decode(&a.data).ok())
        }
        None => None,
    };
    let view = match &r.treasurer {
        Some(t) => Some(ParticipantView {
            collateral_mint: t.mint,
            mint_decimals: r.decimals(host)?,
            wallet_collateral: token_balance(host, &pdas::associated_token(user, &t.mint))?,
            participant: participant.as_ref(),
        }),
        None => None,
    };
    Ok(report::user_report(user, lamports, &account, view))
}

/// The authorization that lets `user` join `r`: the public one, else the user's own (as
/// upstream's clients look them up), when it is active.
pub fn join_authorization(host: &Host, r: &RunHandle, user: &Pubkey) -> Result<Option<Pubkey>, HostError> {
    for grantee in [PERMISSIONLESS_GRANTEE, *user] {
        let address = pdas::join_authorization(&host.settings.programs, &r.join_authority, &grantee);
        let valid = host
            .account(&address)?
            .and_then(|account| Authorization::decode(&account.data).ok())
            .is_some_and(|a| a.is_valid_for(&r.join_authority, user, JOIN_RUN_SCOPE));
        if valid {
            return Ok(Some(address));
        }
    }
    Ok(None)
}
