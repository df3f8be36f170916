//! Solana JSON-RPC on the embedded chain: one dispatcher behind both the in-process client
//! transport (`sender`) and `localnet serve` (`server`), so the two behave identically. It
//! answers as a solana-test-validator does: the client API's own request and response types
//! (`params`, and the response types of solana-rpc-client-api), the validator's account and
//! transaction encoders (`accounts`, `transactions`), and its codes and messages for unknown
//! methods and bad params. Every call first lets the chain catch up with the clock.

mod accounts;
mod params;
mod transactions;

use crate::localnet::Localnet;
use params::{args, none, parsed};
use serde_json::{Value, json};
use solana_rpc_client_api::config::{RpcContextConfig, RpcRequestAirdropConfig};
use solana_rpc_client_api::response::{RpcBlockhash, RpcPrioritizationFee, RpcVersionInfo};
use solana_sdk::epoch_info::EpochInfo;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;

/// The version this endpoint reports (the agave runtime it embeds).
pub const SOLANA_CORE_VERSION: &str = "3.1.14";
/// Slots per epoch on a default cluster.
const SLOTS_PER_EPOCH: u64 = 432_000;
/// Most accounts `getRecentPrioritizationFees` takes.
const MAX_PRIORITIZATION_ACCOUNTS: usize = 128;

pub const INVALID_REQUEST: i64 = -32600;
pub const INVALID_PARAMS: i64 = -32602;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INTERNAL_ERROR: i64 = -32603;
pub const PREFLIGHT_FAILURE: i64 = -32002;

#[derive(Debug, Clone)]
pub struct RpcFailure {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

type Result<T> = std::result::Result<T, RpcFailure>;

fn with_context(net: &Localnet, value: Value) -> Value {
    json!({"context": {"slot": net.slot(), "apiVersion": SOLANA_CORE_VERSION}, "value": value})
}

/// Reads the one optional context config most methods take (commitment, min context slot).
fn context_only(params: &Value) -> Result<()> {
    let (_config,): (Option<RpcContextConfig>,) = args(params, 0, 1)?;
    Ok(())
}

/// Answers one JSON-RPC call.
pub fn dispatch(net: &mut Localnet, method: &str, params: &Value) -> Result<Value> {
    net.follow_clock();
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
            context_only(params)?;
            json!(net.slot())
        }
        "getEpochInfo" => {
            context_only(params)?;
            let slot = net.slot();
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
            context_only(params)?;
            let latest = RpcBlockhash {
                blockhash: net.latest_blockhash().to_string(),
                last_valid_block_height: net.last_valid_block_height(),
            };
            with_context(net, json!(latest))
        }
        "isBlockhashValid" => {
            let (text, _config): (String, Option<RpcContextConfig>) = args(params, 1, 2)?;
            let hash: Hash = parsed(&text)?;
            with_context(net, json!(net.is_blockhash_valid(&hash)))
        }
        "getFeeForMessage" => transactions::get_fee_for_message(net, params)?,
        "getBalance" => {
            let (key, _config): (String, Option<RpcContextConfig>) = args(params, 1, 2)?;
            let key: Pubkey = parsed(&key)?;
            with_context(net, json!(net.balance(&key)))
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
        "getTransaction" => transactions::get_transaction(net, params)?,
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

/// The answer to a request that is not a call (no method) or an empty batch.
pub fn invalid_request() -> RpcFailure {
    RpcFailure { code: INVALID_REQUEST, message: "Invalid request".into(), data: None }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
