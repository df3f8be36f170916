//! The programs a transaction runs, by name, and whether a cluster has them. A transaction runs
//! each instruction's program and the programs it passes along for cross-program calls (the
//! treasurer passes the coordinator and SPL Token, a Squads execution the programs of its vault
//! transaction). A cluster has a program when an executable account is at its address; an
//! upgradeable one also says, in its program data account, the slot it was last deployed at.

use crate::psyche::ids::{ASSOCIATED_TOKEN, ProgramIds, SYSTEM, TOKEN};
use serde::Serialize;
use solana_loader_v3_interface::state::UpgradeableLoaderState;
use solana_sdk::account::Account;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

const COMPUTE_BUDGET: Pubkey = solana_sdk::pubkey!("ComputeBudget111111111111111111111111111111");
const UPGRADEABLE_LOADER: Pubkey = solana_sdk::pubkey!("BPFLoaderUpgradeab1e11111111111111111111111");

/// What a cluster holds at a program's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum DeploymentState {
    /// No account at all.
    Missing,
    /// An account that is not a program.
    NotExecutable,
    /// A program; `deployed_slot` when it is upgradeable (its program data says when).
    Deployed { deployed_slot: Option<u64> },
}

/// One program a plan runs, as the target cluster holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    pub name: String,
    pub address: String,
    #[serde(flatten)]
    pub state: DeploymentState,
}

impl Deployment {
    pub fn is_usable(&self) -> bool {
        matches!(self.state, DeploymentState::Deployed { .. })
    }

    /// What an operator reads about a program that cannot run.
    pub fn problem(&self) -> Option<String> {
        match self.state {
            DeploymentState::Missing => {
                Some(format!("program {} ({}) is not deployed on this cluster", self.address, self.name))
            }
            DeploymentState::NotExecutable => {
                Some(format!("account {} ({}) on this cluster is not an executable program", self.address, self.name))
            }
            DeploymentState::Deployed { .. } => None,
        }
    }

    /// One line of a plan's header.
    pub fn describe(&self) -> String {
        match (&self.state, self.problem()) {
            (_, Some(problem)) => problem,
            (DeploymentState::Deployed { deployed_slot: Some(slot) }, None) => {
                format!("{} {} deployed at slot {slot}", self.name, self.address)
            }
            _ => format!("{} {} deployed (not upgradeable)", self.name, self.address),
        }
    }
}

/// The names of the programs this product sends to.
pub fn name_of(ids: &ProgramIds, key: &Pubkey) -> Option<&'static str> {
    Some(match *key {
        k if k == ids.coordinator => "coordinator",
        k if k == ids.authorizer => "authorizer",
        k if k == ids.treasurer => "treasurer",
        k if k == crate::squads::PROGRAM_ID => "Squads v4",
        TOKEN => "SPL Token",
        ASSOCIATED_TOKEN => "Associated Token",
        SYSTEM => "System",
        COMPUTE_BUDGET => "Compute Budget",
        _ => return None,
    })
}

/// Every program `instructions` run: their programs, and the known programs they pass along.
pub fn run_by(ids: &ProgramIds, instructions: &[Instruction]) -> Vec<Pubkey> {
    let mut programs: Vec<Pubkey> = instructions
        .iter()
        .flat_map(|ix| {
            let passed = ix.accounts.iter().map(|a| a.pubkey).filter(|k| name_of(ids, k).is_some());
            std::iter::once(ix.program_id).chain(passed)
        })
        .collect();
    programs.sort_unstable();
    programs.dedup();
    programs
}

/// The program data account an upgradeable program's account points at.
pub fn program_data_address(account: &Account) -> Option<Pubkey> {
    if account.owner != UPGRADEABLE_LOADER {
        return None;
    }
    match bincode::deserialize(&account.data).ok()? {
        UpgradeableLoaderState::Program { programdata_address } => Some(programdata_address),
        _ => None,
    }
}

/// What `program`'s account (and, for an upgradeable one, its program data account) says.
pub fn deployment(ids: &ProgramIds, program: &Pubkey, account: Option<&Account>, data: Option<&Account>) -> Deployment {
    let state = match account {
        None => DeploymentState::Missing,
        Some(a) if !a.executable => DeploymentState::NotExecutable,
        Some(_) => {
            let deployed_slot = data.and_then(|d| match bincode::deserialize(&d.data).ok()? {
                UpgradeableLoaderState::ProgramData { slot, .. } => Some(slot),
                _ => None,
            });
            DeploymentState::Deployed { deployed_slot }
        }
    };
    let name = name_of(ids, program).unwrap_or("program").to_string();
    Deployment { name, address: program.to_string(), state }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upgradeable_program_says_when_it_was_deployed() {
        let ids = ProgramIds::default();
        let data_address = Pubkey::new_unique();
        let program = Account {
            lamports: 1,
            data: bincode::serialize(&UpgradeableLoaderState::Program { programdata_address: data_address }).unwrap(),
            owner: UPGRADEABLE_LOADER,
            executable: true,
            rent_epoch: 0,
        };
        assert_eq!(program_data_address(&program), Some(data_address));
        let data = Account {
            data: bincode::serialize(&UpgradeableLoaderState::ProgramData {
                slot: 77,
                upgrade_authority_address: None,
            })
            .unwrap(),
            ..program.clone()
        };
        let found = deployment(&ids, &ids.coordinator, Some(&program), Some(&data));
        assert_eq!(found.describe(), format!("coordinator {} deployed at slot 77", ids.coordinator));
        let missing = deployment(&ids, &ids.treasurer, None, None);
        assert_eq!(
            missing.problem().unwrap(),
            format!("program {} (treasurer) is not deployed on this cluster", ids.treasurer)
        );
    }

    #[test]
    fn a_transaction_runs_its_programs_and_those_it_passes_along() {
        let ids = ProgramIds::default();
        let ix = Instruction::new_with_bytes(
            ids.treasurer,
            &[],
            vec![
                solana_sdk::instruction::AccountMeta::new_readonly(ids.coordinator, false),
                solana_sdk::instruction::AccountMeta::new(Pubkey::new_unique(), false),
                solana_sdk::instruction::AccountMeta::new_readonly(TOKEN, false),
            ],
        );
        let mut expected = vec![ids.treasurer, ids.coordinator, TOKEN];
        expected.sort_unstable();
        assert_eq!(run_by(&ids, &[ix]), expected);
    }
}
