//! The rewards treasury of a rewarded run: top-ups (plain, to a balance, to a runway of
//! epochs — the last two computed from on-chain balances so a re-run never double-funds),
//! claims, and the funding report.

use crate::api::host::Host;
use crate::api::ops::inspect::{funding, token_balance, treasury};
use crate::api::values::amounts::{to_native, to_ui};
use crate::api::values::error::HostError;
use crate::api::values::keys::{PubkeyArg, SignerHandle, to_pubkey};
use crate::api::values::outcome::{changed, unchanged, with};
use crate::api::values::runs::RunHandle;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::treasurer::Participant;
use crate::psyche::instructions::{system, treasurer};
use crate::psyche::pdas;
use crate::psyche::run_view::Funding;
use rhai::plugin::*;
use rhai::{EvalAltResult, FLOAT, INT, Map};

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Moves `amount` native units from the payer's token account to the run's treasury.
fn transfer(host: &Host, r: &RunHandle, amount: u64, decimals: u8) -> Result<Map, HostError> {
    if amount == 0 {
        return Ok(unchanged());
    }
    let t = treasury(host, r)?;
    let payer = host.payer()?.pubkey();
    let source = pdas::associated_token(&payer, &t.run.collateral_mint);
    if host.account(&source)?.is_none() {
        return Err(HostError::input(format!(
            "the payer {payer} has no token account for mint {}; nothing was sent",
            t.run.collateral_mint
        )));
    }
    let available = token_balance(host, &source)?;
    if available < amount {
        return Err(HostError::input(format!(
            "the payer's token account holds {} but the top-up needs {}",
            to_ui(available, decimals),
            to_ui(amount, decimals)
        )));
    }
    host.spend_collateral(to_ui(amount, decimals))?;
    let ix = system::token_transfer(&source, &t.collateral, &payer, amount);
    let signature = host.send(&format!("run \"{}\": top up {}", r.run_id, to_ui(amount, decimals)), &[ix], &[])?;
    Ok(with(changed(vec![signature]), "amount", to_ui(amount, decimals)))
}

/// What a runway top-up needs: native units missing for `epochs` more epochs, and the cap
/// `max` (UI units) in native units.
pub struct Runway {
    pub missing: u64,
    pub cap: u64,
    pub decimals: u8,
}

/// The native amount the treasury lacks to fund `epochs` more epochs beyond what clients can
/// already claim, at the higher of the current and the future earning rate.
pub fn runway(host: &Host, r: &RunHandle, epochs: INT, max: Option<Dynamic>) -> Result<Runway, HostError> {
    let epochs = u64::try_from(epochs).map_err(|_| HostError::input(format!("epochs {epochs} is negative")))?;
    // One read of the coordinator account serves both the funding and the future rate.
    let t = treasury(host, r)?;
    let coordinator = r.coordinator(host)?;
    let (f, decimals) = (Funding::new(&coordinator, &t.run, t.balance), t.decimals);
    let cap = match max {
        Some(max) => to_native(&max, decimals, "top-up maximum")?,
        None => u64::MAX,
    };
    let burn = f.burn_per_epoch.max(coordinator.future_epoch_rates.earning_rate_total_shared);
    let wanted = f.unclaimed.saturating_add(burn.saturating_mul(epochs));
    Ok(Runway { missing: wanted.saturating_sub(f.funded), cap, decimals })
}

fn runway_top_up(host: &Host, r: &RunHandle, epochs: INT, max: Option<Dynamic>) -> Result<Map, HostError> {
    let Runway { missing, cap, decimals } = runway(host, r, epochs, max)?;
    let outcome = transfer(host, r, missing.min(cap), decimals)?;
    Ok(with(outcome, "still_missing", to_ui(missing.saturating_sub(cap), decimals)))
}

#[export_module]
pub mod treasury_api {
    use super::*;

    /// Sends a UI `amount` of collateral from the payer to the run's treasury. Every call sends:
    /// prefer `top_up_to` or `top_up_to_runway` in runbooks that may be re-run.
    #[rhai_fn(name = "top_up", return_raw)]
    pub fn top_up(ctx: NativeCallContext, r: &mut RunHandle, amount: Dynamic) -> Res<Map> {
        let host = Host::of(&ctx);
        let decimals = treasury(&host, r)?.decimals;
        let amount = to_native(&amount, decimals, "top-up amount")?;
        Ok(transfer(&host, r, amount, decimals)?)
    }

    /// Tops the treasury up until it holds `target` (UI units); a no-op when it already does.
    #[rhai_fn(name = "top_up_to", return_raw)]
    pub fn top_up_to(ctx: NativeCallContext, r: &mut RunHandle, target: Dynamic) -> Res<Map> {
        let host = Host::of(&ctx);
        let t = treasury(&host, r)?;
        let target = to_native(&target, t.decimals, "top-up target")?;
        Ok(transfer(&host, r, target.saturating_sub(t.balance), t.decimals)?)
    }

    /// Tops the treasury up so that, beyond what clients can already claim, it funds `epochs`
    /// more epochs at the higher of the current and the future earning rate (the future rate
    /// applies from the next epoch); a no-op when it already does.
    #[rhai_fn(name = "top_up_to_runway", return_raw)]
    pub fn top_up_to_runway(ctx: NativeCallContext, r: &mut RunHandle, epochs: INT) -> Res<Map> {
        Ok(runway_top_up(&Host::of(&ctx), r, epochs, None)?)
    }

    /// `top_up_to_runway`, sending at most `max` (UI units) in this call.
    #[rhai_fn(name = "top_up_to_runway", return_raw)]
    pub fn top_up_to_runway_capped(ctx: NativeCallContext, r: &mut RunHandle, epochs: INT, max: Dynamic) -> Res<Map> {
        Ok(runway_top_up(&Host::of(&ctx), r, epochs, Some(max))?)
    }

    /// The treasury's funding in UI units: `#{funded, claimable, claimed, unclaimed, missing,
    /// surplus, burn_per_epoch, funded_epochs}` (`funded_epochs` is `()` when nothing burns),
    /// and the same figures exactly, in native units (points), under `native`.
    #[rhai_fn(name = "funding", return_raw)]
    pub fn funding_report(ctx: NativeCallContext, r: &mut RunHandle) -> Res<Map> {
        let host = Host::of(&ctx);
        let (f, d) = funding(&host, r)?;
        let mut map = Map::new();
        let mut native = Map::new();
        for (key, value) in [
            ("funded", f.funded),
            ("claimable", f.claimable),
            ("claimed", f.claimed),
            ("unclaimed", f.unclaimed),
            ("missing", f.missing),
            ("surplus", f.surplus),
            ("burn_per_epoch", f.burn_per_epoch),
        ] {
            map.insert(key.into(), to_ui(value, d).into());
            native.insert(key.into(), crate::api::values::big_int::from_u64(value));
        }
        map.insert("native".into(), native.into());
        map.insert("funded_epochs".into(), f.funded_epochs.map_or(Dynamic::UNIT, |e| Dynamic::from_float(e as FLOAT)));
        Ok(map)
    }

    /// Claims `user`'s earned points as collateral (creating its token account and participant
    /// record when missing), up to what the treasury holds; a no-op when nothing is claimable.
    #[rhai_fn(name = "claim", return_raw)]
    pub fn claim(ctx: NativeCallContext, r: &mut RunHandle, user: SignerHandle) -> Res<Map> {
        let host = Host::of(&ctx);
        let t = treasury(&host, r)?;
        let ids = &host.settings.programs;
        let user_key = user.pubkey();
        let participant = pdas::participant(ids, &t.address, &user_key);
        let claimed = host
            .account(&participant)?
            .and_then(|a| Participant::decode(&a.data).ok())
            .map(|p| p.claimed_earned_points);
        let earned = r.coordinator(&host)?.clients.iter().find(|c| c.signer == user_key).map_or(0, |c| c.earned);
        let amount = earned.saturating_sub(claimed.unwrap_or(0)).min(t.balance);
        if amount == 0 {
            return Ok(unchanged());
        }
        let user_collateral = pdas::associated_token(&user_key, &t.run.collateral_mint);
        let payer = host.payer()?.pubkey();
        let mut instructions = Vec::new();
        if host.account(&user_collateral)?.is_none() {
            instructions.push(system::create_ata_idempotent(&payer, &user_key, &t.run.collateral_mint));
        }
        if claimed.is_none() {
            instructions.push(treasurer::instruction(
                ids,
                &treasurer::ParticipantCreateAccounts { payer, user: user_key, run: t.address, participant },
                &treasurer::ParticipantCreate::default(),
            ));
        }
        instructions.push(treasurer::instruction(
            ids,
            &treasurer::ParticipantClaimAccounts {
                user: user_key,
                user_collateral,
                run: t.address,
                run_collateral: t.collateral,
                coordinator_account: r.account,
                participant,
            },
            &treasurer::ParticipantClaim { params: treasurer::ParticipantClaimParams { claim_earned_points: amount } },
        ));
        let signature = host.send(&format!("run \"{}\": claim for {user_key}", r.run_id), &instructions, &[&user])?;
        Ok(with(changed(vec![signature]), "amount", to_ui(amount, t.decimals)))
    }

    /// The token balance (UI units) of `owner` for the run's collateral mint.
    #[rhai_fn(name = "collateral_balance", return_raw)]
    pub fn collateral_balance(ctx: NativeCallContext, r: &mut RunHandle, owner: PubkeyArg) -> Res<FLOAT> {
        let owner = to_pubkey(&owner)?;
        let host = Host::of(&ctx);
        let t = treasury(&host, r)?;
        let balance = token_balance(&host, &pdas::associated_token(&owner, &t.run.collateral_mint))?;
        Ok(to_ui(balance, t.decimals))
    }
}
