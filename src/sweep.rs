//! The grid of a sweep (envs × algos × seeds × variants), its groups of seeds (trained as one
//! batched population) and its split into shards, so that a Slurm array job or GNU parallel
//! can run `--shard i/n` on n machines with no coordination.

use serde_json::Value;

use crate::config::{Algo, TrainConfig};
use crate::env::EnvKind;
use crate::error::{AlamError, Result};

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub env: EnvKind,
    pub algo: Algo,
    pub seed: u64,
    /// Name of the override set ("" for none) and its key=value pairs.
    pub variant: String,
    pub overrides: Vec<(String, String)>,
}

impl Cell {
    /// The run's folder name: stable, so a re-run finds and skips finished cells.
    pub fn dir_name(&self) -> String {
        let v = if self.variant.is_empty() { String::new() } else { format!("-{}", self.variant) };
        format!("{}-{}{}-s{}", self.env, self.algo, v, self.seed)
    }
}

/// Parses `i/n` (0-based shard i of n).
pub fn parse_shard(s: &str) -> Result<(usize, usize)> {
    let bad =
        || AlamError::Config {
            field: "shard", value: s.to_string(), allowed: "must be i/n with 0 ≤ i < n, e.g. 0/4"
        };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The full grid in a fixed order; variants are `name:key=value,key=value` strings.
pub fn grid(envs: &[EnvKind], algos: &[Algo], seeds: &[u64], variants: &[String]) -> Result<Vec<Cell>> {
    let parsed: Vec<(String, Vec<(String, String)>)> = if variants.is_empty() {
        vec![(String::new(), Vec::new())]
    } else {
        variants.iter().map(|v| parse_variant(v)).collect::<Result<_>>()?
    };
    // Two runs with one folder would write it at once (interleaved metrics lines) or one would
    // be skipped as "done": every axis is refused with its duplicate, names already resolved
    // (`sac-alam` is `alam`).
    fn unique<T: PartialEq + std::fmt::Display>(field: &'static str, items: &[T]) -> Result<()> {
        if items.is_empty() {
            return Err(AlamError::Config { field, value: "(none)".into(), allowed: "must name at least one" });
        }
        for (k, x) in items.iter().enumerate() {
            if items[..k].contains(x) {
                return Err(AlamError::Config {
                    field,
                    value: format!("{x} (given twice)"),
                    allowed: "each must appear once (aliases such as sac-alam count as the same algorithm)",
                });
            }
        }
        Ok(())
    }
    unique("envs", envs)?;
    unique("algos", algos)?;
    unique("seeds", seeds)?;
    let names: Vec<String> = parsed.iter().map(|(n, _)| n.clone()).collect();
    unique("variant", &names)?;
    let mut cells = Vec::new();
    for &env in envs {
        for &algo in algos {
            for (variant, overrides) in &parsed {
                for &seed in seeds {
                    cells.push(Cell { env, algo, seed, variant: variant.clone(), overrides: overrides.clone() });
                }
            }
        }
    }
    // Belt and braces: distinct cells must have distinct folders.
    let dirs: Vec<String> = cells.iter().map(Cell::dir_name).collect();
    unique("sweep run", &dirs)?;
    Ok(cells)
}

/// The fields a run's name gives (`--env`, `--algo`, `--seed`, the grid's axes): set by
/// `--set` or a variant they would make the run differ from its name.
pub const NAMING_FIELDS: [&str; 3] = ["env", "algo", "seed"];

/// Refuses `key=value` overrides of the fields that name a run.
pub fn check_not_naming(overrides: &[(String, String)]) -> Result<()> {
    for (k, v) in overrides {
        if let Some(&field) = NAMING_FIELDS.iter().find(|&&f| f == k) {
            return Err(AlamError::Config {
                field,
                value: clip(v, 60),
                allowed: "is set by --env/--algo/--seed (a sweep: --envs/--algos/--seeds), not by --set or a \
                          variant: the run's folder is named after it",
            });
        }
    }
    Ok(())
}

/// A value as it may appear in a message: at most `max` characters, the rest counted.
pub fn clip(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_string()
    } else {
        format!("{}… ({n} characters)", s.chars().take(max).collect::<String>())
    }
}

/// A variant's name becomes part of a folder name: plain ASCII letters, digits, `_` and `-`,
/// 1 to 40 of them, so it can neither escape `--out` (`/`, `..`) nor hide in odd characters.
pub fn check_variant_name(name: &str) -> Result<()> {
    let plain =
        !name.is_empty() && name.len() <= 40 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain && !name.starts_with('-') {
        Ok(())
    } else {
        Err(AlamError::Config {
            field: "variant",
            value: clip(name, 60),
            allowed: "a variant's name must be 1 to 40 ASCII letters, digits, `_` or `-` (not first), e.g. rho10",
        })
    }
}

/// Round-robin: item k (a cell, or a group of seeds) belongs to shard k mod n, so shards get
/// equal shares of every env.
pub fn shard<T>(items: Vec<T>, i: usize, n: usize) -> Vec<T> {
    items.into_iter().enumerate().filter(|(k, _)| k % n == i).map(|(_, c)| c).collect()
}

/// The grid's cells grouped by everything but the seed (env, algo, variant), in grid order:
/// each group's runs share one config apart from the seed, so they can train as one population.
pub fn seed_groups(cells: Vec<Cell>) -> Vec<Vec<Cell>> {
    let mut groups: Vec<Vec<Cell>> = Vec::new();
    for cell in cells {
        match groups.iter_mut().find(|g| {
            (g[0].env, g[0].algo, &g[0].variant, &g[0].overrides)
                == (cell.env, cell.algo, &cell.variant, &cell.overrides)
        }) {
            Some(g) => g.push(cell),
            None => groups.push(vec![cell]),
        }
    }
    groups
}

/// How a sweep trains the seeds of a group: one at a time, or as batched populations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopulationSize {
    /// Each run on its own, as `alam train` (the reference path).
    Off,
    /// All seeds of a group as one population.
    Auto,
    /// Populations of at most this many seeds.
    AtMost(usize),
}

impl PopulationSize {
    /// The most seeds one process trains at once.
    pub fn max_seeds(self) -> usize {
        match self {
            PopulationSize::Off => 1,
            PopulationSize::Auto => usize::MAX,
            PopulationSize::AtMost(n) => n,
        }
    }
}

impl std::str::FromStr for PopulationSize {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "off" => Ok(PopulationSize::Off),
            "auto" => Ok(PopulationSize::Auto),
            n => match n.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(PopulationSize::AtMost(n)),
                _ => Err(format!("`{s}`: must be auto, off or a number of seeds ≥ 1")),
            },
        }
    }
}

fn parse_variant(s: &str) -> Result<(String, Vec<(String, String)>)> {
    let (name, pairs) = s.split_once(':').ok_or_else(|| AlamError::Config {
        field: "variant",
        value: clip(s, 60),
        allowed: "must be name:key=value[,key=value], e.g. rho10:rho=10",
    })?;
    check_variant_name(name)?;
    let pairs: Vec<(String, String)> = pairs.split(',').map(parse_override).collect::<Result<_>>()?;
    check_not_naming(&pairs)?;
    for (k, (key, _)) in pairs.iter().enumerate() {
        if pairs[..k].iter().any(|(other, _)| other == key) {
            return Err(AlamError::Config {
                field: "variant",
                value: format!("{name}: `{}` twice", clip(key, 40)),
                allowed: "each field may be set once per variant",
            });
        }
    }
    Ok((name.to_string(), pairs))
}

/// Parses one `key=value`.
pub fn parse_override(s: &str) -> Result<(String, String)> {
    let (k, v) = s.split_once('=').ok_or_else(|| AlamError::Config {
        field: "set",
        value: clip(s, 60),
        allowed: "must be key=value with a config field name, e.g. rho=10",
    })?;
    Ok((k.trim().to_string(), v.trim().to_string()))
}

/// Applies `key=value` overrides to a config through its JSON form, so every field can be set
/// and an unknown key or a value of the wrong type is refused with the field's name.
pub fn apply_overrides(cfg: &TrainConfig, overrides: &[(String, String)]) -> Result<TrainConfig> {
    let mut v = serde_json::to_value(cfg).map_err(|e| AlamError::ConfigParse(e.to_string()))?;
    let obj = v.as_object_mut().ok_or_else(|| AlamError::ConfigParse("config is not an object".into()))?;
    for (key, value) in overrides {
        if !obj.contains_key(key) {
            return Err(AlamError::ConfigParse(format!("unknown config field `{}`", clip(key, 60))));
        }
        let parsed = serde_json::from_str::<Value>(value).unwrap_or_else(|_| Value::String(value.clone()));
        obj.insert(key.clone(), parsed);
        // Checked per key so that a value of the wrong type names its field; serde's message
        // quotes the value, so it is clipped too.
        serde_json::from_value::<TrainConfig>(Value::Object(obj.clone())).map_err(|e| {
            AlamError::ConfigParse(format!("`{key}` = {}: {}", clip(value, 60), clip(&e.to_string(), 200)))
        })?;
    }
    let cfg: TrainConfig = serde_json::from_value(v).map_err(|e| AlamError::ConfigParse(e.to_string()))?;
    cfg.validate()?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_grid() {
        let cells = grid(&EnvKind::ALL, &Algo::ALL, &[0, 1, 2], &["a:rho=1".into(), "b:rho=10".into()]).unwrap();
        assert_eq!(cells.len(), 3 * 5 * 3 * 2);
        let mut seen: Vec<String> = (0..4).flat_map(|i| shard(cells.clone(), i, 4)).map(|c| c.dir_name()).collect();
        seen.sort();
        let mut all: Vec<String> = cells.iter().map(|c| c.dir_name()).collect();
        all.sort();
        assert_eq!(seen, all, "every cell in exactly one shard");
        assert!(shard(cells, 3, 4).len() >= 22);
    }

    #[test]
    fn groups_hold_the_seeds_of_one_env_algo_and_variant() {
        let cells = grid(
            &[EnvKind::DoubleIntegrator, EnvKind::PointGoal],
            &[Algo::Lag, Algo::Alam],
            &[3, 4, 5],
            &["a:rho=1".into(), "b:rho=10".into()],
        )
        .unwrap();
        let groups = seed_groups(cells.clone());
        assert_eq!(groups.len(), 2 * 2 * 2);
        for g in &groups {
            assert_eq!(g.iter().map(|c| c.seed).collect::<Vec<_>>(), [3, 4, 5]);
            assert!(g.iter().all(|c| (c.env, c.algo, &c.variant) == (g[0].env, g[0].algo, &g[0].variant)));
        }
        assert_eq!(groups.concat(), cells, "every cell in exactly one group, in grid order");
        assert_eq!("auto".parse::<PopulationSize>().unwrap(), PopulationSize::Auto);
        assert_eq!("off".parse::<PopulationSize>().unwrap().max_seeds(), 1);
        assert_eq!("3".parse::<PopulationSize>().unwrap(), PopulationSize::AtMost(3));
        assert!("0".parse::<PopulationSize>().is_err() && "many".parse::<PopulationSize>().is_err());
    }

    #[test]
    fn duplicate_runs_and_unsafe_variant_names_are_refused() {
        let e = EnvKind::DoubleIntegrator;
        let err = grid(&[e], &[Algo::Alam], &[0, 0], &[]).unwrap_err().to_string();
        assert!(err.contains("`seeds`") && err.contains("0 (given twice)"), "{err}");
        let algos: Vec<Algo> = ["alam", "sac-alam"].iter().map(|a| a.parse().unwrap()).collect();
        let err = grid(&[e], &algos, &[0], &[]).unwrap_err().to_string();
        assert!(err.contains("`algos`"), "{err}");
        let err = grid(&[e, e], &[Algo::Alam], &[0], &[]).unwrap_err().to_string();
        assert!(err.contains("`envs`"), "{err}");
        let err = grid(&[e], &[Algo::Alam], &[0], &["a:rho=1".into(), "a:rho=10".into()]).unwrap_err().to_string();
        assert!(err.contains("`variant`") && err.contains("given twice"), "{err}");
        for name in ["/../../escaped", "..", "a/b", "", "-x", "a b", "ü", &"x".repeat(41)] {
            let err = grid(&[e], &[Algo::Alam], &[0], &[format!("{name}:rho=1")]).unwrap_err().to_string();
            assert!(err.contains("`variant`"), "{name}: {err}");
        }
        assert!(grid(&[e], &[Algo::Alam], &[0], &["rho_10-b:rho=10".into()]).is_ok());
        let err = grid(&[e], &[Algo::Alam], &[0], &["a:seed=3".into()]).unwrap_err().to_string();
        assert!(err.contains("`seed`"), "{err}");
        let err = grid(&[e], &[Algo::Alam], &[0], &["a:rho=1,rho=2".into()]).unwrap_err().to_string();
        assert!(err.contains("twice"), "{err}");
        assert!(grid(&[e], &[], &[0], &[]).is_err());
    }

    #[test]
    fn long_values_are_clipped_in_messages() {
        let huge = "9".repeat(100_000);
        let err = apply_overrides(&TrainConfig::default(), &[("hidden".into(), format!("\"{huge}\""))])
            .unwrap_err()
            .to_string();
        assert!(err.len() < 600, "{} bytes", err.len());
        let err = parse_override(&huge).unwrap_err().to_string();
        assert!(err.len() < 300, "{} bytes", err.len());
    }

    #[test]
    fn shard_and_overrides_are_checked() {
        assert_eq!(parse_shard("1/3").unwrap(), (1, 3));
        assert!(parse_shard("3/3").is_err());
        assert!(parse_shard("x").is_err());
        let cfg = TrainConfig::default();
        let c = apply_overrides(&cfg, &[("rho".into(), "10".into()), ("algo".into(), "fac".into())]).unwrap();
        assert_eq!((c.rho, c.algo), (10.0, Algo::Fac));
        let err = apply_overrides(&cfg, &[("rhoo".into(), "1".into())]).unwrap_err().to_string();
        assert!(err.contains("rhoo"), "{err}");
        let err = apply_overrides(&cfg, &[("rho".into(), "-2".into())]).unwrap_err().to_string();
        assert!(err.contains("`rho`"), "{err}");
    }
}
