//! Proposals and votes: a vault transaction (or config transaction) with its proposal, created
//! in one Solana transaction when both fit; a pending proposal with the same content is
//! reported instead of duplicated, and one whose proposal a stopped run never created gets it.
//! Members list proposals, and approve, reject or cancel them.

use crate::api::host::Host;
use crate::api::ops::multisig::handle::{
    MultisigHandle, Stored, VaultRef, chain_time, co_signer, keys, read_proposal, transactions,
};
use crate::api::values::error::HostError;
use crate::api::values::keys::SignerHandle;
use crate::api::values::outcome::{changed, unchanged, with};
use crate::localnet::plan::describe;
use crate::psyche::sizing::{MAX_TRANSACTION_SIZE, transaction_size};
use crate::squads::accounts::{ConfigAction, Multisig, Permission, Proposal, ProposalStatus};
use crate::squads::instructions::{self as squads_ix, CreateAccounts, Vote};
use crate::squads::{message, pdas};
use rhai::plugin::*;
use rhai::{Array, EvalAltResult, INT, Map};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// A fresh (not stale) transaction satisfying `same` whose proposal is pending, or which has
/// no proposal yet (a run stopped between sending the two); true when it has its proposal.
pub(super) fn pending_match(
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
pub(super) fn resume_pending(
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

pub(super) fn proposal_create(
    host: &Host,
    ms: &Pubkey,
    index: u64,
    proposer: &SignerHandle,
) -> Result<Instruction, HostError> {
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
pub(super) struct Proposed {
    pub(super) index: u64,
    pub(super) signature: Option<String>,
}

impl Proposed {
    pub(super) fn outcome(&self) -> Map {
        let outcome = match &self.signature {
            Some(signature) => changed(vec![signature.clone()]),
            None => with(unchanged(), "already_pending", true),
        };
        with(outcome, "proposal", self.index as INT)
    }
}

/// Sends a transaction-creating instruction and its `proposal_create` (in one transaction
/// when they fit, else two), signed by `proposer` with the payer paying rent.
pub(super) fn create_with_proposal(
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
pub(super) fn propose(
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
pub(super) fn rehearse_execution(host: &Host, ms: &Pubkey, index: u64) -> Result<(), HostError> {
    let handle = host.localnet_fork().ok_or_else(|| HostError::chain("a dry-run has a fork"))?;
    handle.lock().rehearse_vault_transaction(ms, index).map_err(|e| HostError::chain(e.to_string()))
}

/// Proposes config `actions`, or reports the pending proposal with exactly these actions.
pub(super) fn propose_config(
    host: &Host,
    ms: &MultisigHandle,
    title: &str,
    actions: Vec<ConfigAction>,
) -> Result<Map, HostError> {
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

pub(super) fn describe_action(action: &ConfigAction) -> String {
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

pub(super) fn proposal_map(multisig: &Multisig, index: u64, stored: &Stored, p: &Proposal, now: i64) -> Map {
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
pub(super) fn vote(
    host: &Host,
    ms: &MultisigHandle,
    index: INT,
    member: &SignerHandle,
    vote: Vote,
) -> Result<Map, HostError> {
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

#[export_module]
pub mod proposals_api {
    use super::*;

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
}
