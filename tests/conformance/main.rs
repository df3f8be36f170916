//! Conformance of the localnet programs with upstream's: the happy path of every instruction
//! of the coordinator, authorizer and treasurer, every error code an operator or a client can
//! hit (each triggered by a real transaction and asserted by number, its log line checked to be
//! in one of Anchor's three forms, and account errors by the account they name), and one
//! regression test per divergence the localnet used to have (named after it).
//!
//! Codes no transaction can reach upstream either are not listed: 6006 (a step of 0 is refused
//! by `update` first), 6010 (a health check needs round height 2, so a previous round exists),
//! 6016 and 6019 (unused), 6017 (witness counts stop at `witness_nodes` ≤ 32) and 3016 (a
//! transaction cannot carry 10 KiB of delegates).

#[path = "../common/mod.rs"]
mod common;

mod divergences;
mod error_codes;
mod happy_paths;
mod helpers;
