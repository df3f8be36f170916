//! Little-endian readers and writers at absolute offsets, for the zero-copy coordinator
//! account. Callers validate the total length first; everything read from the bytes that can
//! be out of range (enum tags, vector lengths) is checked and reported with its offset.

use crate::psyche::fixed::FixedString;
use solana_sdk::pubkey::Pubkey;

/// A value in the account that no known layout explains.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} at byte {offset}: {problem}")]
pub struct LayoutError {
    pub field: &'static str,
    pub offset: usize,
    pub problem: String,
}

impl LayoutError {
    pub fn bad_tag(field: &'static str, offset: usize, tag: u32) -> Self {
        Self { field, offset, problem: format!("unknown variant tag {tag}") }
    }
}

pub struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    pub fn array<const N: usize>(&self, at: usize) -> [u8; N] {
        self.0[at..at + N].try_into().expect("slice of N bytes")
    }
    pub fn u8(&self, at: usize) -> u8 {
        self.0[at]
    }
    pub fn bool(&self, at: usize) -> bool {
        self.0[at] != 0
    }
    pub fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes(self.array(at))
    }
    pub fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.array(at))
    }
    pub fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.array(at))
    }
    pub fn f32(&self, at: usize) -> f32 {
        f32::from_le_bytes(self.array(at))
    }
    pub fn f64(&self, at: usize) -> f64 {
        f64::from_le_bytes(self.array(at))
    }
    pub fn pubkey(&self, at: usize) -> Pubkey {
        Pubkey::new_from_array(self.array(at))
    }
    pub fn fixed<const N: usize>(&self, at: usize) -> FixedString<N> {
        FixedString::from_bytes(&self.0[at..at + N])
    }
    /// `Option<T>` in a `#[repr(C)]` layout: a tag byte, the value at `value_at`.
    pub fn option<T>(
        &self,
        at: usize,
        field: &'static str,
        value: impl FnOnce() -> T,
    ) -> Result<Option<T>, LayoutError> {
        match self.u8(at) {
            0 => Ok(None),
            1 => Ok(Some(value())),
            tag => Err(LayoutError::bad_tag(field, at, tag.into())),
        }
    }
    /// The element count of a `FixedVec<T, CAP>`, refusing counts past its capacity.
    pub fn len(&self, at: usize, cap: usize, field: &'static str) -> Result<usize, LayoutError> {
        let len = self.u64(at);
        if len > cap as u64 {
            return Err(LayoutError { field, offset: at, problem: format!("length {len} exceeds capacity {cap}") });
        }
        Ok(len as usize)
    }
}

pub struct Writer<'a>(pub &'a mut [u8]);

impl Writer<'_> {
    pub fn bytes(&mut self, at: usize, bytes: &[u8]) {
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
    }
    pub fn u8(&mut self, at: usize, v: u8) {
        self.0[at] = v;
    }
    pub fn bool(&mut self, at: usize, v: bool) {
        self.0[at] = u8::from(v);
    }
    pub fn u16(&mut self, at: usize, v: u16) {
        self.bytes(at, &v.to_le_bytes());
    }
    pub fn u32(&mut self, at: usize, v: u32) {
        self.bytes(at, &v.to_le_bytes());
    }
    pub fn u64(&mut self, at: usize, v: u64) {
        self.bytes(at, &v.to_le_bytes());
    }
    pub fn f32(&mut self, at: usize, v: f32) {
        self.bytes(at, &v.to_le_bytes());
    }
    pub fn f64(&mut self, at: usize, v: f64) {
        self.bytes(at, &v.to_le_bytes());
    }
    pub fn pubkey(&mut self, at: usize, v: &Pubkey) {
        self.bytes(at, v.as_ref());
    }
    pub fn fixed<const N: usize>(&mut self, at: usize, v: &FixedString<N>) {
        self.bytes(at, &v.to_bytes());
    }
    /// Writes an `Option` tag byte and, when present, the value through `value`.
    pub fn option<T>(&mut self, at: usize, v: &Option<T>, value: impl FnOnce(&mut Self, &T)) {
        self.u8(at, u8::from(v.is_some()));
        if let Some(v) = v {
            value(self, v);
        }
    }
}
