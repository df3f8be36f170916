//! Runs read through the execution: `run("my-run")` resolves the coordinator instance, its
//! account and, for rewarded runs, the treasurer `Run` — found through the instance's main
//! authority (the treasurer's Run PDA is the main authority of the coordinators it creates), so
//! a run created with a custom treasurer index needs no index on later calls. A run prints with
//! its state as the chain has it now.

use crate::api::host::Host;
use crate::api::values::display::{self, bare_run_line};
use crate::api::values::error::HostError;
use crate::api::values::runs::{RunHandle, TreasurerRef, check_run_id};
use crate::psyche::accounts::BorshAccount;
use crate::psyche::accounts::coordinator_account::{CoordinatorAccount, RunState};
use crate::psyche::accounts::instance::CoordinatorInstance;
use crate::psyche::accounts::treasurer::TreasurerRun;
use crate::psyche::pdas;
use crate::psyche::run_update::{Owner, Target};
use rhai::Dynamic;
use solana_sdk::account::Account;
use solana_sdk::pubkey::Pubkey;

impl RunHandle {
    /// Finds `run_id` on the host's cluster; `None` when it does not exist. Two batched reads
    /// at most: the instance together with the treasurer Run at the run's default index (where
    /// rewarded runs usually live), then the coordinator account, the main authority and, for a
    /// rewarded run, its mint, treasury and the payer's token account — what later operations
    /// on the run need.
    pub fn find(host: &Host, run_id: &str) -> Result<Option<Self>, HostError> {
        check_run_id(run_id)?;
        host.check_run_allowed(run_id)?;
        let ids = &host.settings.programs;
        let instance_key = pdas::coordinator_instance(ids, run_id);
        let default_run = pdas::treasurer_run(ids, pdas::treasurer_index(run_id));
        let first = host.accounts(&[instance_key, default_run])?;
        let Some(account) = &first[0] else { return Ok(None) };
        host.touch_run(run_id);
        let instance = CoordinatorInstance::decode(&account.data)
            .map_err(|e| HostError::chain(format!("run \"{run_id}\": {e}")))?;
        let mut keys = vec![instance.main_authority, instance.coordinator_account];
        if instance.main_authority == default_run
            && let Some(Ok(run)) =
                first[1].as_ref().filter(|a| a.owner == ids.treasurer).map(|a| TreasurerRun::decode(&a.data))
        {
            keys.extend([run.collateral_mint, pdas::associated_token(&default_run, &run.collateral_mint)]);
            keys.extend(host.payer_if_unattended().map(|payer| pdas::associated_token(&payer, &run.collateral_mint)));
        }
        let second = host.accounts(&keys)?;
        Self::from_accounts(host, instance_key, &instance, second[0].as_ref()).map(Some)
    }

    /// The run of a decoded instance, given its main authority's account (a treasurer Run for
    /// rewarded runs).
    pub fn from_accounts(
        host: &Host,
        instance_key: Pubkey,
        instance: &CoordinatorInstance,
        main_authority: Option<&Account>,
    ) -> Result<Self, HostError> {
        let treasurer = match main_authority {
            Some(a) if a.owner == host.settings.programs.treasurer => {
                let run = TreasurerRun::decode(&a.data)
                    .map_err(|e| HostError::chain(format!("run \"{}\": {e}", instance.run_id)))?;
                Some(TreasurerRef {
                    address: instance.main_authority,
                    index: run.index,
                    mint: run.collateral_mint,
                    authority: run.main_authority,
                })
            }
            _ => None,
        };
        Ok(Self {
            run_id: instance.run_id.clone(),
            instance: instance_key,
            account: instance.coordinator_account,
            main_authority: instance.main_authority,
            join_authority: instance.join_authority,
            treasurer,
        })
    }

    pub fn resolve(host: &Host, run_id: &str) -> Result<Self, HostError> {
        if let Some(run) = Self::find(host, run_id)? {
            return Ok(run);
        }
        // On a real cluster, a run is also missing when the programs are: say which.
        let chain = host.chain()?;
        let hint = (host.settings.cluster != crate::chain::cluster::Cluster::Embedded)
            .then(|| chain.undeployed(&[chain.program_ids().coordinator]))
            .flatten()
            .map(|problem| format!(" ({problem}: a cluster or program IDs other than intended?)"))
            .unwrap_or_default();
        Err(HostError::input(format!("run \"{run_id}\" does not exist on {}{hint}", host.settings.cluster_name())))
    }

    pub fn coordinator(&self, host: &Host) -> Result<CoordinatorAccount, HostError> {
        let account = host
            .account(&self.account)?
            .ok_or_else(|| HostError::chain(format!("run \"{}\": its coordinator account is gone", self.run_id)))?;
        CoordinatorAccount::decode(&account.data).map_err(|e| HostError::chain(format!("run \"{}\": {e}", self.run_id)))
    }

    pub fn state(&self, host: &Host) -> Result<RunState, HostError> {
        Ok(self.coordinator(host)?.run_state)
    }

    /// The state as the cluster has it now, for polling.
    pub fn fresh_state(&self, host: &Host) -> Result<RunState, HostError> {
        host.fresh_account(&self.account)?;
        self.state(host)
    }

    /// Where run changes are sent, checked against the payer (who signs them) or a known
    /// multisig vault (whose changes are proposed).
    pub fn target<'a>(&self, host: &'a Host) -> Result<Target<'a>, HostError> {
        let payer = host.payer()?.pubkey();
        let authority = self.authority();
        if !host.can_act_as(&authority)? {
            return Err(HostError::input(format!(
                "the signer {payer} is not the authority of run \"{}\" ({authority}); pass -k with its keypair",
                self.run_id,
            )));
        }
        Ok(Target {
            ids: &host.settings.programs,
            owner: self.treasurer.as_ref().map_or(Owner::Direct, |t| Owner::Treasurer { run: t.address }),
            authority,
            coordinator_instance: self.instance,
            coordinator_account: self.account,
        })
    }

    /// The mint decimals rates and amounts use: the collateral mint's, or 0 for direct runs.
    pub fn decimals(&self, host: &Host) -> Result<u8, HostError> {
        let Some(t) = &self.treasurer else { return Ok(0) };
        let account = host.account(&t.mint)?.ok_or_else(|| HostError::chain(format!("mint {} is gone", t.mint)))?;
        use solana_program_pack::Pack;
        spl_token_interface::state::Mint::unpack(&account.data)
            .map(|m| m.decimals)
            .map_err(|_| HostError::chain(format!("{} is not a token mint", t.mint)))
    }
}

/// `Run("quickstart", Waiting for members, epoch 1)`: the state as the chain has it now (one
/// read, served from the host's reads when it has them).
pub fn run_line(run: &RunHandle, host: Option<&Host>) -> String {
    match host.map(|h| run.coordinator(h)) {
        Some(Ok(account)) => {
            format!("Run({:?}, {}, epoch {})", run.run_id, account.run_state.display(), account.progress.epoch)
        }
        _ => bare_run_line(run),
    }
}

/// `value` for people, its runs with their state as read through `host`.
pub fn show(value: &Dynamic, host: &Host) -> String {
    display::show(value, Some(&|run: &RunHandle| run_line(run, Some(host))))
}

/// How a `Run` prints in scripts.
pub fn register_functions(engine: &mut rhai::Engine) {
    engine
        .register_fn("to_string", |ctx: rhai::NativeCallContext, r: &mut RunHandle| run_line(r, Some(&Host::of(&ctx))))
        .register_fn("to_debug", |ctx: rhai::NativeCallContext, r: &mut RunHandle| run_line(r, Some(&Host::of(&ctx))));
}
