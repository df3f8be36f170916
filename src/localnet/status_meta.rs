//! What a validator records about a transaction beyond its result, computed as agave does:
//! inner instructions, return data, SPL token balances before and after, the loaded account
//! data size (SIMD-0186: 64 bytes for each account that exists before the transaction, plus its
//! data) and the cost model's cost units (signatures, write locks, instruction data bytes,
//! executed compute units, loaded data pages). `getTransaction` and `simulateTransaction` show
//! these; clients estimate fees and read token movements from them.

use crate::localnet::executed::Executed;
use crate::psyche::ids::TOKEN;
use serde::{Deserialize, Serialize};
use solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2;
use solana_account_decoder::parse_token::token_amount_to_ui_amount_v3;
use solana_program_pack::Pack;
use solana_sdk::account::Account;
use solana_sdk::message::VersionedMessage;
use solana_sdk::pubkey::Pubkey;
use solana_transaction_status::{InnerInstructions, TransactionTokenBalance};

/// The SPL Token programs whose accounts have token balances.
const TOKEN_PROGRAMS: [Pubkey; 2] = [TOKEN, solana_sdk::pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")];
const UPGRADEABLE_LOADER: Pubkey = solana_sdk::pubkey!("BPFLoaderUpgradeab1e11111111111111111111111");
/// SIMD-0186: the metadata charge of every loaded account.
const ACCOUNT_BASE_SIZE: u64 = 64;
/// Cost model: per signature, per write lock, per started 32 KiB page of loaded data, and one
/// unit per this many instruction data bytes.
const SIGNATURE_COST: u64 = 720;
const WRITE_LOCK_COST: u64 = 300;
const LOADED_DATA_PAGE_BYTES: u64 = 32 * 1024;
const LOADED_DATA_PAGE_COST: u64 = 8;
const INSTRUCTION_DATA_BYTES_PER_UNIT: u64 = 4;

/// The recorded extras of one transaction (persisted with the history).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatusMeta {
    /// CPIs, grouped by the top-level instruction that made them (only those that made any).
    pub inner_instructions: Vec<InnerInstructions>,
    /// The last return data set, with the program that set it.
    pub return_data: Option<(Pubkey, Vec<u8>)>,
    pub pre_token_balances: Vec<TokenBalance>,
    pub post_token_balances: Vec<TokenBalance>,
    pub loaded_accounts_data_size: u32,
    pub cost_units: u64,
}

impl StatusMeta {
    pub fn new(
        message: &VersionedMessage,
        executed: &Executed,
        pre_token_balances: Vec<TokenBalance>,
        post_token_balances: Vec<TokenBalance>,
        loaded_accounts_data_size: u32,
    ) -> Self {
        let return_data = &executed.return_data;
        StatusMeta {
            inner_instructions: solana_transaction_status::map_inner_instructions(executed.inner_instructions.clone())
                .collect(),
            return_data: (!return_data.data.is_empty()).then(|| (return_data.program_id, return_data.data.clone())),
            pre_token_balances,
            post_token_balances,
            loaded_accounts_data_size,
            cost_units: cost_units(message, executed.compute_units, loaded_accounts_data_size),
        }
    }
}

/// An SPL token account's balance, at an index of the transaction's accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenBalance {
    pub account_index: u8,
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub program_id: Pubkey,
    pub amount: u64,
    pub decimals: u8,
}

impl TokenBalance {
    /// The validator's form (UI amount from the mint's decimals).
    pub fn to_transaction_token_balance(&self) -> TransactionTokenBalance {
        TransactionTokenBalance {
            account_index: self.account_index,
            mint: self.mint.to_string(),
            ui_token_amount: token_amount_to_ui_amount_v3(
                self.amount,
                &SplTokenAdditionalDataV2::with_decimals(self.decimals),
            ),
            owner: self.owner.to_string(),
            program_id: self.program_id.to_string(),
        }
    }
}

/// Token balances of the token accounts among `keys`, reading accounts through `account`.
pub fn token_balances(keys: &[Pubkey], account: impl Fn(&Pubkey) -> Option<Account>) -> Vec<TokenBalance> {
    let token_account = |key: &Pubkey| {
        let found = account(key).filter(|a| TOKEN_PROGRAMS.contains(&a.owner))?;
        // Token-2022 accounts carry extensions after the classic layout.
        let base = found.data.get(..spl_token_interface::state::Account::LEN)?;
        let state = spl_token_interface::state::Account::unpack(base).ok()?;
        let mint = account(&state.mint)?;
        let decimals =
            spl_token_interface::state::Mint::unpack(mint.data.get(..spl_token_interface::state::Mint::LEN)?)
                .ok()?
                .decimals;
        Some((state, found.owner, decimals))
    };
    keys.iter()
        .enumerate()
        .filter_map(|(index, key)| {
            let (state, program_id, decimals) = token_account(key)?;
            Some(TokenBalance {
                account_index: u8::try_from(index).ok()?,
                mint: state.mint,
                owner: state.owner,
                program_id,
                amount: state.amount,
                decimals,
            })
        })
        .collect()
}

/// SIMD-0186's loaded data size: each account that exists before the transaction counts its
/// data plus 64 bytes; an upgradeable program also loads its program data account.
pub fn loaded_accounts_data_size(keys: &[Pubkey], account: impl Fn(&Pubkey) -> Option<Account>) -> u32 {
    let mut total = 0u64;
    for key in keys {
        let Some(found) = account(key) else { continue };
        total += ACCOUNT_BASE_SIZE + found.data.len() as u64;
        if found.executable && found.owner == UPGRADEABLE_LOADER {
            let (program_data, _) = Pubkey::find_program_address(&[key.as_ref()], &UPGRADEABLE_LOADER);
            if let Some(data) = account(&program_data) {
                total += ACCOUNT_BASE_SIZE + data.data.len() as u64;
            }
        }
    }
    u32::try_from(total).unwrap_or(u32::MAX)
}

/// The cost model's units for an executed transaction. (Precompile signature costs are left
/// out: no localnet workflow verifies ed25519/secp256k1 signatures in a precompile.)
pub fn cost_units(message: &VersionedMessage, compute_units: u64, loaded_accounts_data_size: u32) -> u64 {
    let keys = message.static_account_keys();
    let signatures = u64::from(message.header().num_required_signatures);
    let write_locks = (0..keys.len()).filter(|&i| message.is_maybe_writable(i, None)).count() as u64;
    let data_bytes: u64 = message.instructions().iter().map(|ix| ix.data.len() as u64).sum();
    let loaded_pages = u64::from(loaded_accounts_data_size).div_ceil(LOADED_DATA_PAGE_BYTES);
    signatures * SIGNATURE_COST
        + write_locks * WRITE_LOCK_COST
        + data_bytes / INSTRUCTION_DATA_BYTES_PER_UNIT
        + compute_units
        + loaded_pages * LOADED_DATA_PAGE_COST
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::message::Message;

    /// The numbers a real solana-test-validator 3.1.12 reported for a system transfer to a new
    /// account (tests/fixtures/rpc): 150 compute units, 142 loaded bytes, cost 1,481.
    #[test]
    fn a_transfer_costs_what_the_validator_reported() {
        let from = Pubkey::new_unique();
        let to = Pubkey::new_unique();
        let system = solana_system_interface::program::ID;
        let ix = solana_system_interface::instruction::transfer(&from, &to, 5_000_000);
        let message = VersionedMessage::Legacy(Message::new(&[ix], Some(&from)));
        let account = |key: &Pubkey| {
            (key == &from).then(|| Account::new(2_000_000_000, 0, &system)).or_else(|| {
                (key == &system).then(|| Account {
                    lamports: 1,
                    data: b"system_program".to_vec(),
                    owner: solana_sdk::native_loader::id(),
                    executable: true,
                    rent_epoch: 0,
                })
            })
        };
        let size = loaded_accounts_data_size(message.static_account_keys(), account);
        assert_eq!(size, 142);
        assert_eq!(cost_units(&message, 150, size), 1_481);
    }
}
