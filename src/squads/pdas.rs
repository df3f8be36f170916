//! Squads v4 PDAs: every seed list starts with `"multisig"` (upstream `state/seeds.rs`).

use crate::squads::PROGRAM_ID;
use solana_sdk::pubkey::Pubkey;

const PREFIX: &[u8] = b"multisig";

fn find(seeds: &[&[u8]]) -> (Pubkey, u8) {
    Pubkey::find_program_address(seeds, &PROGRAM_ID)
}

/// The program config (creation fee and treasury).
pub fn program_config() -> Pubkey {
    find(&[PREFIX, b"program_config"]).0
}

/// The multisig created with `create_key`.
pub fn multisig(create_key: &Pubkey) -> (Pubkey, u8) {
    find(&[PREFIX, b"multisig", create_key.as_ref()])
}

/// Vault `index` of a multisig: the address that holds authority and tokens.
pub fn vault(multisig: &Pubkey, index: u8) -> (Pubkey, u8) {
    find(&[PREFIX, multisig.as_ref(), b"vault", &[index]])
}

/// The vault or config transaction at `index`.
pub fn transaction(multisig: &Pubkey, index: u64) -> (Pubkey, u8) {
    find(&[PREFIX, multisig.as_ref(), b"transaction", &index.to_le_bytes()])
}

/// The proposal of the transaction at `index`.
pub fn proposal(multisig: &Pubkey, index: u64) -> (Pubkey, u8) {
    find(&[PREFIX, multisig.as_ref(), b"transaction", &index.to_le_bytes(), b"proposal"])
}

/// The spending limit created with `create_key`.
pub fn spending_limit(multisig: &Pubkey, create_key: &Pubkey) -> (Pubkey, u8) {
    find(&[PREFIX, multisig.as_ref(), b"spending_limit", create_key.as_ref()])
}

/// Ephemeral signer `index` of a vault transaction.
pub fn ephemeral_signer(transaction: &Pubkey, index: u8) -> (Pubkey, u8) {
    find(&[PREFIX, transaction.as_ref(), b"ephemeral_signer", &[index]])
}
