//! Runs governed by a Squads v4 multisig. `multisig(address)` opens one (and makes its vaults
//! known signers); steps whose authority is a vault — or every step inside
//! `ms.propose(title, || ..)` — become one vault transaction plus a proposal instead of being
//! sent. Members review (`ms.proposals()`), vote and execute; config proposals change members,
//! threshold, time lock and spending limits; a spending limit held by the cron key funds
//! runway top-ups from the vault. Pending proposals with the same content are reported, not
//! duplicated, so runbooks stay safe to re-run.

use crate::api::amounts::{to_native, to_ui};
use crate::api::error::HostError;
use crate::api::host::{Host, VaultRef};
use crate::api::inspect::{token_balance, treasury};
use crate::api::keys::SignerHandle;
use crate::api::outcome::{changed, unchanged, with};
use crate::api::runs::RunHandle;
use crate::api::treasury::{Runway, runway};
use crate::localnet::multisig::MultisigSpec;
use crate::localnet::plan::describe;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::pdas::associated_token;
use crate::psyche::sizing::{MAX_TRANSACTION_SIZE, transaction_size};
use crate::squads::accounts::{
    ConfigAction, ConfigTransaction, Member, Multisig, Period, Permission, Permissions, Proposal, ProposalStatus,
    SpendingLimit, VaultTransaction,
};
use crate::squads::instructions::{self as squads_ix, CreateAccounts, Vote};
use crate::squads::{message, pdas};
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, FnPtr, INT, Map};
use solana_program_pack::Pack;
use solana_sdk::clock::Clock;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// A multisig as a runbook holds it: its address and who proposes for it (the payer unless
/// `ms.as_member(signer)` says otherwise).
#[derive(Clone)]
pub struct MultisigHandle {
    pub address: Pubkey,
    pub proposer: Option<SignerHandle>,
}

impl MultisigHandle {
    fn proposer(&self, host: &Host) -> Result<SignerHandle, HostError> {
        self.proposer.clone().map_or_else(|| host.payer(), Ok)
    }

    fn read(&self, host: &Host) -> Result<Multisig, HostError> {
        let account = host.account(&self.address)?.ok_or_else(|| {
            HostError::input(format!("multisig {} does not exist on {}", self.address, host.settings.cluster))
        })?;
        if account.owner != crate::squads::PROGRAM_ID {
            return Err(HostError::input(format!("{} is not a Squads v4 multisig", self.address)));
        }
        Multisig::decode(&account.data).map_err(|e| HostError::chain(e.to_string()))
    }

    /// Makes vault `index` a known signer whose operations are proposed.
    fn register_vault(&self, host: &Host, index: u8) -> Result<Pubkey, HostError> {
        let vault = pdas::vault(&self.address, index).0;
        let reference = VaultRef { multisig: self.address, index, proposer: self.proposer(host)? };
        host.add_vault(vault, reference);
        Ok(vault)
    }
}

/// The extra signature a transaction needs from `signer`: none when it is the payer, who
/// signs every transaction anyway.
fn co_signer<'a>(host: &Host, signer: &'a SignerHandle) -> Result<Vec<&'a Keypair>, HostError> {
    Ok(if signer.pubkey() == host.payer()?.pubkey() { Vec::new() } else { vec![signer.keypair()] })
}

/// The chain's clock (time locks and spending-limit periods follow it, not this machine's).
fn chain_time(host: &Host) -> Result<i64, HostError> {
    // The clock moves every slot: never the execution's earlier read of it.
    let account = host
        .fresh_account(&solana_sdk::sysvar::clock::ID)?
        .ok_or_else(|| HostError::chain("the clock sysvar is missing"))?;
    let clock: Clock =
        bincode::deserialize(&account.data).map_err(|e| HostError::chain(format!("clock sysvar: {e}")))?;
    Ok(clock.unix_timestamp)
}

/// A transaction of the multisig, as stored.
enum Stored {
    Vault(VaultTransaction),
    Config(ConfigTransaction),
}

/// Reads `keys` in batches of 100, the most `getMultipleAccounts` takes.
fn read_accounts(host: &Host, keys: &[Pubkey]) -> Result<Vec<Option<solana_sdk::account::Account>>, HostError> {
    let chain = host.chain()?;
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        out.extend(chain.accounts(chunk).map_err(|e| HostError::chain(e.to_string()))?);
    }
    Ok(out)
}

/// A transaction index with what is stored there (either may be missing or closed).
type Indexed = (u64, Option<Stored>, Option<Proposal>);

/// Transactions `from..=to` with their proposals (either may be missing or closed).
fn transactions(host: &Host, ms: &Pubkey, from: u64, to: u64) -> Result<Vec<Indexed>, HostError> {
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

fn read_proposal(host: &Host, ms: &Pubkey, index: u64) -> Result<(Stored, Proposal), HostError> {
    let found = transactions(host, ms, index, index)?.pop();
    match found {
        Some((_, Some(stored), Some(proposal))) => Ok((stored, proposal)),
        _ => Err(HostError::input(format!("multisig {ms} has no proposal #{index}"))),
    }
}

/// A fresh (not stale) transaction satisfying `same` whose proposal is pending, or which has
/// no proposal yet (a run stopped between sending the two); true when it has its proposal.
fn pending_match(
    host: &Host,
    ms: &Pubkey,
    multisig: &Multisig,
    same: impl Fn(&Stored) -> bool,
) -> Result<Option<(u64, bool)>, HostError> {
    let fresh = transactions(host, ms, multisig.stale_transaction_index + 1, multisig.transaction_index)?;
    Ok(fresh.into_iter().find_map(|(index, stored, proposal)| match (stored, proposal) {
        (Some(stored), Some(p)) if p.status.is_pending() && same(&stored) => Some((index, true)),
        (Some(stored), None) if same(&stored) => Some((index, false)),
        _ => None,
    }))
}

/// Reports the pending proposal `found`, or creates the missing proposal of its transaction.
fn resume_pending(
    host: &Host,
    ms: &Pubkey,
    found: (u64, bool),
    proposer: &SignerHandle,
    title: &str,
) -> Result<Proposed, HostError> {
    let (index, has_proposal) = found;
    if has_proposal {
        host.log.info(&format!("{title}: already pending as proposal #{index} of multisig {ms}"));
        return Ok(Proposed { index, signature: None });
    }
    let what = format!("propose #{index} \"{title}\" to multisig {ms} (its transaction exists)");
    let signature = host.send(&what, &[proposal_create(host, ms, index, proposer)?], &co_signer(host, proposer)?)?;
    Ok(Proposed { index, signature: Some(signature) })
}

fn proposal_create(host: &Host, ms: &Pubkey, index: u64, proposer: &SignerHandle) -> Result<Instruction, HostError> {
    Ok(squads_ix::proposal_create(
        &CreateAccounts {
            multisig: *ms,
            created: pdas::proposal(ms, index).0,
            creator: proposer.pubkey(),
            rent_payer: host.payer()?.pubkey(),
        },
        &squads_ix::ProposalCreateArgs { transaction_index: index, draft: false },
    ))
}

/// What proposing did: a new proposal (with its signature) or one already pending.
struct Proposed {
    index: u64,
    signature: Option<String>,
}

impl Proposed {
    fn outcome(&self) -> Map {
        let outcome = match &self.signature {
            Some(signature) => changed(vec![signature.clone()]),
            None => with(unchanged(), "already_pending", true),
        };
        with(outcome, "proposal", self.index as INT)
    }
}

/// Sends a transaction-creating instruction and its `proposal_create` (in one transaction
/// when they fit, else two), signed by `proposer` with the payer paying rent.
fn create_with_proposal(
    host: &Host,
    ms: &Pubkey,
    index: u64,
    proposer: &SignerHandle,
    what: &str,
    create: Instruction,
) -> Result<String, HostError> {
    let payer = host.payer()?.pubkey();
    let proposal = proposal_create(host, ms, index, proposer)?;
    let signers = co_signer(host, proposer)?;
    let both = [create.clone(), proposal.clone()];
    if transaction_size(&both, &payer) <= MAX_TRANSACTION_SIZE {
        return host.send(what, &both, &signers);
    }
    if transaction_size(std::slice::from_ref(&create), &payer) > MAX_TRANSACTION_SIZE {
        return Err(HostError::input(format!(
            "{what}: the vault transaction does not fit one Solana transaction; propose fewer steps at a time"
        )));
    }
    host.send(&format!("{what} (transaction)"), &[create], &signers)?;
    host.send(&format!("{what} (proposal)"), &[proposal], &signers)
}

/// Proposes `instructions` for `vault` to run, or reports the pending proposal that already
/// runs exactly them. The payer's place in them (fee and rent payer of the steps) is taken by
/// the vault, which signs everything when the proposal executes.
fn propose(
    host: &Host,
    vault: &Pubkey,
    reference: &VaultRef,
    title: &str,
    instructions: Vec<Instruction>,
) -> Result<Proposed, HostError> {
    let payer = host.payer()?.pubkey();
    let instructions: Vec<Instruction> = instructions
        .into_iter()
        .map(|mut ix| {
            ix.accounts.iter_mut().filter(|a| a.pubkey == payer).for_each(|a| a.pubkey = *vault);
            ix
        })
        .collect();
    let compiled = message::compile(vault, &instructions).map_err(|e| HostError::input(format!("{title}: {e}")))?;
    let ms = reference.multisig;
    let multisig = MultisigHandle { address: ms, proposer: None }.read(host)?;
    if !multisig.has_permission(&reference.proposer.pubkey(), Permission::Initiate) {
        return Err(HostError::input(format!(
            "{title}: {} may not propose for multisig {ms} (it needs the Initiate permission)",
            reference.proposer.pubkey()
        )));
    }
    let same = |stored: &Stored| matches!(stored, Stored::Vault(t) if t.vault_index == reference.index && t.message == compiled);
    if let Some(found) = pending_match(host, &ms, &multisig, same)? {
        return resume_pending(host, &ms, found, &reference.proposer, title);
    }
    let index = multisig.transaction_index + 1;
    let create = squads_ix::vault_transaction_create(
        &CreateAccounts {
            multisig: ms,
            created: pdas::transaction(&ms, index).0,
            creator: reference.proposer.pubkey(),
            rent_payer: payer,
        },
        &squads_ix::VaultTransactionCreateArgs {
            vault_index: reference.index,
            ephemeral_signers: 0,
            transaction_message: message::encode(&compiled),
            memo: Some(title.to_string()),
        },
    );
    let what = format!("propose #{index} \"{title}\" to multisig {ms}");
    let signature = create_with_proposal(host, &ms, index, &reference.proposer, &what, create)?;
    if host.is_dry_run() {
        rehearse_execution(host, &ms, index)?;
    }
    Ok(Proposed { index, signature: Some(signature) })
}

/// In a dry-run, executes the new proposal on the fork as if it were approved, so the plan
/// shows the state it would change.
fn rehearse_execution(host: &Host, ms: &Pubkey, index: u64) -> Result<(), HostError> {
    let handle = host.localnet_fork().ok_or_else(|| HostError::chain("a dry-run has a fork"))?;
    handle.lock().rehearse_vault_transaction(ms, index).map_err(|e| HostError::chain(e.to_string()))
}

/// `Host::send`'s path for steps whose signer is a known vault: one proposal per step.
pub fn propose_instructions(
    host: &Host,
    vault: &Pubkey,
    reference: &VaultRef,
    what: &str,
    instructions: Vec<Instruction>,
) -> Result<String, HostError> {
    let proposed = propose(host, vault, reference, what, instructions)?;
    Ok(proposed.signature.unwrap_or_else(|| format!("(pending proposal #{})", proposed.index)))
}

/// Proposes config `actions`, or reports the pending proposal with exactly these actions.
fn propose_config(host: &Host, ms: &MultisigHandle, title: &str, actions: Vec<ConfigAction>) -> Result<Map, HostError> {
    let multisig = ms.read(host)?;
    let proposer = ms.proposer(host)?;
    let same = |stored: &Stored| matches!(stored, Stored::Config(t) if t.actions == actions);
    if let Some(found) = pending_match(host, &ms.address, &multisig, same)? {
        return Ok(resume_pending(host, &ms.address, found, &proposer, title)?.outcome());
    }
    let index = multisig.transaction_index + 1;
    let create = squads_ix::config_transaction_create(
        &CreateAccounts {
            multisig: ms.address,
            created: pdas::transaction(&ms.address, index).0,
            creator: proposer.pubkey(),
            rent_payer: host.payer()?.pubkey(),
        },
        &squads_ix::ConfigTransactionCreateArgs { actions, memo: Some(title.to_string()) },
    );
    let what = format!("propose #{index} \"{title}\" to multisig {}", ms.address);
    let signature = create_with_proposal(host, &ms.address, index, &proposer, &what, create)?;
    Ok(Proposed { index, signature: Some(signature) }.outcome())
}

fn describe_action(action: &ConfigAction) -> String {
    match action {
        ConfigAction::AddMember { new_member } => {
            format!("add member {} ({})", new_member.key, new_member.permissions.names().join(", "))
        }
        ConfigAction::RemoveMember { old_member } => format!("remove member {old_member}"),
        ConfigAction::ChangeThreshold { new_threshold } => format!("change threshold to {new_threshold}"),
        ConfigAction::SetTimeLock { new_time_lock } => format!("set time lock to {new_time_lock} s"),
        ConfigAction::AddSpendingLimit { mint, amount, period, members, vault_index, .. } => format!(
            "add spending limit of {amount} (native units) of {mint} per {period:?} from vault {vault_index} for {}",
            members.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
        ConfigAction::RemoveSpendingLimit { spending_limit } => format!("remove spending limit {spending_limit}"),
        ConfigAction::SetRentCollector { new_rent_collector } => {
            format!("set rent collector to {new_rent_collector:?}")
        }
    }
}

fn keys(list: &[Pubkey]) -> Array {
    list.iter().map(|k| Dynamic::from(k.to_string())).collect()
}

fn proposal_map(multisig: &Multisig, index: u64, stored: &Stored, p: &Proposal, now: i64) -> Map {
    let mut map = Map::new();
    map.insert("index".into(), (index as INT).into());
    map.insert("status".into(), p.status.name().to_string().into());
    let stale = index <= multisig.stale_transaction_index;
    map.insert("stale".into(), stale.into());
    map.insert("approved".into(), keys(&p.approved).into());
    map.insert("rejected".into(), keys(&p.rejected).into());
    map.insert("cancelled".into(), keys(&p.cancelled).into());
    map.insert("threshold".into(), INT::from(multisig.threshold).into());
    let executable_at = match p.status {
        ProposalStatus::Approved { timestamp } => Dynamic::from(timestamp + i64::from(multisig.time_lock)),
        _ => Dynamic::UNIT,
    };
    let ready = matches!(p.status, ProposalStatus::Approved { timestamp } if now - timestamp >= i64::from(multisig.time_lock))
        && !(stale && matches!(stored, Stored::Config(_)));
    map.insert("executable_at".into(), executable_at);
    map.insert("executable".into(), ready.into());
    let (kind, what): (&str, Array) = match stored {
        Stored::Vault(t) => (
            "vault",
            message::instructions(&t.message)
                .map(|list| list.iter().map(|ix| Dynamic::from(describe(ix))).collect())
                .unwrap_or_default(),
        ),
        Stored::Config(t) => ("config", t.actions.iter().map(|a| Dynamic::from(describe_action(a))).collect()),
    };
    map.insert("kind".into(), kind.to_string().into());
    map.insert("instructions".into(), what.into());
    map
}

/// A member's vote, idempotent: a vote already cast is reported, not repeated.
fn vote(host: &Host, ms: &MultisigHandle, index: INT, member: &SignerHandle, vote: Vote) -> Result<Map, HostError> {
    let index = u64::try_from(index).map_err(|_| HostError::input(format!("proposal index {index} is negative")))?;
    let multisig = ms.read(host)?;
    let (_, proposal) = read_proposal(host, &ms.address, index)?;
    let key = member.pubkey();
    let already = match vote {
        Vote::Approve => proposal.approved.contains(&key),
        Vote::Reject => proposal.rejected.contains(&key),
        Vote::Cancel => proposal.cancelled.contains(&key),
    };
    // An executed proposal (or one a dry-run rehearsed) needs no more votes.
    if already || matches!(proposal.status, ProposalStatus::Executed { .. }) {
        return Ok(with(unchanged(), "status", proposal.status.name().to_string()));
    }
    if !multisig.has_permission(&key, Permission::Vote) {
        return Err(HostError::input(format!(
            "{key} may not vote on multisig {} (it needs the Vote permission)",
            ms.address
        )));
    }
    let wanted = if vote == Vote::Cancel { "Approved" } else { "Active" };
    if proposal.status.name() != wanted {
        return Err(HostError::input(format!(
            "proposal #{index} is {}; only an {wanted} proposal takes this vote",
            proposal.status.name()
        )));
    }
    if vote != Vote::Cancel && index <= multisig.stale_transaction_index {
        return Err(HostError::input(format!(
            "proposal #{index} is stale: the multisig's members, threshold or time lock changed after it was created"
        )));
    }
    let ix = squads_ix::proposal_vote(vote, &ms.address, &key, &pdas::proposal(&ms.address, index).0, None);
    let verb = match vote {
        Vote::Approve => "approve",
        Vote::Reject => "reject",
        Vote::Cancel => "cancel",
    };
    let signers = co_signer(host, member)?;
    let signature =
        host.send(&format!("{verb} proposal #{index} of multisig {} as {key}", ms.address), &[ix], &signers)?;
    let (_, after) = read_proposal(host, &ms.address, index)?;
    Ok(with(changed(vec![signature]), "status", after.status.name().to_string()))
}

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

/// The spending limits the multisig's config transactions added that still exist.
fn spending_limits(host: &Host, ms: &Pubkey, multisig: &Multisig) -> Result<Vec<(Pubkey, SpendingLimit)>, HostError> {
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

fn limit_map(host: &Host, address: &Pubkey, limit: &SpendingLimit, now: i64) -> Result<Map, HostError> {
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

fn mint_decimals(host: &Host, mint: &Pubkey) -> Result<u8, HostError> {
    let account = host.account(mint)?.ok_or_else(|| HostError::input(format!("mint {mint} does not exist")))?;
    spl_token_interface::state::Mint::unpack(&account.data)
        .map(|m| m.decimals)
        .map_err(|_| HostError::input(format!("{mint} is not a token mint")))
}

/// A pubkey from a signer handle, a Pubkey or base58 text.
fn pubkey_of(value: &Dynamic, what: &str) -> Result<Pubkey, HostError> {
    if let Some(k) = value.clone().try_cast::<Pubkey>() {
        Ok(k)
    } else if let Some(s) = value.clone().try_cast::<SignerHandle>() {
        Ok(s.pubkey())
    } else if let Some(text) = value.clone().try_cast::<String>() {
        crate::api::keys::parse_pubkey(&text)
    } else {
        Err(HostError::input(format!("{what}: expected a pubkey or signer, found {}", value.type_name())))
    }
}

fn permissions_of(value: Option<&Dynamic>) -> Result<Permissions, HostError> {
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

fn int_field(spec: &Map, key: &str, default: INT) -> Result<INT, HostError> {
    match spec.get(key) {
        None => Ok(default),
        Some(v) => v.as_int().map_err(|_| HostError::input(format!("{key}: expected an integer"))),
    }
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
        ms.register_vault(host, 0)?;
        return Ok(with(unchanged(), "multisig", Dynamic::from(ms)));
    }
    let spec = MultisigSpec { create_key, members, threshold, time_lock };
    let (_, signature) = handle.lock().create_multisig(spec).map_err(|e| HostError::chain(e.to_string()))?;
    host.record_sent(signature.to_string());
    host.log.info(&format!("created multisig \"{name}\": {address} ({threshold}-of-{})", list.len()));
    ms.register_vault(host, 0)?;
    Ok(with(changed(vec![signature.to_string()]), "multisig", Dynamic::from(ms)))
}

/// The deterministic create key of the spending limit for `member`, `mint` and vault `index`,
/// so proposing it twice proposes the same account.
fn limit_create_key(ms: &Pubkey, member: &Pubkey, mint: &Pubkey, index: u8) -> Pubkey {
    let hash = solana_sdk::hash::hashv(&[b"spending limit", ms.as_ref(), member.as_ref(), mint.as_ref(), &[index]]);
    Pubkey::new_from_array(hash.to_bytes())
}

fn add_spending_limit(host: &Host, ms: &MultisigHandle, spec: &Map) -> Result<Map, HostError> {
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
fn top_up_under_limit(
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

pub fn register_types(engine: &mut rhai::Engine) {
    engine
        .register_type_with_name::<MultisigHandle>("Multisig")
        .register_fn("to_string", |m: &mut MultisigHandle| format!("multisig {}", m.address))
        .register_fn("to_debug", |m: &mut MultisigHandle| format!("Multisig({})", m.address));
}

#[export_module]
pub mod multisig_api {
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
        ms.register_vault(&host, 0)?;
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
        Ok(ms.register_vault(&Host::of(&ctx), index)?)
    }

    /// The same multisig with `member` proposing (it needs the Initiate permission); the payer
    /// proposes otherwise.
    #[rhai_fn(name = "as_member", return_raw)]
    pub fn as_member(ctx: NativeCallContext, ms: &mut MultisigHandle, member: SignerHandle) -> Res<MultisigHandle> {
        let handle = MultisigHandle { address: ms.address, proposer: Some(member) };
        handle.register_vault(&Host::of(&ctx), 0)?;
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

    /// Runs `steps` (a closure) and proposes every instruction they would send as one vault
    /// transaction of vault 0 plus a proposal; when a pending proposal already runs exactly
    /// these instructions it is reported instead. Returns `#{changed, signatures, proposal}`
    /// (`proposal` is its index; `already_pending` when nothing new was created).
    ///
    /// ```rhai
    /// ms.propose("pause and update config", || { r.pause(); r.update_config("config.toml"); });
    /// ```
    #[rhai_fn(name = "propose", return_raw)]
    pub fn propose_steps(ctx: NativeCallContext, ms: &mut MultisigHandle, title: &str, steps: FnPtr) -> Res<Map> {
        let host = Host::of(&ctx);
        let vault = ms.register_vault(&host, 0)?;
        host.start_capture()?;
        let ran = steps.call_within_context::<Dynamic>(&ctx, ());
        let captured = host.end_capture();
        ran.map(|_| ())?;
        if captured.is_empty() {
            host.log.info(&format!("{title}: the steps have nothing to change; nothing proposed"));
            return Ok(unchanged());
        }
        let reference = host.vault(&vault).expect("registered above");
        Ok(propose(&host, &vault, &reference, title, captured)?.outcome())
    }

    /// Every proposal of the multisig, oldest first: `#{index, status, kind ("vault" or
    /// "config"), instructions (decoded, as in dry-run plans), approved, rejected, cancelled,
    /// threshold, stale, executable, executable_at}`.
    #[rhai_fn(name = "proposals", return_raw)]
    pub fn proposals(ctx: NativeCallContext, ms: &mut MultisigHandle) -> Res<Array> {
        let host = Host::of(&ctx);
        let m = ms.read(&host)?;
        let now = chain_time(&host)?;
        Ok(transactions(&host, &ms.address, 1, m.transaction_index)?
            .into_iter()
            .filter_map(|(index, stored, proposal)| Some(proposal_map(&m, index, &stored?, &proposal?, now)))
            .map(Dynamic::from)
            .collect())
    }

    /// Proposals still waiting for votes or execution (Active or Approved, not stale).
    #[rhai_fn(name = "pending", return_raw)]
    pub fn pending(ctx: NativeCallContext, ms: &mut MultisigHandle) -> Res<Array> {
        let all = proposals(ctx, ms)?;
        Ok(all
            .into_iter()
            .filter(|p| {
                let map = p.clone().cast::<Map>();
                let status = map.get("status").map(|s| s.to_string()).unwrap_or_default();
                let stale = map.get("stale").and_then(|s| s.as_bool().ok()).unwrap_or(false);
                (status == "Active" || status == "Approved") && !stale
            })
            .collect())
    }

    /// `member` approves proposal `index` (a no-op when it already did). Returns the status
    /// after the vote.
    #[rhai_fn(name = "approve", return_raw)]
    pub fn approve(ctx: NativeCallContext, ms: &mut MultisigHandle, index: INT, member: SignerHandle) -> Res<Map> {
        Ok(vote(&Host::of(&ctx), ms, index, &member, Vote::Approve)?)
    }

    /// `member` rejects proposal `index`; enough rejections that the threshold can no longer
    /// be met make it Rejected.
    #[rhai_fn(name = "reject", return_raw)]
    pub fn reject(ctx: NativeCallContext, ms: &mut MultisigHandle, index: INT, member: SignerHandle) -> Res<Map> {
        Ok(vote(&Host::of(&ctx), ms, index, &member, Vote::Reject)?)
    }

    /// `member` votes to cancel the approved proposal `index`.
    #[rhai_fn(name = "cancel", return_raw)]
    pub fn cancel(ctx: NativeCallContext, ms: &mut MultisigHandle, index: INT, member: SignerHandle) -> Res<Map> {
        Ok(vote(&Host::of(&ctx), ms, index, &member, Vote::Cancel)?)
    }

    /// `member` (with Execute) executes the approved proposal `index` once its time lock has
    /// passed; a no-op when it is already executed.
    #[rhai_fn(name = "execute", return_raw)]
    pub fn execute(ctx: NativeCallContext, ms: &mut MultisigHandle, index: INT, member: SignerHandle) -> Res<Map> {
        Ok(super::execute(&Host::of(&ctx), ms, index, &member)?)
    }

    /// Proposes a spending limit: `#{member, mint, amount (UI units), period ("day", "week",
    /// "month", "one_time"), vault_index?, destinations?}`. A no-op when it exists; a pending
    /// identical proposal is reported. Returns the outcome with `spending_limit` (its address).
    #[rhai_fn(name = "add_spending_limit", return_raw)]
    pub fn add_spending_limit(ctx: NativeCallContext, ms: &mut MultisigHandle, spec: Map) -> Res<Map> {
        Ok(super::add_spending_limit(&Host::of(&ctx), ms, &spec)?)
    }

    /// `grant(join_authority, user)` for a join authority that is a known multisig vault
    /// (`ms.vault(0)`): proposed, the vault paying the authorization's rent; a no-op when
    /// `user` may already join.
    #[rhai_fn(name = "grant", return_raw)]
    pub fn grant_as_vault(ctx: NativeCallContext, join_authority: Pubkey, user: Pubkey) -> Res<Map> {
        let host = Host::of(&ctx);
        if host.vault(&join_authority).is_none() {
            return Err(HostError::input(format!(
                "{join_authority} is not a known multisig vault; pass the join authority's signer instead"
            ))
            .into());
        }
        Ok(crate::api::authz::grant_as(&host, &join_authority, &[], &user)?)
    }

    /// `grant_public(join_authority)` for a join authority that is a known multisig vault.
    #[rhai_fn(name = "grant_public", return_raw)]
    pub fn grant_public_as_vault(ctx: NativeCallContext, join_authority: Pubkey) -> Res<Map> {
        grant_as_vault(ctx, join_authority, crate::psyche::pdas::PERMISSIONLESS_GRANTEE)
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
