//! psyche-runbook: a runbook engine for operators of Psyche training runs on Solana.

pub mod psyche;
