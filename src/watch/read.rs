//! The batched read behind each refresh: the coordinator instances (one `getProgramAccounts`,
//! or one `getMultipleAccounts` when run ids are given), then one `getMultipleAccounts` for
//! every run's coordinator account, treasurer `Run` and treasury token account. A treasurer
//! run's mint never changes, so it is read (with its decimals) the first time a run is seen and
//! remembered: from the second refresh on, a refresh is exactly two round trips.

use crate::chain::client::{Chain, ChainError};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::coordinator_account::CoordinatorAccount;
use crate::psyche::accounts::instance::{self, CoordinatorInstance};
use crate::psyche::accounts::treasurer::TreasurerRun;
use crate::psyche::ids::ProgramIds;
use crate::psyche::pdas;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_program_pack::Pack;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;
use std::collections::HashMap;

/// `getMultipleAccounts` takes at most this many keys per request.
const MAX_KEYS_PER_REQUEST: usize = 100;
/// Where `join_authority` sits in a `CoordinatorInstance` (discriminator, bump, main authority).
const JOIN_AUTHORITY_OFFSET: usize = 8 + 1 + 32;

/// Which runs to watch.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Every run of the cluster's coordinator program.
    All,
    /// These run ids.
    Runs(Vec<String>),
    /// Runs whose join authority is this key.
    JoinAuthority(Pubkey),
}

/// One refresh: every watched run as its accounts were read.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The slot the coordinator accounts were read at.
    pub slot: u64,
    pub runs: Vec<RunSnapshot>,
    /// Run ids asked for that do not exist.
    pub missing: Vec<String>,
    /// Runs whose coordinator account is gone or does not decode (e.g. an older layout), with
    /// why.
    pub unreadable: Vec<Unreadable>,
    /// Why a real cluster shows no runs, when it lacks the coordinator program.
    pub notice: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unreadable {
    pub run_id: String,
    pub error: String,
}

#[derive(Debug, Clone)]
pub struct RunSnapshot {
    pub instance_address: Pubkey,
    pub instance: CoordinatorInstance,
    pub account: CoordinatorAccount,
    pub treasury: Option<Treasury>,
}

/// The treasurer side of a rewarded run.
#[derive(Debug, Clone)]
pub struct Treasury {
    pub address: Pubkey,
    pub run: TreasurerRun,
    pub collateral: Pubkey,
    pub balance: u64,
    pub decimals: u8,
}

/// A coordinator instance with its address.
type Instance = (Pubkey, CoordinatorInstance);

/// Reads snapshots of a selection of runs, remembering treasurer mints between refreshes.
pub struct Reader {
    ids: ProgramIds,
    selection: Selection,
    /// Treasurer run address → (mint, decimals).
    mints: HashMap<Pubkey, (Pubkey, u8)>,
}

impl Reader {
    pub fn new(ids: ProgramIds, selection: Selection) -> Self {
        Self { ids, selection, mints: HashMap::new() }
    }

    pub fn read(&mut self, chain: &Chain) -> Result<Snapshot, ChainError> {
        self.read_from(chain, chain)
    }

    /// `read`, with accounts taken from `fetch` (the cluster, or a mirror kept by pushes).
    pub fn read_from(&mut self, chain: &Chain, fetch: &dyn Fetch) -> Result<Snapshot, ChainError> {
        let (mut instances, missing) = self.instances(fetch)?;
        instances.sort_by(|a, b| a.1.run_id.cmp(&b.1.run_id));
        // The main read: coordinator accounts, main authorities (treasurer runs of rewarded
        // runs) and the treasury token accounts of runs whose mint is known.
        let mut keys = Vec::with_capacity(instances.len() * 3);
        for (_, i) in &instances {
            keys.extend([i.coordinator_account, i.main_authority]);
            if let Some((mint, _)) = self.mints.get(&i.main_authority) {
                keys.push(pdas::associated_token(&i.main_authority, mint));
            }
        }
        let (slot, accounts) = if keys.is_empty() { (fetch.slot()?, Vec::new()) } else { fetch.multiple(&keys)? };
        // No runs on a real cluster: say so when it has no coordinator program at all.
        let notice =
            (keys.is_empty() && !chain.is_embedded()).then(|| chain.undeployed(&[self.ids.coordinator])).flatten();
        let mut fetched: HashMap<Pubkey, Account> =
            keys.iter().zip(accounts).filter_map(|(k, a)| a.map(|a| (*k, a))).collect();
        self.learn_mints(fetch, &instances, &mut fetched)?;
        let mut runs = Vec::with_capacity(instances.len());
        let mut unreadable = Vec::new();
        for (instance_address, instance) in instances {
            let account = match fetched.get(&instance.coordinator_account) {
                None => Err(format!("its coordinator account {} is gone", instance.coordinator_account)),
                Some(a) => CoordinatorAccount::decode(&a.data).map_err(|e| e.to_string()),
            };
            match account {
                Ok(account) => {
                    let treasury = self.treasury(&instance.main_authority, &fetched);
                    runs.push(RunSnapshot { instance_address, instance, account, treasury });
                }
                Err(error) => unreadable.push(Unreadable { run_id: instance.run_id, error }),
            }
        }
        Ok(Snapshot { slot, runs, missing, unreadable, notice })
    }

    /// The selected runs' instances (address and account), and the named runs not found.
    fn instances(&self, fetch: &dyn Fetch) -> Result<(Vec<Instance>, Vec<String>), ChainError> {
        let decode = |data: &[u8]| CoordinatorInstance::decode(data).ok();
        match &self.selection {
            Selection::Runs(run_ids) => {
                let keys: Vec<Pubkey> = run_ids.iter().map(|id| pdas::coordinator_instance(&self.ids, id)).collect();
                let (_, accounts) = fetch.multiple(&keys)?;
                let mut found = Vec::new();
                let mut missing = Vec::new();
                for ((id, key), account) in run_ids.iter().zip(keys).zip(accounts) {
                    match account.and_then(|a| decode(&a.data)) {
                        Some(i) => found.push((key, i)),
                        None => missing.push(id.clone()),
                    }
                }
                Ok((found, missing))
            }
            Selection::All | Selection::JoinAuthority(_) => {
                let mut filters = vec![RpcFilterType::DataSize(instance::SIZE as u64)];
                if let Selection::JoinAuthority(key) = &self.selection {
                    filters
                        .push(RpcFilterType::Memcmp(Memcmp::new_base58_encoded(JOIN_AUTHORITY_OFFSET, key.as_ref())));
                }
                let config = RpcProgramAccountsConfig {
                    filters: Some(filters),
                    account_config: RpcAccountInfoConfig {
                        encoding: Some(UiAccountEncoding::Base64),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let accounts = fetch.program_accounts(self.ids.coordinator, config)?;
                let found = accounts.into_iter().filter_map(|(key, a)| decode(&a.data).map(|i| (key, i))).collect();
                Ok((found, Vec::new()))
            }
        }
    }

    /// Reads the mints (with their decimals) and treasury token accounts of treasurer runs
    /// seen for the first time, adding the token accounts to `fetched`.
    fn learn_mints(
        &mut self,
        fetch: &dyn Fetch,
        instances: &[Instance],
        fetched: &mut HashMap<Pubkey, Account>,
    ) -> Result<(), ChainError> {
        let new: Vec<(Pubkey, Pubkey)> = instances
            .iter()
            .filter(|(_, i)| !self.mints.contains_key(&i.main_authority))
            .filter_map(|(_, i)| {
                let account = fetched.get(&i.main_authority).filter(|a| a.owner == self.ids.treasurer)?;
                TreasurerRun::decode(&account.data).ok().map(|run| (i.main_authority, run.collateral_mint))
            })
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let keys: Vec<Pubkey> = new.iter().flat_map(|(run, mint)| [*mint, pdas::associated_token(run, mint)]).collect();
        let (_, accounts) = fetch.multiple(&keys)?;
        let mut accounts = accounts.into_iter();
        for (run, mint) in new {
            let (mint_account, token_account) = (accounts.next().flatten(), accounts.next().flatten());
            let decimals = mint_account.and_then(|a| spl_token_interface::state::Mint::unpack(&a.data).ok());
            if let Some(m) = decimals {
                self.mints.insert(run, (mint, m.decimals));
            }
            if let Some(token) = token_account {
                fetched.insert(pdas::associated_token(&run, &mint), token);
            }
        }
        Ok(())
    }

    /// The treasury of the run whose main authority is `run`, when it is a treasurer run.
    fn treasury(&self, run: &Pubkey, fetched: &HashMap<Pubkey, Account>) -> Option<Treasury> {
        let (mint, decimals) = self.mints.get(run)?;
        let treasurer = TreasurerRun::decode(&fetched.get(run)?.data).ok()?;
        let collateral = pdas::associated_token(run, mint);
        let balance = fetched
            .get(&collateral)
            .and_then(|a| spl_token_interface::state::Account::unpack(&a.data).ok())
            .map_or(0, |t| t.amount);
        Some(Treasury { address: *run, run: treasurer, collateral, balance, decimals: *decimals })
    }
}

/// Where a read takes accounts from.
pub trait Fetch {
    /// The slot at the client's commitment (when there is nothing to read it from).
    fn slot(&self) -> Result<u64, ChainError>;
    /// Accounts by key, with the slot they were read at.
    fn multiple(&self, keys: &[Pubkey]) -> Result<(u64, Vec<Option<Account>>), ChainError>;
    /// A program's accounts that pass `config`'s filters.
    fn program_accounts(
        &self,
        program: Pubkey,
        config: RpcProgramAccountsConfig,
    ) -> Result<Vec<(Pubkey, Account)>, ChainError>;
}

impl Fetch for Chain {
    fn slot(&self) -> Result<u64, ChainError> {
        self.read(|rpc| async move {
            let commitment = rpc.commitment();
            rpc.get_slot_with_commitment(commitment).await
        })
    }

    /// `getMultipleAccounts` in requests of at most 100 keys; the slot of the last response.
    fn multiple(&self, keys: &[Pubkey]) -> Result<(u64, Vec<Option<Account>>), ChainError> {
        let mut slot = 0;
        let mut all = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_KEYS_PER_REQUEST) {
            let chunk = chunk.to_vec();
            let response = self.read(move |rpc| {
                let chunk = chunk.clone();
                async move {
                    let commitment = rpc.commitment();
                    rpc.get_multiple_accounts_with_commitment(&chunk, commitment).await
                }
            })?;
            slot = response.context.slot;
            all.extend(response.value);
        }
        Ok((slot, all))
    }

    fn program_accounts(
        &self,
        program: Pubkey,
        config: RpcProgramAccountsConfig,
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let accounts = self.read(move |rpc| {
            let config = config.clone();
            async move { rpc.get_program_ui_accounts_with_config(&program, config).await }
        })?;
        Ok(accounts.into_iter().filter_map(|(key, a)| a.decode::<Account>().map(|a| (key, a))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localnet::Localnet;
    use crate::localnet::handle::Handle;
    use solana_commitment_config::CommitmentConfig;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// Puts a run named `run_id` on `net` whose coordinator account holds `data`.
    fn put_run(net: &mut Localnet, run_id: &str, data: Vec<u8>) -> Pubkey {
        let ids = net.ids();
        let account_key = Pubkey::new_unique();
        let owned = |data: Vec<u8>| Account {
            lamports: 1_000_000_000,
            data,
            owner: ids.coordinator,
            executable: false,
            rent_epoch: 0,
        };
        let instance = CoordinatorInstance {
            bump: 255,
            main_authority: Pubkey::new_unique(),
            join_authority: Pubkey::new_unique(),
            coordinator_account: account_key,
            run_id: run_id.into(),
        };
        let instance_key = pdas::coordinator_instance(&ids, run_id);
        net.set_account(instance_key, owned(instance.encode(instance::SIZE)));
        net.set_account(account_key, owned(data));
        instance_key
    }

    #[test]
    fn reads_runs_in_two_round_trips_and_names_the_unreadable_ones() {
        let mut net = Localnet::new();
        let good = put_run(&mut net, "current", fixture("coordinator-account-v1.bin"));
        put_run(&mut net, "old", fixture("coordinator-account-v0.bin"));
        let chain = Chain::embedded(Handle::fork(net, std::path::Path::new(".")), CommitmentConfig::confirmed());
        let mut reader = Reader::new(ProgramIds::default(), Selection::All);
        let snapshot = reader.read(&chain).unwrap();
        assert_eq!(chain.round_trips().total(), 2);
        assert_eq!(snapshot.runs.len(), 1);
        assert_eq!(snapshot.runs[0].instance_address, good);
        assert_eq!(snapshot.runs[0].account.run_id.to_string(), "test");
        assert!(snapshot.runs[0].treasury.is_none());
        assert_eq!(snapshot.unreadable.len(), 1);
        assert_eq!(snapshot.unreadable[0].run_id, "old");
        assert!(snapshot.unreadable[0].error.contains("v0"), "{}", snapshot.unreadable[0].error);

        let mut named = Reader::new(ProgramIds::default(), Selection::Runs(vec!["current".into(), "absent".into()]));
        let snapshot = named.read(&chain).unwrap();
        assert_eq!(snapshot.runs.len(), 1);
        assert_eq!(snapshot.missing, vec!["absent".to_string()]);
    }
}
