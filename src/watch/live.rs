//! The live view's loop. Reads run on a background thread (a slow RPC never freezes the keys);
//! the main thread draws and handles keys. The terminal is restored however the view ends:
//! `q`, Ctrl-C (a key in raw mode), SIGINT/SIGTERM/SIGHUP from outside, an error (a drop
//! guard) or a panic (ratatui's hook).

use crate::watch::model::{Flow, Key, Watch};
use crate::watch::read::{Reader, Snapshot};
use crate::watch::source::Source;
use crate::watch::view::{self, Theme};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often keys and signals are checked between refreshes.
const TICK: Duration = Duration::from_millis(100);

/// One refresh's outcome, sent from the reader thread.
pub type Refresh = Result<(Snapshot, u64), String>;
/// A refresh with the source's note of the moment.
pub type Update = (Refresh, Option<String>);

/// Reads on a thread until `stop` is set, sending each outcome: on every push of a followed
/// cluster, else every `interval`.
pub fn spawn_reader(
    source: Source,
    mut reader: Reader,
    interval: Duration,
    stop: Arc<AtomicBool>,
) -> mpsc::Receiver<Update> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let refresh = source.refresh(&mut reader).map_err(|e| e.to_string());
            if sender.send((refresh, source.note())).is_err() {
                return;
            }
            source.wait(interval, &stop);
        }
    });
    receiver
}

/// Applies a refresh to the model.
pub fn apply(watch: &mut Watch, (refresh, note): Update) {
    match refresh {
        Ok((snapshot, round_trips)) => watch.update(snapshot, now(), round_trips),
        Err(error) => watch.fail(error),
    }
    watch.note = note;
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Restores the terminal when the view returns, whatever the path.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
        let _ = ratatui::crossterm::execute!(std::io::stdout(), ratatui::crossterm::cursor::Show);
    }
}

fn key(event: &Event) -> Option<Key> {
    let Event::Key(k) = event else { return None };
    if k.kind == KeyEventKind::Release {
        return None;
    }
    match k.code {
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Some(Key::Quit),
        KeyCode::Char('q') | KeyCode::Esc => Some(Key::Quit),
        KeyCode::Up | KeyCode::Char('k') => Some(Key::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Key::Down),
        KeyCode::Enter => Some(Key::Enter),
        _ => None,
    }
}

/// Runs the live view until the operator quits or a signal arrives.
pub fn run(
    refreshes: mpsc::Receiver<Update>,
    watch: &mut Watch,
    cluster: &str,
    theme: Theme,
    on_refresh: &dyn Fn(&Watch),
) -> std::io::Result<()> {
    let signalled = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, Arc::clone(&signalled))?;
    }
    let mut terminal = ratatui::try_init()?;
    let _restore = Restore;
    let mut dirty = true;
    while !signalled.load(Ordering::Relaxed) {
        while let Ok(refresh) = refreshes.try_recv() {
            apply(watch, refresh);
            on_refresh(watch);
            dirty = true;
        }
        if dirty {
            terminal.draw(|frame| view::draw(frame, watch, cluster, theme))?;
            dirty = false;
        }
        if event::poll(TICK)? {
            let event = event::read()?;
            if let Some(k) = key(&event) {
                if watch.key(k) == Flow::Quit {
                    break;
                }
                dirty = true;
            } else if matches!(event, Event::Resize(..)) {
                dirty = true;
            }
        }
    }
    Ok(())
}
