//! Solana JSON-RPC on the embedded chain: one dispatcher behind both the in-process client
//! transport (`sender`) and `localnet serve` (`server`), so the two behave identically. It
//! answers as a solana-test-validator does: the client API's own request and response types
//! (`params`, and the response types of solana-rpc-client-api), the validator's account and
//! transaction encoders (`accounts`, `transactions`), and its codes and messages for unknown
//! methods and bad params; the history (`history`: signatures by address, blocks) comes from
//! the chain's store. Every call first lets the chain catch up with the clock, and answers
//! at the commitment level it asks for (`finalized` when it names none, as the validator does;
//! see `commitment`).

pub mod accounts;
mod cluster;
mod history;
pub mod params;
pub mod pubsub;
mod response;
mod tokens;
mod transactions;

pub use response::{
    INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, NODE_UNHEALTHY, PREFLIGHT_FAILURE, RpcFailure,
    SOLANA_CORE_VERSION, invalid_request, storage_failed, unhealthy,
};

use crate::localnet::Localnet;
use crate::localnet::commitment::level;
use params::{args, none, parsed};
use response::with_context;
use serde_json::{Value, json};
use solana_commitment_config::CommitmentLevel;
use solana_rpc_client_api::config::{RpcContextConfig, RpcRequestAirdropConfig};
use solana_rpc_client_api::response::{RpcBlockhash, RpcPrioritizationFee, RpcVersionInfo};
use solana_sdk::epoch_info::EpochInfo;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;

/// Slots per epoch on a default cluster.
const SLOTS_PER_EPOCH: u64 = 432_000;
/// Most accounts `getRecentPrioritizationFees` takes.
const MAX_PRIORITIZATION_ACCOUNTS: usize = 128;

type Result<T> = std::result::Result<T, RpcFailure>;

/// Reads the one optional context config most methods take; its commitment level.
fn context_only(params: &Value) -> Result<CommitmentLevel> {
    let (config,): (Option<RpcContextConfig>,) = args(params, 0, 1)?;
    Ok(level(config.and_then(|c| c.commitment)))
}

/// Answers one JSON-RPC call.
pub fn dispatch(net: &mut Localnet, method: &str, params: &Value) -> Result<Value> {
    // A chain whose store failed holds what its database does not: it answers nothing.
    if let Some(reason) = net.storage_failure() {
        return Err(storage_failed(reason));
    }
    net.follow_clock();
    // Anything but a send may report a transaction: what landed is committed first.
    if method != "sendTransaction" {
        net.flush().map_err(|failure| storage_failed(&failure.0))?;
    }
    Ok(match method {
        "getVersion" => {
            none(params)?;
            json!(RpcVersionInfo { solana_core: SOLANA_CORE_VERSION.into(), feature_set: Some(0) })
        }
        "getHealth" => {
            none(params)?;
            json!("ok")
        }
        "getGenesisHash" => {
            none(params)?;
            json!(net.genesis_hash().to_string())
        }
        "getSlot" | "getBlockHeight" => {
            let level = context_only(params)?;
            json!(net.slot_at(level))
        }
        "getEpochInfo" => {
            let level = context_only(params)?;
            let slot = net.slot_at(level);
            json!(EpochInfo {
                epoch: slot / SLOTS_PER_EPOCH,
                slot_index: slot % SLOTS_PER_EPOCH,
                slots_in_epoch: SLOTS_PER_EPOCH,
                absolute_slot: slot,
                block_height: slot,
                transaction_count: Some(net.transaction_count()),
            })
        }
        "getLatestBlockhash" => {
            let level = context_only(params)?;
            let (blockhash, last_valid_block_height) = net.latest_blockhash_at(level);
            let latest = RpcBlockhash { blockhash: blockhash.to_string(), last_valid_block_height };
            with_context(net.slot_at(level), json!(latest))
        }
        "isBlockhashValid" => {
            let (text, config): (String, Option<RpcContextConfig>) = args(params, 1, 2)?;
            let hash: Hash = parsed(&text)?;
            let level = level(config.and_then(|c| c.commitment));
            with_context(net.slot_at(level), json!(net.is_blockhash_valid_at(&hash, level)))
        }
        "getFeeForMessage" => transactions::get_fee_for_message(net, params)?,
        "getBalance" => {
            let (key, config): (String, Option<RpcContextConfig>) = args(params, 1, 2)?;
            let key: Pubkey = parsed(&key)?;
            let level = level(config.and_then(|c| c.commitment));
            with_context(net.slot_at(level), json!(net.balance_at(&key, level)))
        }
        "getAccountInfo" => accounts::get_account_info(net, params)?,
        "getMultipleAccounts" => accounts::get_multiple_accounts(net, params)?,
        "getProgramAccounts" => accounts::get_program_accounts(net, params)?,
        "getTokenAccountBalance" => accounts::get_token_account_balance(net, params)?,
        "getMinimumBalanceForRentExemption" => {
            let (size, _commitment): (usize, Option<Value>) = args(params, 1, 2)?;
            json!(net.minimum_balance(size))
        }
        "getRecentPrioritizationFees" => {
            let (keys,): (Option<Vec<String>>,) = args(params, 0, 1)?;
            let keys = keys.unwrap_or_default();
            params::at_most(&keys, MAX_PRIORITIZATION_ACCOUNTS)?;
            for key in &keys {
                parsed::<Pubkey>(key)?;
            }
            // Nothing here bids for block space: every recent slot's fee is zero.
            let fees: Vec<RpcPrioritizationFee> =
                net.recent_slots().map(|slot| RpcPrioritizationFee { slot, prioritization_fee: 0 }).collect();
            json!(fees)
        }
        "getSignatureStatuses" => transactions::get_signature_statuses(net, params)?,
        "getSignaturesForAddress" => history::get_signatures_for_address(net, params)?,
        "getBlock" => history::get_block(net, params)?,
        "getBlockTime" => history::get_block_time(net, params)?,
        "getBlocks" => history::get_blocks(net, params)?,
        "getBlocksWithLimit" => history::get_blocks_with_limit(net, params)?,
        "getFirstAvailableBlock" => {
            none(params)?;
            history::get_first_available_block(net)?
        }
        "getTransactionCount" => {
            context_only(params)?;
            json!(net.transaction_count())
        }
        "getTransaction" => transactions::get_transaction(net, params)?,
        "getClusterNodes" => cluster::get_cluster_nodes(net, params)?,
        "getEpochSchedule" => cluster::get_epoch_schedule(params)?,
        "getIdentity" => cluster::get_identity(net, params)?,
        "getHighestSnapshotSlot" => cluster::get_highest_snapshot_slot(net, params)?,
        "getMaxRetransmitSlot" | "getMaxShredInsertSlot" => cluster::get_max_shred_slot(params)?,
        "minimumLedgerSlot" => cluster::minimum_ledger_slot(net, params)?,
        "getInflationGovernor" => cluster::get_inflation_governor(params)?,
        "getInflationRate" => cluster::get_inflation_rate(net, params)?,
        "getInflationReward" => cluster::get_inflation_reward(net, params)?,
        "getSupply" => cluster::get_supply(net, params)?,
        "getLargestAccounts" => cluster::get_largest_accounts(net, params)?,
        "getSlotLeader" => cluster::get_slot_leader(net, params)?,
        "getSlotLeaders" => cluster::get_slot_leaders(net, params)?,
        "getLeaderSchedule" => cluster::get_leader_schedule(net, params)?,
        "getVoteAccounts" => cluster::get_vote_accounts(net, params)?,
        "getBlockCommitment" => cluster::get_block_commitment(net, params)?,
        "getBlockProduction" => cluster::get_block_production(net, params)?,
        "getRecentPerformanceSamples" => cluster::get_recent_performance_samples(net, params)?,
        "getStakeMinimumDelegation" => cluster::get_stake_minimum_delegation(net, params)?,
        "getTokenSupply" => tokens::get_token_supply(net, params)?,
        "getTokenLargestAccounts" => tokens::get_token_largest_accounts(net, params)?,
        "getTokenAccountsByOwner" => tokens::get_token_accounts_by_owner(net, params)?,
        "getTokenAccountsByDelegate" => tokens::get_token_accounts_by_delegate(net, params)?,
        "simulateTransaction" => transactions::simulate_transaction(net, params)?,
        "sendTransaction" => transactions::send_transaction(net, params)?,
        "requestAirdrop" => {
            let (key, lamports, _config): (String, u64, Option<RpcRequestAirdropConfig>) = args(params, 2, 3)?;
            let key: Pubkey = parsed(&key)?;
            let signature = net.airdrop(&key, lamports).map_err(|e| RpcFailure {
                code: INTERNAL_ERROR,
                message: e.to_string(),
                data: None,
            })?;
            json!(signature.to_string())
        }
        _ => return Err(RpcFailure { code: METHOD_NOT_FOUND, message: "Method not found".into(), data: None }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::instruction::Instruction;
    use solana_sdk::native_token::LAMPORTS_PER_SOL;
    use solana_sdk::signature::Keypair;
    use solana_sdk::signer::Signer;
    use solana_sdk::transaction::Transaction;

    #[test]
    fn unknown_methods_and_bad_params_answer_as_the_validator() {
        let mut net = Localnet::new();
        let unknown = dispatch(&mut net, "getNothing", &json!([])).unwrap_err();
        assert_eq!((unknown.code, unknown.message.as_str()), (-32601, "Method not found"));
        let bad = dispatch(&mut net, "getBalance", &json!(["abc"])).unwrap_err();
        assert_eq!((bad.code, bad.message.as_str()), (-32602, "Invalid param: WrongSize"));
        let missing = dispatch(&mut net, "getBalance", &json!([])).unwrap_err();
        assert_eq!(missing.message, "`params` should have at least 1 argument(s)");
    }

    /// A funded payer's transaction of `ix`, base64 as clients send it.
    fn signed(net: &mut Localnet, ix: Instruction, blockhash: Hash) -> String {
        use base64::Engine as _;
        let payer = Keypair::new();
        net.airdrop(&payer.pubkey(), LAMPORTS_PER_SOL).unwrap();
        let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[&payer], blockhash);
        base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).unwrap())
    }

    fn send(net: &mut Localnet, tx: &str, mut config: Value) -> Result<Value> {
        config["encoding"] = json!("base64");
        dispatch(net, "sendTransaction", &json!([tx, config]))
    }

    #[test]
    fn a_missing_program_fails_preflight_and_costs_its_fee_without_it() {
        let mut net = Localnet::new();
        let ix = Instruction::new_with_bytes(Pubkey::new_unique(), &[1], vec![]);
        let blockhash = net.latest_blockhash();
        let tx = signed(&mut net, ix, blockhash);
        let refused = send(&mut net, &tx, json!({"preflightCommitment": "processed"})).unwrap_err();
        assert_eq!(refused.code, PREFLIGHT_FAILURE, "{}", refused.message);
        assert_eq!(refused.data.as_ref().unwrap()["err"], json!("ProgramAccountNotFound"), "{refused:?}");
        let config = json!({"encoding": "base64", "commitment": "processed"});
        let simulated = dispatch(&mut net, "simulateTransaction", &json!([tx, config])).unwrap();
        assert_eq!(simulated["value"]["err"], json!("ProgramAccountNotFound"));
        let signature = send(&mut net, &tx, json!({"skipPreflight": true})).unwrap();
        let statuses = dispatch(&mut net, "getSignatureStatuses", &json!([[signature]])).unwrap();
        assert_eq!(statuses["value"][0]["err"], json!("ProgramAccountNotFound"), "recorded, as failed");
        let read = dispatch(&mut net, "getTransaction", &json!([signature, {"commitment": "confirmed"}])).unwrap();
        assert_eq!(read["meta"]["fee"], json!(5_000), "only its fee is charged");
    }

    #[test]
    fn a_finalized_preflight_does_not_know_a_newer_blockhash() {
        let mut net = Localnet::new();
        net.warp_slots(100);
        let to = Pubkey::new_unique();
        let (blockhash, _) = net.latest_blockhash_at(CommitmentLevel::Confirmed);
        let payer = Keypair::new();
        net.airdrop(&payer.pubkey(), LAMPORTS_PER_SOL).unwrap();
        let ix = solana_system_interface::instruction::transfer(&payer.pubkey(), &to, 1_000_000);
        let tx = signed_by(&payer, ix, blockhash);
        // Without a preflight commitment the node checks at `finalized`, which is 31 slots behind.
        let refused = send(&mut net, &tx, json!({})).unwrap_err();
        assert_eq!(refused.data.as_ref().unwrap()["err"], json!("BlockhashNotFound"), "{refused:?}");
        let valid = json!([blockhash.to_string(), {"commitment": "finalized"}]);
        assert_eq!(dispatch(&mut net, "isBlockhashValid", &valid).unwrap()["value"], json!(false));
        send(&mut net, &tx, json!({"preflightCommitment": "confirmed"})).unwrap();
        let balance = |net: &mut Localnet, config: Value| {
            dispatch(net, "getBalance", &json!([to.to_string(), config])).unwrap()["value"].clone()
        };
        assert_eq!(balance(&mut net, json!({"commitment": "confirmed"})), json!(1_000_000));
        assert_eq!(balance(&mut net, json!({})), json!(0), "the root has not seen it");
        net.warp_slots(31);
        assert_eq!(balance(&mut net, json!({"commitment": "finalized"})), json!(1_000_000), "rooted 31 slots later");
    }

    #[test]
    fn a_finalized_client_signs_with_the_roots_blockhash_and_lands() {
        let mut net = Localnet::new();
        net.warp_slots(100);
        let payer = Keypair::new();
        net.airdrop(&payer.pubkey(), LAMPORTS_PER_SOL).unwrap();
        net.warp_slots(40);
        let latest = dispatch(&mut net, "getLatestBlockhash", &json!([{"commitment": "finalized"}])).unwrap();
        let blockhash: Hash = latest["value"]["blockhash"].as_str().unwrap().parse().unwrap();
        let ix = solana_system_interface::instruction::transfer(&payer.pubkey(), &Pubkey::new_unique(), 1_000_000);
        let tx = signed_by(&payer, ix, blockhash);
        send(&mut net, &tx, json!({"preflightCommitment": "finalized"})).unwrap();
        // The payer's balance changed in a slot the root has not reached: a simulation at
        // `finalized` still finds the payer, as it was.
        net.warp_slots(2);
        let ix = solana_system_interface::instruction::transfer(&payer.pubkey(), &Pubkey::new_unique(), 1_000_000);
        let tx = signed_by(&payer, ix, Hash::default());
        let config = json!({"encoding": "base64", "commitment": "finalized", "replaceRecentBlockhash": true});
        let simulated = dispatch(&mut net, "simulateTransaction", &json!([tx, config])).unwrap();
        assert_eq!(simulated["value"]["err"], Value::Null, "{simulated}");
        let blockhash: Hash =
            simulated["value"]["replacementBlockhash"]["blockhash"].as_str().unwrap().parse().unwrap();
        let ix = solana_system_interface::instruction::transfer(&payer.pubkey(), &Pubkey::new_unique(), 1_000_000);
        let tx = signed_by(&payer, ix, blockhash);
        send(&mut net, &tx, json!({"preflightCommitment": "finalized"})).unwrap();
    }

    fn signed_by(payer: &Keypair, ix: Instruction, blockhash: Hash) -> String {
        use base64::Engine as _;
        let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[payer], blockhash);
        base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&tx).unwrap())
    }
}
