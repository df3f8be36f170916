//! Token queries wallets and the Squads app make to show balances — `getTokenSupply`,
//! `getTokenLargestAccounts`, `getTokenAccountsByOwner` and `getTokenAccountsByDelegate` —
//! for SPL Token and Token-2022 accounts, answered from the store's token indexes, with the
//! validator's parameters, encodings (jsonParsed included) and refusals.

use crate::localnet::Localnet;
use crate::localnet::commitment::level;
use crate::localnet::rpc::accounts::encode;
use crate::localnet::rpc::cluster::LARGEST;
use crate::localnet::rpc::params::{args, invalid, parsed};
use crate::localnet::rpc::response::{RpcFailure, with_context};
use crate::localnet::store::tokens::{self, Holder, Narrow};
use serde_json::{Value, json};
use solana_account_decoder::UiAccountEncoding;
use solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2;
use solana_account_decoder::parse_token::token_amount_to_ui_amount_v3;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcTokenAccountsFilter};
use solana_rpc_client_api::response::RpcKeyedAccount;
use solana_sdk::pubkey::Pubkey;

type Result<T> = std::result::Result<T, RpcFailure>;

/// An amount of `mint`'s tokens as the validator shows one.
fn ui_amount(amount: u64, decimals: u8) -> Value {
    json!(token_amount_to_ui_amount_v3(amount, &SplTokenAdditionalDataV2::with_decimals(decimals)))
}

/// The decimals of the mint at `key`, refused as the validator refuses what is not one.
fn mint_decimals(net: &Localnet, key: &Pubkey, level: CommitmentLevel) -> Result<(u64, u8)> {
    let account = net.account_at(key, level).ok_or_else(|| invalid("Invalid param: could not find account"))?;
    let mint = tokens::mint(&account).ok_or_else(|| invalid("Invalid param: not a Token mint"))?;
    Ok((mint.supply, mint.decimals))
}

pub fn get_token_supply(net: &Localnet, params: &Value) -> Result<Value> {
    let (key, config): (String, Option<CommitmentConfig>) = args(params, 1, 2)?;
    let key: Pubkey = parsed(&key)?;
    let level = level(config);
    let (supply, decimals) = mint_decimals(net, &key, level)?;
    Ok(with_context(net.slot_at(level), ui_amount(supply, decimals)))
}

pub fn get_token_largest_accounts(net: &Localnet, params: &Value) -> Result<Value> {
    let (key, config): (String, Option<CommitmentConfig>) = args(params, 1, 2)?;
    let mint: Pubkey = parsed(&key)?;
    let level = level(config);
    let (_, decimals) = mint_decimals(net, &mint, level)?;
    let mut largest = Vec::new();
    for (key, amount) in net.largest_token_accounts_at(&mint, LARGEST, level) {
        let mut entry = ui_amount(amount, decimals);
        entry["address"] = json!(key.to_string());
        largest.push(entry);
    }
    Ok(with_context(net.slot_at(level), json!(largest)))
}

pub fn get_token_accounts_by_owner(net: &Localnet, params: &Value) -> Result<Value> {
    token_accounts_by(net, params, Holder::Owner)
}

pub fn get_token_accounts_by_delegate(net: &Localnet, params: &Value) -> Result<Value> {
    token_accounts_by(net, params, Holder::Delegate)
}

fn token_accounts_by(net: &Localnet, params: &Value, holder: fn(Pubkey) -> Holder) -> Result<Value> {
    let (key, filter, config): (String, RpcTokenAccountsFilter, Option<RpcAccountInfoConfig>) = args(params, 2, 3)?;
    let key: Pubkey = parsed(&key)?;
    let config = config.unwrap_or_default();
    let level = level(config.commitment);
    let narrow = match filter {
        RpcTokenAccountsFilter::Mint(mint) => {
            let mint: Pubkey = parsed(&mint)?;
            let known = net.account_at(&mint, level).is_some_and(|a| tokens::mint(&a).is_some());
            if !known {
                return Err(invalid("Invalid param: could not find mint"));
            }
            Narrow::Mint(mint)
        }
        RpcTokenAccountsFilter::ProgramId(program) => {
            let program: Pubkey = parsed(&program)?;
            if !tokens::PROGRAMS.contains(&program) {
                return Err(invalid("Invalid param: unrecognized Token program id"));
            }
            Narrow::Program(program)
        }
    };
    let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
    let mut keyed = Vec::new();
    for (found, account) in net.token_accounts_at(holder(key), narrow, level) {
        let encoded = encode(net, &found, &account, encoding, config.data_slice)?;
        keyed.push(RpcKeyedAccount { pubkey: found.to_string(), account: encoded });
    }
    Ok(with_context(net.slot_at(level), json!(keyed)))
}
