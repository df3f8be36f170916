//! The host's sink stack: installing, finding and removing the `StepSink`s features plug in.
//! The last installed is asked first.

use crate::api::host::{Host, StepSink, as_sink};
use crate::api::values::error::HostError;
use solana_sdk::pubkey::Pubkey;
use std::sync::Arc;

impl Host {
    /// True when the runbook may act as `authority`: it is the payer, or an installed sink
    /// takes its steps (an account whose operations become proposals).
    pub fn can_act_as(&self, authority: &Pubkey) -> Result<bool, HostError> {
        Ok(self.payer()?.pubkey() == *authority || self.installed_sinks().iter().any(|sink| sink.acts_as(authority)))
    }

    /// Installs `sink` above those already installed: it sees every step first until removed.
    pub fn install_sink(&self, sink: Arc<dyn StepSink>) {
        self.sinks.lock().expect("sinks lock").push(sink);
    }

    /// Removes `sink` (installed with `install_sink`).
    pub fn remove_sink<S: StepSink>(&self, sink: &Arc<S>) {
        self.sinks
            .lock()
            .expect("sinks lock")
            .retain(|installed| !std::ptr::addr_eq(Arc::as_ptr(installed), Arc::as_ptr(sink)));
    }

    /// The installed sink of type `S`, if there is one.
    pub fn sink<S: StepSink>(&self) -> Option<Arc<S>> {
        self.installed_sinks().iter().find_map(as_sink::<S>)
    }

    /// The installed sink of type `S`, or `make()` installed beneath the others (a lasting
    /// sink: one installed for a while above it still sees steps first).
    pub fn sink_or_install<S: StepSink>(&self, make: impl FnOnce() -> S) -> Arc<S> {
        let mut sinks = self.sinks.lock().expect("sinks lock");
        sinks.iter().find_map(as_sink::<S>).unwrap_or_else(|| {
            let sink = Arc::new(make());
            sinks.insert(0, Arc::clone(&sink) as Arc<dyn StepSink>);
            sink
        })
    }

    /// The installed sinks, the last installed first (a copy: sinks may send steps themselves).
    pub(super) fn installed_sinks(&self) -> Vec<Arc<dyn StepSink>> {
        self.sinks.lock().expect("sinks lock").iter().rev().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::values::keys::SignerHandle;
    use crate::chain::settings::Settings;
    use crate::cli::{Cli, OutputMode};
    use crate::ui::Log;
    use clap::Parser;
    use solana_sdk::instruction::Instruction;
    use std::path::Path;

    /// Takes every step of `program`, answering `answer` for it.
    struct Takes {
        program: Pubkey,
        answer: &'static str,
    }

    impl StepSink for Takes {
        fn take(
            &self,
            _: &Host,
            _: &str,
            ixs: &[Instruction],
            _: &[&SignerHandle],
        ) -> Option<Result<String, HostError>> {
            (ixs[0].program_id == self.program).then(|| Ok(self.answer.to_string()))
        }
    }

    /// Another sink type, lasting like a feature's registry.
    struct Lasting(Takes);

    impl StepSink for Lasting {
        fn take(
            &self,
            host: &Host,
            what: &str,
            ixs: &[Instruction],
            s: &[&SignerHandle],
        ) -> Option<Result<String, HostError>> {
            self.0.take(host, what, ixs, s)
        }
    }

    #[test]
    fn installed_sinks_take_steps_the_last_installed_first_and_lasting_ones_beneath() {
        let cli = Cli::try_parse_from(["psyche-runbook", "docs"]).unwrap();
        let host = Host::new(Settings::offline(&cli.global), Log::new(true, 0, OutputMode::Text), &[], Path::new("."));
        let program = Pubkey::new_unique();
        let step = [Instruction::new_with_bytes(program, &[], vec![])];
        let above = Arc::new(Takes { program, answer: "above" });
        host.install_sink(Arc::clone(&above) as Arc<dyn StepSink>);
        // Installed later, but lasting: beneath the one installed for a while.
        let lasting = host.sink_or_install(|| Lasting(Takes { program, answer: "lasting" }));
        assert_eq!(host.send("step", &step, &[]).unwrap(), "above");
        assert!(Arc::ptr_eq(&host.sink_or_install(|| unreachable!("installed once")), &lasting));
        assert!(Arc::ptr_eq(&host.sink::<Takes>().unwrap(), &above));
        host.remove_sink(&above);
        assert!(host.sink::<Takes>().is_none());
        assert_eq!(host.send("step", &step, &[]).unwrap(), "lasting");
    }
}
