//! Account reads (`getAccountInfo`, `getMultipleAccounts`, `getProgramAccounts`,
//! `getTokenAccountBalance`) encoded by the account decoder the validator itself uses: the
//! legacy base58 string by default where the validator defaults to it, base64 (+zstd), and
//! jsonParsed for the programs it parses (SPL Token accounts with their mint's decimals),
//! falling back to base64 elsewhere.

use crate::localnet::Localnet;
use crate::localnet::commitment::level;
use crate::localnet::rpc::params::{args, at_most, invalid, parsed};
use crate::localnet::rpc::response::{INVALID_REQUEST, RpcFailure, with_context};
use serde_json::{Value, json};
use solana_account_decoder::parse_account_data::{AccountAdditionalDataV3, SplTokenAdditionalDataV2};
use solana_account_decoder::parse_token::token_amount_to_ui_amount_v3;
use solana_account_decoder::{UiAccount, UiAccountEncoding, UiDataSliceConfig, encode_ui_account};
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::response::RpcKeyedAccount;
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;

/// Largest account data the base58 encodings carry.
const MAX_BASE58_BYTES: usize = 128;
/// Most keys `getMultipleAccounts` takes, and most filters `getProgramAccounts` takes.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
const MAX_FILTERS: usize = 4;

/// One account in `encoding`, refused as the validator refuses impossible combinations.
pub fn encode(
    net: &Localnet,
    key: &Pubkey,
    account: &Account,
    encoding: UiAccountEncoding,
    slice: Option<UiDataSliceConfig>,
) -> Result<UiAccount, RpcFailure> {
    if encoding == UiAccountEncoding::JsonParsed && slice.is_some() {
        return Err(RpcFailure {
            code: INVALID_REQUEST,
            message: "Sliced account data can only be encoded using binary (base 58) or base64 encoding.".into(),
            data: None,
        });
    }
    let len = slice.map_or(account.data.len(), |s| s.length.min(account.data.len().saturating_sub(s.offset)));
    if matches!(encoding, UiAccountEncoding::Binary | UiAccountEncoding::Base58) && len > MAX_BASE58_BYTES {
        return Err(RpcFailure {
            code: INVALID_REQUEST,
            message: format!(
                "Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, please use Base64 encoding."
            ),
            data: None,
        });
    }
    let additional = (encoding == UiAccountEncoding::JsonParsed)
        .then(|| token_account_decimals(net, account))
        .flatten()
        .map(|decimals| AccountAdditionalDataV3 {
            spl_token_additional_data: Some(SplTokenAdditionalDataV2::with_decimals(decimals)),
        });
    Ok(encode_ui_account(key, account, encoding, additional, slice))
}

/// The decimals of a token account's mint (what jsonParsed needs to show UI amounts).
fn token_account_decimals(net: &Localnet, account: &Account) -> Option<u8> {
    let mint = net.token_balance_of(account)?.1;
    net.mint_decimals(&mint)
}

fn config_encoding(config: &RpcAccountInfoConfig, default: UiAccountEncoding) -> UiAccountEncoding {
    config.encoding.unwrap_or(default)
}

pub fn get_account_info(net: &Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (key, config): (String, Option<RpcAccountInfoConfig>) = args(params, 1, 2)?;
    let key: Pubkey = parsed(&key)?;
    let config = config.unwrap_or_default();
    let level = level(config.commitment);
    let encoding = config_encoding(&config, UiAccountEncoding::Binary);
    let value = match net.account_at(&key, level) {
        Some(account) => Some(encode(net, &key, &account, encoding, config.data_slice)?),
        None => None,
    };
    Ok(with_context(net.slot_at(level), json!(value)))
}

pub fn get_multiple_accounts(net: &Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (keys, config): (Vec<String>, Option<RpcAccountInfoConfig>) = args(params, 1, 2)?;
    at_most(&keys, MAX_MULTIPLE_ACCOUNTS)?;
    let config = config.unwrap_or_default();
    let level = level(config.commitment);
    let encoding = config_encoding(&config, UiAccountEncoding::Base64);
    let values = net.store().reading(|| {
        let mut values = Vec::with_capacity(keys.len());
        for key in &keys {
            let key: Pubkey = parsed(key)?;
            values.push(match net.account_at(&key, level) {
                Some(account) => Some(encode(net, &key, &account, encoding, config.data_slice)?),
                None => None,
            });
        }
        Ok::<_, RpcFailure>(values)
    })?;
    Ok(with_context(net.slot_at(level), json!(values)))
}

pub fn get_program_accounts(net: &Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (owner, config): (String, Option<RpcProgramAccountsConfig>) = args(params, 1, 2)?;
    let owner: Pubkey = parsed(&owner)?;
    let config = config.unwrap_or_default();
    let filters = config.filters.unwrap_or_default();
    if filters.len() > MAX_FILTERS {
        return Err(invalid(format!("Too many filters provided; max {MAX_FILTERS}")));
    }
    for filter in &filters {
        filter.verify().map_err(|e| invalid(format!("Invalid param: {e:?}")))?;
    }
    let encoding = config_encoding(&config.account_config, UiAccountEncoding::Binary);
    let level = level(config.account_config.commitment);
    let mut keyed = Vec::new();
    // A size filter narrows the owner index itself.
    let size = filters.iter().find_map(|f| match f {
        RpcFilterType::DataSize(size) => Some(*size),
        _ => None,
    });
    for (key, account) in net.program_accounts_at(&owner, size, level) {
        let account: Account = account.into();
        if filters.iter().all(|f| allows(net, f, &account)) {
            let encoded = encode(net, &key, &account, encoding, config.account_config.data_slice)?;
            keyed.push(RpcKeyedAccount { pubkey: key.to_string(), account: encoded });
        }
    }
    Ok(if config.with_context.unwrap_or(false) { with_context(net.slot_at(level), json!(keyed)) } else { json!(keyed) })
}

pub fn allows(net: &Localnet, filter: &RpcFilterType, account: &Account) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => account.data.len() as u64 == *size,
        RpcFilterType::Memcmp(memcmp) => memcmp.bytes_match(&account.data),
        RpcFilterType::TokenAccountState => net.token_balance_of(account).is_some(),
    }
}

pub fn get_token_account_balance(net: &Localnet, params: &Value) -> Result<Value, RpcFailure> {
    let (key, config): (String, Option<solana_commitment_config::CommitmentConfig>) = args(params, 1, 2)?;
    let key: Pubkey = parsed(&key)?;
    let level = level(config);
    let account = net.account_at(&key, level).ok_or_else(|| invalid("Invalid param: could not find account"))?;
    let (amount, mint) = net.token_balance_of(&account).ok_or_else(|| invalid("Invalid param: not a Token account"))?;
    let decimals = net.mint_decimals(&mint).ok_or_else(|| invalid("Invalid param: could not find mint"))?;
    let ui = token_amount_to_ui_amount_v3(amount, &SplTokenAdditionalDataV2::with_decimals(decimals));
    Ok(with_context(net.slot_at(level), json!(ui)))
}
