//! Committee selection and witness blooms as upstream's coordinator computes them: the
//! swap-or-not shuffle that places each client of a round in the witness and committee
//! orders, and the 1024-bit bloom filters witnesses use to say which clients they saw.
//! The program checks proofs with these; simulated clients build theirs with the same code,
//! so what the localnet accepts is exactly what the shuffle allows.

use solana_sdk::hash::hashv;

/// Witnesses a round can hold (and the cap when `witness_nodes` is 0).
pub const MAX_WITNESSES: u64 = 32;
const SHUFFLE_ROUNDS: u8 = 90;
const WITNESS_SALT: &[u8] = b"witness";
const COMMITTEE_SALT: &[u8] = b"committee";

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    hashv(parts).to_bytes()
}

/// Upstream's `compute_shuffled_index` (swap-or-not, 90 rounds). `index < count`.
fn shuffled_index(index: u64, count: u64, seed: &[u8; 32]) -> u64 {
    let mut current = index;
    for round in 0..SHUFFLE_ROUNDS {
        let pivot_hash = sha256(&[seed, &[round]]);
        let pivot = u64::from_le_bytes(pivot_hash[..8].try_into().expect("8 bytes")) % count;
        let flip = (pivot + count - current) % count;
        let position = current.max(flip);
        let source = sha256(&[seed, &[round], &(position / 256).to_le_bytes()[..4]]);
        let byte = source[(position % 256) as usize / 8];
        if (byte >> (position % 8)) & 1 == 1 {
            current = flip;
        }
    }
    current
}

/// Which committee a client position falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committee {
    TieBreaker = 0,
    Verifier = 1,
    Trainer = 2,
}

impl Committee {
    pub fn from_byte(byte: u8) -> Option<Self> {
        [Self::TieBreaker, Self::Verifier, Self::Trainer].get(usize::from(byte)).copied()
    }
}

/// Why a selection cannot be made (upstream's `InvalidCommitteeSelection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidSelection;

/// The committee and witness orders of one round.
#[derive(Debug, Clone)]
pub struct Selection {
    tie_breakers: u64,
    verifiers: u64,
    total: u64,
    witness_nodes: u64,
    seed: [u8; 32],
}

impl Selection {
    pub fn new(
        tie_breakers: u64,
        witness_nodes: u64,
        verification_percent: u8,
        total: u64,
        random_seed: u64,
    ) -> Result<Self, InvalidSelection> {
        if total < tie_breakers || (witness_nodes != 0 && total < witness_nodes) || verification_percent > 100 {
            return Err(InvalidSelection);
        }
        let verifiers = (total - tie_breakers) * u64::from(verification_percent) / 100;
        let seed = sha256(&[&random_seed.to_le_bytes()]);
        Ok(Self { tie_breakers, verifiers, total, witness_nodes, seed })
    }

    fn position(&self, index: u64, salt: &[u8]) -> u64 {
        let seed = sha256(&[&self.seed, salt]);
        shuffled_index(index, self.total, &seed)
    }

    fn is_witness_position(&self, position: u64) -> bool {
        match self.witness_nodes {
            0 => position < MAX_WITNESSES,
            n => position < n,
        }
    }

    fn committee_at(&self, position: u64) -> Committee {
        if position < self.tie_breakers {
            Committee::TieBreaker
        } else if position < self.tie_breakers + self.verifiers {
            Committee::Verifier
        } else {
            Committee::Trainer
        }
    }

    /// The witness proof of the client at `index` (< the round's client count):
    /// `(position, is_witness)`.
    pub fn witness_proof(&self, index: u64) -> (u64, bool) {
        let position = self.position(index, WITNESS_SALT);
        (position, self.is_witness_position(position))
    }

    /// The committee proof of the client at `index`: `(position, committee)`.
    pub fn committee_proof(&self, index: u64) -> (u64, Committee) {
        let position = self.position(index, COMMITTEE_SALT);
        (position, self.committee_at(position))
    }

    /// Whether `(position, witness)` is the proof of the client at `index` (`index` in range).
    pub fn verify_witness(&self, index: u64, position: u64, witness: bool) -> bool {
        index < self.total && self.witness_proof(index) == (position, witness)
    }

    pub fn verify_committee(&self, index: u64, position: u64, committee: Committee) -> bool {
        index < self.total && self.committee_proof(index) == (position, committee)
    }
}

/// Bits in a witness bloom (16 words of 64).
const BLOOM_BITS: u64 = 1024;
const BLOOM_KEYS: usize = 8;

/// FNV-1a with the hash index as the starting state, as upstream's bloom hashes.
fn fnv(data: &[u8], key: u64) -> u64 {
    data.iter().fold(key, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn bloom_key(bloom: &[u8; 192], k: usize) -> u64 {
    u64::from_le_bytes(bloom[k * 8..k * 8 + 8].try_into().expect("8 bytes"))
}

/// (byte offset, bit mask) of bit `bit` in the bloom's bit words (least significant first).
fn bloom_bit(bit: u64) -> (usize, u8) {
    let word = (bit / 64) as usize;
    let in_word = bit % 64;
    (BLOOM_KEYS * 8 + word * 8 + (in_word / 8) as usize, 1 << (in_word % 8))
}

/// An empty bloom with the given hash keys (Borsh layout: 8 keys, then 16 bit words).
pub fn bloom_new(keys: [u64; BLOOM_KEYS]) -> [u8; 192] {
    let mut bloom = [0u8; 192];
    for (k, key) in keys.iter().enumerate() {
        bloom[k * 8..k * 8 + 8].copy_from_slice(&key.to_le_bytes());
    }
    bloom
}

pub fn bloom_add(bloom: &mut [u8; 192], item: &[u8]) {
    for k in 0..BLOOM_KEYS {
        let (byte, mask) = bloom_bit(fnv(item, bloom_key(bloom, k)) % BLOOM_BITS);
        bloom[byte] |= mask;
    }
}

pub fn bloom_contains(bloom: &[u8; 192], item: &[u8]) -> bool {
    (0..BLOOM_KEYS).all(|k| {
        let (byte, mask) = bloom_bit(fnv(item, bloom_key(bloom, k)) % BLOOM_BITS);
        bloom[byte] & mask != 0
    })
}

/// What a participant bloom holds for a client: the SHA-256 of its signer key.
pub fn participant_hash(signer: &[u8; 32]) -> [u8; 32] {
    sha256(&[signer])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_permutation() {
        let selection = Selection::new(0, 0, 0, 50, 7).unwrap();
        let mut positions: Vec<u64> = (0..50).map(|i| selection.witness_proof(i).0).collect();
        positions.sort_unstable();
        assert_eq!(positions, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn witness_count_matches_witness_nodes() {
        let selection = Selection::new(0, 5, 0, 40, 99).unwrap();
        assert_eq!((0..40).filter(|i| selection.witness_proof(*i).1).count(), 5);
        let everyone = Selection::new(0, 0, 0, 40, 99).unwrap();
        assert_eq!((0..40).filter(|i| everyone.witness_proof(*i).1).count(), 32);
    }

    #[test]
    fn committees_split_by_percent() {
        let selection = Selection::new(10, 20, 30, 100, 12345).unwrap();
        let count = |c| (0..100).filter(|i| selection.committee_proof(*i).1 == c).count();
        assert_eq!((count(Committee::TieBreaker), count(Committee::Verifier), count(Committee::Trainer)), (10, 27, 63));
        assert_eq!(Selection::new(0, 0, 101, 10, 1).unwrap_err(), InvalidSelection);
    }

    #[test]
    fn bloom_holds_what_was_added() {
        let mut bloom = bloom_new([1, 2, 3, 4, 5, 6, 7, 8]);
        let (a, b) = (participant_hash(&[1; 32]), participant_hash(&[2; 32]));
        bloom_add(&mut bloom, &a);
        assert!(bloom_contains(&bloom, &a));
        assert!(!bloom_contains(&bloom, &b));
    }
}
