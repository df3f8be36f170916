//! The history methods as a validator serves them: `getSignaturesForAddress` (newest first,
//! `limit`, `before`, `until`), `getBlock` in every encoding and level of detail, through
//! solana-transaction-status's block encoder (the validator's), `getBlockTime`, `getBlocks`,
//! `getBlocksWithLimit`, `getFirstAvailableBlock` and `getTransactionCount`. A block is a slot
//! in which transactions landed; a slot without any answers as a validator's skipped slot does.
//! None of them read below `confirmed`, as on a validator.

use crate::localnet::Localnet;
use crate::localnet::chain_params::blockhash_of;
use crate::localnet::commitment::level;
use crate::localnet::rpc::params::{args, invalid, parsed};
use crate::localnet::rpc::response::{INTERNAL_ERROR, RpcFailure};
use crate::localnet::rpc::transactions::{unsupported_version, with_meta};
use crate::localnet::store::history::Page;
use serde_json::{Value, json};
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client_api::config::{
    RpcBlockConfig, RpcBlocksConfigWrapper, RpcContextConfig, RpcEncodingConfigWrapper, RpcSignaturesForAddressConfig,
};
use solana_rpc_client_api::response::RpcConfirmedTransactionStatusWithSignature;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use solana_transaction_status::{
    BlockEncodingOptions, ConfirmedBlock, EncodeError, TransactionConfirmationStatus, TransactionDetails,
    UiTransactionEncoding, VersionedConfirmedBlock, extract_memos::extract_and_fmt_memos,
};
use solana_transaction_status_client_types::UiTransactionError;

/// Most signatures one `getSignaturesForAddress` page holds.
const MAX_SIGNATURES: usize = 1_000;
/// Widest slot range (and largest limit) the block lists take.
const MAX_BLOCK_RANGE: u64 = 500_000;
const BLOCK_CLEANED_UP: i64 = -32001;
const BLOCK_NOT_AVAILABLE: i64 = -32004;
const SLOT_SKIPPED: i64 = -32007;

type Result<T> = std::result::Result<T, RpcFailure>;

fn failed(err: rusqlite::Error) -> RpcFailure {
    RpcFailure { code: INTERNAL_ERROR, message: format!("localnet database: {err}"), data: None }
}

/// The level asked for, refusing `processed` as the validator's history methods do.
fn confirmed_at_least(commitment: Option<CommitmentConfig>) -> Result<CommitmentLevel> {
    if commitment.is_some_and(|c| c.commitment == CommitmentLevel::Processed) {
        return Err(invalid("Method does not support commitment below `confirmed`"));
    }
    Ok(level(commitment))
}

fn confirmation(net: &Localnet, slot: u64) -> TransactionConfirmationStatus {
    if slot <= net.root_slot() {
        TransactionConfirmationStatus::Finalized
    } else {
        TransactionConfirmationStatus::Confirmed
    }
}

pub fn get_signatures_for_address(net: &Localnet, params: &Value) -> Result<Value> {
    let (address, config): (String, Option<RpcSignaturesForAddressConfig>) = args(params, 1, 2)?;
    let address: Pubkey = parsed(&address)?;
    let config = config.unwrap_or_default();
    let limit = config.limit.unwrap_or(MAX_SIGNATURES);
    if limit == 0 || limit > MAX_SIGNATURES {
        return Err(invalid(format!("Invalid limit; max {MAX_SIGNATURES}")));
    }
    let signature = |text: &Option<String>| text.as_deref().map(parsed::<Signature>).transpose();
    let page = Page {
        address,
        before: signature(&config.before)?,
        until: signature(&config.until)?,
        limit,
        max_slot: net.slot_at(confirmed_at_least(config.commitment)?),
    };
    let found = net.store().history().signatures_for(&page).map_err(failed)?;
    let statuses: Vec<RpcConfirmedTransactionStatusWithSignature> = found
        .into_iter()
        .map(|(signature, record)| RpcConfirmedTransactionStatusWithSignature {
            signature: signature.to_string(),
            slot: record.slot,
            err: record.err.clone().map(UiTransactionError::from),
            memo: extract_and_fmt_memos(&with_meta(&record)),
            block_time: Some(record.block_time),
            confirmation_status: Some(confirmation(net, record.slot)),
        })
        .collect();
    Ok(json!(statuses))
}

/// Why `slot` has no block at `level`: not there yet, pruned, or skipped.
fn no_block(net: &Localnet, slot: u64, at: u64) -> Result<RpcFailure> {
    let first = net.store().history().first_block().map_err(failed)?.unwrap_or(0);
    Ok(if slot > at {
        RpcFailure { code: BLOCK_NOT_AVAILABLE, message: format!("Block not available for slot {slot}"), data: None }
    } else if slot < first {
        RpcFailure {
            code: BLOCK_CLEANED_UP,
            message: format!("Block {slot} cleaned up, does not exist on node. First available block: {first}"),
            data: None,
        }
    } else {
        RpcFailure {
            code: SLOT_SKIPPED,
            message: format!("Slot {slot} was skipped, or missing due to ledger jump to recent snapshot"),
            data: None,
        }
    })
}

pub fn get_block(net: &Localnet, params: &Value) -> Result<Value> {
    let (slot, config): (u64, Option<RpcEncodingConfigWrapper<RpcBlockConfig>>) = args(params, 1, 2)?;
    let config = config.map(|c| c.convert_to_current()).unwrap_or_default();
    let at = net.slot_at(confirmed_at_least(config.commitment)?);
    let records = if slot <= at { net.store().history().block(slot).map_err(failed)? } else { Vec::new() };
    let Some((_, first)) = records.first() else { return Err(no_block(net, slot, at)?) };
    let block_time = first.block_time;
    let parent = net.store().history().previous_block(slot).map_err(failed)?.unwrap_or(0);
    let seed = net.genesis_hash();
    let block = VersionedConfirmedBlock {
        previous_blockhash: blockhash_of(&seed, parent).to_string(),
        blockhash: blockhash_of(&seed, slot).to_string(),
        parent_slot: parent,
        transactions: records.iter().map(|(_, record)| with_meta(record)).collect(),
        // Fees are burnt here: no leader collects them.
        rewards: Vec::new(),
        num_partitions: None,
        block_time: Some(block_time),
        block_height: Some(slot),
    };
    let options = BlockEncodingOptions {
        transaction_details: config.transaction_details.unwrap_or(TransactionDetails::Full),
        show_rewards: config.rewards.unwrap_or(true),
        max_supported_transaction_version: config.max_supported_transaction_version,
    };
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    match ConfirmedBlock::from(block).encode_with_options(encoding, options) {
        Ok(encoded) => Ok(serde_json::to_value(encoded).expect("blocks serialize")),
        Err(EncodeError::UnsupportedTransactionVersion(version)) => Err(unsupported_version(version)),
    }
}

pub fn get_block_time(net: &Localnet, params: &Value) -> Result<Value> {
    let (slot,): (u64,) = args(params, 1, 1)?;
    let at = net.slot_at(CommitmentLevel::Confirmed);
    let records = if slot <= at { net.store().history().block(slot).map_err(failed)? } else { Vec::new() };
    match records.first() {
        Some((_, record)) => Ok(json!(record.block_time)),
        None => Err(RpcFailure {
            code: BLOCK_NOT_AVAILABLE,
            message: format!("Block not available for slot {slot}"),
            data: None,
        }),
    }
}

pub fn get_blocks(net: &Localnet, params: &Value) -> Result<Value> {
    let (start, wrapper, config): (u64, Option<RpcBlocksConfigWrapper>, Option<RpcContextConfig>) = args(params, 1, 3)?;
    let (end, inline) = wrapper.map(|w| w.unzip()).unwrap_or_default();
    let commitment = config.or(inline).and_then(|c| c.commitment);
    let at = net.slot_at(confirmed_at_least(commitment)?);
    let end = end.unwrap_or(at).min(at);
    if end.saturating_sub(start) > MAX_BLOCK_RANGE {
        return Err(invalid(format!("Slot range too large; max {MAX_BLOCK_RANGE}")));
    }
    if end < start {
        return Ok(json!([]));
    }
    let slots = net.store().history().blocks(start, end, MAX_BLOCK_RANGE as usize + 1).map_err(failed)?;
    Ok(json!(slots))
}

pub fn get_blocks_with_limit(net: &Localnet, params: &Value) -> Result<Value> {
    let (start, limit, config): (u64, usize, Option<RpcContextConfig>) = args(params, 2, 3)?;
    if limit as u64 > MAX_BLOCK_RANGE {
        return Err(invalid(format!("Limit too large; max {MAX_BLOCK_RANGE}")));
    }
    let at = net.slot_at(confirmed_at_least(config.and_then(|c| c.commitment))?);
    if limit == 0 || start > at {
        return Ok(json!([]));
    }
    let slots = net.store().history().blocks(start, at, limit).map_err(failed)?;
    Ok(json!(slots))
}

pub fn get_first_available_block(net: &Localnet) -> Result<Value> {
    Ok(json!(net.store().history().first_block().map_err(failed)?.unwrap_or(0)))
}
