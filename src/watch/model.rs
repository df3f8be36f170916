//! What `watch` knows between refreshes, independent of any terminal: the latest rows, the
//! selected run, whether its detail is open, the state transitions seen since `watch` started
//! and short histories of clients and steps for the sparklines. Keys change it through `key`.

use crate::psyche::accounts::coordinator_account::CoordinatorAccount;
use crate::watch::read::{Snapshot, Unreadable};
use crate::watch::row::RunRow;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// Samples kept per run for the sparklines.
const HISTORY: usize = 120;
/// State transitions kept.
const TRANSITIONS: usize = 50;

/// A key the view reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Up,
    Down,
    /// Opens or closes the selected run's detail.
    Enter,
    Quit,
}

/// Whether the view goes on after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// A run's state change seen between two refreshes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// Unix seconds when the refresh that saw it happened.
    pub at: i64,
    pub run_id: String,
    pub from: &'static str,
    pub to: &'static str,
    pub epoch: u16,
    pub step: u32,
}

/// A run as last read: its row and the decoded account the detail view draws from.
#[derive(Debug, Clone)]
pub struct WatchedRun {
    pub row: RunRow,
    pub account: CoordinatorAccount,
}

#[derive(Debug, Default)]
struct History {
    clients: VecDeque<u64>,
    steps: VecDeque<u64>,
}

#[derive(Debug, Default)]
pub struct Watch {
    pub runs: Vec<WatchedRun>,
    /// The selected run's id, kept across refreshes (runs may appear or vanish).
    selected: Option<String>,
    pub detail: bool,
    pub slot: u64,
    pub missing: Vec<String>,
    pub unreadable: Vec<Unreadable>,
    /// Why a real cluster shows no runs (see `Snapshot::notice`).
    pub notice: Option<String>,
    pub refreshes: u64,
    /// RPC round trips of the last refresh.
    pub round_trips: u64,
    /// Unix seconds of the last successful refresh.
    pub updated_at: i64,
    /// Why the last refresh failed, until one succeeds.
    pub error: Option<String>,
    /// What the operator should know about the source (e.g. a busy localnet).
    pub note: Option<String>,
    pub transitions: VecDeque<Transition>,
    history: BTreeMap<String, History>,
}

impl Watch {
    /// Takes in a refresh read at `now` (unix seconds) with `round_trips` RPC requests.
    pub fn update(&mut self, snapshot: Snapshot, now: i64, round_trips: u64) {
        let previous: BTreeMap<String, (&'static str, u16, u32)> =
            self.runs.iter().map(|r| (r.row.run_id.clone(), (r.row.state, r.row.epoch, r.row.step))).collect();
        self.runs = snapshot
            .runs
            .iter()
            .map(|run| WatchedRun { row: RunRow::new(run), account: run.account.clone() })
            .collect();
        for run in &self.runs {
            let row = &run.row;
            if let Some((from, _, _)) = previous.get(&row.run_id).filter(|(state, _, _)| *state != row.state) {
                if self.transitions.len() == TRANSITIONS {
                    self.transitions.pop_front();
                }
                self.transitions.push_back(Transition {
                    at: now,
                    run_id: row.run_id.clone(),
                    from,
                    to: row.state,
                    epoch: row.epoch,
                    step: row.step,
                });
            }
            let history = self.history.entry(row.run_id.clone()).or_default();
            for (series, value) in
                [(&mut history.clients, row.clients.healthy as u64), (&mut history.steps, row.step.into())]
            {
                if series.len() == HISTORY {
                    series.pop_front();
                }
                series.push_back(value);
            }
        }
        if self.selected_index().is_none() {
            self.selected = self.runs.first().map(|r| r.row.run_id.clone());
        }
        self.slot = snapshot.slot;
        self.missing = snapshot.missing;
        self.unreadable = snapshot.unreadable;
        self.notice = snapshot.notice;
        self.refreshes += 1;
        self.round_trips = round_trips;
        self.updated_at = now;
        self.error = None;
    }

    /// Records a failed refresh; the last rows stay on screen.
    pub fn fail(&mut self, error: String) {
        self.error = Some(error);
    }

    pub fn key(&mut self, key: Key) -> Flow {
        let count = self.runs.len();
        let index = self.selected_index();
        let moved = match (key, index) {
            (Key::Quit, _) => return Flow::Quit,
            (Key::Enter, _) => {
                self.detail = !self.detail;
                None
            }
            (_, None) => None,
            (Key::Up, Some(i)) => Some(i.saturating_sub(1)),
            (Key::Down, Some(i)) => Some((i + 1).min(count - 1)),
        };
        if let Some(i) = moved {
            self.selected = Some(self.runs[i].row.run_id.clone());
        }
        Flow::Continue
    }

    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
        self.runs.iter().position(|r| &r.row.run_id == id)
    }

    pub fn selected(&self) -> Option<&WatchedRun> {
        self.selected_index().map(|i| &self.runs[i])
    }

    /// The healthy-clients and step histories of `run_id`, oldest first.
    pub fn history(&self, run_id: &str) -> (Vec<u64>, Vec<u64>) {
        self.history
            .get(run_id)
            .map(|h| (h.clients.iter().copied().collect(), h.steps.iter().copied().collect()))
            .unwrap_or_default()
    }

    /// The transitions seen for `run_id`, newest first.
    pub fn transitions_of<'a>(&'a self, run_id: &'a str) -> impl Iterator<Item = &'a Transition> + 'a {
        self.transitions.iter().rev().filter(move |t| t.run_id == run_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psyche::accounts::coordinator_account::RunState;
    use crate::psyche::accounts::instance::CoordinatorInstance;
    use crate::watch::read::RunSnapshot;
    use solana_sdk::pubkey::Pubkey;

    fn fixture_account() -> CoordinatorAccount {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/coordinator-account-v1.bin");
        CoordinatorAccount::decode(&std::fs::read(path).unwrap()).unwrap()
    }

    fn snapshot(runs: &[(&str, RunState, u32)]) -> Snapshot {
        let runs = runs
            .iter()
            .map(|(id, state, step)| {
                let mut account = fixture_account();
                account.run_state = *state;
                account.progress.step = *step;
                RunSnapshot {
                    instance_address: Pubkey::new_unique(),
                    instance: CoordinatorInstance {
                        bump: 255,
                        main_authority: Pubkey::new_unique(),
                        join_authority: Pubkey::new_unique(),
                        coordinator_account: Pubkey::new_unique(),
                        run_id: id.to_string(),
                    },
                    account,
                    treasury: None,
                }
            })
            .collect();
        Snapshot { slot: 7, runs, missing: Vec::new(), unreadable: Vec::new(), notice: None }
    }

    #[test]
    fn keys_move_the_selection_within_the_runs() {
        let mut watch = Watch::default();
        watch.update(snapshot(&[("a", RunState::Paused, 0), ("b", RunState::Paused, 0)]), 1, 2);
        assert_eq!(watch.selected().unwrap().row.run_id, "a");
        assert_eq!(watch.key(Key::Up), Flow::Continue);
        assert_eq!(watch.selected().unwrap().row.run_id, "a");
        watch.key(Key::Down);
        watch.key(Key::Down);
        assert_eq!(watch.selected().unwrap().row.run_id, "b");
        watch.key(Key::Enter);
        assert!(watch.detail);
        assert_eq!(watch.key(Key::Quit), Flow::Quit);
    }

    #[test]
    fn the_selection_follows_its_run_and_transitions_are_recorded() {
        let mut watch = Watch::default();
        watch.update(snapshot(&[("b", RunState::WaitingForMembers, 10)]), 100, 3);
        // A run sorted before the selected one appears: the selection stays on "b".
        watch.update(snapshot(&[("a", RunState::Paused, 0), ("b", RunState::RoundTrain, 12)]), 105, 2);
        assert_eq!(watch.selected().unwrap().row.run_id, "b");
        let seen: Vec<_> = watch.transitions_of("b").map(|t| (t.at, t.from, t.to, t.step)).collect();
        assert_eq!(seen, vec![(105, "Waiting for members", "Training", 12)]);
        assert_eq!(watch.history("b").1, vec![10, 12]);
        assert_eq!((watch.refreshes, watch.round_trips, watch.slot), (2, 2, 7));
    }
}
