//! What follow mode watches of a run, and the events between two observations. An observation
//! is read from the chain (never taken from a notification), after every push and every
//! reconnect, so a lost notification never loses a transition: comparing the last observation
//! handled with the current one yields everything that happened in between, once.

use crate::api::host::Host;
use crate::api::ops::inspect;
use crate::api::values::error::HostError;
use crate::api::values::handlers::Trigger;
use crate::api::values::runs::RunHandle;
use crate::psyche::accounts::coordinator_account::ClientState;
use crate::psyche::pdas;
use rhai::{Dynamic, FLOAT};
use std::collections::BTreeMap;

/// A run as follow mode last saw it (persisted between restarts: see the follow loop).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Observed {
    pub state: String,
    pub epoch: u64,
    /// The current epoch's clients, and whether each is healthy.
    pub clients: BTreeMap<String, bool>,
    /// The treasury's runway in epochs (None: no treasury, or nothing burns).
    pub runway: Option<f64>,
}

/// Something that happened to a run between two observations.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Transition { from: String, to: String },
    EpochEnd(u64),
    ClientJoined(String),
    ClientDropped(String),
    Paused,
    RunwayBelow { threshold: f64, runway: f64 },
}

impl Event {
    /// True when a handler registered for `trigger` hears of this event.
    pub fn matches(&self, trigger: &Trigger) -> bool {
        match (self, trigger) {
            (Event::Transition { .. }, Trigger::Transition)
            | (Event::EpochEnd(_), Trigger::EpochEnd)
            | (Event::ClientJoined(_), Trigger::ClientJoined)
            | (Event::ClientDropped(_), Trigger::ClientDropped)
            | (Event::Paused, Trigger::Paused) => true,
            (Event::RunwayBelow { threshold, .. }, Trigger::RunwayBelow(t)) => threshold == t,
            _ => false,
        }
    }

    /// The handler's arguments.
    pub fn args(&self) -> Vec<Dynamic> {
        match self {
            Event::Transition { from, to } => vec![from.clone().into(), to.clone().into()],
            Event::EpochEnd(epoch) => vec![Dynamic::from_int(*epoch as i64)],
            Event::ClientJoined(key) | Event::ClientDropped(key) => vec![key.clone().into()],
            Event::Paused => Vec::new(),
            Event::RunwayBelow { runway, .. } => vec![Dynamic::from_float(*runway as FLOAT)],
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Event::Transition { from, to } => format!("{from} -> {to}"),
            Event::EpochEnd(epoch) => format!("epoch {epoch} ended"),
            Event::ClientJoined(key) => format!("client {key} joined"),
            Event::ClientDropped(key) => format!("client {key} dropped"),
            Event::Paused => "paused".into(),
            Event::RunwayBelow { threshold, runway } => format!("runway {runway:.1} epochs, below {threshold}"),
        }
    }
}

/// Reads the run now (its treasury too when `with_runway`).
pub fn observe(host: &Host, r: &RunHandle, with_runway: bool) -> Result<Observed, HostError> {
    host.fresh_account(&r.account)?;
    let account = r.coordinator(host)?;
    let clients =
        account.epoch_state.clients.iter().map(|c| (c.signer.to_string(), c.state == ClientState::Healthy)).collect();
    let runway = match (&r.treasurer, with_runway) {
        (Some(t), true) => {
            host.fresh_account(&t.address)?;
            host.fresh_account(&pdas::associated_token(&t.address, &t.mint))?;
            inspect::funding(host, r)?.0.funded_epochs
        }
        _ => None,
    };
    Ok(Observed {
        state: account.run_state.display().to_string(),
        epoch: account.progress.epoch as u64,
        clients,
        runway,
    })
}

/// What happened from `before` to `now`, in the order handlers hear of it; `thresholds` are
/// the runways handlers asked to hear about.
pub fn events(before: &Observed, now: &Observed, thresholds: &[f64]) -> Vec<Event> {
    let mut events = Vec::new();
    if now.state != before.state {
        events.push(Event::Transition { from: before.state.clone(), to: now.state.clone() });
        if now.state == "Paused" {
            events.push(Event::Paused);
        }
    }
    events.extend((before.epoch..now.epoch).map(Event::EpochEnd));
    // A halted run lets its clients go: that is the halt's news, not a drop each.
    let halted = matches!(now.state.as_str(), "Paused" | "Finished" | "Uninitialized");
    for (key, healthy) in &now.clients {
        match before.clients.get(key) {
            None => events.push(Event::ClientJoined(key.clone())),
            Some(true) if !healthy && !halted && now.epoch == before.epoch => {
                events.push(Event::ClientDropped(key.clone()))
            }
            _ => {}
        }
    }
    if let Some(runway) = now.runway {
        for threshold in thresholds {
            let was_above = before.runway.is_none_or(|r| r >= *threshold);
            if runway < *threshold && was_above {
                events.push(Event::RunwayBelow { threshold: *threshold, runway });
            }
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(state: &str, epoch: u64, clients: &[(&str, bool)], runway: Option<f64>) -> Observed {
        Observed {
            state: state.into(),
            epoch,
            clients: clients.iter().map(|(k, h)| (k.to_string(), *h)).collect(),
            runway,
        }
    }

    #[test]
    fn everything_between_two_observations_is_one_event_each() {
        let before = seen("Training", 3, &[("a", true), ("b", true)], Some(5.0));
        let now = seen("Paused", 5, &[("a", true), ("c", true)], Some(2.5));
        let events = events(&before, &now, &[3.0, 1.0]);
        assert_eq!(
            events,
            [
                Event::Transition { from: "Training".into(), to: "Paused".into() },
                Event::Paused,
                Event::EpochEnd(3),
                Event::EpochEnd(4),
                Event::ClientJoined("c".into()),
                Event::RunwayBelow { threshold: 3.0, runway: 2.5 },
            ]
        );
    }

    #[test]
    fn a_drop_is_a_healthy_client_turning_unhealthy_within_an_epoch() {
        let before = seen("Training", 3, &[("a", true)], None);
        assert_eq!(
            events(&before, &seen("Training", 3, &[("a", false)], None), &[]),
            [Event::ClientDropped("a".into())]
        );
        // A pause lets every client go at once: not a drop each.
        assert_eq!(
            events(&before, &seen("Paused", 3, &[("a", false)], None), &[]),
            [Event::Transition { from: "Training".into(), to: "Paused".into() }, Event::Paused]
        );
        // A new epoch starts with a new client list: leaving it is not a drop.
        assert_eq!(events(&before, &seen("Training", 4, &[], None), &[]), [Event::EpochEnd(3)]);
    }

    #[test]
    fn a_runway_below_its_threshold_is_told_once_until_it_rises_again() {
        let low = seen("Training", 1, &[], Some(2.0));
        assert!(events(&low, &seen("Training", 1, &[], Some(1.5)), &[3.0]).is_empty());
        let high = seen("Training", 1, &[], Some(4.0));
        assert_eq!(events(&high, &low, &[3.0]), [Event::RunwayBelow { threshold: 3.0, runway: 2.0 }]);
        assert!(events(&low, &low, &[3.0]).is_empty());
    }
}
