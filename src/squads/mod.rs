//! The Squads v4 wire layer: program ID and PDAs, account decoders, instruction builders, the
//! compiled `TransactionMessage` a vault transaction stores, and the program's error codes.
//! Byte-identical to upstream (`Squads-Protocol/v4`); no I/O. The published SDK crates pin
//! solana 1.x / anchor 0.29, outside our crate family, so the encoders are our own.

pub mod accounts;
pub mod errors;
pub mod instructions;
pub mod message;
pub mod pdas;

use solana_sdk::pubkey::Pubkey;

/// The Squads v4 program (upstream `declare_id!`).
pub const PROGRAM_ID: Pubkey = solana_sdk::pubkey!("SQDS4ep65T869zMMBKyuUq6aD6EgTu8psMjkvj52pCf");
