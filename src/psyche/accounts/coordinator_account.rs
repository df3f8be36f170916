//! The zero-copy `CoordinatorAccount` (119,160 bytes, layout version 1): decoded in full and
//! encoded back at the same offsets, so the embedded chain writes accounts that decode like
//! real ones. Offsets are absolute (they include the 8-byte discriminator).

use crate::psyche::accounts::DecodeError;
use crate::psyche::accounts::model_layout::{read_model, write_model};
use crate::psyche::config::{CoordinatorConfig, CoordinatorProgress, RunMetadata};
use crate::psyche::encoding::discriminator;
use crate::psyche::fixed::FixedString;
use crate::psyche::layout::{LayoutError, Reader, Writer};
use crate::psyche::model::Model;
use crate::psyche::serde_b58;
use serde::Serialize;
use solana_sdk::pubkey::Pubkey;

pub const SIZE: usize = 119_160;
/// The size of the layout before the version field existed (v0).
pub const V0_SIZE: usize = 119_072;
pub const VERSION: u64 = 1;
pub const DISCRIMINATOR: [u8; 8] = discriminator("account:CoordinatorAccount");

pub const MAX_CLIENTS: usize = 256;
/// Where `init_coordinator` writes the run id and client version into a zeroed account.
pub const RUN_ID_OFFSET: usize = off::RUN_ID;
pub const CLIENT_VERSION_OFFSET: usize = off::CLIENT_VERSION;
pub const MAX_WITNESSES: usize = 32;
pub const NUM_ROUNDS: usize = 4;

mod off {
    pub const VERSION: usize = 8;
    pub const NAME: usize = 16;
    pub const DESCRIPTION: usize = 80;
    pub const NUM_PARAMETERS: usize = 360;
    pub const VOCAB_SIZE: usize = 368;
    pub const RUN_ID: usize = 376;
    pub const RUN_STATE: usize = 408;
    pub const MODEL: usize = 416;
    pub const CONFIG: usize = 968;
    pub const PROGRESS_EPOCH: usize = 1032;
    pub const PROGRESS_STEP: usize = 1036;
    pub const PROGRESS_DATA_INDEX: usize = 1040;
    pub const ROUNDS: usize = 1048;
    pub const ROUND_SIZE: usize = 14_112;
    pub const EPOCH_CLIENTS: usize = 57_496;
    pub const EPOCH_CLIENTS_LEN: usize = 75_928;
    pub const EXITED_CLIENTS: usize = 75_936;
    pub const EXITED_CLIENTS_LEN: usize = 94_368;
    pub const EPOCH_CLIENT_SIZE: usize = 72;
    pub const ROUNDS_HEAD: usize = 94_376;
    pub const START_STEP: usize = 94_380;
    pub const LAST_STEP: usize = 94_384;
    pub const START_TIMESTAMP: usize = 94_392;
    pub const FIRST_ROUND: usize = 94_400;
    pub const COLD_START_EPOCH: usize = 94_401;
    pub const RUN_STATE_START: usize = 94_408;
    pub const PENDING_PAUSE: usize = 94_416;
    pub const CLIENTS: usize = 94_424;
    pub const CLIENT_SIZE: usize = 96;
    pub const CLIENTS_LEN: usize = 119_000;
    pub const NEXT_ACTIVE: usize = 119_008;
    pub const CURRENT_RATES: usize = 119_016;
    pub const FUTURE_RATES: usize = 119_032;
    pub const IS_WARMUP_FIRST_TICK: usize = 119_048;
    pub const IS_TRAINING_FIRST_TICK: usize = 119_049;
    pub const CLIENT_VERSION: usize = 119_050;
    pub const NONCE: usize = 119_152;

    // Inside a Round.
    pub const WITNESS_SIZE: usize = 440;
    pub const WITNESSES_LEN: usize = 14_080;
    pub const DATA_INDEX: usize = 14_088;
    pub const RANDOM_SEED: usize = 14_096;
    pub const HEIGHT: usize = 14_104;
    pub const CLIENTS_LEN_IN_ROUND: usize = 14_108;
    pub const TIE_BREAKER_TASKS: usize = 14_110;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RunState {
    Uninitialized = 0,
    WaitingForMembers = 1,
    Warmup = 2,
    RoundTrain = 3,
    RoundWitness = 4,
    Cooldown = 5,
    Finished = 6,
    Paused = 7,
}

impl RunState {
    pub const ALL: [RunState; 8] = [
        RunState::Uninitialized,
        RunState::WaitingForMembers,
        RunState::Warmup,
        RunState::RoundTrain,
        RunState::RoundWitness,
        RunState::Cooldown,
        RunState::Finished,
        RunState::Paused,
    ];

    /// The Display string upstream's JSON dump uses.
    pub fn display(self) -> &'static str {
        match self {
            RunState::Uninitialized => "Uninitialized",
            RunState::WaitingForMembers => "Waiting for members",
            RunState::Warmup => "Warmup",
            RunState::RoundTrain => "Training",
            RunState::RoundWitness => "Witness",
            RunState::Cooldown => "Cooldown",
            RunState::Finished => "Finished",
            RunState::Paused => "Paused",
        }
    }

    /// Halted runs accept config, model and progress updates.
    pub fn is_halted(self) -> bool {
        matches!(self, RunState::Uninitialized | RunState::Paused | RunState::Finished)
    }

    pub fn is_active(self) -> bool {
        matches!(self, RunState::RoundTrain | RunState::RoundWitness | RunState::Cooldown)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ClientState {
    Healthy = 0,
    Dropped = 1,
    Withdrawn = 2,
    Ejected = 3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EpochRates {
    pub earning_rate_total_shared: u64,
    pub slashing_rate_per_client: u64,
}

/// A client of the current epoch (`Client`, 72 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EpochClient {
    #[serde(with = "serde_b58::pubkey")]
    pub signer: Pubkey,
    #[serde(with = "serde_b58::hex")]
    pub p2p_identity: [u8; 32],
    pub state: ClientState,
    pub exited_height: u32,
}

/// An entry of the permanent clients registry (`SolanaClient`, 96 bytes), where points live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredClient {
    #[serde(with = "serde_b58::pubkey")]
    pub signer: Pubkey,
    #[serde(with = "serde_b58::hex")]
    pub p2p_identity: [u8; 32],
    pub earned: u64,
    pub slashed: u64,
    pub active: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Witness {
    pub position: u64,
    pub index: u64,
    pub witness: u8,
    #[serde(with = "serde_b58::hex")]
    pub participant_bloom: [u8; 192],
    #[serde(with = "serde_b58::hex")]
    pub broadcast_bloom: [u8; 192],
    #[serde(with = "serde_b58::hex")]
    pub broadcast_merkle: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Round {
    pub witnesses: Vec<Witness>,
    pub data_index: u64,
    pub random_seed: u64,
    pub height: u32,
    pub clients_len: u16,
    pub tie_breaker_tasks: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EpochState {
    pub rounds: [Round; NUM_ROUNDS],
    pub clients: Vec<EpochClient>,
    pub exited_clients: Vec<EpochClient>,
    pub rounds_head: u32,
    pub start_step: u32,
    pub last_step: u32,
    pub start_timestamp: u64,
    pub first_round: bool,
    pub cold_start_epoch: bool,
}

/// Everything a `CoordinatorAccount` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoordinatorAccount {
    pub version: u64,
    pub metadata: RunMetadata,
    pub run_id: FixedString<32>,
    pub run_state: RunState,
    pub model: Model,
    pub config: CoordinatorConfig,
    pub progress: CoordinatorProgress,
    pub epoch_state: EpochState,
    pub run_state_start_unix_timestamp: u64,
    pub pending_pause: bool,
    pub clients: Vec<RegisteredClient>,
    pub next_active: u64,
    pub current_epoch_rates: EpochRates,
    pub future_epoch_rates: EpochRates,
    pub is_warmup_first_tick: bool,
    pub is_training_first_tick: bool,
    pub client_version: FixedString<96>,
    pub nonce: u64,
}

impl CoordinatorAccount {
    /// Decodes account data after checking discriminator, layout version and length. The
    /// layout before versions (v0) is known by its size, since its offset 8 holds text; after
    /// it, the version is read first, so a newer layout is named whatever its size.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        const NAME: &str = "CoordinatorAccount";
        let length = |hint| DecodeError::Length {
            account: NAME,
            expected: format!("{SIZE} bytes (layout version {VERSION})"),
            found: data.len(),
            hint,
        };
        if data.len() == V0_SIZE {
            return Err(length(
                " (this is the layout before version 1, called v0: before the version field and the 96-byte client_version; it is no longer supported)",
            ));
        }
        if data.len() < off::VERSION + 8 {
            return Err(length(""));
        }
        if data[..8] != DISCRIMINATOR {
            return Err(DecodeError::discriminator(NAME, &DISCRIMINATOR, &data[..8]));
        }
        let version = u64::from_le_bytes(data[off::VERSION..off::VERSION + 8].try_into().expect("8 bytes"));
        if version > VERSION {
            return Err(DecodeError::Newer { account: "coordinator account", found: version, known: VERSION });
        }
        if version != VERSION {
            return Err(DecodeError::Version { account: NAME, supported: VERSION, found: version });
        }
        if data.len() != SIZE {
            return Err(length(""));
        }
        Self::read(&Reader(data), version).map_err(|e| DecodeError::Layout { account: NAME, source: e })
    }

    fn read(r: &Reader, version: u64) -> Result<Self, LayoutError> {
        let run_state_byte = r.u8(off::RUN_STATE);
        let run_state = *RunState::ALL
            .get(run_state_byte as usize)
            .ok_or_else(|| LayoutError::bad_tag("run_state", off::RUN_STATE, run_state_byte.into()))?;
        let clients_len = r.len(off::CLIENTS_LEN, MAX_CLIENTS, "clients_state.clients")?;
        Ok(Self {
            version,
            metadata: RunMetadata {
                name: r.fixed(off::NAME),
                description: r.fixed(off::DESCRIPTION),
                num_parameters: r.u64(off::NUM_PARAMETERS),
                vocab_size: r.u64(off::VOCAB_SIZE),
            },
            run_id: r.fixed(off::RUN_ID),
            run_state,
            model: read_model(r, off::MODEL)?,
            config: read_config(r, off::CONFIG),
            progress: CoordinatorProgress {
                epoch: r.u16(off::PROGRESS_EPOCH),
                step: r.u32(off::PROGRESS_STEP),
                epoch_start_data_index: r.u64(off::PROGRESS_DATA_INDEX),
            },
            epoch_state: read_epoch_state(r)?,
            run_state_start_unix_timestamp: r.u64(off::RUN_STATE_START),
            pending_pause: r.bool(off::PENDING_PAUSE),
            clients: (0..clients_len).map(|i| read_registered_client(r, off::CLIENTS + i * off::CLIENT_SIZE)).collect(),
            next_active: r.u64(off::NEXT_ACTIVE),
            current_epoch_rates: read_rates(r, off::CURRENT_RATES),
            future_epoch_rates: read_rates(r, off::FUTURE_RATES),
            is_warmup_first_tick: r.bool(off::IS_WARMUP_FIRST_TICK),
            is_training_first_tick: r.bool(off::IS_TRAINING_FIRST_TICK),
            client_version: r.fixed(off::CLIENT_VERSION),
            nonce: r.u64(off::NONCE),
        })
    }

    /// Writes every field into `data` (an account of `SIZE` bytes), discriminator included.
    /// Bytes outside the fields (padding, unused vector slots) are left as they are.
    pub fn encode_into(&self, data: &mut [u8]) {
        assert_eq!(data.len(), SIZE, "coordinator account buffer size");
        let w = &mut Writer(data);
        w.bytes(0, &DISCRIMINATOR);
        w.u64(off::VERSION, self.version);
        w.fixed(off::NAME, &self.metadata.name);
        w.fixed(off::DESCRIPTION, &self.metadata.description);
        w.u64(off::NUM_PARAMETERS, self.metadata.num_parameters);
        w.u64(off::VOCAB_SIZE, self.metadata.vocab_size);
        w.fixed(off::RUN_ID, &self.run_id);
        w.u8(off::RUN_STATE, self.run_state as u8);
        write_model(w, off::MODEL, &self.model);
        write_config(w, off::CONFIG, &self.config);
        w.u16(off::PROGRESS_EPOCH, self.progress.epoch);
        w.u32(off::PROGRESS_STEP, self.progress.step);
        w.u64(off::PROGRESS_DATA_INDEX, self.progress.epoch_start_data_index);
        write_epoch_state(w, &self.epoch_state);
        w.u64(off::RUN_STATE_START, self.run_state_start_unix_timestamp);
        w.bool(off::PENDING_PAUSE, self.pending_pause);
        assert!(self.clients.len() <= MAX_CLIENTS, "clients registry over capacity");
        for (i, c) in self.clients.iter().enumerate() {
            let at = off::CLIENTS + i * off::CLIENT_SIZE;
            w.pubkey(at, &c.signer);
            w.bytes(at + 32, &c.p2p_identity);
            w.u64(at + 72, c.earned);
            w.u64(at + 80, c.slashed);
            w.u64(at + 88, c.active);
        }
        w.u64(off::CLIENTS_LEN, self.clients.len() as u64);
        w.u64(off::NEXT_ACTIVE, self.next_active);
        write_rates(w, off::CURRENT_RATES, &self.current_epoch_rates);
        write_rates(w, off::FUTURE_RATES, &self.future_epoch_rates);
        w.bool(off::IS_WARMUP_FIRST_TICK, self.is_warmup_first_tick);
        w.bool(off::IS_TRAINING_FIRST_TICK, self.is_training_first_tick);
        w.fixed(off::CLIENT_VERSION, &self.client_version);
        w.u64(off::NONCE, self.nonce);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut data = vec![0u8; SIZE];
        self.encode_into(&mut data);
        data
    }
}

fn read_config(r: &Reader, at: usize) -> CoordinatorConfig {
    CoordinatorConfig {
        warmup_time: r.u64(at),
        cooldown_time: r.u64(at + 8),
        max_round_train_time: r.u64(at + 16),
        round_witness_time: r.u64(at + 24),
        global_batch_size_warmup_tokens: r.u64(at + 32),
        epoch_time: r.u64(at + 40),
        total_steps: r.u32(at + 48),
        init_min_clients: r.u16(at + 52),
        min_clients: r.u16(at + 54),
        witness_nodes: r.u16(at + 56),
        global_batch_size_start: r.u16(at + 58),
        global_batch_size_end: r.u16(at + 60),
        verification_percent: r.u8(at + 62),
        waiting_for_members_extra_time: r.u8(at + 63),
    }
}

fn write_config(w: &mut Writer, at: usize, c: &CoordinatorConfig) {
    w.u64(at, c.warmup_time);
    w.u64(at + 8, c.cooldown_time);
    w.u64(at + 16, c.max_round_train_time);
    w.u64(at + 24, c.round_witness_time);
    w.u64(at + 32, c.global_batch_size_warmup_tokens);
    w.u64(at + 40, c.epoch_time);
    w.u32(at + 48, c.total_steps);
    w.u16(at + 52, c.init_min_clients);
    w.u16(at + 54, c.min_clients);
    w.u16(at + 56, c.witness_nodes);
    w.u16(at + 58, c.global_batch_size_start);
    w.u16(at + 60, c.global_batch_size_end);
    w.u8(at + 62, c.verification_percent);
    w.u8(at + 63, c.waiting_for_members_extra_time);
}

fn read_rates(r: &Reader, at: usize) -> EpochRates {
    EpochRates { earning_rate_total_shared: r.u64(at), slashing_rate_per_client: r.u64(at + 8) }
}

fn write_rates(w: &mut Writer, at: usize, rates: &EpochRates) {
    w.u64(at, rates.earning_rate_total_shared);
    w.u64(at + 8, rates.slashing_rate_per_client);
}

fn read_registered_client(r: &Reader, at: usize) -> RegisteredClient {
    RegisteredClient {
        signer: r.pubkey(at),
        p2p_identity: r.array(at + 32),
        earned: r.u64(at + 72),
        slashed: r.u64(at + 80),
        active: r.u64(at + 88),
    }
}

fn read_epoch_clients(
    r: &Reader,
    at: usize,
    len_at: usize,
    field: &'static str,
) -> Result<Vec<EpochClient>, LayoutError> {
    let len = r.len(len_at, MAX_CLIENTS, field)?;
    (0..len)
        .map(|i| {
            let at = at + i * off::EPOCH_CLIENT_SIZE;
            let state = match r.u8(at + 64) {
                0 => ClientState::Healthy,
                1 => ClientState::Dropped,
                2 => ClientState::Withdrawn,
                3 => ClientState::Ejected,
                t => return Err(LayoutError::bad_tag(field, at + 64, t.into())),
            };
            Ok(EpochClient {
                signer: r.pubkey(at),
                p2p_identity: r.array(at + 32),
                state,
                exited_height: r.u32(at + 68),
            })
        })
        .collect()
}

fn write_epoch_clients(w: &mut Writer, at: usize, len_at: usize, clients: &[EpochClient]) {
    assert!(clients.len() <= MAX_CLIENTS, "epoch clients over capacity");
    for (i, c) in clients.iter().enumerate() {
        let at = at + i * off::EPOCH_CLIENT_SIZE;
        w.pubkey(at, &c.signer);
        w.bytes(at + 32, &c.p2p_identity);
        w.u8(at + 64, c.state as u8);
        w.u32(at + 68, c.exited_height);
    }
    w.u64(len_at, clients.len() as u64);
}

fn read_round(r: &Reader, at: usize) -> Result<Round, LayoutError> {
    let len = r.len(at + off::WITNESSES_LEN, MAX_WITNESSES, "epoch_state.rounds.witnesses")?;
    Ok(Round {
        witnesses: (0..len)
            .map(|i| {
                let at = at + i * off::WITNESS_SIZE;
                Witness {
                    position: r.u64(at),
                    index: r.u64(at + 8),
                    witness: r.u8(at + 16),
                    participant_bloom: r.array(at + 24),
                    broadcast_bloom: r.array(at + 216),
                    broadcast_merkle: r.array(at + 408),
                }
            })
            .collect(),
        data_index: r.u64(at + off::DATA_INDEX),
        random_seed: r.u64(at + off::RANDOM_SEED),
        height: r.u32(at + off::HEIGHT),
        clients_len: r.u16(at + off::CLIENTS_LEN_IN_ROUND),
        tie_breaker_tasks: r.u16(at + off::TIE_BREAKER_TASKS),
    })
}

fn write_round(w: &mut Writer, at: usize, round: &Round) {
    assert!(round.witnesses.len() <= MAX_WITNESSES, "witnesses over capacity");
    for (i, wi) in round.witnesses.iter().enumerate() {
        let at = at + i * off::WITNESS_SIZE;
        w.u64(at, wi.position);
        w.u64(at + 8, wi.index);
        w.u8(at + 16, wi.witness);
        w.bytes(at + 24, &wi.participant_bloom);
        w.bytes(at + 216, &wi.broadcast_bloom);
        w.bytes(at + 408, &wi.broadcast_merkle);
    }
    w.u64(at + off::WITNESSES_LEN, round.witnesses.len() as u64);
    w.u64(at + off::DATA_INDEX, round.data_index);
    w.u64(at + off::RANDOM_SEED, round.random_seed);
    w.u32(at + off::HEIGHT, round.height);
    w.u16(at + off::CLIENTS_LEN_IN_ROUND, round.clients_len);
    w.u16(at + off::TIE_BREAKER_TASKS, round.tie_breaker_tasks);
}

fn read_epoch_state(r: &Reader) -> Result<EpochState, LayoutError> {
    let mut rounds: [Round; NUM_ROUNDS] = Default::default();
    for (i, round) in rounds.iter_mut().enumerate() {
        *round = read_round(r, off::ROUNDS + i * off::ROUND_SIZE)?;
    }
    Ok(EpochState {
        rounds,
        clients: read_epoch_clients(r, off::EPOCH_CLIENTS, off::EPOCH_CLIENTS_LEN, "epoch_state.clients")?,
        exited_clients: read_epoch_clients(
            r,
            off::EXITED_CLIENTS,
            off::EXITED_CLIENTS_LEN,
            "epoch_state.exited_clients",
        )?,
        rounds_head: r.u32(off::ROUNDS_HEAD),
        start_step: r.u32(off::START_STEP),
        last_step: r.u32(off::LAST_STEP),
        start_timestamp: r.u64(off::START_TIMESTAMP),
        first_round: r.bool(off::FIRST_ROUND),
        cold_start_epoch: r.bool(off::COLD_START_EPOCH),
    })
}

fn write_epoch_state(w: &mut Writer, e: &EpochState) {
    for (i, round) in e.rounds.iter().enumerate() {
        write_round(w, off::ROUNDS + i * off::ROUND_SIZE, round);
    }
    write_epoch_clients(w, off::EPOCH_CLIENTS, off::EPOCH_CLIENTS_LEN, &e.clients);
    write_epoch_clients(w, off::EXITED_CLIENTS, off::EXITED_CLIENTS_LEN, &e.exited_clients);
    w.u32(off::ROUNDS_HEAD, e.rounds_head);
    w.u32(off::START_STEP, e.start_step);
    w.u32(off::LAST_STEP, e.last_step);
    w.u64(off::START_TIMESTAMP, e.start_timestamp);
    w.bool(off::FIRST_ROUND, e.first_round);
    w.bool(off::COLD_START_EPOCH, e.cold_start_epoch);
}
