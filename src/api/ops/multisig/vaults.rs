//! Vaults as signers: once a multisig is opened its vaults are known to the execution, and a
//! step whose signer is one of them is proposed to the multisig instead of sent. The vault
//! sink plugs this into the host; `grant` takes a vault as the join authority.

use crate::api::host::{Host, StepSink};
use crate::api::ops::multisig::handle::{MultisigHandle, VaultRef};
use crate::api::ops::multisig::proposals::propose;
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::squads::pdas;
use rhai::plugin::*;
use rhai::{EvalAltResult, Map};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;
use std::sync::Mutex;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// The vaults this execution knows (vault → who proposes for it), installed into the host
/// when the first multisig is opened.
#[derive(Default)]
pub struct Vaults {
    known: Mutex<BTreeMap<Pubkey, VaultRef>>,
}

impl Vaults {
    fn get(&self, key: &Pubkey) -> Option<VaultRef> {
        self.known.lock().expect("vaults lock").get(key).cloned()
    }
}

impl StepSink for Vaults {
    /// One proposal per step whose signer is a known vault.
    fn take(
        &self,
        host: &Host,
        what: &str,
        instructions: &[Instruction],
        signers: &[&SignerHandle],
    ) -> Option<Result<String, HostError>> {
        let (vault, reference) = instructions
            .iter()
            .flat_map(|ix| &ix.accounts)
            .find_map(|a| a.is_signer.then(|| self.get(&a.pubkey).map(|v| (a.pubkey, v))).flatten())?;
        if !signers.is_empty() {
            return Some(Err(HostError::input(format!("{what}: needs a signer of its own, so it cannot be proposed"))));
        }
        host.log.info(&format!("{what}: its signer is the multisig vault {vault}, so it is proposed, not sent"));
        Some(
            propose(host, &vault, &reference, what, instructions.to_vec())
                .map(|p| p.signature.unwrap_or_else(|| format!("(pending proposal #{})", p.index))),
        )
    }

    fn acts_as(&self, authority: &Pubkey) -> bool {
        self.get(authority).is_some()
    }
}

/// The known vault `key`, if it is one.
pub fn known_vault(host: &Host, key: &Pubkey) -> Option<VaultRef> {
    host.sink::<Vaults>().and_then(|vaults| vaults.get(key))
}

/// Makes vault `index` of `ms` a known signer whose operations are proposed.
pub fn register_vault(host: &Host, ms: &MultisigHandle, index: u8) -> Result<Pubkey, HostError> {
    let vault = pdas::vault(&ms.address, index).0;
    let reference = VaultRef { multisig: ms.address, index, proposer: ms.proposer(host)? };
    host.sink_or_install(Vaults::default).known.lock().expect("vaults lock").insert(vault, reference);
    Ok(vault)
}

#[export_module]
pub mod vault_api {
    use super::*;

    /// `grant(join_authority, user)` for a join authority that is a known multisig vault
    /// (`ms.vault(0)`): proposed, the vault paying the authorization's rent; a no-op when
    /// `user` may already join.
    #[rhai_fn(name = "grant", return_raw)]
    pub fn grant_as_vault(ctx: NativeCallContext, join_authority: Pubkey, user: Pubkey) -> Res<Map> {
        let host = Host::of(&ctx);
        if known_vault(&host, &join_authority).is_none() {
            return Err(HostError::input(format!(
                "{join_authority} is not a known multisig vault; pass the join authority's signer instead"
            ))
            .into());
        }
        Ok(crate::api::ops::authz::grant_as(&host, &join_authority, &[], &user)?)
    }

    /// `grant_public(join_authority)` for a join authority that is a known multisig vault.
    #[rhai_fn(name = "grant_public", return_raw)]
    pub fn grant_public_as_vault(ctx: NativeCallContext, join_authority: Pubkey) -> Res<Map> {
        grant_as_vault(ctx, join_authority, crate::psyche::pdas::PERMISSIONLESS_GRANTEE)
    }
}
