//! The numbers behind the console's server-drawn pictures: default avatars (initials on
//! a colour picked from the handle) and the usage charts. The markup itself is in the
//! templates (`partials/macros.html`, `settings/usage.html`); this is geometry only.

use time::Date;
use time::macros::format_description;

/// An avatar: the picture at `url`, or the initials drawn on a colour of the handle.
#[derive(Clone, Debug)]
pub struct Avatar {
    pub url: Option<String>,
    pub initials: String,
    /// Hue (0–359) of the default avatar's background: stable per handle.
    pub hue: u32,
    /// What the avatar stands for, for screen readers.
    pub label: String,
}

impl Avatar {
    pub fn new(handle: &str, display_name: &str, url: Option<&str>) -> Self {
        Self {
            url: url.filter(|u| !u.is_empty()).map(str::to_owned),
            initials: initials(display_name, handle),
            hue: hue(handle),
            label: format!("{display_name} avatar"),
        }
    }

    pub fn fill(&self) -> String {
        format!("hsl({} 55% 42%)", self.hue)
    }
}

/// Up to two letters: the first of the first two words of the name, else of the handle.
pub fn initials(display_name: &str, handle: &str) -> String {
    let from = |text: &str| -> String {
        text.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .filter_map(|word| word.chars().find(|c| c.is_alphanumeric()))
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    };
    let name = from(display_name);
    if name.is_empty() { from(handle) } else { name }
}

/// FNV-1a of the handle, folded onto the colour wheel.
fn hue(handle: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in handle.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % 360
}

/// `12,345`.
pub fn count(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0 { format!("-{out}") } else { out }
}

/// `Nov 30` for `2026-11-30`; the text as given if it is not a date.
pub fn short_date(day: &str) -> String {
    match Date::parse(day, format_description!("[year]-[month]-[day]")) {
        Ok(date) => date
            .format(format_description!("[month repr:short] [day padding:none]"))
            .unwrap_or_else(|_| day.to_owned()),
        Err(_) => day.to_owned(),
    }
}

// The chart's coordinate system (the SVG's viewBox); the page scales it to its width.
pub const CHART_WIDTH: f64 = 600.0;
pub const CHART_HEIGHT: f64 = 220.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 44.0;

#[derive(Clone, Debug)]
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// `2026-11-30: 12`, the bar's tooltip.
    pub title: String,
}

#[derive(Clone, Debug)]
pub struct Tick {
    pub x: String,
    pub y: String,
    pub label: String,
    /// `text-anchor`: the first date starts at the axis, the last ends at the edge.
    pub anchor: &'static str,
}

/// One metric over the range: a bar a day, a y axis from 0 to a round maximum, and
/// dates along the x axis.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: &'static str,
    /// The figure shown beside the title: a sum, or the latest snapshot.
    pub total: String,
    pub total_label: &'static str,
    /// The chart in words, for screen readers.
    pub description: String,
    pub bars: Vec<Bar>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    /// Axis lines: the left and bottom edges of the plot.
    pub plot_left: String,
    pub plot_right: String,
    pub plot_top: String,
    pub plot_bottom: String,
    pub empty: bool,
}

/// 1, 2 or 5 times a power of ten, at least `value` (and at least 1).
fn round_up(value: i64) -> i64 {
    let value = value.max(1);
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= value {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

fn num(v: f64) -> String {
    format!("{v:.1}")
}

impl Chart {
    /// `days` are `(YYYY-MM-DD, value)`, oldest first.
    pub fn new(
        title: &'static str,
        total: i64,
        total_label: &'static str,
        days: &[(String, i64)],
    ) -> Self {
        let max = round_up(days.iter().map(|(_, v)| *v).max().unwrap_or(0));
        let plot_w = CHART_WIDTH - LEFT - RIGHT;
        let plot_h = CHART_HEIGHT - TOP - BOTTOM;
        let n = days.len().max(1) as f64;
        let slot = plot_w / n;
        let bar_w = (slot * 0.7).max(1.0);
        let bottom = TOP + plot_h;
        let bars = days
            .iter()
            .enumerate()
            .map(|(i, (day, value))| {
                let h = plot_h * (*value as f64) / (max as f64);
                Bar {
                    x: num(LEFT + slot * i as f64 + (slot - bar_w) / 2.0),
                    y: num(bottom - h),
                    width: num(bar_w),
                    height: num(h),
                    title: format!("{day}: {}", count(*value)),
                }
            })
            .collect();
        // 0, the middle when it is a whole number, and the top.
        let mut ticks = vec![0];
        if max % 2 == 0 {
            ticks.push(max / 2);
        }
        ticks.push(max);
        let y_ticks = ticks
            .into_iter()
            .map(|v| Tick {
                x: num(LEFT - 8.0),
                y: num(bottom - plot_h * (v as f64) / (max as f64)),
                label: count(v),
                anchor: "end",
            })
            .collect();
        let mut labelled: Vec<usize> = if days.is_empty() {
            vec![]
        } else {
            vec![0, days.len() / 2, days.len() - 1]
        };
        labelled.dedup();
        let last = days.len().saturating_sub(1);
        let x_ticks = labelled
            .into_iter()
            .map(|i| {
                let (x, anchor) = match i {
                    0 if last > 0 => (LEFT, "start"),
                    i if i == last && last > 0 => (CHART_WIDTH - RIGHT, "end"),
                    i => (LEFT + slot * i as f64 + slot / 2.0, "middle"),
                };
                Tick {
                    x: num(x),
                    y: num(bottom + 30.0),
                    label: short_date(&days[i].0),
                    anchor,
                }
            })
            .collect();
        let from = days.first().map(|d| d.0.as_str()).unwrap_or_default();
        let to = days.last().map(|d| d.0.as_str()).unwrap_or_default();
        Self {
            title,
            total: count(total),
            total_label,
            description: format!(
                "{title} per day from {from} to {to}; highest {}, {total_label} {}",
                count(days.iter().map(|(_, v)| *v).max().unwrap_or(0)),
                count(total)
            ),
            bars,
            y_ticks,
            x_ticks,
            plot_left: num(LEFT),
            plot_right: num(CHART_WIDTH - RIGHT),
            plot_top: num(TOP),
            plot_bottom: num(bottom),
            empty: days.iter().all(|(_, v)| *v == 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_and_colours() {
        assert_eq!(initials("Acme Corporation", "acme"), "AC");
        assert_eq!(initials("acme", "acme"), "A");
        assert_eq!(initials("  ", "big-co"), "BC");
        assert_eq!(initials("émile zola", "ez"), "ÉZ");
        assert_eq!(hue("acme"), hue("acme"));
        assert!(hue("acme") < 360);
    }

    #[test]
    fn counts_and_dates() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(-1500), "-1,500");
        assert_eq!(short_date("2026-11-03"), "Nov 3");
        assert_eq!(short_date("soon"), "soon");
    }

    #[test]
    fn axes_are_round_and_bars_fit() {
        assert_eq!(round_up(0), 1);
        assert_eq!(round_up(3), 5);
        assert_eq!(round_up(7), 10);
        assert_eq!(round_up(11), 20);
        assert_eq!(round_up(200), 200);
        let days: Vec<(String, i64)> = (1..=30)
            .map(|d| (format!("2026-11-{d:02}"), i64::from(d % 7)))
            .collect();
        let chart = Chart::new("API requests", 90, "total", &days);
        assert_eq!(chart.bars.len(), 30);
        assert_eq!(chart.y_ticks.last().unwrap().label, "10");
        assert_eq!(chart.x_ticks.len(), 3);
        assert_eq!(chart.x_ticks[0].label, "Nov 1");
        assert!(!chart.empty);
        for bar in &chart.bars {
            let top: f64 = bar.y.parse().unwrap();
            assert!(top >= TOP - 0.1, "{bar:?}");
        }
        assert!(Chart::new("DNS queries", 0, "total", &[("2026-11-01".to_owned(), 0)]).empty);
    }
}
