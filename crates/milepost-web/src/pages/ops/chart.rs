//! Charts of the operations dashboard drawn on the server as inline SVG, so the figures show
//! without JavaScript, a chart service or a CDN. The geometry (linear scales, round tick values,
//! path data, histogram buckets) is pure and tested here; the writers only place it. Colours come
//! from CSS variables (`--chart-*`, set in the dashboard's style sheet for light and dark
//! themes), and every chart carries a `<title>`, axis titles with units and a text alternative.

use crate::pages::render::esc;
use std::fmt::Write;

/// Maps a value interval onto a pixel interval (the range may run backwards, as y axes do).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl LinearScale {
    pub fn map(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if d1 == d0 {
            return r0;
        }
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// Round tick values (steps of 1, 2 or 5 times a power of ten) from zero up to at least `max`,
/// about `count` of them.
pub fn nice_ticks(max: f64, count: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 { max } else { 1.0 };
    let raw_step = max / count.max(1) as f64;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw_step).unwrap_or(magnitude * 10.0);
    let steps = (max / step).ceil() as usize;
    (0..=steps).map(|i| (i as f64 * step * 1e9).round() / 1e9).collect()
}

/// SVG path data through the points that have a value; a missing value breaks the line.
pub fn line_path(points: &[(f64, Option<f64>)]) -> String {
    let mut path = String::new();
    let mut pen_down = false;
    for (x, y) in points {
        match y {
            Some(y) => {
                let command = match (pen_down, path.is_empty()) {
                    (true, _) => " L",
                    (false, true) => "M",
                    (false, false) => " M",
                };
                let _ = write!(path, "{command}{x:.1} {y:.1}");
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    path
}

/// Counts of `values` in buckets of `width` starting at zero; the last bucket takes everything
/// from its lower edge up, so an outlier does not stretch the axis. At most `buckets` buckets.
pub fn histogram(values: &[f64], width: f64, buckets: usize) -> Vec<u32> {
    let mut counts = vec![0u32; buckets.max(1)];
    let last = counts.len() - 1;
    for v in values {
        let i = ((v.max(0.0) / width).floor() as usize).min(last);
        counts[i] += 1;
    }
    counts
}

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 48.0;

/// Kinds of exceptions and series get these colour variables in turn.
const SERIES: usize = 6;

fn open_svg(svg: &mut String, id: &str, title: &str, summary: &str) {
    let _ = write!(
        svg,
        "<svg class=\"chart\" id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>\
         <text class=\"chart-title\" x=\"{LEFT}\" y=\"18\">{}</text>",
        esc(title),
        esc(summary),
        esc(title)
    );
}

/// The y axis with its grid lines and title, and the x axis title; answers the y scale.
fn axes(svg: &mut String, ticks: &[f64], y_title: &str, x_title: &str) -> LinearScale {
    let top = *ticks.last().unwrap_or(&1.0);
    let y = LinearScale { domain: (0.0, top), range: (HEIGHT - BOTTOM, TOP) };
    for t in ticks {
        let py = y.map(*t);
        let _ = write!(
            svg,
            "<line class=\"chart-grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/>\
             <text class=\"chart-tick\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            py + 4.0,
            tick_label(*t)
        );
    }
    let _ = write!(
        svg,
        "<line class=\"chart-axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{b}\"/>\
         <line class=\"chart-axis\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{b}\" y2=\"{b}\"/>\
         <text class=\"chart-label\" transform=\"rotate(-90)\" x=\"{}\" y=\"14\" text-anchor=\"middle\">{}</text>\
         <text class=\"chart-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
        WIDTH - RIGHT,
        -(TOP + (HEIGHT - BOTTOM - TOP) / 2.0),
        esc(y_title),
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        HEIGHT - 6.0,
        esc(x_title),
        b = HEIGHT - BOTTOM,
    );
    y
}

fn tick_label(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }
}

/// The x position of the middle of each of `n` equal bands, and the band width.
fn bands(n: usize) -> (Vec<f64>, f64) {
    let band = (WIDTH - LEFT - RIGHT) / n.max(1) as f64;
    ((0..n).map(|i| LEFT + band * (i as f64 + 0.5)).collect(), band)
}

fn x_labels(svg: &mut String, centres: &[f64], labels: &[String]) {
    let every = labels.len().div_ceil(10).max(1);
    for (i, (x, label)) in centres.iter().zip(labels).enumerate() {
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text class=\"chart-tick\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                HEIGHT - BOTTOM + 16.0,
                esc(label)
            );
        }
    }
}

/// A line chart of percentages (0–100) per period, with a dot on each known value.
pub fn percent_line_chart(id: &str, title: &str, x_title: &str, labels: &[String], values: &[Option<f64>]) -> String {
    let mut svg = String::new();
    let known: Vec<String> = labels
        .iter()
        .zip(values)
        .map(|(l, v)| match v {
            Some(v) => format!("{l}: {v:.1}%"),
            None => format!("{l}: no deliveries"),
        })
        .collect();
    open_svg(&mut svg, id, title, &known.join("; "));
    let ticks = [0.0, 25.0, 50.0, 75.0, 100.0];
    let y = axes(&mut svg, &ticks, "percent (%)", x_title);
    let (centres, _) = bands(labels.len());
    let points: Vec<(f64, Option<f64>)> = centres.iter().zip(values).map(|(x, v)| (*x, v.map(|v| y.map(v)))).collect();
    let _ = write!(svg, "<path class=\"chart-line\" d=\"{}\"/>", line_path(&points));
    for (x, v) in &points {
        if let Some(v) = v {
            let _ = write!(svg, "<circle class=\"chart-dot\" cx=\"{x:.1}\" cy=\"{v:.1}\" r=\"3.5\"/>");
        }
    }
    x_labels(&mut svg, &centres, labels);
    svg.push_str("</svg>");
    svg
}

/// A bar chart of counts per labelled bucket.
pub fn bar_chart(id: &str, title: &str, x_title: &str, y_title: &str, labels: &[String], counts: &[u32]) -> String {
    stacked_bar_chart(id, title, x_title, y_title, labels, &[(String::new(), counts.to_vec())])
}

/// Bars per label stacked from several series (each with its name, shown in a legend when
/// there is more than one).
pub fn stacked_bar_chart(
    id: &str,
    title: &str,
    x_title: &str,
    y_title: &str,
    labels: &[String],
    series: &[(String, Vec<u32>)],
) -> String {
    let mut svg = String::new();
    let totals: Vec<u32> =
        (0..labels.len()).map(|i| series.iter().map(|(_, s)| s.get(i).copied().unwrap_or(0)).sum()).collect();
    let summary: Vec<String> = labels.iter().zip(&totals).map(|(l, t)| format!("{l}: {t}")).collect();
    open_svg(&mut svg, id, title, &summary.join("; "));
    let max = totals.iter().copied().max().unwrap_or(0);
    let ticks = nice_ticks(f64::from(max.max(1)), 4);
    let y = axes(&mut svg, &ticks, y_title, x_title);
    let (centres, band) = bands(labels.len());
    let bar = (band * 0.7).max(1.0);
    for (i, x) in centres.iter().enumerate() {
        let mut base = 0u32;
        for (n, (_, counts)) in series.iter().enumerate() {
            let count = counts.get(i).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let (y0, y1) = (y.map(f64::from(base)), y.map(f64::from(base + count)));
            let _ = write!(
                svg,
                "<rect class=\"chart-bar s{}\" x=\"{:.1}\" y=\"{y1:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"/>",
                n % SERIES,
                x - bar / 2.0,
                y0 - y1
            );
            base += count;
        }
    }
    x_labels(&mut svg, &centres, labels);
    if series.len() > 1 {
        for (n, (name, _)) in series.iter().enumerate() {
            let lx = WIDTH - RIGHT - 130.0;
            let ly = TOP + 4.0 + 14.0 * n as f64;
            let _ = write!(
                svg,
                "<rect class=\"chart-bar s{}\" x=\"{lx}\" y=\"{ly}\" width=\"10\" height=\"10\"/>\
                 <text class=\"chart-tick\" x=\"{}\" y=\"{}\">{}</text>",
                n % SERIES,
                lx + 14.0,
                ly + 9.0,
                esc(name)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A small line of percentages (0–100) for a table cell, with its values as the text alternative.
pub fn sparkline(label: &str, values: &[Option<f64>]) -> String {
    let (w, h) = (96.0, 24.0);
    let y = LinearScale { domain: (0.0, 100.0), range: (h - 2.0, 2.0) };
    let step = if values.len() > 1 { (w - 4.0) / (values.len() - 1) as f64 } else { 0.0 };
    let points: Vec<(f64, Option<f64>)> =
        values.iter().enumerate().map(|(i, v)| (2.0 + step * i as f64, v.map(|v| y.map(v)))).collect();
    let text: Vec<String> = values.iter().map(|v| v.map_or("–".into(), |v| format!("{v:.0}%"))).collect();
    let mut svg = format!(
        "<svg class=\"spark\" role=\"img\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}: {}</title><path class=\"chart-line\" d=\"{}\"/>",
        esc(label),
        esc(&text.join(", ")),
        line_path(&points)
    );
    if let Some((x, Some(v))) = points.iter().rev().find(|(_, v)| v.is_some()) {
        let _ = write!(svg, "<circle class=\"chart-dot\" cx=\"{x:.1}\" cy=\"{v:.1}\" r=\"2\"/>");
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_maps_the_ends_of_its_domain_onto_the_ends_of_its_range_even_backwards() {
        let y = LinearScale { domain: (0.0, 100.0), range: (200.0, 20.0) };
        assert_eq!(y.map(0.0), 200.0);
        assert_eq!(y.map(100.0), 20.0);
        assert_eq!(y.map(50.0), 110.0);
        let flat = LinearScale { domain: (3.0, 3.0), range: (0.0, 10.0) };
        assert_eq!(flat.map(3.0), 0.0, "an empty domain does not divide by zero");
    }

    #[test]
    fn ticks_are_round_steps_from_zero_that_reach_the_maximum() {
        assert_eq!(nice_ticks(7.0, 4), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(100.0, 4), vec![0.0, 50.0, 100.0]);
        assert_eq!(nice_ticks(0.0, 4), vec![0.0, 0.5, 1.0], "no data still draws an axis");
        assert_eq!(nice_ticks(1234.0, 5), vec![0.0, 500.0, 1000.0, 1500.0]);
    }

    #[test]
    fn a_line_breaks_where_a_value_is_missing() {
        let path = line_path(&[(0.0, Some(10.0)), (10.0, Some(20.0)), (20.0, None), (30.0, Some(5.0))]);
        assert_eq!(path, "M0.0 10.0 L10.0 20.0 M30.0 5.0");
        assert_eq!(line_path(&[]), "");
    }

    #[test]
    fn histogram_buckets_start_at_zero_and_the_last_takes_the_outliers() {
        assert_eq!(histogram(&[0.0, 3.9, 4.0, 11.0, 500.0], 4.0, 3), vec![2, 1, 2]);
        assert_eq!(histogram(&[], 4.0, 2), vec![0, 0]);
    }

    #[test]
    fn a_bar_chart_has_a_title_axes_with_units_and_one_bar_per_non_empty_bucket() {
        let labels: Vec<String> = ["0–4 h", "4–8 h", "8+ h"].iter().map(|s| s.to_string()).collect();
        let svg = bar_chart("c", "Cycle time <all>", "hours", "orders", &labels, &[3, 0, 1]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title id=\"c-t\">Cycle time &lt;all&gt;</title>"), "titles are escaped: {svg}");
        assert_eq!(svg.matches("<rect class=\"chart-bar").count(), 2);
        assert!(svg.contains(">orders</text>") && svg.contains(">hours</text>"));
        // Ticks 0, 1, 2, 3: the tallest bar (3 orders) fills the plot, the other a third of it.
        let plot = HEIGHT - BOTTOM - TOP;
        assert!(svg.contains(&format!("height=\"{plot:.1}\"")), "{svg}");
        assert!(svg.contains(&format!("height=\"{:.1}\"", plot / 3.0)), "{svg}");
    }

    #[test]
    fn a_sparkline_names_its_values_for_screen_readers() {
        let svg = sparkline("ups on time", &[Some(50.0), None, Some(100.0)]);
        assert!(svg.contains("<title>ups on time: 50%, –, 100%</title>"), "{svg}");
        assert!(svg.contains("d=\"M2.0 12.0 M94.0 2.0\""), "{svg}");
    }
}
