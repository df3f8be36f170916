//! Solana JSON-RPC on the embedded chain: one dispatcher behind both the in-process client
//! transport (`sender`) and `localnet serve` (`server`), so the two behave identically.
//! Responses follow the RPC spec's shapes (context wrappers, base58/base64 account data,
//! preflight failures as error -32002 with the simulation's logs).

use crate::localnet::{Executed, LAMPORTS_PER_SIGNATURE, Localnet};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};
use solana_sdk::account::{Account, ReadableAccount};
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use solana_sdk::transaction::{TransactionError, VersionedTransaction};
use solana_transaction_status_client_types::UiTransactionError;

/// The version this endpoint reports (the agave runtime it embeds).
pub const SOLANA_CORE_VERSION: &str = "3.1.14";

pub const INVALID_PARAMS: i64 = -32602;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const PREFLIGHT_FAILURE: i64 = -32002;

#[derive(Debug, Clone)]
pub struct RpcFailure {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcFailure {
    fn invalid(message: impl Into<String>) -> Self {
        Self { code: INVALID_PARAMS, message: message.into(), data: None }
    }
}

type Result<T> = std::result::Result<T, RpcFailure>;

fn err_json(err: &Option<TransactionError>) -> Value {
    err.clone().map_or(Value::Null, |e| serde_json::to_value(UiTransactionError::from(e)).expect("errors serialize"))
}

fn status_json(err: &Option<TransactionError>) -> Value {
    match err {
        None => json!({"Ok": null}),
        Some(e) => json!({"Err": serde_json::to_value(UiTransactionError::from(e.clone())).expect("errors serialize")}),
    }
}

fn with_context(net: &Localnet, value: Value) -> Value {
    json!({"context": {"slot": net.slot(), "apiVersion": SOLANA_CORE_VERSION}, "value": value})
}

fn param(params: &Value, index: usize) -> Option<&Value> {
    params.as_array().and_then(|p| p.get(index)).filter(|v| !v.is_null())
}

fn config(params: &Value, index: usize) -> Map<String, Value> {
    param(params, index).and_then(Value::as_object).cloned().unwrap_or_default()
}

fn pubkey_at(params: &Value, index: usize) -> Result<Pubkey> {
    let text = param(params, index)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcFailure::invalid("Invalid params: expected a pubkey"))?;
    text.parse().map_err(|_| RpcFailure::invalid(format!("Invalid param: WrongSize or invalid pubkey {text}")))
}

fn encode_data(data: &[u8], encoding: &str) -> Value {
    match encoding {
        "base58" => json!([bs58::encode(data).into_string(), "base58"]),
        // jsonParsed and base64+zstd fall back to plain base64, which every client decodes.
        _ => json!([BASE64.encode(data), "base64"]),
    }
}

fn account_json(account: &Account, encoding: &str) -> Value {
    json!({
        "lamports": account.lamports,
        "owner": account.owner.to_string(),
        "data": encode_data(account.data(), encoding),
        "executable": account.executable,
        "rentEpoch": account.rent_epoch,
        "space": account.data.len(),
    })
}

fn encoding_of(cfg: &Map<String, Value>, default: &str) -> String {
    cfg.get("encoding").and_then(Value::as_str).unwrap_or(default).to_string()
}

fn decode_transaction(params: &Value) -> Result<VersionedTransaction> {
    let text = param(params, 0)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcFailure::invalid("Invalid params: expected an encoded transaction"))?;
    let bytes = match encoding_of(&config(params, 1), "base58").as_str() {
        "base64" => BASE64.decode(text).map_err(|e| RpcFailure::invalid(format!("invalid base64 encoding: {e}")))?,
        "base58" => {
            bs58::decode(text).into_vec().map_err(|e| RpcFailure::invalid(format!("invalid base58 encoding: {e}")))?
        }
        other => return Err(RpcFailure::invalid(format!("unsupported encoding: {other}"))),
    };
    bincode::deserialize(&bytes)
        .map_err(|e| RpcFailure::invalid(format!("failed to deserialize VersionedTransaction: {e}")))
}

fn simulation_json(executed: &Executed) -> Value {
    json!({
        "err": err_json(&executed.err),
        "logs": executed.logs,
        "accounts": null,
        "unitsConsumed": executed.compute_units,
        "returnData": null,
        "innerInstructions": null,
        "fee": executed.fee,
    })
}

/// Answers one JSON-RPC call.
pub fn dispatch(net: &mut Localnet, method: &str, params: &Value) -> Result<Value> {
    Ok(match method {
        "getVersion" => json!({"solana-core": SOLANA_CORE_VERSION, "feature-set": 0}),
        "getHealth" => json!("ok"),
        "getSlot" | "getBlockHeight" => json!(net.slot()),
        "getEpochInfo" => json!({
            "absoluteSlot": net.slot(), "blockHeight": net.slot(), "epoch": 0, "slotIndex": net.slot(),
            "slotsInEpoch": 432_000, "transactionCount": null,
        }),
        "getGenesisHash" => json!(Hash::default().to_string()),
        "getLatestBlockhash" => with_context(
            net,
            json!({"blockhash": net.latest_blockhash().to_string(), "lastValidBlockHeight": net.last_valid_block_height()}),
        ),
        "isBlockhashValid" => {
            let text =
                param(params, 0).and_then(Value::as_str).ok_or_else(|| RpcFailure::invalid("expected a blockhash"))?;
            let hash: Hash = text.parse().map_err(|_| RpcFailure::invalid(format!("invalid blockhash {text}")))?;
            with_context(net, json!(net.is_blockhash_valid(&hash)))
        }
        "getFeeForMessage" => {
            let text =
                param(params, 0).and_then(Value::as_str).ok_or_else(|| RpcFailure::invalid("expected a message"))?;
            let bytes = BASE64.decode(text).map_err(|e| RpcFailure::invalid(format!("invalid base64: {e}")))?;
            let message: solana_sdk::message::VersionedMessage =
                bincode::deserialize(&bytes).map_err(|e| RpcFailure::invalid(format!("invalid message: {e}")))?;
            let signatures = u64::from(message.header().num_required_signatures);
            with_context(net, json!(signatures * LAMPORTS_PER_SIGNATURE))
        }
        "getBalance" => {
            let key = pubkey_at(params, 0)?;
            with_context(net, json!(net.balance(&key)))
        }
        "getAccountInfo" => {
            let key = pubkey_at(params, 0)?;
            let encoding = encoding_of(&config(params, 1), "base58");
            let value = net.account(&key).map_or(Value::Null, |a| account_json(&a, &encoding));
            with_context(net, value)
        }
        "getMultipleAccounts" => {
            let keys = param(params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcFailure::invalid("expected an array of pubkeys"))?;
            let encoding = encoding_of(&config(params, 1), "base64");
            let mut values = Vec::new();
            for key in keys {
                let key: Pubkey =
                    key.as_str().and_then(|k| k.parse().ok()).ok_or_else(|| RpcFailure::invalid("invalid pubkey"))?;
                values.push(net.account(&key).map_or(Value::Null, |a| account_json(&a, &encoding)));
            }
            with_context(net, Value::Array(values))
        }
        "getProgramAccounts" => program_accounts(net, params)?,
        "getTokenAccountBalance" => {
            let key = pubkey_at(params, 0)?;
            let (amount, mint) =
                net.token_balance(&key).ok_or_else(|| RpcFailure::invalid("Invalid param: not a Token account"))?;
            let decimals = net.mint_decimals(&mint).unwrap_or(0);
            let ui = amount as f64 / 10f64.powi(i32::from(decimals));
            with_context(
                net,
                json!({"amount": amount.to_string(), "decimals": decimals, "uiAmount": ui, "uiAmountString": ui.to_string()}),
            )
        }
        "getMinimumBalanceForRentExemption" => {
            let size =
                param(params, 0).and_then(Value::as_u64).ok_or_else(|| RpcFailure::invalid("expected a data size"))?;
            json!(net.minimum_balance(size as usize))
        }
        "getRecentPrioritizationFees" => json!([{"slot": net.slot(), "prioritizationFee": 0}]),
        "getSignatureStatuses" => {
            let signatures =
                param(params, 0).and_then(Value::as_array).ok_or_else(|| RpcFailure::invalid("expected signatures"))?;
            let mut statuses = Vec::new();
            for text in signatures {
                let signature: Signature = text
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| RpcFailure::invalid("invalid signature"))?;
                statuses.push(net.record(&signature).map_or(Value::Null, |r| {
                    json!({"slot": r.slot, "confirmations": null, "err": err_json(&r.err), "status": status_json(&r.err), "confirmationStatus": "finalized"})
                }));
            }
            with_context(net, Value::Array(statuses))
        }
        "getTransaction" => {
            let text =
                param(params, 0).and_then(Value::as_str).ok_or_else(|| RpcFailure::invalid("expected a signature"))?;
            let signature: Signature = text.parse().map_err(|_| RpcFailure::invalid("invalid signature"))?;
            let encoding = encoding_of(&config(params, 1), "json");
            match net.record(&signature) {
                None => Value::Null,
                Some(r) => {
                    let tx: VersionedTransaction =
                        bincode::deserialize(&r.transaction).expect("stored transactions decode");
                    let version = match tx.message {
                        solana_sdk::message::VersionedMessage::Legacy(_) => json!("legacy"),
                        solana_sdk::message::VersionedMessage::V0(_) => json!(0),
                    };
                    let transaction = if encoding == "base58" {
                        json!([bs58::encode(&r.transaction).into_string(), "base58"])
                    } else {
                        json!([BASE64.encode(&r.transaction), "base64"])
                    };
                    json!({
                        "slot": r.slot,
                        "blockTime": r.block_time,
                        "version": version,
                        "transaction": transaction,
                        "meta": {
                            "err": err_json(&r.err),
                            "status": status_json(&r.err),
                            "fee": r.fee,
                            "preBalances": r.pre_balances,
                            "postBalances": r.post_balances,
                            "innerInstructions": [],
                            "logMessages": r.logs,
                            "preTokenBalances": [],
                            "postTokenBalances": [],
                            "rewards": [],
                            "computeUnitsConsumed": r.compute_units,
                        },
                    })
                }
            }
        }
        "simulateTransaction" => {
            let mut tx = decode_transaction(params)?;
            let cfg = config(params, 1);
            let sig_verify = cfg.get("sigVerify").and_then(Value::as_bool).unwrap_or(false);
            let replace = cfg.get("replaceRecentBlockhash").and_then(Value::as_bool).unwrap_or(false);
            if sig_verify && replace {
                return Err(RpcFailure::invalid("sigVerify may not be used with replaceRecentBlockhash"));
            }
            // As a validator does: simulate with the latest blockhash and say which it was.
            let replacement = replace.then(|| {
                tx.message.set_recent_blockhash(net.latest_blockhash());
                json!({"blockhash": net.latest_blockhash().to_string(), "lastValidBlockHeight": net.last_valid_block_height()})
            });
            let executed = net.simulate(&tx, sig_verify);
            let mut value = simulation_json(&executed);
            value["replacementBlockhash"] = replacement.unwrap_or(Value::Null);
            with_context(net, value)
        }
        "sendTransaction" => send_transaction(net, params)?,
        "requestAirdrop" => {
            let key = pubkey_at(params, 0)?;
            let lamports =
                param(params, 1).and_then(Value::as_u64).ok_or_else(|| RpcFailure::invalid("expected lamports"))?;
            let signature = net.airdrop(&key, lamports).map_err(|e| RpcFailure {
                code: -32603,
                message: e.to_string(),
                data: None,
            })?;
            json!(signature.to_string())
        }
        other => {
            return Err(RpcFailure {
                code: METHOD_NOT_FOUND,
                message: format!("Method not found: {other}"),
                data: None,
            });
        }
    })
}

fn send_transaction(net: &mut Localnet, params: &Value) -> Result<Value> {
    let tx = decode_transaction(params)?;
    let preflight_failure = |executed: &Executed, err: &TransactionError| RpcFailure {
        code: PREFLIGHT_FAILURE,
        message: format!("Transaction simulation failed: {err}"),
        data: Some(simulation_json(executed)),
    };
    if let Err(err) = net.admit(&tx) {
        let executed = Executed {
            signature: tx.signatures[0],
            err: Some(err.clone()),
            logs: Vec::new(),
            compute_units: 0,
            fee: 0,
        };
        return Err(preflight_failure(&executed, &err));
    }
    let skip_preflight = config(params, 1).get("skipPreflight").and_then(Value::as_bool).unwrap_or(false);
    if !skip_preflight {
        let simulated = net.simulate(&tx, true);
        if let Some(err) = &simulated.err {
            return Err(preflight_failure(&simulated, err));
        }
    }
    let executed = net.execute(&tx);
    Ok(json!(executed.signature.to_string()))
}

fn program_accounts(net: &Localnet, params: &Value) -> Result<Value> {
    let owner = pubkey_at(params, 0)?;
    let cfg = config(params, 1);
    let encoding = encoding_of(&cfg, "base58");
    let filters = cfg.get("filters").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut matches = Vec::new();
    for (key, account) in net.program_accounts(&owner) {
        let data = account.data();
        let mut keep = true;
        for filter in &filters {
            if let Some(size) = filter.get("dataSize").and_then(Value::as_u64) {
                keep &= data.len() as u64 == size;
            } else if let Some(memcmp) = filter.get("memcmp") {
                let offset = memcmp.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
                let text = memcmp.get("bytes").and_then(Value::as_str).unwrap_or_default();
                let bytes = match memcmp.get("encoding").and_then(Value::as_str) {
                    Some("base64") => BASE64.decode(text).map_err(|_| RpcFailure::invalid("invalid memcmp bytes"))?,
                    _ => bs58::decode(text).into_vec().map_err(|_| RpcFailure::invalid("invalid memcmp bytes"))?,
                };
                keep &= data.get(offset..offset + bytes.len()) == Some(bytes.as_slice());
            } else {
                return Err(RpcFailure::invalid(format!("unsupported filter {filter}")));
            }
        }
        if keep {
            let account: Account = account.into();
            matches.push(json!({"pubkey": key.to_string(), "account": account_json(&account, &encoding)}));
        }
    }
    let value = Value::Array(matches);
    Ok(if cfg.get("withContext").and_then(Value::as_bool).unwrap_or(false) { with_context(net, value) } else { value })
}
