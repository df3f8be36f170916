//! Decoders for every account an operator reads. Each checks length, discriminator and (for
//! the coordinator account) layout version, and says which check failed.

pub mod authorization;
pub mod coordinator_account;
pub mod instance;
pub mod model_layout;
pub mod treasurer;

use crate::psyche::layout::LayoutError;
use crate::psyche::serde_b58::hex;
use anchor_lang::{AnchorDeserialize, AnchorSerialize, Discriminator};

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a {account} account: expected {expected}, found {found} bytes{hint}")]
    Length { account: &'static str, expected: String, found: usize, hint: &'static str },
    #[error("not a {account} account: discriminator is {found}, expected {expected}")]
    Discriminator { account: &'static str, expected: String, found: String },
    #[error("{account} layout version {found} is not supported (this build reads version {supported})")]
    Version { account: &'static str, supported: u64, found: u64 },
    /// A layout upstream released after this build: its size may differ too, so the version
    /// is read (and named) before the size is checked.
    #[error("{account} layout version {found} is newer than this release understands ({known})")]
    Newer { account: &'static str, found: u64, known: u64 },
    #[error("{account}: {source}")]
    Layout { account: &'static str, source: LayoutError },
    #[error("{account}: malformed data: {message}")]
    Borsh { account: &'static str, message: String },
}

impl DecodeError {
    pub fn discriminator(account: &'static str, expected: &[u8], found: &[u8]) -> Self {
        Self::Discriminator { account, expected: hex::encode(expected), found: hex::encode(found) }
    }
}

/// An Anchor `#[account]` stored as Borsh after its discriminator.
pub trait BorshAccount: Discriminator + AnchorSerialize + AnchorDeserialize {
    const NAME: &'static str;
    /// Bytes the program allocates for the account (it may exceed the Borsh length).
    const MIN_LEN: usize;

    fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        if data.len() < Self::MIN_LEN {
            return Err(DecodeError::Length {
                account: Self::NAME,
                expected: format!("at least {}", Self::MIN_LEN),
                found: data.len(),
                hint: "",
            });
        }
        if &data[..8] != Self::DISCRIMINATOR {
            return Err(DecodeError::discriminator(Self::NAME, Self::DISCRIMINATOR, &data[..8]));
        }
        Self::deserialize(&mut &data[8..])
            .map_err(|e| DecodeError::Borsh { account: Self::NAME, message: e.to_string() })
    }

    /// Discriminator and Borsh bytes, zero-padded to `len` (what the program allocates).
    fn encode(&self, len: usize) -> Vec<u8> {
        let mut data = Self::DISCRIMINATOR.to_vec();
        self.serialize(&mut data).expect("serializing to a Vec cannot fail");
        assert!(data.len() <= len, "{} does not fit {len} bytes", Self::NAME);
        data.resize(len, 0);
        data
    }
}

/// Implements `Discriminator` (Anchor's `account:<Name>`), `BorshAccount` and anchor-lang's
/// `AccountDeserialize`/`AccountSerialize` for a Borsh account struct.
macro_rules! borsh_account {
    ($ty:ident, $name:literal, min_len = $min:expr) => {
        impl anchor_lang::Discriminator for $ty {
            const DISCRIMINATOR: &'static [u8] = &$crate::psyche::encoding::discriminator(concat!("account:", $name));
        }
        impl $crate::psyche::accounts::BorshAccount for $ty {
            const NAME: &'static str = $name;
            const MIN_LEN: usize = $min;
        }
        impl anchor_lang::AccountDeserialize for $ty {
            fn try_deserialize(buf: &mut &[u8]) -> anchor_lang::Result<Self> {
                <$ty as $crate::psyche::accounts::BorshAccount>::decode(buf)
                    .map_err(|_| anchor_lang::error::ErrorCode::AccountDidNotDeserialize.into())
            }
            fn try_deserialize_unchecked(buf: &mut &[u8]) -> anchor_lang::Result<Self> {
                anchor_lang::AnchorDeserialize::deserialize(&mut &buf[8..])
                    .map_err(|_| anchor_lang::error::ErrorCode::AccountDidNotDeserialize.into())
            }
        }
        impl anchor_lang::AccountSerialize for $ty {
            fn try_serialize<W: std::io::Write>(&self, writer: &mut W) -> anchor_lang::Result<()> {
                use anchor_lang::Discriminator;
                writer
                    .write_all(Self::DISCRIMINATOR)
                    .and_then(|()| anchor_lang::AnchorSerialize::serialize(self, writer))
                    .map_err(|_| anchor_lang::error::ErrorCode::AccountDidNotSerialize.into())
            }
        }
    };
}
pub(crate) use borsh_account;
