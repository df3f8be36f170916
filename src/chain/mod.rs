//! How and where runbooks send: cluster selection, signer sources and the resolved settings
//! every command starts from.

pub mod batch;
pub mod client;
pub mod cluster;
pub mod exec_lock;
pub mod http;
pub mod identity;
pub mod journal;
pub mod landing;
pub mod parallel;
pub mod programs;
pub mod pubsub;
pub mod reads;
pub mod recovery;
pub mod round_trips;
pub mod settings;
pub mod signer;
pub mod solana_config;
