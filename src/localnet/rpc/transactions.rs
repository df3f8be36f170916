//! Transactions over JSON-RPC as a validator serves them: `sendTransaction` (preflight on the
//! bank at `preflightCommitment`, `finalized` by default, so a blockhash that level has not
//! seen is not found; or none with `skipPreflight`: then a failing transaction still lands and
//! its error shows in its status), `simulateTransaction` (on the bank at its commitment:
//! balances, token balances, loaded data size, replaced blockhash, inner instructions,
//! post-simulation accounts), `getSignatureStatuses` (confirmed at once, finalized once its
//! slot is rooted) and `getTransaction` in every encoding, through
//! solana-transaction-status, the encoder the validator uses, so json and jsonParsed are the
//! validator's by construction.

use crate::localnet::chain_params::LAMPORTS_PER_SIGNATURE;
use crate::localnet::commitment::level;
use crate::localnet::executed::Executed;
use crate::localnet::rpc::accounts::encode;
use crate::localnet::rpc::params::{args, at_most, invalid, parsed};
use crate::localnet::rpc::response::{PREFLIGHT_FAILURE, RpcFailure, with_context};
use crate::localnet::{Localnet, Simulated, TxRecord};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use solana_account_decoder::UiAccountEncoding;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client_api::config::{
    RpcContextConfig, RpcEncodingConfigWrapper, RpcSendTransactionConfig, RpcSignatureStatusConfig,
    RpcSimulateTransactionConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::response::{RpcBlockhash, RpcSimulateTransactionResult};
use solana_sdk::message::{AccountKeys, VersionedMessage};
use solana_sdk::signature::Signature;
use solana_sdk::transaction::{TransactionError, VersionedTransaction};
use solana_transaction_context::TransactionReturnData;
use solana_transaction_status::{
    ConfirmedTransactionWithStatusMeta, EncodeError, TransactionBinaryEncoding, TransactionConfirmationStatus,
    TransactionStatus, TransactionStatusMeta, TransactionWithStatusMeta, UiLoadedAddresses, UiTransactionEncoding,
    VersionedTransactionWithStatusMeta, parse_ui_inner_instructions,
};

/// Largest transaction on the wire, and its largest base58 and base64 forms.
const PACKET_DATA_SIZE: usize = 1232;
const MAX_BASE58_SIZE: usize = 1683;
const MAX_BASE64_SIZE: usize = 1644;
/// Most signatures one `getSignatureStatuses` takes.
const MAX_STATUSES: usize = 256;
/// Slots the status cache remembers (`getSignatureStatuses` without history search).
const STATUS_CACHE_SLOTS: u64 = 300;
const SIGNATURE_VERIFICATION_FAILURE: i64 = -32003;
const UNSUPPORTED_TRANSACTION_VERSION: i64 = -32015;

fn binary_encoding(encoding: Option<UiTransactionEncoding>) -> Result<TransactionBinaryEncoding, RpcFailure> {
    let encoding = encoding.unwrap_or(UiTransactionEncoding::Base58);
    encoding
        .into_binary_encoding()
        .ok_or_else(|| invalid(format!("unsupported encoding: {encoding}. Supported encodings: base58, base64")))
}

/// Decodes and deserializes a wire transaction or message, with the validator's limits and
/// messages.
fn decode<T: DeserializeOwned>(encoded: &str, encoding: TransactionBinaryEncoding) -> Result<T, RpcFailure> {
    let name = std::any::type_name::<T>();
    let bytes = match encoding {
        TransactionBinaryEncoding::Base58 => {
            if encoded.len() > MAX_BASE58_SIZE {
                return Err(invalid(format!(
                    "base58 encoded {name} too large: {} bytes (max: encoded/raw {MAX_BASE58_SIZE}/{PACKET_DATA_SIZE})",
                    encoded.len()
                )));
            }
            bs58::decode(encoded).into_vec().map_err(|e| invalid(format!("invalid base58 encoding: {e:?}")))?
        }
        TransactionBinaryEncoding::Base64 => {
            if encoded.len() > MAX_BASE64_SIZE {
                return Err(invalid(format!(
                    "base64 encoded {name} too large: {} bytes (max: encoded/raw {MAX_BASE64_SIZE}/{PACKET_DATA_SIZE})",
                    encoded.len()
                )));
            }
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| invalid(format!("invalid base64 encoding: {e:?}")))?
        }
    };
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(invalid(format!(
            "decoded {name} too large: {} bytes (max: {PACKET_DATA_SIZE} bytes)",
            bytes.len()
        )));
    }
    use bincode::Options as _;
    bincode::options()
        .with_limit(PACKET_DATA_SIZE as u64)
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .deserialize(&bytes)
        .map_err(|e| invalid(format!("failed to deserialize {name}: {e}")))
}

fn sanitized(tx: &VersionedTransaction) -> Result<(), RpcFailure> {
    tx.sanitize().map_err(|_| invalid(format!("invalid transaction: {}", TransactionError::SanitizeFailure)))
}

fn verify_signatures(net: &Localnet, tx: &VersionedTransaction) -> Result<(), RpcFailure> {
    if net.signatures_hold(tx) {
        return Ok(());
    }
    Err(RpcFailure {
        code: SIGNATURE_VERIFICATION_FAILURE,
        message: "Transaction signature verification failure".into(),
        data: None,
    })
}

fn return_data(executed: &Executed) -> Option<TransactionReturnData> {
    (!executed.return_data.data.is_empty()).then(|| executed.return_data.clone())
}

/// The result of a simulation as `simulateTransaction` reports it.
fn simulation_result(simulated: &Simulated) -> RpcSimulateTransactionResult {
    let executed = &simulated.executed;
    let tokens = |balances: &[crate::localnet::status_meta::TokenBalance]| {
        balances.iter().map(|b| b.to_transaction_token_balance().into()).collect()
    };
    RpcSimulateTransactionResult {
        err: executed.err.clone().map(Into::into),
        logs: Some(executed.logs.clone()),
        accounts: None,
        units_consumed: Some(executed.compute_units),
        loaded_accounts_data_size: Some(simulated.status.loaded_accounts_data_size),
        return_data: return_data(executed).map(Into::into),
        inner_instructions: None,
        replacement_blockhash: None,
        fee: Some(executed.fee),
        pre_balances: Some(simulated.pre_balances.clone()),
        post_balances: Some(simulated.post_balances.clone()),
        pre_token_balances: Some(tokens(&simulated.status.pre_token_balances)),
        post_token_balances: Some(tokens(&simulated.status.post_token_balances)),
        loaded_addresses: Some(UiLoadedAddresses::default()),
    }
}

/// What a failed preflight carries in its error data (the validator leaves out balances).
fn preflight_failure(simulated: &Simulated, err: &TransactionError) -> RpcFailure {
    let data = RpcSimulateTransactionResult {
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
        ..simulation_result(simulated)
    };
    RpcFailure {
        code: PREFLIGHT_FAILURE,
        message: format!("Transaction simulation failed: {err}"),
        data: Some(serde_json::to_value(data).expect("simulation results serialize")),
    }
}

/// A transaction refused at the door, as a simulation reports it.
fn refused(tx: &VersionedTransaction, err: TransactionError) -> Simulated {
    Simulated {
        executed: Executed::refused(tx.signatures[0], err),
        pre_balances: Vec::new(),
        post_balances: Vec::new(),
        status: Default::default(),
        post_accounts: Default::default(),
    }
}

pub fn send_transaction(net: &mut Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (data, config): (String, Option<RpcSendTransactionConfig>) = args(params, 1, 2)?;
    let config = config.unwrap_or_default();
    let tx: VersionedTransaction = decode(&data, binary_encoding(config.encoding)?)?;
    sanitized(&tx)?;
    let signature = tx.signatures[0];
    if !config.skip_preflight {
        verify_signatures(net, &tx)?;
        let level = level(config.preflight_commitment.map(|commitment| CommitmentConfig { commitment }));
        let simulated = match net.admit_at(&tx, level) {
            // Below `finalized` the preflight bank holds every account as the transaction will
            // find them: one run does for the simulation and the execution.
            Ok(())
                if level != CommitmentLevel::Finalized
                    && net.admit(&tx).is_ok()
                    && net.missing_program(&tx).is_none() =>
            {
                match net.execute_preflighted(&tx) {
                    Ok(_) => return Ok(json!(signature.to_string())),
                    Err(simulated) => *simulated,
                }
            }
            Ok(()) => net.at_level(level, |net| net.simulate(&tx, false)),
            Err(err) => refused(&tx, err),
        };
        if let Some(err) = &simulated.executed.err {
            return Err(preflight_failure(&simulated, err));
        }
    }
    // Without preflight a cluster answers with the signature whatever happens next: an unknown
    // blockhash or a repeat is dropped, anything else runs and its outcome is in its status.
    if net.admit(&tx).is_ok() {
        net.execute(&tx);
    }
    Ok(json!(signature.to_string()))
}

pub fn simulate_transaction(net: &mut Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (data, config): (String, Option<RpcSimulateTransactionConfig>) = args(params, 1, 2)?;
    let config = config.unwrap_or_default();
    let level = level(config.commitment);
    let mut tx: VersionedTransaction = decode(&data, binary_encoding(config.encoding)?)?;
    if config.sig_verify && config.replace_recent_blockhash {
        return Err(invalid("sigVerify may not be used with replaceRecentBlockhash"));
    }
    let replacement = config.replace_recent_blockhash.then(|| {
        let (blockhash, last_valid_block_height) = net.latest_blockhash_at(level);
        tx.message.set_recent_blockhash(blockhash);
        RpcBlockhash { blockhash: blockhash.to_string(), last_valid_block_height }
    });
    sanitized(&tx)?;
    if config.sig_verify {
        verify_signatures(net, &tx)?;
    }
    let simulated = if net.is_blockhash_valid_at(tx.message.recent_blockhash(), level) {
        net.at_level(level, |net| net.simulate(&tx, config.sig_verify))
    } else {
        refused(&tx, TransactionError::BlockhashNotFound)
    };
    let mut result = simulation_result(&simulated);
    result.replacement_blockhash = replacement;
    let keys = AccountKeys::new(tx.message.static_account_keys(), None);
    if config.inner_instructions {
        result.inner_instructions = Some(
            simulated
                .status
                .inner_instructions
                .iter()
                .map(|inner| parse_ui_inner_instructions(inner.clone(), &keys))
                .collect(),
        );
    }
    if let Some(accounts) = config.accounts {
        let encoding = accounts.encoding.unwrap_or(UiAccountEncoding::Base64);
        if matches!(encoding, UiAccountEncoding::Binary | UiAccountEncoding::Base58) {
            return Err(invalid("base58 encoding not supported"));
        }
        if accounts.addresses.len() > keys.len() {
            return Err(invalid(format!("Too many accounts provided; max {}", keys.len())));
        }
        let mut encoded = Vec::with_capacity(accounts.addresses.len());
        for address in &accounts.addresses {
            let key = parsed(address)?;
            let account = simulated.executed.err.is_none().then(|| simulated.post_accounts.get(&key)).flatten();
            encoded.push(match account {
                Some(account) => Some(encode(net, &key, account, encoding, None)?),
                None => None,
            });
        }
        result.accounts = Some(encoded);
    }
    Ok(with_context(net.slot_at(level), serde_json::to_value(result).expect("simulation results serialize")))
}

pub fn get_signature_statuses(net: &Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (signatures, config): (Vec<String>, Option<RpcSignatureStatusConfig>) = args(params, 1, 2)?;
    at_most(&signatures, MAX_STATUSES)?;
    let search_history = config.is_some_and(|c| c.search_transaction_history);
    let mut statuses = Vec::with_capacity(signatures.len());
    for text in &signatures {
        let signature: Signature = parsed(text)?;
        let status = net
            .record(&signature)
            .filter(|r| search_history || r.slot + STATUS_CACHE_SLOTS >= net.slot())
            .map(|r| status_of(net, &r));
        statuses.push(status);
    }
    Ok(with_context(net.slot(), json!(statuses)))
}

/// A single validator confirms its own slots at once (counting the slot itself as one
/// confirmation, as it reports them); they are finalized once rooted.
fn status_of(net: &Localnet, record: &TxRecord) -> TransactionStatus {
    let depth = net.slot().saturating_sub(record.slot);
    let finalized = record.slot <= net.root_slot();
    TransactionStatus {
        slot: record.slot,
        confirmations: (!finalized).then_some(depth as usize + 1),
        status: record.err.clone().map_or(Ok(()), Err),
        err: record.err.clone(),
        confirmation_status: Some(if finalized {
            TransactionConfirmationStatus::Finalized
        } else {
            TransactionConfirmationStatus::Confirmed
        }),
    }
}

pub fn get_transaction(net: &Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (text, config): (String, Option<RpcEncodingConfigWrapper<RpcTransactionConfig>>) = args(params, 1, 2)?;
    let signature: Signature = parsed(&text)?;
    let config = config.map(|c| c.convert_to_current()).unwrap_or_default();
    if config.commitment.is_some_and(|c| c.commitment == CommitmentLevel::Processed) {
        return Err(invalid("Method does not support commitment below `confirmed`"));
    }
    let at = net.slot_at(level(config.commitment));
    let Some(record) = net.record(&signature).filter(|r| r.slot <= at) else { return Ok(Value::Null) };
    let confirmed = ConfirmedTransactionWithStatusMeta {
        slot: record.slot,
        tx_with_meta: TransactionWithStatusMeta::Complete(with_meta(&record)),
        block_time: Some(record.block_time),
    };
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    match confirmed.encode(encoding, config.max_supported_transaction_version) {
        Ok(encoded) => Ok(serde_json::to_value(encoded).expect("transactions serialize")),
        Err(EncodeError::UnsupportedTransactionVersion(version)) => Err(unsupported_version(version)),
    }
}

/// The validator's answer to a client that cannot read a transaction's version.
pub(super) fn unsupported_version(version: u8) -> RpcFailure {
    RpcFailure {
        code: UNSUPPORTED_TRANSACTION_VERSION,
        message: format!(
            "Transaction version ({version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": {version}"
        ),
        data: None,
    }
}

/// A recorded transaction with the status a validator stores beside it.
pub(super) fn with_meta(record: &TxRecord) -> VersionedTransactionWithStatusMeta {
    let transaction: VersionedTransaction =
        bincode::deserialize(&record.transaction).expect("stored transactions decode");
    let meta = TransactionStatusMeta {
        status: record.err.clone().map_or(Ok(()), Err),
        fee: record.fee,
        pre_balances: record.pre_balances.clone(),
        post_balances: record.post_balances.clone(),
        inner_instructions: Some(record.status.inner_instructions.clone()),
        log_messages: Some(record.logs.clone()),
        pre_token_balances: Some(
            record.status.pre_token_balances.iter().map(|b| b.to_transaction_token_balance()).collect(),
        ),
        post_token_balances: Some(
            record.status.post_token_balances.iter().map(|b| b.to_transaction_token_balance()).collect(),
        ),
        rewards: Some(Vec::new()),
        loaded_addresses: Default::default(),
        return_data: record
            .status
            .return_data
            .clone()
            .map(|(program_id, data)| TransactionReturnData { program_id, data }),
        compute_units_consumed: Some(record.compute_units),
        cost_units: Some(record.status.cost_units),
    };
    VersionedTransactionWithStatusMeta { transaction, meta }
}

pub fn get_fee_for_message(net: &Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (data, config): (String, Option<RpcContextConfig>) = args(params, 1, 2)?;
    let level = level(config.and_then(|c| c.commitment));
    let message: VersionedMessage = decode(&data, TransactionBinaryEncoding::Base64)?;
    message.sanitize().map_err(|e| invalid(format!("invalid transaction message: {e}")))?;
    // Unknown blockhashes have no fee (null), as on a cluster.
    let fee = net
        .is_blockhash_valid_at(message.recent_blockhash(), level)
        .then(|| u64::from(message.header().num_required_signatures) * LAMPORTS_PER_SIGNATURE);
    Ok(with_context(net.slot_at(level), json!(fee)))
}
