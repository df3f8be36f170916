//! A multisig as a runbook holds it, and what the other multisig operations read of it: its
//! account, its transactions with their proposals, the chain's clock, and the arguments that
//! name members, permissions and keys.

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::{ConfigTransaction, Multisig, Permission, Permissions, Proposal, VaultTransaction};
use crate::squads::pdas;
use rhai::{Array, Dynamic, INT, Map};
use solana_program_pack::Pack;
use solana_sdk::clock::Clock;
use solana_sdk::pubkey::Pubkey;

/// A multisig as a runbook holds it: its address and who proposes for it (the payer unless
/// `ms.as_member(signer)` says otherwise).
#[derive(Clone)]
pub struct MultisigHandle {
    pub address: Pubkey,
    pub proposer: Option<SignerHandle>,
}

impl MultisigHandle {
    pub(super) fn proposer(&self, host: &Host) -> Result<SignerHandle, HostError> {
        self.proposer.clone().map_or_else(|| host.payer(), Ok)
    }

    pub(super) fn read(&self, host: &Host) -> Result<Multisig, HostError> {
        let account = host.account(&self.address)?.ok_or_else(|| {
            HostError::input(format!("multisig {} does not exist on {}", self.address, host.settings.cluster_name()))
        })?;
        if account.owner != crate::squads::PROGRAM_ID {
            return Err(HostError::input(format!("{} is not a Squads v4 multisig", self.address)));
        }
        Multisig::decode(&account.data).map_err(|e| HostError::chain(e.to_string()))
    }
}

/// A multisig vault steps may name as their signer.
#[derive(Clone)]
pub struct VaultRef {
    pub multisig: Pubkey,
    pub index: u8,
    /// The member who proposes (Initiate) on the runbook's behalf.
    pub proposer: SignerHandle,
}

/// The extra signature a transaction needs from `signer`: none when it is the payer, who
/// signs every transaction anyway.
pub(super) fn co_signer<'a>(host: &Host, signer: &'a SignerHandle) -> Result<Vec<&'a SignerHandle>, HostError> {
    Ok(if signer.pubkey() == host.payer()?.pubkey() { Vec::new() } else { vec![signer] })
}

/// The chain's clock (time locks and spending-limit periods follow it, not this machine's).
pub(super) fn chain_time(host: &Host) -> Result<i64, HostError> {
    // The clock moves every slot: never the execution's earlier read of it.
    let account = host
        .fresh_account(&solana_sdk::sysvar::clock::ID)?
        .ok_or_else(|| HostError::chain("the clock sysvar is missing"))?;
    let clock: Clock =
        bincode::deserialize(&account.data).map_err(|e| HostError::chain(format!("clock sysvar: {e}")))?;
    Ok(clock.unix_timestamp)
}

/// A transaction of the multisig, as stored.
pub(super) enum Stored {
    Vault(VaultTransaction),
    Config(ConfigTransaction),
}

/// Reads `keys` in batches of 100, the most `getMultipleAccounts` takes.
pub(super) fn read_accounts(
    host: &Host,
    keys: &[Pubkey],
) -> Result<Vec<Option<solana_sdk::account::Account>>, HostError> {
    let chain = host.chain()?;
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        out.extend(chain.accounts(chunk).map_err(|e| HostError::chain(e.to_string()))?);
    }
    Ok(out)
}

/// A transaction index with what is stored there (either may be missing or closed).
pub(super) type Indexed = (u64, Option<Stored>, Option<Proposal>);

/// Transactions `from..=to` with their proposals (either may be missing or closed).
pub(super) fn transactions(host: &Host, ms: &Pubkey, from: u64, to: u64) -> Result<Vec<Indexed>, HostError> {
    if from > to {
        return Ok(Vec::new());
    }
    let indices: Vec<u64> = (from..=to).collect();
    let keys: Vec<Pubkey> =
        indices.iter().flat_map(|i| [pdas::transaction(ms, *i).0, pdas::proposal(ms, *i).0]).collect();
    let accounts = read_accounts(host, &keys)?;
    Ok(indices
        .iter()
        .zip(accounts.chunks(2))
        .map(|(index, pair)| {
            let stored = pair[0].as_ref().and_then(|a| {
                VaultTransaction::decode(&a.data)
                    .map(Stored::Vault)
                    .or_else(|_| ConfigTransaction::decode(&a.data).map(Stored::Config))
                    .ok()
            });
            let proposal = pair[1].as_ref().and_then(|a| Proposal::decode(&a.data).ok());
            (*index, stored, proposal)
        })
        .collect())
}

pub(super) fn read_proposal(host: &Host, ms: &Pubkey, index: u64) -> Result<(Stored, Proposal), HostError> {
    let found = transactions(host, ms, index, index)?.pop();
    match found {
        Some((_, Some(stored), Some(proposal))) => Ok((stored, proposal)),
        _ => Err(HostError::input(format!("multisig {ms} has no proposal #{index}"))),
    }
}

pub(super) fn keys(list: &[Pubkey]) -> Array {
    list.iter().map(|k| Dynamic::from(k.to_string())).collect()
}

pub(super) fn mint_decimals(host: &Host, mint: &Pubkey) -> Result<u8, HostError> {
    let account = host.account(mint)?.ok_or_else(|| HostError::input(format!("mint {mint} does not exist")))?;
    spl_token_interface::state::Mint::unpack(&account.data)
        .map(|m| m.decimals)
        .map_err(|_| HostError::input(format!("{mint} is not a token mint")))
}

/// A pubkey from a signer handle, a Pubkey or base58 text.
pub(super) fn pubkey_of(value: &Dynamic, what: &str) -> Result<Pubkey, HostError> {
    if let Some(k) = value.clone().try_cast::<Pubkey>() {
        Ok(k)
    } else if let Some(s) = value.clone().try_cast::<SignerHandle>() {
        Ok(s.pubkey())
    } else if let Some(text) = value.clone().try_cast::<String>() {
        crate::api::values::keys::parse_pubkey(&text)
    } else {
        Err(HostError::input(format!("{what}: expected a pubkey or signer, found {}", value.type_name())))
    }
}

pub(super) fn permissions_of(value: Option<&Dynamic>) -> Result<Permissions, HostError> {
    let Some(value) = value else { return Ok(Permissions::ALL) };
    let names = value.clone().try_cast::<Array>().ok_or_else(|| HostError::input("permissions: expected an array"))?;
    let mut mask = 0;
    for name in names {
        let name = name.into_string().map_err(|_| HostError::input("permissions: expected names"))?;
        let permission = Permission::ALL
            .into_iter()
            .find(|p| p.name() == name.to_lowercase())
            .ok_or_else(|| HostError::input(format!("unknown permission \"{name}\" (initiate, vote, execute)")))?;
        mask |= permission as u8;
    }
    Ok(Permissions { mask })
}

pub(super) fn int_field(spec: &Map, key: &str, default: INT) -> Result<INT, HostError> {
    match spec.get(key) {
        None => Ok(default),
        Some(v) => v.as_int().map_err(|_| HostError::input(format!("{key}: expected an integer"))),
    }
}

/// The `Multisig` type and how it prints.
pub fn register_types(engine: &mut rhai::Engine) {
    engine
        .register_type_with_name::<MultisigHandle>("Multisig")
        .register_fn("to_string", |m: &mut MultisigHandle| format!("multisig {}", m.address))
        .register_fn("to_debug", |m: &mut MultisigHandle| format!("Multisig({})", m.address));
}
