//! What a fresh chain holds besides its programs and the faucet: Squads' program config account,
//! which `multisig_create_v2` reads, with devnet's values, as mainnet and devnet hold one.

use crate::psyche::accounts::BorshAccount;
use crate::squads::accounts::ProgramConfig;
use crate::squads::{PROGRAM_ID, pdas};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;

/// Devnet's Squads program config: Squads' key `HM5y4mz3…` (the one upstream hard-codes as
/// the config's initializer) is its authority and treasury, and creating a multisig costs no
/// fee. Clients read the treasury from the account, so the localnet holds the same values.
pub const PROGRAM_CONFIG_AUTHORITY: Pubkey = solana_sdk::pubkey!("HM5y4mz3Bt9JY9mr1hkyhnvqxSH4H2u2451j7Hc2dtvK");
pub const PROGRAM_CONFIG_TREASURY: Pubkey = PROGRAM_CONFIG_AUTHORITY;
pub const MULTISIG_CREATION_FEE: u64 = 0;

/// The program config account every chain starts with (rent-exempt, owned by Squads).
pub fn program_config(rent_exempt: u64) -> (Pubkey, Account) {
    let config = ProgramConfig {
        authority: PROGRAM_CONFIG_AUTHORITY,
        multisig_creation_fee: MULTISIG_CREATION_FEE,
        treasury: PROGRAM_CONFIG_TREASURY,
        reserved: [0; 64],
    };
    let account = Account {
        lamports: rent_exempt,
        data: config.encode(ProgramConfig::SIZE),
        owner: PROGRAM_ID,
        executable: false,
        rent_epoch: 0,
    };
    (pdas::program_config(), account)
}
