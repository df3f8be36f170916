//! Slots that follow the clock, as a validator's do: a new slot every `slot_ms` of wall time
//! (400 ms by default), however many transactions land in it, each with its own blockhash, of
//! which the last 150 are accepted. The chain catches up lazily (on each RPC call and each
//! execution) from the wall-clock time its current slot began, which is persisted, so a chain
//! loaded a minute later is 150 slots further on, exactly as a running validator would be.
//!
//! A slot's blockhash is derived from the chain's seed and the slot number alone, so catching
//! up after a long pause (or a `warp`) only computes the last 150, and a process that caught up
//! without saving leaves nothing that the next one would compute differently.

use crate::localnet::{BLOCKHASH_VALIDITY_SLOTS, Localnet};
use solana_sdk::clock::Clock;
use solana_sdk::hash::{Hash, hashv};

/// A validator's default slot time.
pub const DEFAULT_SLOT_MS: u64 = 400;

/// Milliseconds since the Unix epoch.
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The blockhash of `slot` on the chain seeded with `seed`.
pub fn blockhash_of(seed: &Hash, slot: u64) -> Hash {
    hashv(&[seed.as_ref(), &slot.to_le_bytes()])
}

impl Localnet {
    /// Milliseconds per slot.
    pub fn slot_ms(&self) -> u64 {
        self.slot_ms
    }

    /// Changes the slot time from now on (`localnet serve --slot-ms`). Slots already elapsed at
    /// the old pace are produced first.
    pub fn set_slot_ms(&mut self, slot_ms: u64) {
        self.follow_clock();
        self.slot_ms = slot_ms.max(1);
    }

    /// The slots whose blockhashes are still accepted, oldest first.
    pub fn recent_slots(&self) -> impl Iterator<Item = u64> + '_ {
        self.recent_blockhashes.iter().map(|(_, slot)| *slot)
    }

    /// Produces the slots that wall time has made due since the current one began.
    pub fn follow_clock(&mut self) {
        let now = wall_ms();
        let due = now.saturating_sub(self.slot_started_ms) / self.slot_ms;
        if due > 0 {
            self.slot_started_ms += due * self.slot_ms;
            self.produce_slots(due);
        }
    }

    /// Ends the current slot now (a service whose transaction would repeat one already in this
    /// slot needs a fresh blockhash, as a client would wait for one).
    pub fn end_slot_early(&mut self) {
        self.follow_clock();
        self.slot_started_ms = wall_ms();
        self.produce_slots(1);
        self.dirty = true;
    }

    /// Jumps `slots` ahead at once (fault injection and `advance_clock`).
    pub fn warp_slots(&mut self, slots: u64) {
        self.follow_clock();
        self.produce_slots(slots);
        self.dirty = true;
    }

    /// Moves to `count` slots later: their blockhashes (only the last window's matter), the
    /// Clock sysvar's slot, and its timestamp caught up with wall time plus any advance.
    fn produce_slots(&mut self, count: u64) {
        let mut clock: Clock = self.svm.get_sysvar();
        let target = clock.slot + count;
        let first = (clock.slot + 1).max(target.saturating_sub(BLOCKHASH_VALIDITY_SLOTS));
        for slot in first..=target {
            self.recent_blockhashes.push_back((blockhash_of(&self.blockhash_seed, slot), slot));
        }
        while self.recent_blockhashes.front().is_some_and(|(_, s)| s + BLOCKHASH_VALIDITY_SLOTS < target) {
            self.recent_blockhashes.pop_front();
        }
        clock.slot = target;
        clock.unix_timestamp = clock.unix_timestamp.max((wall_ms() / 1000) as i64 + self.clock_offset);
        self.svm.set_sysvar(&clock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_wall_time_and_keep_150_blockhashes() {
        let mut net = Localnet::new();
        net.set_slot_ms(5);
        let start = net.slot();
        let first = net.latest_blockhash();
        let started = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(60));
        // Catches up at 5 ms a slot, then practically stops, so the warps below are exact.
        net.set_slot_ms(3_600_000);
        let elapsed = started.elapsed().as_millis() as u64;
        let advanced = net.slot() - start;
        assert!(advanced >= 11 && advanced <= elapsed / 5 + 1, "{advanced} slots in {elapsed} ms at 5 ms a slot");
        assert!(net.is_blockhash_valid(&first));
        net.warp_slots(BLOCKHASH_VALIDITY_SLOTS - advanced);
        assert!(net.is_blockhash_valid(&first), "still valid exactly 150 slots later");
        net.warp_slots(1);
        assert!(!net.is_blockhash_valid(&first));
        assert_eq!(net.recent_blockhashes.len() as u64, BLOCKHASH_VALIDITY_SLOTS + 1);
    }

    #[test]
    fn advance_clock_moves_the_slots_with_it() {
        let mut net = Localnet::new();
        let (slot, time, first) = (net.slot(), net.clock().unix_timestamp, net.latest_blockhash());
        net.advance_clock(60);
        // 150 slots at 400 ms, plus any the test's own run time produced.
        assert!((150..=152).contains(&(net.slot() - slot)), "{} slots", net.slot() - slot);
        assert!(net.clock().unix_timestamp >= time + 60);
        net.advance_clock(1);
        assert!(!net.is_blockhash_valid(&first), "a minute and a bit later the blockhash expired");
    }

    #[test]
    fn a_long_jump_computes_only_the_last_window() {
        let mut net = Localnet::new();
        let before = net.slot();
        net.warp_slots(10_000_000);
        assert_eq!(net.slot(), before + 10_000_000);
        assert_eq!(net.recent_blockhashes.len() as u64, BLOCKHASH_VALIDITY_SLOTS + 1);
        assert_eq!(net.latest_blockhash(), blockhash_of(&net.blockhash_seed, net.slot()));
    }
}
