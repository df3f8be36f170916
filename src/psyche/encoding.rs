//! Anchor's encoding helpers: default discriminators, computed at compile time from the same
//! preimages Anchor hashes (`global:<instruction>`, `account:<AccountStruct>`), and Borsh bytes.

use anchor_lang::AnchorSerialize;

/// First 8 bytes of sha256(`preimage`).
pub const fn discriminator(preimage: &str) -> [u8; 8] {
    let hash = sha2_const_stable::Sha256::new().update(preimage.as_bytes()).finalize();
    [hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7]]
}

/// The Borsh encoding of `value`.
pub fn borsh_bytes(value: &impl AnchorSerialize) -> Vec<u8> {
    let mut out = Vec::new();
    value.serialize(&mut out).expect("serializing to a Vec cannot fail");
    out
}
