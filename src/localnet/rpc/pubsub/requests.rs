//! What a PubSub client asks for, read as a validator's PubSub endpoint reads it: each
//! `*Subscribe` method's positional parameters (the client API's own config types), and the
//! validator's codes and messages for what it refuses (a bad key or signature is an "Invalid
//! Request", an unknown method `-32601`). Encodings default as the validator's do: the legacy
//! base58 string for accounts.

use crate::localnet::commitment::level;
use crate::localnet::rpc::params::{args, invalid};
use crate::localnet::rpc::response::{METHOD_NOT_FOUND, RpcFailure};
use serde_json::Value;
use solana_account_decoder::{UiAccountEncoding, UiDataSliceConfig};
use solana_commitment_config::CommitmentLevel;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSignatureSubscribeConfig, RpcTransactionLogsConfig,
    RpcTransactionLogsFilter,
};
use solana_rpc_client_api::filter::RpcFilterType;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;

/// Most filters a `programSubscribe` takes (as `getProgramAccounts`).
const MAX_FILTERS: usize = 4;

/// How an account is written into a notification.
#[derive(Debug, Clone)]
pub struct Encoding {
    pub encoding: UiAccountEncoding,
    pub slice: Option<UiDataSliceConfig>,
}

/// Which transactions a logs subscription hears of.
#[derive(Debug, Clone, PartialEq)]
pub enum LogsFilter {
    /// Every transaction (this chain has no votes: `all` and `allWithVotes` agree).
    All,
    Mentions(Pubkey),
}

#[derive(Debug, Clone)]
pub enum Kind {
    Account { key: Pubkey, encoding: Encoding, level: CommitmentLevel },
    Program { owner: Pubkey, filters: Vec<RpcFilterType>, encoding: Encoding, level: CommitmentLevel },
    Signature { signature: Signature, level: CommitmentLevel },
    Slot,
    Root,
    Logs { filter: LogsFilter, level: CommitmentLevel },
}

impl Kind {
    /// The notification method of this kind.
    pub fn notification(&self) -> &'static str {
        match self {
            Kind::Account { .. } => "accountNotification",
            Kind::Program { .. } => "programNotification",
            Kind::Signature { .. } => "signatureNotification",
            Kind::Slot => "slotNotification",
            Kind::Root => "rootNotification",
            Kind::Logs { .. } => "logsNotification",
        }
    }
}

pub enum Request {
    Subscribe(Kind),
    Unsubscribe(u64),
}

fn pubkey(text: &str) -> Result<Pubkey, RpcFailure> {
    text.parse().map_err(|_| invalid("Invalid Request: Invalid pubkey provided"))
}

fn encoding(config: &RpcAccountInfoConfig) -> Encoding {
    Encoding { encoding: config.encoding.unwrap_or(UiAccountEncoding::Binary), slice: config.data_slice }
}

/// Reads one request's method and parameters.
pub fn parse(method: &str, params: &Value) -> Result<Request, RpcFailure> {
    let kind = match method {
        "accountSubscribe" => {
            let (key, config): (String, Option<RpcAccountInfoConfig>) = args(params, 1, 2)?;
            let config = config.unwrap_or_default();
            Kind::Account { key: pubkey(&key)?, encoding: encoding(&config), level: level(config.commitment) }
        }
        "programSubscribe" => {
            let (owner, config): (String, Option<RpcProgramAccountsConfig>) = args(params, 1, 2)?;
            let config = config.unwrap_or_default();
            let filters = config.filters.unwrap_or_default();
            if filters.len() > MAX_FILTERS {
                return Err(invalid(format!("Too many filters provided; max {MAX_FILTERS}")));
            }
            for filter in &filters {
                filter.verify().map_err(|e| invalid(format!("Invalid Request: {e:?}")))?;
            }
            Kind::Program {
                owner: pubkey(&owner)?,
                filters,
                encoding: encoding(&config.account_config),
                level: level(config.account_config.commitment),
            }
        }
        "signatureSubscribe" => {
            let (text, config): (String, Option<RpcSignatureSubscribeConfig>) = args(params, 1, 2)?;
            let signature = text.parse().map_err(|_| invalid("Invalid Request: Invalid signature provided"))?;
            // `enableReceivedNotification` is taken and, as on a validator fed over RPC (whose
            // received notices come only from shreds it assembles), never sent.
            let commitment = config.and_then(|c| c.commitment);
            Kind::Signature { signature, level: level(commitment) }
        }
        "logsSubscribe" => {
            let (filter, config): (RpcTransactionLogsFilter, Option<RpcTransactionLogsConfig>) = args(params, 1, 2)?;
            let filter = match filter {
                RpcTransactionLogsFilter::All | RpcTransactionLogsFilter::AllWithVotes => LogsFilter::All,
                RpcTransactionLogsFilter::Mentions(keys) => match keys.as_slice() {
                    [key] => LogsFilter::Mentions(pubkey(key)?),
                    _ => return Err(invalid("Invalid Request: Only 1 address supported")),
                },
            };
            Kind::Logs { filter, level: level(config.and_then(|c| c.commitment)) }
        }
        "slotSubscribe" => {
            crate::localnet::rpc::params::none(params)?;
            Kind::Slot
        }
        "rootSubscribe" => {
            crate::localnet::rpc::params::none(params)?;
            Kind::Root
        }
        "accountUnsubscribe"
        | "programUnsubscribe"
        | "signatureUnsubscribe"
        | "slotUnsubscribe"
        | "rootUnsubscribe"
        | "logsUnsubscribe" => {
            let (id,): (u64,) = args(params, 1, 1)?;
            return Ok(Request::Unsubscribe(id));
        }
        _ => return Err(RpcFailure { code: METHOD_NOT_FOUND, message: "Method not found".into(), data: None }),
    };
    Ok(Request::Subscribe(kind))
}
