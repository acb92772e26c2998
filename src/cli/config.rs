//! `alam config`: the default config of an env × algo as JSON on stdout, or with `--explain`
//! every field with its default, its allowed range and what it is.

use alam::config::{Algo, TrainConfig};
use alam::env::EnvKind;
use alam::{AlamError, Result};
use serde_json::{json, Value};

use super::Outcome;

pub(super) fn run(env: EnvKind, algo: Algo, explain: bool) -> Result<Outcome> {
    if explain {
        print!("{}", explain_table(env, algo)?);
    } else {
        println!("{}", TrainConfig::preset(env, algo).to_json());
    }
    Ok(Outcome::Done)
}

/// One line per config field, in the order `TrainConfig` declares them: its name, its default for `env` × `algo`,
/// what `TrainConfig::validate` allows and the first sentence of its doc comment.
fn explain_table(env: EnvKind, algo: Algo) -> Result<String> {
    let preset =
        serde_json::to_value(TrainConfig::preset(env, algo)).map_err(|e| AlamError::ConfigParse(e.to_string()))?;
    let fields = preset.as_object().ok_or_else(|| AlamError::ConfigParse("config is not an object".into()))?;
    let docs = field_docs();
    // The struct's order (the doc comments'), then any field without a doc comment.
    let mut order: Vec<&str> = docs.iter().map(|(f, _)| f.as_str()).filter(|f| fields.contains_key(*f)).collect();
    let undocumented: Vec<&str> = fields.keys().map(String::as_str).filter(|f| !order.contains(f)).collect();
    order.extend(undocumented);
    let rows: Vec<[String; 4]> = order
        .into_iter()
        .map(|field| {
            let default = &fields[field];
            let doc = docs.iter().find(|(f, _)| f == field).map_or("", |(_, d)| d.as_str());
            let shown = default.as_str().map_or_else(|| default.to_string(), str::to_string);
            [field.to_string(), shown, allowed(env, algo, field, default), doc.to_string()]
        })
        .collect();
    let width = |k: usize| rows.iter().map(|r| r[k].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    let mut out = format!("{:w0$}  {:w1$}  {:w2$}  {}\n", "field", "default", "allowed", "what it is");
    for [field, default, allowed, doc] in &rows {
        out += &format!("{field:w0$}  {default:w1$}  {allowed:w2$}  {doc}\n");
    }
    out.insert_str(
        0,
        &format!(
            "# alam config --env {env} --algo {algo}: defaults, allowed values (as checked before any run), meaning\n"
        ),
    );
    Ok(out)
}

/// What the config's own check allows for `field`, read from `TrainConfig::validate` itself:
/// the refusals of values beyond either end (0 and the largest whole number; ∓1e308 for a
/// real number), so this never disagrees with what a run refuses.
fn allowed(env: EnvKind, algo: Algo, field: &str, default: &Value) -> String {
    match field {
        "env" => return EnvKind::ALL.map(|e| e.to_string()).join(", "),
        "algo" => return Algo::ALL.map(|a| a.name()).join(", "),
        "cost_critic" => return "discounted, probability".into(),
        _ => {}
    }
    let probes = match default {
        Value::Bool(_) => return "true or false".into(),
        Value::Number(n) if n.is_f64() => [json!(-1e308), json!(1e308)],
        _ => [json!(0), json!(u64::MAX)],
    };
    let mut said: Vec<String> = Vec::new();
    for probe in probes {
        let settings = json!({ "env": env.to_string(), "algo": algo.name(), field: probe });
        if let Err(AlamError::Config { field: named, allowed, .. }) = TrainConfig::from_partial_json(&settings) {
            if named == field && !said.iter().any(|s| s == allowed) {
                said.push(allowed.to_string());
            }
        }
    }
    if said.is_empty() {
        if default.is_f64() { "any finite number" } else { "any whole number ≥ 0" }.into()
    } else {
        said.join("; ")
    }
}

/// (field, first sentence of its doc comment) for every field of `TrainConfig`, read from
/// `src/config.rs` itself: the doc comment is the one place a field is explained.
fn field_docs() -> Vec<(String, String)> {
    const SOURCE: &str = include_str!("../config.rs");
    let body = SOURCE.split_once("pub struct TrainConfig {").map_or("", |(_, rest)| rest);
    let body = body.split_once("\n}").map_or(body, |(fields, _)| fields);
    let mut docs = Vec::new();
    let mut doc: Vec<&str> = Vec::new();
    for line in body.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.trim());
        } else if let Some((name, _)) = line.strip_prefix("pub ").and_then(|rest| rest.split_once(':')) {
            docs.push((name.trim().to_string(), first_sentence(&doc.join(" "))));
            doc.clear();
        } else if !line.starts_with("#[") {
            doc.clear(); // a blank line or a section comment: the doc above belonged to no field
        }
    }
    docs
}

/// Up to and including the first full stop followed by a space (or the whole text).
fn first_sentence(text: &str) -> String {
    text.find(". ").map_or(text, |i| &text[..=i]).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_doc_line_and_the_check_s_range() {
        let docs = field_docs();
        let preset = serde_json::to_value(TrainConfig::preset(EnvKind::PointGoal, Algo::Alam)).unwrap();
        for field in preset.as_object().unwrap().keys() {
            let doc = docs.iter().find(|(f, _)| f == field).map(|(_, d)| d.as_str());
            assert!(doc.is_some_and(|d| !d.is_empty()), "`{field}` has no doc comment in src/config.rs");
        }
        assert_eq!(docs.len(), preset.as_object().unwrap().len(), "{docs:?}");
        let lr = allowed(EnvKind::PointGoal, Algo::Alam, "learning_starts", &json!(2000));
        assert!(lr.contains("≥ batch_size") && lr.contains("< total_steps"), "both ends: {lr}");
        assert!(
            allowed(EnvKind::PointGoal, Algo::Alam, "seed", &json!(0)).contains("0..=9007199254740991"),
            "the seed range is the check's"
        );
    }
}
