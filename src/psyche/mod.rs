//! The Psyche wire layer: program IDs, PDAs, instruction builders, account decoders, the run
//! config with its on-chain checks, transaction sizing and upstream-shaped reports. No I/O
//! beyond reading a config file; the chain layer sends what this layer builds.

pub mod accounts;
pub mod checks;
pub mod config;
pub mod encoding;
pub mod fixed;
pub mod ids;
pub mod instructions;
pub mod layout;
pub mod model;
pub mod pdas;
pub mod report;
pub mod run_update;
pub mod run_view;
pub mod serde_b58;
pub mod sizing;
pub mod summary;
