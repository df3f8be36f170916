//! Opening a multisig (`multisig(address)`, which makes its vault 0 a known signer), creating
//! one on the localnet, naming localnet signers for its members, and describing it.

use crate::api::host::Host;
use crate::api::ops::multisig::handle::{MultisigHandle, chain_time, int_field, permissions_of, pubkey_of};
use crate::api::ops::multisig::spending::{limit_map, spending_limits};
use crate::api::ops::multisig::vaults::register_vault;
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::outcome::{changed, unchanged, with};
use crate::localnet::multisig::MultisigSpec;
use crate::squads::accounts::{Member, Permissions};
use crate::squads::pdas;
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, INT, Map};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signer::Signer;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Members from `[signer | pubkey | #{key, permissions}]` (all permissions by default).
fn members_of(list: &Array) -> Result<Vec<Member>, HostError> {
    list.iter()
        .map(|item| match item.clone().try_cast::<Map>() {
            Some(map) => Ok(Member {
                key: pubkey_of(
                    map.get("key").ok_or_else(|| HostError::input("member: key is required"))?,
                    "member key",
                )?,
                permissions: permissions_of(map.get("permissions"))?,
            }),
            None => Ok(Member { key: pubkey_of(item, "member")?, permissions: Permissions::ALL }),
        })
        .collect()
}

fn create_multisig(host: &Host, spec: &Map) -> Result<Map, HostError> {
    let list = spec
        .get("members")
        .and_then(|m| m.clone().try_cast::<Array>())
        .ok_or_else(|| HostError::input("create_multisig: members (an array) is required"))?;
    let mut members = members_of(&list)?;
    members.sort_by_key(|m| m.key);
    let threshold =
        u16::try_from(int_field(spec, "threshold", 1)?).map_err(|_| HostError::input("threshold: out of range"))?;
    let time_lock =
        u32::try_from(int_field(spec, "time_lock", 0)?).map_err(|_| HostError::input("time_lock: out of range"))?;
    let name = spec.get("name").map(|n| n.to_string()).unwrap_or_else(|| "default".into());
    let handle = host.localnet()?;
    // The create key is named after the multisig, so a re-run finds the one it created.
    let create_key = handle.lock().named_keypair(&format!("multisig/{name}"));
    let address = pdas::multisig(&create_key.pubkey()).0;
    let ms = MultisigHandle { address, proposer: None };
    if host.account(&address)?.is_some() {
        let existing = ms.read(host)?;
        if existing.members != members || existing.threshold != threshold || existing.time_lock != time_lock {
            return Err(HostError::input(format!(
                "multisig \"{name}\" ({address}) already exists with other members, threshold or time lock; \
                 change it with config proposals (ms.add_member, ms.change_threshold, ..)"
            )));
        }
        register_vault(host, &ms, 0)?;
        return Ok(with(unchanged(), "multisig", Dynamic::from(ms)));
    }
    let spec = MultisigSpec { create_key, members, threshold, time_lock };
    let (_, signature) = handle.lock().create_multisig(spec).map_err(|e| HostError::chain(e.to_string()))?;
    host.record_sent(signature.to_string());
    host.log.info(&format!("created multisig \"{name}\": {address} ({threshold}-of-{})", list.len()));
    register_vault(host, &ms, 0)?;
    Ok(with(changed(vec![signature.to_string()]), "multisig", Dynamic::from(ms)))
}

#[export_module]
pub mod open_api {
    use super::*;

    /// Opens the Squads v4 multisig at `address` (any cluster). Its vault 0 becomes a known
    /// signer: a step whose authority is that vault is proposed instead of sent.
    ///
    /// ```rhai
    /// let ms = multisig("7tYw…");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn multisig(ctx: NativeCallContext, address: Dynamic) -> Res<MultisigHandle> {
        let host = Host::of(&ctx);
        let ms = MultisigHandle { address: pubkey_of(&address, "multisig")?, proposer: None };
        ms.read(&host)?;
        register_vault(&host, &ms, 0)?;
        Ok(ms)
    }

    /// Localnet only: creates (or, on a re-run, finds) a multisig: `#{members, threshold,
    /// time_lock?, name?}`. Members are signers, pubkeys or `#{key, permissions: ["initiate",
    /// "vote", "execute"]}` (all three by default). Returns `#{changed, signatures, multisig}`.
    ///
    /// ```rhai
    /// let ms = create_multisig(#{ members: [payer(), bob, carol], threshold: 2 }).multisig;
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create_multisig(ctx: NativeCallContext, spec: Map) -> Res<Map> {
        Ok(super::create_multisig(&Host::of(&ctx), &spec)?)
    }

    /// Localnet only: the keypair called `name` on this localnet, the same on every run (for
    /// members and cron keys of example runbooks), funded with 1 SOL when it runs low.
    #[rhai_fn(return_raw)]
    pub fn localnet_signer(ctx: NativeCallContext, name: &str) -> Res<SignerHandle> {
        let host = Host::of(&ctx);
        let handle = host.localnet()?;
        let mut net = handle.lock();
        let keypair = net.named_keypair(name);
        let key = keypair.pubkey();
        let sol = solana_sdk::native_token::LAMPORTS_PER_SOL;
        if net.balance(&key) < sol / 10 {
            let signature = net.airdrop(&key, sol).map_err(|e| HostError::chain(e.to_string()))?;
            host.record_sent(signature.to_string());
        }
        Ok(SignerHandle::new(keypair, format!("localnet signer \"{name}\"")))
    }

    /// The multisig's address.
    #[rhai_fn(get = "address", pure)]
    pub fn address(ms: &mut MultisigHandle) -> Pubkey {
        ms.address
    }

    /// The pubkey of vault `index`, which also becomes a known signer.
    #[rhai_fn(name = "vault", return_raw)]
    pub fn vault(ctx: NativeCallContext, ms: &mut MultisigHandle, index: INT) -> Res<Pubkey> {
        let index = u8::try_from(index).map_err(|_| HostError::input(format!("vault index {index}: 0 to 255")))?;
        Ok(register_vault(&Host::of(&ctx), ms, index)?)
    }

    /// The same multisig with `member` proposing (it needs the Initiate permission); the payer
    /// proposes otherwise.
    #[rhai_fn(name = "as_member", return_raw)]
    pub fn as_member(ctx: NativeCallContext, ms: &mut MultisigHandle, member: SignerHandle) -> Res<MultisigHandle> {
        let handle = MultisigHandle { address: ms.address, proposer: Some(member) };
        register_vault(&Host::of(&ctx), &handle, 0)?;
        Ok(handle)
    }

    /// What the multisig is: `#{address, threshold, time_lock, transaction_index,
    /// stale_transaction_index, members: [#{key, permissions}], vaults: [vault 0],
    /// spending_limits: [..]}`.
    #[rhai_fn(name = "info", return_raw)]
    pub fn info(ctx: NativeCallContext, ms: &mut MultisigHandle) -> Res<Map> {
        let host = Host::of(&ctx);
        let m = ms.read(&host)?;
        let now = chain_time(&host)?;
        let mut map = Map::new();
        map.insert("address".into(), Dynamic::from(ms.address));
        map.insert("threshold".into(), INT::from(m.threshold).into());
        map.insert("time_lock".into(), INT::from(m.time_lock).into());
        map.insert("transaction_index".into(), (m.transaction_index as INT).into());
        map.insert("stale_transaction_index".into(), (m.stale_transaction_index as INT).into());
        let members: Array = m
            .members
            .iter()
            .map(|member| {
                let mut entry = Map::new();
                entry.insert("key".into(), Dynamic::from(member.key));
                let names: Array =
                    member.permissions.names().into_iter().map(|n| Dynamic::from(n.to_string())).collect();
                entry.insert("permissions".into(), names.into());
                Dynamic::from(entry)
            })
            .collect();
        map.insert("members".into(), members.into());
        map.insert("vaults".into(), vec![Dynamic::from(pdas::vault(&ms.address, 0).0)].into());
        let limits = spending_limits(&host, &ms.address, &m)?
            .iter()
            .map(|(address, limit)| limit_map(&host, address, limit, now).map(Dynamic::from))
            .collect::<Result<Array, _>>()?;
        map.insert("spending_limits".into(), limits.into());
        Ok(map)
    }

    /// Localnet only: the multisig `create_multisig(#{name, ..})` created under `name`
    /// ("default" when unnamed), opened like `multisig(address)`.
    #[rhai_fn(return_raw)]
    pub fn localnet_multisig(ctx: NativeCallContext, name: &str) -> Res<MultisigHandle> {
        let host = Host::of(&ctx);
        let create_key = host.localnet()?.lock().named_keypair(&format!("multisig/{name}"));
        let address = pdas::multisig(&create_key.pubkey()).0;
        multisig(ctx, Dynamic::from(address))
    }
}
