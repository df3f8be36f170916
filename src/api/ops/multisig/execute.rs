//! Executing an approved proposal once its time lock has passed: a vault transaction runs its
//! instructions signed by the vault; a config transaction changes the multisig (and creates or
//! closes the spending limits it names). An executed proposal is a no-op.

use crate::api::host::Host;
use crate::api::ops::multisig::handle::{MultisigHandle, Stored, chain_time, co_signer, read_proposal};
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::outcome::{changed, unchanged, with};
use crate::squads::accounts::{ConfigAction, Permission, ProposalStatus};
use crate::squads::instructions as squads_ix;
use crate::squads::pdas;
use rhai::plugin::*;
use rhai::{EvalAltResult, INT, Map};
use solana_sdk::pubkey::Pubkey;

type Res<T> = Result<T, Box<EvalAltResult>>;

fn execute(host: &Host, ms: &MultisigHandle, index: INT, member: &SignerHandle) -> Result<Map, HostError> {
    let index = u64::try_from(index).map_err(|_| HostError::input(format!("proposal index {index} is negative")))?;
    let multisig = ms.read(host)?;
    let (stored, proposal) = read_proposal(host, &ms.address, index)?;
    let key = member.pubkey();
    match proposal.status {
        ProposalStatus::Executed { .. } => return Ok(with(unchanged(), "status", "Executed".to_string())),
        ProposalStatus::Approved { timestamp } => {
            let release = timestamp + i64::from(multisig.time_lock);
            let now = chain_time(host)?;
            if now < release {
                return Err(HostError::input(format!(
                    "proposal #{index} is approved but its time lock releases in {} s (at unix time {release})",
                    release - now
                )));
            }
        }
        ProposalStatus::Active { .. } => {
            return Err(HostError::input(format!(
                "proposal #{index} has {} of the {} approvals it needs; it cannot execute yet",
                proposal.approved.len(),
                multisig.threshold
            )));
        }
        other => return Err(HostError::input(format!("proposal #{index} is {}; it cannot execute", other.name()))),
    }
    if !multisig.has_permission(&key, Permission::Execute) {
        return Err(HostError::input(format!(
            "{key} may not execute proposals of multisig {} (it needs the Execute permission)",
            ms.address
        )));
    }
    let (proposal_key, transaction_key) =
        (pdas::proposal(&ms.address, index).0, pdas::transaction(&ms.address, index).0);
    let payer = host.payer()?.pubkey();
    let ix = match &stored {
        Stored::Vault(t) => {
            squads_ix::vault_transaction_execute(&ms.address, &proposal_key, &transaction_key, &key, &t.message)
        }
        Stored::Config(t) => {
            if index <= multisig.stale_transaction_index {
                return Err(HostError::input(format!(
                    "proposal #{index} is stale: the multisig's config changed after it was created"
                )));
            }
            let limits: Vec<Pubkey> = t
                .actions
                .iter()
                .filter_map(|a| match a {
                    ConfigAction::AddSpendingLimit { create_key, .. } => {
                        Some(pdas::spending_limit(&ms.address, create_key).0)
                    }
                    ConfigAction::RemoveSpendingLimit { spending_limit } => Some(*spending_limit),
                    _ => None,
                })
                .collect();
            let needs_payer =
                !limits.is_empty() || t.actions.iter().any(|a| matches!(a, ConfigAction::AddMember { .. }));
            squads_ix::config_transaction_execute(
                &ms.address,
                &key,
                &proposal_key,
                &transaction_key,
                needs_payer.then_some(&payer),
                &limits,
            )
        }
    };
    let signers = co_signer(host, member)?;
    let signature = host.send(&format!("execute proposal #{index} of multisig {}", ms.address), &[ix], &signers)?;
    Ok(with(changed(vec![signature]), "status", "Executed".to_string()))
}

#[export_module]
pub mod execute_api {
    use super::*;

    /// `member` (with Execute) executes the approved proposal `index` once its time lock has
    /// passed; a no-op when it is already executed.
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute(ctx: NativeCallContext, ms: &mut MultisigHandle, index: INT, member: SignerHandle) -> Res<Map> {
        Ok(super::execute(&Host::of(&ctx), ms, index, &member)?)
    }
}
