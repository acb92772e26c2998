//! Bad config values given to `alam train --set`: every field of the config with values of the
//! wrong type, out of its range, or naming the run, and relations between fields that make a
//! run a no-op. Each is refused before training (exit 2, a message) and writes no `--out`.

mod hostile;

use std::process::Command;

use hostile::{s, Sandbox, TINY};

/// Bad values for a config field, by the type of its default.
fn bad_values(field: &str, default: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    match default {
        serde_json::Value::Bool(_) => v.extend(s(&["2", "\"yes\"", "null", "[]"])),
        serde_json::Value::Number(n) if n.is_u64() => {
            v.extend(s(&["-1", "1.5", "\"x\"", "18446744073709551616", "null", "1e400", "[1]"]));
            if field != "eval_every" {
                v.push("0".into());
            }
            if !["eval_every", "log_every", "probe_every", "multiplier_every", "buffer_size", "seed"].contains(&field) {
                v.push("18446744073709551615".into());
            }
        }
        serde_json::Value::Number(_) => v.extend(s(&["NaN", "-1", "1e400", "\"x\"", "inf", "null", "true", "-1e308"])),
        _ => v.extend(s(&["\"moon\"", "3", "null"])),
    }
    if ["env", "algo", "seed"].contains(&field) {
        // The fields a run is named by are never set with --set.
        v.push(match field {
            "env" => "\"point-goal\"".into(),
            "algo" => "\"fac\"".into(),
            _ => "5".into(),
        });
    }
    v
}

/// `alam train --steps 150 --out NEW TINY… --set SET`, refused.
fn train_refuses(sb: &mut Sandbox, set: &str) {
    let out = sb.out("o");
    let mut args = s(&["train", "--steps", "150", "--quiet", "--out", &out]);
    args.extend(s(&TINY));
    args.extend(s(&["--set", set]));
    sb.refused(&args, Some(&out));
}

#[test]
fn every_config_field_refuses_wrong_types_out_of_range_values_and_the_run_s_name() {
    let mut sb = Sandbox::new("configs-fields");
    let defaults = {
        let out = Command::new(env!("CARGO_BIN_EXE_alam")).arg("config").output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let mut inputs = 0;
    for (field, default) in defaults.as_object().unwrap() {
        for bad in bad_values(field, default) {
            train_refuses(&mut sb, &format!("{field}={bad}"));
            inputs += 1;
        }
    }
    assert!(inputs >= 200, "{inputs} config inputs");
    sb.finish();
}

#[test]
fn fields_that_contradict_each_other_are_refused() {
    let mut sb = Sandbox::new("configs-relations");
    for set in [
        "learning_starts=150", // ≥ total_steps (150): no update would ever run
        "batch_size=100",      // > learning_starts (64): the first batch would not fill
        "buffer_size=8",       // < batch_size (16)
        "utd_ratio=0.001",     // no update in the 86 steps after the warm-up
        "rho_max=0.5",         // < rho (its default, 1)
        "tau=1e-7",            // just below its range, [1e-6, 1]
    ] {
        train_refuses(&mut sb, set);
    }
    sb.finish();
}
