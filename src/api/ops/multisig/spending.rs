//! Spending limits: proposing one for a member (the cron key) and mint, removing it, and
//! topping a run's treasury up from the vault under it, as far as the limit's period allows.

use crate::api::host::Host;
use crate::api::ops::inspect::{token_balance, treasury};
use crate::api::ops::multisig::handle::{
    MultisigHandle, Stored, chain_time, co_signer, int_field, keys, mint_decimals, pubkey_of, read_accounts,
    transactions,
};
use crate::api::ops::multisig::proposals::propose_config;
use crate::api::ops::treasury::{Runway, runway};
use crate::api::values::amounts::{to_native, to_ui};
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::outcome::{changed, unchanged, with};
use crate::api::values::runs::RunHandle;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::pdas::associated_token;
use crate::squads::accounts::{ConfigAction, Multisig, Period, SpendingLimit};
use crate::squads::instructions as squads_ix;
use crate::squads::pdas;
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, INT, Map};
use solana_sdk::pubkey::Pubkey;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// The spending limits the multisig's config transactions added that still exist.
pub(super) fn spending_limits(
    host: &Host,
    ms: &Pubkey,
    multisig: &Multisig,
) -> Result<Vec<(Pubkey, SpendingLimit)>, HostError> {
    let mut addresses: Vec<Pubkey> = transactions(host, ms, 1, multisig.transaction_index)?
        .into_iter()
        .filter_map(|(_, stored, _)| match stored {
            Some(Stored::Config(t)) => Some(t.actions),
            _ => None,
        })
        .flatten()
        .filter_map(|a| match a {
            ConfigAction::AddSpendingLimit { create_key, .. } => Some(pdas::spending_limit(ms, &create_key).0),
            _ => None,
        })
        .collect();
    addresses.sort();
    addresses.dedup();
    let accounts = read_accounts(host, &addresses)?;
    Ok(addresses
        .into_iter()
        .zip(accounts)
        .filter_map(|(address, account)| Some((address, SpendingLimit::decode(&account?.data).ok()?)))
        .collect())
}

pub(super) fn limit_map(host: &Host, address: &Pubkey, limit: &SpendingLimit, now: i64) -> Result<Map, HostError> {
    let decimals = if limit.mint == Pubkey::default() { 9 } else { mint_decimals(host, &limit.mint)? };
    let mut map = Map::new();
    map.insert("address".into(), Dynamic::from(*address));
    map.insert("mint".into(), Dynamic::from(limit.mint));
    map.insert("vault_index".into(), INT::from(limit.vault_index).into());
    map.insert("amount".into(), to_ui(limit.amount, decimals).into());
    map.insert("remaining".into(), to_ui(limit.available_at(now), decimals).into());
    map.insert("period".into(), format!("{:?}", limit.period).into());
    map.insert("resets_at".into(), limit.next_reset().map_or(Dynamic::UNIT, Dynamic::from));
    map.insert("members".into(), keys(&limit.members).into());
    map.insert("destinations".into(), keys(&limit.destinations).into());
    Ok(map)
}

/// The deterministic create key of the spending limit for `member`, `mint` and vault `index`,
/// so proposing it twice proposes the same account.
pub(super) fn limit_create_key(ms: &Pubkey, member: &Pubkey, mint: &Pubkey, index: u8) -> Pubkey {
    let hash = solana_sdk::hash::hashv(&[b"spending limit", ms.as_ref(), member.as_ref(), mint.as_ref(), &[index]]);
    Pubkey::new_from_array(hash.to_bytes())
}

pub(super) fn add_spending_limit(host: &Host, ms: &MultisigHandle, spec: &Map) -> Result<Map, HostError> {
    let member =
        pubkey_of(spec.get("member").ok_or_else(|| HostError::input("spending limit: member is required"))?, "member")?;
    let mint =
        pubkey_of(spec.get("mint").ok_or_else(|| HostError::input("spending limit: mint is required"))?, "mint")?;
    let vault_index =
        u8::try_from(int_field(spec, "vault_index", 0)?).map_err(|_| HostError::input("vault_index: 0 to 255"))?;
    let decimals = mint_decimals(host, &mint)?;
    let amount = to_native(
        spec.get("amount").ok_or_else(|| HostError::input("spending limit: amount is required"))?,
        decimals,
        "amount",
    )?;
    let period_text = spec.get("period").map(|p| p.to_string()).unwrap_or_else(|| "day".into());
    let period = Period::parse(&period_text)
        .ok_or_else(|| HostError::input(format!("period \"{period_text}\": one of one_time, day, week, month")))?;
    let destinations = match spec.get("destinations") {
        Some(list) => list
            .clone()
            .try_cast::<Array>()
            .ok_or_else(|| HostError::input("destinations: expected an array"))?
            .iter()
            .map(|d| pubkey_of(d, "destination"))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let create_key = limit_create_key(&ms.address, &member, &mint, vault_index);
    let address = pdas::spending_limit(&ms.address, &create_key).0;
    if host.account(&address)?.is_some() {
        return Ok(with(unchanged(), "spending_limit", Dynamic::from(address)));
    }
    let action = ConfigAction::AddSpendingLimit {
        create_key,
        vault_index,
        mint,
        amount,
        period,
        members: vec![member],
        destinations,
    };
    let outcome = propose_config(host, ms, &format!("spending limit for {member}"), vec![action])?;
    Ok(with(outcome, "spending_limit", Dynamic::from(address)))
}

/// Funds the treasury from the vault through the spending limit `member` holds for the run's
/// mint: as much of the runway as the limit, `max` and the vault allow.
pub(super) fn top_up_under_limit(
    host: &Host,
    r: &RunHandle,
    ms: &MultisigHandle,
    epochs: INT,
    max: Dynamic,
    holder: Option<SignerHandle>,
) -> Result<Map, HostError> {
    let Runway { missing, cap, decimals } = runway(host, r, epochs, Some(max))?;
    let t = treasury(host, r)?;
    let holder = holder.map_or_else(|| host.payer(), Ok)?;
    let member = holder.pubkey();
    let multisig = ms.read(host)?;
    let now = chain_time(host)?;
    let (address, limit) = spending_limits(host, &ms.address, &multisig)?
        .into_iter()
        .find(|(_, l)| l.mint == t.run.collateral_mint && l.members.contains(&member))
        .ok_or_else(|| {
            HostError::input(format!(
                "multisig {} has no spending limit for {member} on mint {}",
                ms.address, t.run.collateral_mint
            ))
        })?;
    if !limit.destinations.is_empty() && !limit.destinations.contains(&t.address) {
        return Err(HostError::input(format!("spending limit {address} does not allow paying the run's treasury")));
    }
    let vault = pdas::vault(&ms.address, limit.vault_index).0;
    let vault_tokens = associated_token(&vault, &t.run.collateral_mint);
    let held = if host.account(&vault_tokens)?.is_some() { token_balance(host, &vault_tokens)? } else { 0 };
    let available = limit.available_at(now);
    let amount = missing.min(cap).min(available).min(held);
    let limited_by = if amount == missing {
        None
    } else if amount == available {
        Some("spending limit")
    } else if amount == cap {
        Some("max")
    } else {
        Some("vault balance")
    };
    let still_missing = to_ui(missing - amount, decimals);
    if limited_by == Some("spending limit") {
        let reset = limit.next_reset().map_or("never (a one-time limit)".to_string(), |t| format!("at unix time {t}"));
        host.log.info(&format!(
            "run \"{}\": the spending limit, not the runway, stopped this top-up at {}; {still_missing} still missing (it resets {reset})",
            r.run_id,
            to_ui(amount, decimals)
        ));
    }
    let outcome = if amount == 0 {
        unchanged()
    } else {
        host.spend_collateral(to_ui(amount, decimals))?;
        let ix = squads_ix::spending_limit_use(
            &squads_ix::SpendingLimitUseAccounts {
                multisig: ms.address,
                member,
                spending_limit: address,
                vault,
                destination: t.address,
                mint: t.run.collateral_mint,
                vault_token_account: vault_tokens,
                destination_token_account: t.collateral,
            },
            &squads_ix::SpendingLimitUseArgs { amount, decimals, memo: None },
        );
        let what = format!(
            "run \"{}\": top up {} from multisig vault {vault} under spending limit",
            r.run_id,
            to_ui(amount, decimals)
        );
        let signers = co_signer(host, &holder)?;
        changed(vec![host.send(&what, &[ix], &signers)?])
    };
    let outcome = with(outcome, "amount", to_ui(amount, decimals));
    let outcome = with(outcome, "still_missing", still_missing);
    Ok(with(outcome, "limited_by", limited_by.map_or(Dynamic::UNIT, |l| Dynamic::from(l.to_string()))))
}

#[export_module]
pub mod spending_api {
    use super::*;

    /// Proposes a spending limit: `#{member, mint, amount (UI units), period ("day", "week",
    /// "month", "one_time"), vault_index?, destinations?}`. A no-op when it exists; a pending
    /// identical proposal is reported. Returns the outcome with `spending_limit` (its address).
    #[rhai_fn(name = "add_spending_limit", return_raw)]
    pub fn add_spending_limit(ctx: NativeCallContext, ms: &mut MultisigHandle, spec: Map) -> Res<Map> {
        Ok(super::add_spending_limit(&Host::of(&ctx), ms, &spec)?)
    }

    /// Proposes removing the spending limit at `address`.
    #[rhai_fn(name = "remove_spending_limit", return_raw)]
    pub fn remove_spending_limit(ctx: NativeCallContext, ms: &mut MultisigHandle, address: Pubkey) -> Res<Map> {
        let host = Host::of(&ctx);
        if host.account(&address)?.is_none() {
            return Ok(unchanged());
        }
        let action = ConfigAction::RemoveSpendingLimit { spending_limit: address };
        Ok(propose_config(&host, ms, &format!("remove spending limit {address}"), vec![action])?)
    }

    /// Tops the run's treasury up towards `epochs` of runway from the multisig's vault, through
    /// the spending limit the payer (the cron key) holds for the run's mint, sending at most
    /// `max`: capped by what the limit has left this period. Returns the outcome with
    /// `amount`, `still_missing` and `limited_by` ("spending limit", "max", "vault balance" or
    /// `()` when the runway is fully funded), and says when the limit stopped it.
    #[rhai_fn(name = "top_up_to_runway", return_raw)]
    pub fn top_up_from_vault(
        ctx: NativeCallContext,
        r: &mut RunHandle,
        epochs: INT,
        max: Dynamic,
        ms: MultisigHandle,
    ) -> Res<Map> {
        Ok(top_up_under_limit(&Host::of(&ctx), r, &ms, epochs, max, None)?)
    }

    /// `top_up_to_runway(epochs, max, ms)` with `holder` (a signer holding the spending limit)
    /// instead of the payer.
    #[rhai_fn(name = "top_up_to_runway", return_raw)]
    pub fn top_up_from_vault_as(
        ctx: NativeCallContext,
        r: &mut RunHandle,
        epochs: INT,
        max: Dynamic,
        ms: MultisigHandle,
        holder: SignerHandle,
    ) -> Res<Map> {
        Ok(top_up_under_limit(&Host::of(&ctx), r, &ms, epochs, max, Some(holder))?)
    }
}
