//! Bytes moving, as people watch them: at a terminal, a bar for the file in flight and one for
//! the whole transfer; without one, a line per file; under `-q`, one summary line at the end.

use crate::rundown::Moved;
use crate::ui::Log;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Read};
use std::time::Duration;

/// How often shown bars redraw when nothing moves.
const TICK: Duration = Duration::from_millis(200);

pub struct Progress<'a> {
    log: &'a Log,
    bars: Option<MultiProgress>,
    total: ProgressBar,
    verb: &'static str,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).expect("a valid progress template").progress_chars("=> ")
}

impl<'a> Progress<'a> {
    /// A transfer of `files` files, `bytes` in all (as far as known beforehand); `verb` says
    /// which way ("upload", "download").
    pub fn new(log: &'a Log, verb: &'static str, files: usize, bytes: u64) -> Self {
        let shown = !log.quiet && std::io::stderr().is_terminal();
        let bars = shown.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let total = match &bars {
            Some(bars) => bars.add(ProgressBar::new(bytes)),
            None => ProgressBar::hidden(),
        };
        total.set_style(style("{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}"));
        total.set_prefix(format!("{verb} {files} file(s)"));
        if bars.is_some() {
            // Redrawn while bytes stall too, so a slow storage still shows where it stands.
            total.enable_steady_tick(TICK);
        }
        Self { log, bars, total, verb }
    }

    /// Names the number of files once it is known (a download learns it from the listing).
    pub fn set_files(&self, files: usize) {
        self.total.set_prefix(format!("{} {files} file(s)", self.verb));
    }

    /// A bar for one file of `bytes` bytes, `done` of them already on the other side.
    pub fn file(&self, path: &str, bytes: u64, done: u64) -> ProgressBar {
        let Some(bars) = &self.bars else { return ProgressBar::hidden() };
        let bar = bars.insert_before(&self.total, ProgressBar::new(bytes));
        bar.set_style(style("  {msg} [{bar:30}] {bytes}/{total_bytes}"));
        bar.set_message(path.to_string());
        bar.set_position(done);
        bar.enable_steady_tick(TICK);
        bar
    }

    /// Counts `bytes` more moved in the whole transfer (bytes already on the other side).
    pub fn advance(&self, bytes: u64) {
        self.total.inc(bytes);
    }

    /// Takes back what `bar` counted: its attempt failed and will be made again.
    pub fn undo(&self, bar: &ProgressBar) {
        self.total.dec(bar.position());
        bar.finish_and_clear();
    }

    /// `inner`, counting what is read from it on `bar` and on the whole transfer's bar.
    pub fn counting<R: Read>(&self, bar: &ProgressBar, inner: R) -> Counting<R> {
        Counting { inner, file: bar.clone(), total: self.total.clone() }
    }

    /// Adds `bytes` to the whole transfer's size, as each file's becomes known.
    pub fn grow(&self, bytes: u64) {
        self.total.inc_length(bytes);
    }

    /// One file is done: its bar goes, a line says what happened (not under `-q`).
    pub fn done(&self, bar: &ProgressBar, moved: &Moved) {
        bar.finish_and_clear();
        let line = format!("{} {} ({} bytes)", moved.how, moved.path, moved.bytes);
        match &self.bars {
            Some(bars) => {
                let _ = bars.println(&line);
            }
            None => self.log.info(&line),
        }
    }

    /// Ends the transfer with one summary line, shown even under `-q`.
    pub fn finish(&self, moved: &[Moved], target: &str) {
        self.total.finish_and_clear();
        let bytes: u64 = moved.iter().filter(|m| m.how != "skipped").map(|m| m.bytes).sum();
        let skipped = moved.iter().filter(|m| m.how == "skipped").count();
        let moved_files = moved.len() - skipped;
        let mut line = format!("{}ed {moved_files} file(s), {bytes} bytes, {target}", self.verb);
        if skipped > 0 {
            line += &format!(" ({skipped} already complete)");
        }
        if self.log.quiet {
            eprintln!("{line}");
        }
        self.log.info(&line);
    }
}

/// A reader that moves its file's bar and the transfer's as bytes pass.
pub struct Counting<R> {
    inner: R,
    file: ProgressBar,
    total: ProgressBar,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.file.inc(n as u64);
        self.total.inc(n as u64);
        Ok(n)
    }
}
