//! The report's figures (plotters → SVG): learning curves with a band over seeds, every score
//! with its 95% interval over seeds, ROC curves of λ(s) against the double integrator's oracle,
//! and λ heat maps over training.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::{doomed_labels, GroupSummary, Run, Spread, SCORES};
use crate::env::EnvKind;
use crate::evaluation::PROBE_GRID;
use crate::metrics::Record;
use crate::stats::{roc_auc, roc_curve};
use crate::AlamError;

/// Points along the step axis of a learning curve.
const BINS: usize = 25;

/// One colour per line, in group order.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x44, 0x77, 0xAA),
    RGBColor(0xEE, 0x66, 0x77),
    RGBColor(0x22, 0x88, 0x33),
    RGBColor(0xCC, 0xBB, 0x44),
    RGBColor(0xAA, 0x33, 0x77),
    RGBColor(0x66, 0xCC, 0xEE),
    RGBColor(0x33, 0x33, 0x33),
    RGBColor(0xEE, 0x77, 0x33),
];

fn draw_err<E: std::fmt::Debug>(e: E) -> AlamError {
    AlamError::Report(format!("drawing failed: {e:?}"))
}

/// A curve over seeds: per step bin, the mean and the standard deviation across seeds.
struct Band {
    label: String,
    points: Vec<(f64, f64, f64)>,
}

/// Bins one run's (step, value) points into `BINS` equal step bins: each bin's mean.
fn bin(points: &[(u64, f64)], total: u64) -> Vec<Option<f64>> {
    let mut sum = [0.0; BINS];
    let mut n = [0usize; BINS];
    for &(step, v) in points {
        let k = ((step.saturating_sub(1) as f64 / total.max(1) as f64) * BINS as f64) as usize;
        let k = k.min(BINS - 1);
        sum[k] += v;
        n[k] += 1;
    }
    sum.iter().zip(&n).map(|(s, &c)| (c > 0).then(|| s / c as f64)).collect()
}

fn band(label: &str, runs: &[&Run], series: impl Fn(&Run) -> Vec<(u64, f64)>) -> Band {
    let total = runs[0].cfg.total_steps;
    let binned: Vec<Vec<Option<f64>>> = runs.iter().map(|r| bin(&series(r), total)).collect();
    let mut points = Vec::new();
    for k in 0..BINS {
        let vals: Vec<f64> = binned.iter().filter_map(|b| b[k]).collect();
        if vals.is_empty() {
            continue;
        }
        let (mean, std) = (crate::stats::mean(&vals), crate::stats::std_dev(&vals));
        points.push(((k as f64 + 0.5) * total as f64 / BINS as f64, mean, std));
    }
    Band { label: label.to_string(), points }
}

/// The y range of a panel: over the finite values only, 0 included, at least 1e-3 wide and
/// wide enough for its magnitude. Plotters' tick search never ends on a range that is not
/// finite or narrower than its floats can step through (1e200 + 1e-3), so neither is drawn.
fn y_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && v.abs() <= super::SANE * 4.0)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let width = (hi - lo).max(1e-3).max(1e-9 * lo.abs().max(hi.abs()));
    (lo, lo + width)
}

/// A row of panels (return, episode cost, mean λ on the probe grid) for the given groups.
fn draw_curves(path: &Path, title: &str, groups: &[(&str, Vec<&Run>)]) -> Result<(), AlamError> {
    type Series = fn(&Run) -> Vec<(u64, f64)>;
    let panels: [(&str, Series); 3] = [
        ("episode return", |r| r.episodes().map(|(s, ret, _)| (s, ret)).collect()),
        ("episode cost (violating steps)", |r| r.episodes().map(|(s, _, c)| (s, c)).collect()),
        ("mean λ on the probe grid", |r| r.probe_lambda()),
    ];
    let root = SVGBackend::new(path, (1500, 430)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let root = root.titled(title, ("sans-serif", 20)).map_err(draw_err)?;
    for (area, (name, series)) in root.split_evenly((1, 3)).iter().zip(panels) {
        let bands: Vec<Band> = groups.iter().map(|(label, runs)| band(label, runs, series)).collect();
        let x_max = groups.iter().map(|(_, r)| r[0].cfg.total_steps).max().unwrap_or(1).max(1) as f64;
        let (lo, hi) = y_range(bands.iter().flat_map(|b| b.points.iter().flat_map(|&(_, m, s)| [m - s, m + s])));
        let mut chart = ChartBuilder::on(area)
            .caption(name, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, lo..hi + 0.05 * (hi - lo))
            .map_err(draw_err)?;
        chart.configure_mesh().x_desc("environment steps").light_line_style(WHITE).draw().map_err(draw_err)?;
        for (i, b) in bands.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let mut outline: Vec<(f64, f64)> = b.points.iter().map(|&(x, m, s)| (x, m + s)).collect();
            outline.extend(b.points.iter().rev().map(|&(x, m, s)| (x, m - s)));
            chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.15)))).map_err(draw_err)?;
            chart
                .draw_series(LineSeries::new(b.points.iter().map(|&(x, m, _)| (x, m)), color.stroke_width(2)))
                .map_err(draw_err)?
                .label(&b.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(draw_err)?;
    }
    root.present().map_err(draw_err)?;
    Ok(())
}

/// Every score of [`SCORES`] for an env's groups, one panel each: per group the mean (filled
/// dot), its 95% bootstrap interval (bar) and each seed's value (rings).
fn draw_scores(path: &Path, title: &str, groups: &[(&str, &GroupSummary)]) -> Result<(), AlamError> {
    let spread = |g: &GroupSummary, name: &str| g.scores.get(name).and_then(|s| s.as_ref()).cloned();
    let panels: Vec<_> = SCORES.iter().filter(|s| groups.iter().any(|(_, g)| spread(g, s.name).is_some())).collect();
    let (cols, n) = (2, groups.len());
    let rows = panels.len().div_ceil(cols).max(1);
    let height = (70 + 24 * n as u32) * rows as u32 + 40;
    let root = SVGBackend::new(path, (1300, height)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let root = root.titled(title, ("sans-serif", 18)).map_err(draw_err)?;
    let labels: Vec<String> = groups.iter().map(|(l, _)| l.to_string()).collect();
    for (area, score) in root.split_evenly((rows, cols)).iter().zip(panels) {
        let spreads: Vec<Option<Spread>> = groups.iter().map(|(_, g)| spread(g, score.name)).collect();
        let (lo, hi) = y_range(spreads.iter().flatten().flat_map(|s| s.present().into_iter().chain(s.ci95)));
        let pad = 0.05 * (hi - lo);
        let better = if score.higher_is_better { "higher" } else { "lower" };
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{} ({better} is better)", score.name), ("sans-serif", 14))
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(170)
            .build_cartesian_2d(lo - pad..hi + pad, (0..n as i32).into_segmented())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .light_line_style(WHITE)
            .draw()
            .map_err(draw_err)?;
        for (i, s) in spreads.iter().enumerate() {
            let Some(s) = s else { continue };
            let (y, color) = (SegmentValue::CenterOf(i as i32), PALETTE[i % PALETTE.len()]);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(s.ci95[0], y.clone()), (s.ci95[1], y.clone())],
                    color.stroke_width(3),
                )))
                .map_err(draw_err)?;
            chart
                .draw_series(s.present().into_iter().map(|v| Circle::new((v, y.clone()), 3, color.stroke_width(1))))
                .map_err(draw_err)?;
            chart
                .draw_series(std::iter::once(Circle::new((s.mean, y.clone()), 5, color.filled())))
                .map_err(draw_err)?;
        }
    }
    root.present().map_err(draw_err)?;
    Ok(())
}

/// The final λ grids of a group's seeds, pooled, with the oracle's labels repeated per seed.
fn pooled_final(runs: &[&Run], doomed: &[bool], cost_value: bool) -> (Vec<f64>, Vec<bool>) {
    let (mut scores, mut labels) = (Vec::new(), Vec::new());
    for r in runs {
        if let Some(Record::Probe { lambda_grid, cost_value_grid, .. }) = r.last_probe() {
            let grid = if cost_value { cost_value_grid } else { lambda_grid };
            if grid.len() == doomed.len() {
                scores.extend(grid.iter().map(|&v| v as f64));
                labels.extend_from_slice(doomed);
            }
        }
    }
    (scores, labels)
}

/// ROC of λ(s) per group as a detector of doomed states, plus the cost critic of the first
/// group that has one (docs/method.md §8: the critic alone can already rank risky states).
fn draw_roc(path: &Path, groups: &[(&str, Vec<&Run>)], doomed: &[bool]) -> Result<(), AlamError> {
    let root = SVGBackend::new(path, (640, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("double integrator: λ(s) as a detector of doomed states", ("sans-serif", 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc("false-positive rate (safe states flagged)")
        .y_desc("true-positive rate (doomed states flagged)")
        .draw()
        .map_err(draw_err)?;
    chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3))).map_err(draw_err)?;
    let mut curves: Vec<(String, Vec<f64>, Vec<bool>, bool)> = groups
        .iter()
        .map(|(label, runs)| {
            let (s, l) = pooled_final(runs, doomed, false);
            (format!("λ, {label}"), s, l, false)
        })
        .collect();
    if let Some((label, runs)) = groups.iter().find(|(l, _)| *l == "alam").or(groups.first()) {
        let (s, l) = pooled_final(runs, doomed, true);
        curves.push((format!("Q_c(s, π(s)), {label}"), s, l, true));
    }
    for (i, (label, scores, labels, dashed)) in curves.into_iter().enumerate() {
        let Some(auc) = roc_auc(&scores, &labels) else { continue };
        let color = if dashed { BLACK } else { PALETTE[i % PALETTE.len()] };
        chart
            .draw_series(LineSeries::new(roc_curve(&scores, &labels), color.stroke_width(2)))
            .map_err(draw_err)?
            .label(format!("{label}: AUC {auc:.3}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(draw_err)?;
    root.present().map_err(draw_err)?;
    Ok(())
}

/// λ over the double integrator's (x, v) grid for each group's first seed at 25%, 50% and
/// 100% of training, colour scaled to λ_max, the oracle's doomed cells edged in red.
fn draw_heatmaps(path: &Path, groups: &[(&str, Vec<&Run>)], doomed: &[bool]) -> Result<(), AlamError> {
    const FRACTIONS: [f64; 3] = [0.25, 0.5, 1.0];
    let n = PROBE_GRID;
    let root =
        SVGBackend::new(path, (300 * FRACTIONS.len() as u32, 300 * groups.len() as u32 + 40)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let root = root
        .titled(
            "λ(s) over position x (→) and velocity v (↑); red line: edge of the doomed set (oracle); \
             colour 0 → λ_max",
            ("sans-serif", 15),
        )
        .map_err(draw_err)?;
    let cells = root.split_evenly((groups.len(), FRACTIONS.len()));
    for (row, (label, runs)) in groups.iter().enumerate() {
        let run = runs[0];
        let lmax = run.cfg.lambda_max as f32;
        for (col, frac) in FRACTIONS.iter().enumerate() {
            let step = (frac * run.cfg.total_steps as f64) as u64;
            let Some(Record::Probe { step: at, lambda_grid, .. }) = run.probe_near(step) else { continue };
            let area = &cells[row * FRACTIONS.len() + col];
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{label}, step {at}"), ("sans-serif", 14))
                .margin(6)
                .build_cartesian_2d(0..n as i32, 0..n as i32)
                .map_err(draw_err)?;
            let value = |i: usize, j: usize| lambda_grid.get(j * n + i).copied().unwrap_or(0.0);
            chart
                .draw_series((0..n).flat_map(|j| (0..n).map(move |i| (i, j))).map(|(i, j)| {
                    let c = ViridisRGB::get_color_normalized(value(i, j).min(lmax), 0.0, lmax);
                    Rectangle::new([(i as i32, j as i32), (i as i32 + 1, j as i32 + 1)], c.filled())
                }))
                .map_err(draw_err)?;
            if doomed.len() == n * n {
                chart
                    .draw_series(doomed_boundary(doomed, n).map(|seg| PathElement::new(seg, RED.stroke_width(2))))
                    .map_err(draw_err)?;
            }
        }
    }
    root.present().map_err(draw_err)?;
    Ok(())
}

/// The edges between doomed and safe cells of an n×n grid (row-major, row 0 at the bottom),
/// in cell coordinates: the oracle's boundary, drawn over the heat map.
fn doomed_boundary(doomed: &[bool], n: usize) -> impl Iterator<Item = Vec<(i32, i32)>> + '_ {
    let at = move |i: usize, j: usize| doomed[j * n + i];
    (0..n).flat_map(move |j| (0..n).map(move |i| (i, j))).flat_map(move |(i, j)| {
        let (x, y) = (i as i32, j as i32);
        let right = (i + 1 < n && at(i, j) != at(i + 1, j)).then(|| vec![(x + 1, y), (x + 1, y + 1)]);
        let up = (j + 1 < n && at(i, j) != at(i, j + 1)).then(|| vec![(x, y + 1), (x + 1, y + 1)]);
        right.into_iter().chain(up)
    })
}

/// Every figure the runs allow: curves per env (plain algorithms; variants apart), the scores
/// of every group of an env with their intervals, and for the double integrator the ROC and
/// heat maps.
pub fn draw_all(
    grouped: &BTreeMap<String, Vec<&Run>>,
    summaries: &[GroupSummary],
    out: &Path,
) -> Result<Vec<PathBuf>, AlamError> {
    let mut written = Vec::new();
    let doomed = doomed_labels();
    for env in EnvKind::ALL {
        let mut scored: Vec<&GroupSummary> = summaries.iter().filter(|g| g.env == Some(env) && g.seeds > 0).collect();
        scored.sort_by_key(|g| (g.algo.map(|a| a as usize), g.variant.clone()));
        if !scored.is_empty() {
            let path = out.join(format!("scores-{env}.svg"));
            let labelled: Vec<(&str, &GroupSummary)> = scored
                .iter()
                .map(|g| (g.group.strip_prefix(env.name()).map_or(&g.group[..], |s| s.trim_start_matches('-')), *g))
                .collect();
            draw_scores(&path, &format!("{env}: each score's mean, 95% bootstrap interval and seeds"), &labelled)?;
            written.push(path);
        }
        let of_env = |plain: bool| -> Vec<(&str, Vec<&Run>)> {
            let mut v: Vec<(&str, Vec<&Run>)> = grouped
                .values()
                .filter(|g| g[0].cfg.env == env && (!plain || g[0].variant.is_empty()))
                .map(|g| (label_of(g[0]), g.clone()))
                .collect();
            // Algorithms in the paper's order (Algo::ALL), variants after their algorithm.
            v.sort_by_key(|(_, g)| (g[0].cfg.algo as usize, g[0].variant.clone()));
            v
        };
        let plain = of_env(true);
        if plain.is_empty() {
            continue;
        }
        let path = out.join(format!("curves-{env}.svg"));
        draw_curves(&path, &format!("{env}: mean ± std over seeds"), &plain)?;
        written.push(path);
        let with_variants: Vec<(&str, Vec<&Run>)> =
            of_env(false).into_iter().filter(|(_, g)| g[0].cfg.algo.has_multiplier_net()).collect();
        if with_variants.iter().any(|(_, g)| !g[0].variant.is_empty()) {
            let path = out.join(format!("variants-{env}.svg"));
            draw_curves(&path, &format!("{env}: FAC and ALaM variants, mean ± std over seeds"), &with_variants)?;
            written.push(path);
        }
        if env == EnvKind::DoubleIntegrator {
            let path = out.join("roc-double-integrator.svg");
            draw_roc(&path, &plain, &doomed)?;
            written.push(path);
            let maps: Vec<(&str, Vec<&Run>)> =
                plain.iter().filter(|(_, g)| g[0].cfg.algo.has_multiplier_net()).cloned().collect();
            if !maps.is_empty() {
                let path = out.join("heatmaps-double-integrator.svg");
                draw_heatmaps(&path, &maps, &doomed)?;
                written.push(path);
            }
        }
    }
    Ok(written)
}

/// `alam` or `alam-rho10`: the group name without the env.
fn label_of(run: &Run) -> &str {
    let env = run.cfg.env.name();
    run.group.strip_prefix(env).map(|s| s.trim_start_matches('-')).unwrap_or(&run.group)
}

#[cfg(test)]
mod tests {
    use super::y_range;

    #[test]
    fn y_ranges_are_finite_and_wide_enough() {
        assert_eq!(y_range([].into_iter()), (0.0, 1.0));
        assert_eq!(y_range([f64::NAN, f64::INFINITY].into_iter()), (0.0, 1.0));
        let (lo, hi) = y_range([5.0, 5.0].into_iter());
        assert_eq!((lo, hi), (0.0, 5.0));
        let (lo, hi) = y_range([0.0, 0.0].into_iter());
        assert!(hi - lo >= 1e-3);
        let (lo, hi) = y_range([-2.0, 3.0].into_iter());
        assert_eq!((lo, hi), (-2.0, 3.0));
    }
}
