//! Bad sweep grids given to `alam sweep`: duplicates, aliases, unknown names, unsafe variant
//! names, bad overrides, shards and population sizes. The whole grid is checked before anything
//! trains: each is refused (exit 2, a message) and writes no `--out`, nor anything outside it.

mod hostile;

use hostile::{s, Sandbox, TINY};

/// `alam sweep` over a one-cell grid (double-integrator, alam, seed 0) with `grid` added
/// after it: each entry of `grids` must be refused.
fn sweep_refuses(name: &str, grids: &[Vec<String>]) {
    let mut sb = Sandbox::new(name);
    for g in grids {
        let out = sb.out("sweep");
        let mut args = s(&["sweep", "--envs", "double-integrator", "--algos", "alam", "--steps", "150", "--out", &out]);
        args.extend(s(&TINY));
        args.extend(g.iter().cloned());
        sb.refused(&args, Some(&out));
    }
    let escaped = sb.root.join("escaped").exists() || sb.root.parent().unwrap().join("escaped").exists();
    assert!(!escaped, "a variant's name wrote outside the sweep's --out");
    sb.finish();
}

fn grids(v: &[&[&str]]) -> Vec<Vec<String>> {
    v.iter().map(|g| s(g)).collect()
}

#[test]
fn sweep_refuses_repeated_or_unknown_seeds_algos_and_envs() {
    sweep_refuses(
        "sweeps-names",
        &grids(&[
            &["--seeds", "0,0"],
            &["--seeds", "-1"],
            &["--seeds", "x"],
            &["--seeds", ""],
            &["--algos", "alam,sac-alam"], // the same algorithm after its alias
            &["--algos", "alam,ALAM"],
            &["--algos", "ppo"],
            &["--envs", "double-integrator,double-integrator"],
            &["--envs", "moon"],
        ]),
    );
}

#[test]
fn sweep_refuses_bad_shards_and_population_sizes() {
    sweep_refuses(
        "sweeps-shards",
        &grids(&[
            &["--shard", "1/1"],
            &["--shard", "-1/2"],
            &["--shard", "a/b"],
            &["--shard", "0/0"],
            &["--shard", ""],
            &["--population", "0"],
            &["--population", "-3"],
            &["--population", "many"],
        ]),
    );
}

#[test]
fn sweep_refuses_variant_names_that_repeat_or_are_not_plain_names() {
    let mut g = grids(&[
        &["--variant", "a:rho=1", "--variant", "a:rho=10"],
        &["--variant", "/../../escaped:rho=1"],
        &["--variant", "../up:rho=1"],
        &["--variant", "a/b:rho=1"],
        &["--variant", ":rho=1"],
        &["--variant", "-lead:rho=1"],
        &["--variant", "sp ace:rho=1"],
    ]);
    g.push(vec![format!("--variant={}:rho=1", "n".repeat(100))]);
    sweep_refuses("sweeps-variant-names", &g);
}

#[test]
fn sweep_refuses_bad_overrides_and_overrides_of_the_run_s_name() {
    sweep_refuses(
        "sweeps-overrides",
        &grids(&[
            &["--variant", "a"],
            &["--variant", "a:"],
            &["--variant", "a:rho"],
            &["--variant", "a:rho=-1"],
            &["--variant", "a:rhoo=1"],
            &["--variant", "a:seed=1"],
            &["--variant", "a:env=\"point-goal\""],
            &["--variant", "a:algo=\"fac\""],
            &["--variant", "a:rho=1,rho=2"],
            &["--variant", "good:rho=2", "--variant", "bad:tau=0"], // one bad variant stops the grid
            &["--set", "seed=3"],
            &["--set", "learning_starts=1000"],
        ]),
    );
}
