//! `FixedString<N>`: the NUL-padded UTF-8 byte buffers Psyche stores strings in.
//!
//! Upstream truncates strings that do not fit; we refuse them instead, so a run config never
//! lands on chain with a silently shortened repo id or URL.

use anchor_lang::{AnchorDeserialize, AnchorSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A string that must fit into an on-chain `[u8; N]` buffer.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct FixedString<const N: usize>(String);

/// A string longer than its on-chain buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{len} bytes does not fit the on-chain field of {max} bytes")]
pub struct TooLong {
    pub len: usize,
    pub max: usize,
}

impl<const N: usize> FixedString<N> {
    pub const CAPACITY: usize = N;

    /// Wraps `s`, refusing it when longer than `N` bytes.
    pub fn new(s: impl Into<String>) -> Result<Self, TooLong> {
        let s = s.into();
        if s.len() > N {
            return Err(TooLong { len: s.len(), max: N });
        }
        Ok(Self(s))
    }

    /// Reads the buffer up to the first NUL; bytes that are not UTF-8 become U+FFFD.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        let mut s = String::from_utf8_lossy(&bytes[..end]).into_owned();
        // Lossy decoding may grow the text past N bytes; keep the invariant.
        while s.len() > N {
            s.pop();
        }
        Self(s)
    }

    pub fn to_bytes(&self) -> [u8; N] {
        let mut out = [0u8; N];
        out[..self.0.len()].copy_from_slice(self.0.as_bytes());
        out
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const N: usize> std::fmt::Debug for FixedString<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl<const N: usize> std::fmt::Display for FixedString<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const N: usize> AnchorSerialize for FixedString<N> {
    fn serialize<W: std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(&self.to_bytes())
    }
}

impl<const N: usize> AnchorDeserialize for FixedString<N> {
    fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
        let mut buf = [0u8; N];
        reader.read_exact(&mut buf)?;
        Ok(Self::from_bytes(&buf))
    }
}

impl<const N: usize> Serialize for FixedString<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const N: usize> Deserialize<'de> for FixedString<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(deserializer)?;
        Self::new(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_instead_of_truncating() {
        assert_eq!(FixedString::<4>::new("hello").unwrap_err(), TooLong { len: 5, max: 4 });
        assert_eq!(FixedString::<5>::new("hello").unwrap().to_bytes(), *b"hello");
    }

    #[test]
    fn reads_up_to_the_first_nul() {
        let s = FixedString::<8>::from_bytes(b"ab\0cd\0\0\0");
        assert_eq!(s.as_str(), "ab");
    }
}
