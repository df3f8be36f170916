//! Dry-run plans: each transaction a runbook would send, with its decoded instructions, the
//! fields of every account it would change (`config.min_clients: 1 → 16`, a token balance
//! `+250.0`), and its fee.

use crate::localnet::executed::Executed;
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::authorization::Authorization;
use crate::psyche::accounts::coordinator_account::CoordinatorAccount;
use crate::psyche::accounts::instance::CoordinatorInstance;
use crate::psyche::accounts::treasurer::{Participant, TreasurerRun};
use crate::psyche::encoding::discriminator;
use crate::psyche::ids::{ASSOCIATED_TOKEN, ProgramIds, SYSTEM, TOKEN};
use serde::Serialize;
use serde_json::{Value, json};
use solana_program_pack::Pack;
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::transaction::VersionedTransaction;
use std::collections::BTreeMap;

/// Most field changes listed per account (large vectors change many slots at once).
const MAX_CHANGES_PER_ACCOUNT: usize = 24;

#[derive(Debug, Clone, Serialize)]
pub struct PlannedTransaction {
    pub signature: String,
    pub instructions: Vec<String>,
    pub fee_lamports: u64,
    pub error: Option<String>,
    pub changes: Vec<AccountChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountChange {
    pub address: String,
    pub kind: String,
    pub fields: Vec<String>,
}

/// What a plan reads of the chain it runs on: accounts, and the decimals of the mints whose
/// token amounts it shows.
pub trait Accounts {
    fn account(&self, key: &Pubkey) -> Option<Account>;
    fn mint_decimals(&self, mint: &Pubkey) -> Option<u8>;
}

/// The writable accounts of `tx` as they are before it runs.
pub fn snapshot(net: &dyn Accounts, tx: &VersionedTransaction) -> Vec<(Pubkey, Option<Account>)> {
    let message = &tx.message;
    message
        .static_account_keys()
        .iter()
        .enumerate()
        .filter(|(i, _)| message.is_maybe_writable(*i, None))
        .map(|(_, k)| (*k, net.account(k)))
        .collect()
}

impl PlannedTransaction {
    pub fn new(
        net: &dyn Accounts,
        tx: &VersionedTransaction,
        executed: &Executed,
        before: Vec<(Pubkey, Option<Account>)>,
    ) -> Self {
        let keys = tx.message.static_account_keys();
        let instructions = tx
            .message
            .instructions()
            .iter()
            .map(|ix| instruction_name(&keys[ix.program_id_index as usize], &ix.data))
            .collect();
        let changes = before
            .into_iter()
            .filter_map(|(key, old)| {
                let new = net.account(&key);
                let (kind, fields) = diff(net, old.as_ref(), new.as_ref());
                (!fields.is_empty()).then(|| AccountChange { address: key.to_string(), kind, fields })
            })
            .collect();
        Self {
            signature: executed.signature.to_string(),
            instructions,
            fee_lamports: executed.fee,
            error: executed.err.as_ref().map(ToString::to_string),
            changes,
        }
    }
}

/// `program.instruction` for the programs a runbook uses.
pub fn instruction_name(program: &Pubkey, data: &[u8]) -> String {
    let ids = ProgramIds::default();
    let anchor = |names: &[&str], prefix: &str| {
        names
            .iter()
            .find(|n| data.len() >= 8 && discriminator(&format!("global:{n}")) == data[..8])
            .map_or_else(|| format!("{prefix}.unknown"), |n| format!("{prefix}.{n}"))
    };
    if *program == ids.coordinator {
        anchor(
            &[
                "init_coordinator",
                "free_coordinator",
                "update",
                "update_client_version",
                "set_future_epoch_rates",
                "set_paused",
                "join_run",
                "tick",
                "witness",
                "checkpoint",
            ],
            "coordinator",
        )
    } else if *program == ids.authorizer {
        anchor(
            &[
                "authorization_create",
                "authorization_grantor_update",
                "authorization_grantee_update",
                "authorization_close",
            ],
            "authorizer",
        )
    } else if *program == ids.treasurer {
        anchor(&["run_create", "run_update", "participant_create", "participant_claim"], "treasurer")
    } else if *program == crate::squads::PROGRAM_ID {
        squads_instruction_name(data)
    } else if *program == SYSTEM {
        match data.first() {
            Some(0) => "system.create_account".into(),
            Some(2) => "system.transfer".into(),
            _ => "system".into(),
        }
    } else if *program == TOKEN {
        match data.first() {
            Some(3) => "token.transfer".into(),
            Some(7) => "token.mint_to".into(),
            Some(20) => "token.initialize_mint2".into(),
            _ => "token".into(),
        }
    } else if *program == ASSOCIATED_TOKEN {
        "associated_token.create".into()
    } else {
        format!("{program}")
    }
}

/// A step's instruction as a reviewer reads it: `program.instruction`, with the run-update
/// fields it sets.
pub fn describe(ix: &Instruction) -> String {
    let name = instruction_name(&ix.program_id, &ix.data);
    if name == "treasurer.run_update"
        && let Ok(update) =
            <crate::psyche::instructions::treasurer::RunUpdate as anchor_lang::AnchorDeserialize>::deserialize(
                &mut &ix.data[8..],
            )
    {
        let p = update.params;
        let mut parts = Vec::new();
        p.metadata.is_some().then(|| parts.push("metadata".to_string()));
        p.config.is_some().then(|| parts.push("config".to_string()));
        p.model.is_some().then(|| parts.push("model".to_string()));
        p.progress.is_some().then(|| parts.push("progress".to_string()));
        if let Some(rate) = p.epoch_earning_rate_total_shared {
            parts.push(format!("earning rate {rate}"));
        }
        if let Some(rate) = p.epoch_slashing_rate_per_client {
            parts.push(format!("slashing rate {rate}"));
        }
        if let Some(paused) = p.paused {
            parts.push(if paused { "pause".into() } else { "resume".into() });
        }
        if let Some(version) = p.client_version {
            parts.push(format!("client version {version}"));
        }
        return format!("{name} ({})", parts.join(", "));
    }
    name
}

/// A Squads instruction; a vault transaction shows the instructions it would run.
fn squads_instruction_name(data: &[u8]) -> String {
    use crate::squads::instructions::VaultTransactionCreateArgs;
    const NAMES: &[&str] = &[
        "multisig_create_v2",
        "vault_transaction_create",
        "proposal_create",
        "proposal_activate",
        "proposal_approve",
        "proposal_reject",
        "proposal_cancel",
        "vault_transaction_execute",
        "config_transaction_create",
        "config_transaction_execute",
        "spending_limit_use",
    ];
    let Some(name) = NAMES.iter().find(|n| data.len() >= 8 && discriminator(&format!("global:{n}")) == data[..8])
    else {
        return "squads.unknown".into();
    };
    let inner = (*name == "vault_transaction_create")
        .then(|| <VaultTransactionCreateArgs as anchor_lang::AnchorDeserialize>::deserialize(&mut &data[8..]).ok())
        .flatten()
        .and_then(|args| crate::squads::message::decode(&args.transaction_message).ok())
        .and_then(|message| crate::squads::message::instructions(&message).ok());
    match inner {
        Some(list) => {
            let names: Vec<String> = list.iter().map(describe).collect();
            format!("squads.{name} [{}]", names.join(", "))
        }
        None => format!("squads.{name}"),
    }
}

/// A decoded view of an account: its kind and its fields as JSON.
fn view(net: &dyn Accounts, account: Option<&Account>) -> (String, Value) {
    let Some(a) = account else { return ("absent".into(), Value::Null) };
    let ids = ProgramIds::default();
    let data = &a.data;
    let decoded = if a.owner == ids.coordinator {
        CoordinatorAccount::decode(data)
            .map(|c| ("coordinator account", coordinator_view(&c)))
            .ok()
            .or_else(|| CoordinatorInstance::decode(data).ok().map(|i| ("coordinator instance", json!(i))))
    } else if a.owner == ids.authorizer {
        Authorization::decode(data).ok().map(|x| ("authorization", json!(x)))
    } else if a.owner == ids.treasurer {
        TreasurerRun::decode(data)
            .map(|r| ("treasurer run", json!(r)))
            .ok()
            .or_else(|| Participant::decode(data).ok().map(|p| ("participant", json!(p))))
    } else if a.owner == crate::squads::PROGRAM_ID {
        squads_view(data)
    } else if a.owner == TOKEN {
        spl_token_interface::state::Account::unpack(data).ok().map(|t| {
            let decimals = net.mint_decimals(&t.mint).unwrap_or(0);
            (
                "token account",
                json!({"mint": t.mint.to_string(), "balance": t.amount as f64 / 10f64.powi(i32::from(decimals))}),
            )
        })
    } else {
        None
    };
    let (kind, mut fields) = decoded.unwrap_or(("account", json!({})));
    fields["lamports"] = json!(a.lamports);
    (kind.to_string(), fields)
}

/// Squads accounts a runbook changes: the multisig's counters, a proposal's status and votes,
/// a spending limit's remaining amount.
fn squads_view(data: &[u8]) -> Option<(&'static str, Value)> {
    use crate::squads::accounts::{Multisig, Proposal, SpendingLimit, VaultTransaction};
    let keys = |list: &[Pubkey]| list.iter().map(ToString::to_string).collect::<Vec<_>>();
    if let Ok(m) = Multisig::decode(data) {
        let view = json!({"threshold": m.threshold, "time_lock": m.time_lock, "members": m.members.len(),
            "transaction_index": m.transaction_index, "stale_transaction_index": m.stale_transaction_index});
        return Some(("multisig", view));
    }
    if let Ok(p) = Proposal::decode(data) {
        let view = json!({"transaction_index": p.transaction_index, "status": p.status.name(),
            "approved": keys(&p.approved), "rejected": keys(&p.rejected), "cancelled": keys(&p.cancelled)});
        return Some(("proposal", view));
    }
    if let Ok(t) = VaultTransaction::decode(data) {
        return Some(("vault transaction", json!({"index": t.index, "vault_index": t.vault_index})));
    }
    SpendingLimit::decode(data).ok().map(|l| {
        (
            "spending limit",
            json!({"amount": l.amount, "remaining_amount": l.remaining_amount, "last_reset": l.last_reset}),
        )
    })
}

/// The coordinator account without its bulky, noisy parts (witness blooms).
fn coordinator_view(c: &CoordinatorAccount) -> Value {
    let mut value = json!(c);
    value["run_state"] = json!(c.run_state.display());
    if let Some(epoch) = value.get_mut("epoch_state") {
        epoch.as_object_mut().map(|e| e.remove("rounds"));
    }
    value
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, v, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
            out.insert(format!("{prefix}.len"), json!(items.len()));
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

fn diff(net: &dyn Accounts, old: Option<&Account>, new: Option<&Account>) -> (String, Vec<String>) {
    let (old_kind, old_view) = view(net, old);
    let (new_kind, new_view) = view(net, new);
    let kind = if new.is_some() { new_kind } else { old_kind };
    if old.is_none() && new.is_some() {
        return (kind.clone(), vec![format!("created ({kind})")]);
    }
    if old.is_some() && new.is_none() {
        return (kind, vec!["closed".to_string()]);
    }
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &old_view, &mut a);
    flatten("", &new_view, &mut b);
    let mut fields = Vec::new();
    for (path, after) in &b {
        let before = a.get(path).unwrap_or(&Value::Null);
        if before == after {
            continue;
        }
        fields.push(match (path.as_str(), before.as_f64(), after.as_f64()) {
            ("balance", Some(x), Some(y)) => format!("balance {:+}", y - x),
            _ => format!("{path}: {before} → {after}"),
        });
    }
    if fields.len() > MAX_CHANGES_PER_ACCOUNT {
        let more = fields.len() - MAX_CHANGES_PER_ACCOUNT;
        fields.truncate(MAX_CHANGES_PER_ACCOUNT);
        fields.push(format!("… and {more} more field(s)"));
    }
    (kind, fields)
}

/// The plan as the operator reads it.
pub fn render(plan: &[PlannedTransaction]) -> String {
    if plan.is_empty() {
        return "plan: no changes".to_string();
    }
    let fees: u64 = plan.iter().map(|t| t.fee_lamports).sum();
    let mut out = format!("plan: {} transaction(s), fees {} SOL\n", plan.len(), fees as f64 / 1e9);
    for (i, tx) in plan.iter().enumerate() {
        out += &format!("{}. {}\n", i + 1, tx.instructions.join(", "));
        if let Some(error) = &tx.error {
            out += &format!("   would fail: {error}\n");
        }
        for change in &tx.changes {
            out += &format!("   {} {}\n", change.kind, change.address);
            for field in &change.fields {
                out += &format!("     {field}\n");
            }
        }
    }
    out.trim_end().to_string()
}
