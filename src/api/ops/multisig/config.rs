//! Config proposals: members, threshold and time lock. Each is a no-op when the multisig
//! already has what it asks for; executing one makes every earlier proposal stale.

use crate::api::host::Host;
use crate::api::ops::multisig::handle::{MultisigHandle, permissions_of, pubkey_of};
use crate::api::ops::multisig::proposals::propose_config;
use crate::api::values::error::HostError;
use crate::api::values::outcome::unchanged;
use crate::squads::accounts::{ConfigAction, Member};
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, INT, Map};

type Res<T> = Result<T, Box<EvalAltResult>>;

#[export_module]
pub mod config_api {
    use super::*;

    /// Proposes a new threshold (a no-op when it already holds). Executing it makes every
    /// earlier proposal stale.
    #[rhai_fn(name = "change_threshold", return_raw)]
    pub fn change_threshold(ctx: NativeCallContext, ms: &mut MultisigHandle, threshold: INT) -> Res<Map> {
        let host = Host::of(&ctx);
        let new_threshold = u16::try_from(threshold).map_err(|_| HostError::input("threshold: out of range"))?;
        if ms.read(&host)?.threshold == new_threshold {
            return Ok(unchanged());
        }
        let action = ConfigAction::ChangeThreshold { new_threshold };
        Ok(propose_config(&host, ms, &format!("change threshold to {new_threshold}"), vec![action])?)
    }

    /// Proposes a new time lock in seconds (a no-op when it already holds).
    #[rhai_fn(name = "set_time_lock", return_raw)]
    pub fn set_time_lock(ctx: NativeCallContext, ms: &mut MultisigHandle, seconds: INT) -> Res<Map> {
        let host = Host::of(&ctx);
        let new_time_lock = u32::try_from(seconds).map_err(|_| HostError::input("time lock: out of range"))?;
        if ms.read(&host)?.time_lock == new_time_lock {
            return Ok(unchanged());
        }
        let action = ConfigAction::SetTimeLock { new_time_lock };
        Ok(propose_config(&host, ms, &format!("set time lock to {new_time_lock} s"), vec![action])?)
    }

    /// Proposes adding `member` with `permissions` (`["initiate", "vote", "execute"]`); a no-op
    /// when it is already a member.
    #[rhai_fn(name = "add_member", return_raw)]
    pub fn add_member(
        ctx: NativeCallContext,
        ms: &mut MultisigHandle,
        member: Dynamic,
        permissions: Array,
    ) -> Res<Map> {
        let host = Host::of(&ctx);
        let key = pubkey_of(&member, "member")?;
        if ms.read(&host)?.member(&key).is_some() {
            return Ok(unchanged());
        }
        let new_member = Member { key, permissions: permissions_of(Some(&Dynamic::from(permissions)))? };
        Ok(propose_config(&host, ms, &format!("add member {key}"), vec![ConfigAction::AddMember { new_member }])?)
    }

    /// Proposes removing `member`; a no-op when it is not a member.
    #[rhai_fn(name = "remove_member", return_raw)]
    pub fn remove_member(ctx: NativeCallContext, ms: &mut MultisigHandle, member: Dynamic) -> Res<Map> {
        let host = Host::of(&ctx);
        let key = pubkey_of(&member, "member")?;
        if ms.read(&host)?.member(&key).is_none() {
            return Ok(unchanged());
        }
        Ok(propose_config(
            &host,
            ms,
            &format!("remove member {key}"),
            vec![ConfigAction::RemoveMember { old_member: key }],
        )?)
    }
}
