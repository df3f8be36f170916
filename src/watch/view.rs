//! Draws a `Watch` with ratatui: a title line, the runs table (progress bars, runway coloured
//! under the threshold), the selected run's detail when open (round and phase, config figures,
//! clients with their points, transitions seen, sparklines of clients and step) and a key help
//! line. Without colour (NO_COLOR) only bold and reverse video mark things.

use crate::watch::model::Watch;
use crate::watch::row::{RunRow, client_rows};
use crate::watch::text::{HEADERS, amount, cells};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Sparkline, Table, TableState};

/// How things are marked: with colours, or (NO_COLOR) with modifiers only.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    /// Runway (epochs) under which a treasury is flagged.
    pub runway_warn: f64,
}

impl Theme {
    fn fg(&self, color: Color) -> Style {
        if self.color { Style::default().fg(color) } else { Style::default() }
    }

    fn state(&self, state: &str) -> Style {
        match state {
            "Training" | "Witness" | "Warmup" | "Cooldown" => self.fg(Color::Green),
            "Paused" => self.fg(Color::Yellow),
            "Finished" => self.fg(Color::Blue),
            _ => Style::default(),
        }
    }

    fn alarm(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }
}

pub fn draw(frame: &mut Frame, watch: &Watch, cluster: &str, theme: Theme) {
    let detail_height =
        if watch.detail && watch.selected().is_some() { Constraint::Percentage(60) } else { Constraint::Length(0) };
    let [title, table, detail, help] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), detail_height, Constraint::Length(1)])
            .areas(frame.area());
    frame.render_widget(Paragraph::new(title_line(watch, cluster, theme)), title);
    draw_table(frame, table, watch, theme);
    if watch.detail {
        draw_detail(frame, detail, watch, theme);
    }
    let position = match (watch.selected_index(), watch.selected()) {
        (Some(i), Some(run)) => format!("  run {}/{}: {}", i + 1, watch.runs.len(), run.row.run_id),
        _ => String::new(),
    };
    let keys = "up/down j/k select · Enter detail · q quit";
    frame.render_widget(Paragraph::new(format!("{keys}{position}")), help);
}

fn title_line(watch: &Watch, cluster: &str, theme: Theme) -> Line<'static> {
    let mut spans = vec![
        Span::styled("psyche-runbook watch", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!(
            " · {cluster} · slot {} · {} run(s) · refresh {}",
            watch.slot,
            watch.runs.len(),
            watch.refreshes
        )),
    ];
    if let Some(error) = &watch.error {
        spans.push(Span::styled(format!(" · read failed: {error}"), theme.alarm()));
    }
    if !watch.unreadable.is_empty() {
        let names: Vec<&str> = watch.unreadable.iter().map(|u| u.run_id.as_str()).collect();
        spans.push(Span::styled(format!(" · unreadable: {} (see --once)", names.join(", ")), theme.alarm()));
    }
    if let Some(note) = watch.note.as_ref().or(watch.notice.as_ref()) {
        spans.push(Span::styled(format!(" · {note}"), theme.fg(Color::Yellow)));
    }
    Line::from(spans)
}

fn draw_table(frame: &mut Frame, area: Rect, watch: &Watch, theme: Theme) {
    let rows: Vec<Row> = watch.runs.iter().map(|run| table_row(&run.row, theme)).collect();
    // Each column as wide as its widest cell, so nothing is cut while the terminal is wide enough.
    let mut widths = HEADERS.map(|h| h.len() as u16);
    for run in &watch.runs {
        for (width, cell) in widths.iter_mut().zip(cells(&run.row)) {
            *width = (*width).max(cell.chars().count() as u16);
        }
    }
    let widths = widths.map(Constraint::Length);
    let header = Row::new(HEADERS).style(Style::default().add_modifier(Modifier::BOLD));
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::default().borders(Borders::TOP))
        .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    let mut state = TableState::default().with_selected(watch.selected_index());
    frame.render_stateful_widget(table, area, &mut state);
}

fn table_row(row: &RunRow, theme: Theme) -> Row<'static> {
    let [run, state, epoch, step, clients, pause, rate, treasury, runway] = cells(row);
    let runway_style = if row.runway_below(theme.runway_warn) { theme.alarm() } else { Style::default() };
    let clients_style = if row.state == "Training" && row.clients.healthy < usize::from(row.min_clients) {
        theme.alarm()
    } else {
        Style::default()
    };
    Row::new([
        Cell::from(run),
        Cell::from(state).style(theme.state(row.state)),
        Cell::from(epoch),
        Cell::from(step),
        Cell::from(clients).style(clients_style),
        Cell::from(pause).style(if row.pending_pause { theme.fg(Color::Yellow) } else { Style::default() }),
        Cell::from(rate),
        Cell::from(treasury),
        Cell::from(runway).style(runway_style),
    ])
}

fn draw_detail(frame: &mut Frame, area: Rect, watch: &Watch, theme: Theme) {
    let Some(run) = watch.selected() else { return };
    let block = Block::default().borders(Borders::TOP).title(format!(" run {} ", run.row.run_id));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text, sparks] = Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(inner);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(text);

    let a = &run.account;
    let round = &a.epoch_state.rounds[a.epoch_state.rounds_head as usize % a.epoch_state.rounds.len()];
    let c = &a.config;
    let mut lines = vec![
        Line::from(vec![Span::raw("phase "), Span::styled(run.row.state, theme.state(run.row.state))]),
        Line::from(format!(
            "round height {} · {} witness(es) · data index {}",
            round.height,
            round.witnesses.len(),
            round.data_index
        )),
        Line::from(format!(
            "clients min {} (init {}) · witnesses {} · steps {}",
            c.min_clients, c.init_min_clients, c.witness_nodes, c.total_steps
        )),
        Line::from(format!(
            "epoch {} s · round {} s · witness {} s · batch {}..{}",
            c.epoch_time,
            c.max_round_train_time,
            c.round_witness_time,
            c.global_batch_size_start,
            c.global_batch_size_end
        )),
    ];
    if let Some(t) = &run.row.treasury {
        lines.push(Line::from(format!(
            "treasury {} · unclaimed {} · burn {}/epoch",
            amount(t.funded),
            amount(t.unclaimed),
            amount(t.burn_per_epoch)
        )));
    }
    lines.push(Line::from(Span::styled("transitions seen", Style::default().add_modifier(Modifier::BOLD))));
    let transitions: Vec<Line> = watch
        .transitions_of(&run.row.run_id)
        .map(|t| Line::from(format!("{} {} -> {} (epoch {}, step {})", clock(t.at), t.from, t.to, t.epoch, t.step)))
        .collect();
    if transitions.is_empty() {
        lines.push(Line::from("none yet"));
    }
    lines.extend(transitions);
    frame.render_widget(Paragraph::new(lines), left);

    let mut clients = vec![Line::from(Span::styled(
        format!("{:<8} {:>12} {:>10}  {}", "CLIENT", "EARNED", "SLASHED", "EPOCH"),
        Style::default().add_modifier(Modifier::BOLD),
    ))];
    clients.extend(client_rows(a).into_iter().map(|c| {
        Line::from(format!("{:<8} {:>12} {:>10}  {}", c.id, c.earned, c.slashed, c.epoch_state.unwrap_or("-")))
    }));
    frame.render_widget(Paragraph::new(clients), right);

    let (healthy, steps) = watch.history(&run.row.run_id);
    let [clients_area, steps_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(sparks);
    let spark = |title: String, data: &[u64]| {
        Sparkline::default()
            .block(Block::default().borders(Borders::TOP).title(title))
            .data(data.to_vec())
            .style(theme.fg(Color::Cyan))
    };
    frame.render_widget(spark(format!(" healthy clients ({}) ", healthy.last().unwrap_or(&0)), &healthy), clients_area);
    frame.render_widget(spark(format!(" step ({}) ", steps.last().unwrap_or(&0)), &steps), steps_area);
}

/// `HH:MM:SS` (UTC) of a unix time.
fn clock(unix: i64) -> String {
    let s = unix.rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
