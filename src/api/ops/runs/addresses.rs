//! Derived addresses of a run's accounts, with this cluster's program IDs.

use crate::api::host::Host;
use crate::api::values::big_int::{BigInt, to_u64};
use crate::api::values::error::HostError;
use crate::api::values::keys::{PubkeyArg, to_pubkey};
use crate::psyche::pdas;
use rhai::plugin::*;
use rhai::{EvalAltResult, INT};
use solana_sdk::pubkey::Pubkey;

fn checked_run_id(run_id: &str) -> Result<&str, HostError> {
    if run_id.is_empty() || run_id.len() > pdas::MAX_RUN_ID_LEN {
        return Err(HostError::input(format!(
            "run id \"{run_id}\" is {} bytes; it must be 1 to {} bytes",
            run_id.len(),
            pdas::MAX_RUN_ID_LEN
        )));
    }
    Ok(run_id)
}

#[export_module]
pub mod addresses_api {
    use super::*;

    /// The CoordinatorInstance PDA of a run (seeds `"coordinator"`, run id).
    #[rhai_fn(return_raw)]
    pub fn coordinator_instance_address(ctx: NativeCallContext, run_id: &str) -> Result<Pubkey, Box<EvalAltResult>> {
        Ok(pdas::coordinator_instance(&Host::of(&ctx).settings.programs, checked_run_id(run_id)?))
    }

    /// The join Authorization PDA of `grantee` under `join_authority`.
    #[rhai_fn(return_raw)]
    pub fn join_authorization_address(
        ctx: NativeCallContext,
        join_authority: PubkeyArg,
        grantee: PubkeyArg,
    ) -> Result<Pubkey, Box<EvalAltResult>> {
        let (join_authority, grantee) = (to_pubkey(&join_authority)?, to_pubkey(&grantee)?);
        Ok(pdas::join_authorization(&Host::of(&ctx).settings.programs, &join_authority, &grantee))
    }

    /// The treasurer Run PDA of a run at upstream's default index (sha256 of the run id).
    #[rhai_fn(return_raw)]
    pub fn treasurer_run_address(ctx: NativeCallContext, run_id: &str) -> Result<Pubkey, Box<EvalAltResult>> {
        let index = pdas::treasurer_index(checked_run_id(run_id)?);
        Ok(pdas::treasurer_run(&Host::of(&ctx).settings.programs, index))
    }

    /// The treasurer Run PDA at an explicit index.
    #[rhai_fn(name = "treasurer_run_address", return_raw)]
    pub fn treasurer_run_address_at(ctx: NativeCallContext, index: INT) -> Result<Pubkey, Box<EvalAltResult>> {
        let index =
            u64::try_from(index).map_err(|_| HostError::input(format!("treasurer index {index} is negative")))?;
        Ok(pdas::treasurer_run(&Host::of(&ctx).settings.programs, index))
    }

    /// The treasurer Run PDA at an index beyond `INT` (see `big_int`).
    #[rhai_fn(name = "treasurer_run_address", return_raw)]
    pub fn treasurer_run_address_at_big(ctx: NativeCallContext, index: BigInt) -> Result<Pubkey, Box<EvalAltResult>> {
        let index = to_u64(&Dynamic::from(index), "treasurer index")?;
        Ok(pdas::treasurer_run(&Host::of(&ctx).settings.programs, index))
    }

    /// Upstream's default treasurer index of a run id: a u64, usually beyond INT, so a `BigInt`.
    #[rhai_fn(return_raw)]
    pub fn treasurer_index(run_id: &str) -> Result<BigInt, Box<EvalAltResult>> {
        Ok(BigInt(pdas::treasurer_index(checked_run_id(run_id)?).into()))
    }

    /// The associated token account of `owner` for `mint` (classic token program).
    #[rhai_fn(return_raw)]
    pub fn token_account_address(owner: PubkeyArg, mint: PubkeyArg) -> Result<Pubkey, Box<EvalAltResult>> {
        Ok(pdas::associated_token(&to_pubkey(&owner)?, &to_pubkey(&mint)?))
    }
}
