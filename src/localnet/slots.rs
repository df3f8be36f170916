//! Slots that follow the clock, as a validator's do: a new slot every `slot_ms` of the chain's
//! time (the wall clock, or a clock a test holds; 400 ms by default), however many transactions
//! land in it, each with its own blockhash, of which the last 150 are accepted (and the 31
//! before them are kept for the root's bank, see `commitment`). The chain catches up lazily (on
//! each RPC call and each execution) from the time its current slot began, which is persisted,
//! so a chain loaded a minute later is 150 slots further on, exactly as a running validator
//! would be.
//!
//! A slot's blockhash is derived from the chain's seed and the slot number alone, so catching
//! up after a long pause (or a `warp`) only computes the last 150, and a process that caught up
//! without saving leaves nothing that the next one would compute differently.

use crate::localnet::Localnet;
use crate::localnet::chain_params::KEPT_BLOCKHASHES;
use solana_sdk::clock::Clock;

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

    /// Produces the slots that the clock has made due since the current one began.
    pub fn follow_clock(&mut self) {
        let now = self.time.now_ms();
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
        self.slot_started_ms = self.time.now_ms();
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
    /// Clock sysvar's slot, its timestamp caught up with the clock plus any advance, and the
    /// root with them.
    fn produce_slots(&mut self, count: u64) {
        let mut clock: Clock = self.svm.get_sysvar();
        let target = clock.slot + count;
        let first = (clock.slot + 1).max((target + 1).saturating_sub(KEPT_BLOCKHASHES));
        for slot in first..=target {
            self.recent_blockhashes
                .push_back((crate::localnet::chain_params::blockhash_of(&self.blockhash_seed, slot), slot));
        }
        while self.recent_blockhashes.front().is_some_and(|(_, s)| s + KEPT_BLOCKHASHES <= target) {
            self.recent_blockhashes.pop_front();
        }
        clock.slot = target;
        clock.unix_timestamp = clock.unix_timestamp.max(self.next_slot_time());
        self.svm.set_sysvar(&clock);
        self.prior.prune(self.root_slot());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localnet::chain_params::{BLOCKHASH_VALIDITY_SLOTS, blockhash_of};
    use crate::localnet::time::ManualClock;
    use solana_commitment_config::CommitmentLevel;
    use std::sync::Arc;

    fn on_manual_clock() -> (Localnet, ManualClock) {
        let clock = ManualClock::default();
        (Localnet::with_time(Arc::new(clock.clone())), clock)
    }

    #[test]
    fn slots_follow_the_clock_and_keep_150_blockhashes() {
        let (mut net, clock) = on_manual_clock();
        net.set_slot_ms(5);
        let start = net.slot();
        let first = net.latest_blockhash();
        clock.advance_ms(4);
        net.follow_clock();
        assert_eq!(net.slot(), start, "a slot lasts its whole 5 ms");
        clock.advance_ms(56);
        net.follow_clock();
        assert_eq!(net.slot() - start, 12, "60 ms at 5 ms a slot");
        assert!(net.is_blockhash_valid(&first));
        net.warp_slots(BLOCKHASH_VALIDITY_SLOTS - 12);
        assert!(net.is_blockhash_valid(&first), "still valid exactly 150 slots later");
        net.warp_slots(1);
        assert!(!net.is_blockhash_valid(&first));
        net.warp_slots(KEPT_BLOCKHASHES);
        assert_eq!(net.recent_blockhashes.len() as u64, KEPT_BLOCKHASHES, "the root's window is kept too");
    }

    #[test]
    fn the_root_accepts_only_blockhashes_it_has_seen() {
        let (mut net, _clock) = on_manual_clock();
        net.warp_slots(100);
        let (current, _) = net.latest_blockhash_at(CommitmentLevel::Confirmed);
        let (rooted, last_valid) = net.latest_blockhash_at(CommitmentLevel::Finalized);
        assert_eq!(last_valid, net.root_slot() + BLOCKHASH_VALIDITY_SLOTS);
        assert!(net.is_blockhash_valid_at(&current, CommitmentLevel::Processed));
        assert!(!net.is_blockhash_valid_at(&current, CommitmentLevel::Finalized), "newer than the root");
        assert!(net.is_blockhash_valid_at(&rooted, CommitmentLevel::Finalized));
        net.warp_slots(31);
        assert!(net.is_blockhash_valid_at(&current, CommitmentLevel::Finalized), "rooted 31 slots later");
    }

    #[test]
    fn advance_clock_moves_the_slots_with_it() {
        let (mut net, _clock) = on_manual_clock();
        let (slot, time, first) = (net.slot(), net.clock().unix_timestamp, net.latest_blockhash());
        net.advance_clock(60);
        assert_eq!(net.slot() - slot, 150, "a minute of 400 ms slots");
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
        assert_eq!(net.recent_blockhashes.len() as u64, KEPT_BLOCKHASHES);
        assert_eq!(net.latest_blockhash(), blockhash_of(&net.blockhash_seed, net.slot()));
    }
}
