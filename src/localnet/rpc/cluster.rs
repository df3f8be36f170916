//! What a node says about itself and its cluster, as a single test validator says it: one node
//! (this chain's identity, its RPC and PubSub addresses), one vote account holding all stake and
//! voting every slot, the leader of every slot, the default epoch schedule and inflation,
//! supply and largest accounts from the accounts the chain holds, block production and
//! performance samples from what it executed. Explorers and `solana epoch-info`-style tools ask
//! these first; the values follow the localnet's own state.

use crate::localnet::Localnet;
use crate::localnet::commitment::level;
use crate::localnet::node::{self, ACTIVATED_STAKE};
use crate::localnet::rpc::params::{args, invalid, none, parsed};
use crate::localnet::rpc::response::{RpcFailure, SOLANA_CORE_VERSION, with_context};
use serde_json::{Value, json};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client_api::config::{
    RpcBlockProductionConfig, RpcContextConfig, RpcEpochConfig, RpcGetVoteAccountsConfig, RpcLargestAccountsConfig,
    RpcLargestAccountsFilter, RpcLeaderScheduleConfig, RpcSupplyConfig,
};
use solana_sdk::pubkey::Pubkey;

type Result<T> = std::result::Result<T, RpcFailure>;

/// The default epoch schedule (no warmup), as a test validator has it.
pub const SLOTS_PER_EPOCH: u64 = 432_000;
/// Most leaders `getSlotLeaders` answers, and most samples `getRecentPerformanceSamples`.
const MAX_SLOT_LEADERS: u64 = 5_000;
const MAX_PERFORMANCE_SAMPLES: usize = 720;
/// A performance sample spans a minute; a vote account keeps credits for this many epochs.
const SAMPLE_SECONDS: u64 = 60;
/// Accounts `getLargestAccounts` and `getTokenLargestAccounts` answer.
pub const LARGEST: usize = 20;
/// Slots a block's commitment array covers (lockouts).
const COMMITMENT_DEPTH: usize = 32;
/// A validator's error for a block it does not have.
const BLOCK_NOT_AVAILABLE: i64 = -32004;

/// The default inflation (`Inflation::default()`): what the governor says and the rate follows.
const INITIAL: f64 = 0.08;
const TERMINAL: f64 = 0.015;
const TAPER: f64 = 0.15;
const FOUNDATION: f64 = 0.05;
const FOUNDATION_TERM: f64 = 7.0;

fn epoch_of(slot: u64) -> u64 {
    slot / SLOTS_PER_EPOCH
}

fn identity(net: &Localnet) -> Pubkey {
    node::identity(&net.genesis_hash())
}

/// A socket of the node as text: served ones as they are, others on the same host at port 0
/// (a localnet has no gossip, TPU or repair service).
fn socket(net: &Localnet, served: Option<std::net::SocketAddr>) -> String {
    let host = net.addresses().rpc.map_or_else(|| "127.0.0.1".to_string(), |a| a.ip().to_string());
    served.map_or_else(|| format!("{host}:0"), |a| a.to_string())
}

pub fn get_cluster_nodes(net: &Localnet, params: &Value) -> Result<Value> {
    none(params)?;
    let addresses = net.addresses();
    let none = || socket(net, None);
    Ok(json!([{
        "pubkey": identity(net).to_string(),
        "gossip": none(), "tvu": none(), "tpu": none(), "tpuQuic": none(), "tpuForwards": none(),
        "tpuForwardsQuic": none(), "tpuVote": none(), "serveRepair": none(),
        "rpc": socket(net, addresses.rpc),
        "pubsub": socket(net, addresses.pubsub),
        "version": SOLANA_CORE_VERSION,
        "featureSet": 0,
        "shredVersion": 0,
    }]))
}

pub fn get_epoch_schedule(params: &Value) -> Result<Value> {
    none(params)?;
    Ok(json!({
        "slotsPerEpoch": SLOTS_PER_EPOCH,
        "leaderScheduleSlotOffset": SLOTS_PER_EPOCH,
        "warmup": false,
        "firstNormalEpoch": 0,
        "firstNormalSlot": 0,
    }))
}

pub fn get_identity(net: &Localnet, params: &Value) -> Result<Value> {
    none(params)?;
    Ok(json!({"identity": identity(net).to_string()}))
}

/// The chain's database is its one snapshot, of the rooted state.
pub fn get_highest_snapshot_slot(net: &Localnet, params: &Value) -> Result<Value> {
    none(params)?;
    Ok(json!({"full": net.root_slot(), "incremental": null}))
}

/// A single node neither retransmits nor inserts shreds from others: 0, as a test validator
/// answers.
pub fn get_max_shred_slot(params: &Value) -> Result<Value> {
    none(params)?;
    Ok(json!(0))
}

pub fn minimum_ledger_slot(net: &Localnet, params: &Value) -> Result<Value> {
    none(params)?;
    let first = net.store().history().first_block().map_err(|e| invalid(e.to_string()))?;
    Ok(json!(first.unwrap_or(0)))
}

pub fn get_inflation_governor(params: &Value) -> Result<Value> {
    let (_config,): (Option<CommitmentConfig>,) = args(params, 0, 1)?;
    Ok(json!({
        "initial": INITIAL, "terminal": TERMINAL, "taper": TAPER,
        "foundation": FOUNDATION, "foundationTerm": FOUNDATION_TERM,
    }))
}

pub fn get_inflation_rate(net: &Localnet, params: &Value) -> Result<Value> {
    none(params)?;
    let epoch = epoch_of(net.slot());
    // Years since genesis at this epoch, with the default slot length.
    let slots_per_year =
        365.242_199 * 24.0 * 60.0 * 60.0 * 1000.0 / crate::localnet::chain_params::DEFAULT_SLOT_MS as f64;
    let year = (epoch * SLOTS_PER_EPOCH) as f64 / slots_per_year;
    let total = (INITIAL * (1.0 - TAPER).powf(year)).max(TERMINAL);
    let foundation = if year < FOUNDATION_TERM { total * FOUNDATION } else { 0.0 };
    Ok(json!({"epoch": epoch, "total": total, "validator": total - foundation, "foundation": foundation}))
}

/// Rewards are paid in the first block of the next epoch: none here (no stake earns), so each
/// address answers null once that block exists.
pub fn get_inflation_reward(net: &Localnet, params: &Value) -> Result<Value> {
    let (addresses, config): (Vec<String>, Option<RpcEpochConfig>) = args(params, 1, 2)?;
    for address in &addresses {
        parsed::<Pubkey>(address)?;
    }
    let config = config.unwrap_or_default();
    let epoch = config.epoch.unwrap_or_else(|| epoch_of(net.slot()).saturating_sub(1));
    let first_slot = (epoch + 1) * SLOTS_PER_EPOCH;
    if first_slot > net.slot_at(level(config.commitment)) {
        return Err(RpcFailure {
            code: BLOCK_NOT_AVAILABLE,
            message: format!("Block not available for slot {first_slot}"),
            data: None,
        });
    }
    Ok(json!(addresses.iter().map(|_| Value::Null).collect::<Vec<_>>()))
}

pub fn get_supply(net: &Localnet, params: &Value) -> Result<Value> {
    let (config,): (Option<RpcSupplyConfig>,) = args(params, 0, 1)?;
    let level = level(config.and_then(|c| c.commitment));
    let total = net.store().total_lamports();
    let value = json!({"total": total, "circulating": total, "nonCirculating": 0, "nonCirculatingAccounts": []});
    Ok(with_context(net.slot_at(level), value))
}

pub fn get_largest_accounts(net: &Localnet, params: &Value) -> Result<Value> {
    let (config,): (Option<RpcLargestAccountsConfig>,) = args(params, 0, 1)?;
    let config = config.unwrap_or_default();
    let level = level(config.commitment);
    // No lamports are locked out of circulation on a localnet.
    let accounts = match config.filter {
        Some(RpcLargestAccountsFilter::NonCirculating) => Vec::new(),
        _ => net.store().largest_accounts(LARGEST),
    };
    let value: Vec<Value> =
        accounts.into_iter().map(|(key, lamports)| json!({"address": key.to_string(), "lamports": lamports})).collect();
    Ok(with_context(net.slot_at(level), json!(value)))
}

pub fn get_slot_leader(net: &Localnet, params: &Value) -> Result<Value> {
    let (_config,): (Option<RpcContextConfig>,) = args(params, 0, 1)?;
    Ok(json!(identity(net).to_string()))
}

pub fn get_slot_leaders(net: &Localnet, params: &Value) -> Result<Value> {
    let (_start, limit): (u64, u64) = args(params, 2, 2)?;
    if limit > MAX_SLOT_LEADERS {
        return Err(invalid(format!("Invalid limit; max {MAX_SLOT_LEADERS}")));
    }
    let leader = identity(net).to_string();
    Ok(json!(vec![leader; limit as usize]))
}

/// The node leads every slot of the epoch: `{identity: [slot indexes]}`, null for an epoch
/// whose schedule is not known yet.
pub fn get_leader_schedule(net: &Localnet, params: &Value) -> Result<Value> {
    let (slot, config): (Option<u64>, Option<RpcLeaderScheduleConfig>) = args(params, 0, 2)?;
    let config = config.unwrap_or_default();
    let at = net.slot_at(level(config.commitment));
    let epoch = epoch_of(slot.unwrap_or(at));
    if epoch > epoch_of(at) + 1 {
        return Ok(Value::Null);
    }
    let leader = identity(net).to_string();
    if config.identity.as_ref().is_some_and(|wanted| *wanted != leader) {
        return Ok(json!({}));
    }
    Ok(json!({leader: (0..SLOTS_PER_EPOCH).collect::<Vec<u64>>()}))
}

pub fn get_vote_accounts(net: &Localnet, params: &Value) -> Result<Value> {
    let (config,): (Option<RpcGetVoteAccountsConfig>,) = args(params, 0, 1)?;
    let config = config.unwrap_or_default();
    let at = net.slot_at(level(config.commitment));
    let vote = node::vote_account(&net.genesis_hash());
    if config.vote_pubkey.as_ref().is_some_and(|wanted| *wanted != vote.to_string()) {
        return Ok(json!({"current": [], "delinquent": []}));
    }
    // One credit a rooted slot, as a lone validator earns them.
    let credits = net.root_slot();
    Ok(json!({
        "current": [{
            "votePubkey": vote.to_string(),
            "nodePubkey": identity(net).to_string(),
            "activatedStake": ACTIVATED_STAKE,
            "epochVoteAccount": true,
            "commission": 0,
            "lastVote": at,
            "epochCredits": [[epoch_of(at), credits, 0]],
            "rootSlot": net.root_slot(),
        }],
        "delinquent": [],
    }))
}

/// All stake voted for the slots above the root (the newest at the shallowest lockout).
pub fn get_block_commitment(net: &Localnet, params: &Value) -> Result<Value> {
    let (slot,): (u64,) = args(params, 1, 1)?;
    let commitment = (slot > net.root_slot() && slot <= net.slot()).then(|| {
        let mut stakes = vec![0u64; COMMITMENT_DEPTH];
        stakes[0] = ACTIVATED_STAKE;
        stakes
    });
    Ok(json!({"commitment": commitment, "totalStake": ACTIVATED_STAKE}))
}

/// The node leads every slot; the blocks it produced are the slots that hold transactions (a
/// localnet makes no empty blocks, as `getBlock` says).
pub fn get_block_production(net: &Localnet, params: &Value) -> Result<Value> {
    let (config,): (Option<RpcBlockProductionConfig>,) = args(params, 0, 1)?;
    let config = config.unwrap_or_default();
    let at = net.slot_at(level(config.commitment));
    let (first, last) = match &config.range {
        Some(range) => (range.first_slot, range.last_slot.unwrap_or(at).min(at)),
        None => (0, at),
    };
    if first > last {
        return Err(invalid(format!("lastSlot, {last}, cannot be less than firstSlot, {first}")));
    }
    let leader = identity(net).to_string();
    let mut by_identity = serde_json::Map::new();
    if config.identity.as_ref().is_none_or(|wanted| *wanted == leader) {
        let produced =
            net.store().history().blocks(first, last, usize::MAX >> 1).map_err(|e| invalid(e.to_string()))?;
        by_identity.insert(leader, json!([last - first + 1, produced.len()]));
    }
    let value = json!({"byIdentity": by_identity, "range": {"firstSlot": first, "lastSlot": last}});
    Ok(with_context(at, value))
}

/// A sample a minute, newest first, counted from the history: every transaction here is a
/// non-vote one.
pub fn get_recent_performance_samples(net: &Localnet, params: &Value) -> Result<Value> {
    let (limit,): (Option<usize>,) = args(params, 0, 1)?;
    let limit = limit.unwrap_or(MAX_PERFORMANCE_SAMPLES);
    if limit > MAX_PERFORMANCE_SAMPLES {
        return Err(invalid(format!("Invalid limit; max {MAX_PERFORMANCE_SAMPLES}")));
    }
    let per_sample = (SAMPLE_SECONDS * 1000 / net.slot_ms().max(1)).max(1);
    let history = net.store().history();
    let mut samples = Vec::new();
    let mut end = net.slot();
    while samples.len() < limit && end >= per_sample {
        let start = end - per_sample + 1;
        let transactions = history.count_between(start, end).map_err(|e| invalid(e.to_string()))?;
        samples.push(json!({
            "slot": end, "numSlots": per_sample, "numTransactions": transactions,
            "numNonVoteTransactions": transactions, "samplePeriodSecs": SAMPLE_SECONDS,
        }));
        end -= per_sample;
    }
    Ok(json!(samples))
}

pub fn get_stake_minimum_delegation(net: &Localnet, params: &Value) -> Result<Value> {
    let (config,): (Option<CommitmentConfig>,) = args(params, 0, 1)?;
    let level = level(config);
    Ok(with_context(net.slot_at(level), json!(solana_sdk::native_token::LAMPORTS_PER_SOL)))
}
