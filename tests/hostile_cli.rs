//! Bad numbers and strings given to the CLI's own flags (`train`, `eval`, `bench`): each is
//! refused (exit 2, a message) and a refused `train` writes no `--out`.

mod hostile;

use hostile::{s, Sandbox};

#[test]
fn train_refuses_bad_step_counts_and_seeds() {
    let mut sb = Sandbox::new("cli-train");
    let huge = "9".repeat(100_000);
    let mut calls: Vec<Vec<String>> = Vec::new();
    for steps in ["0", "-1", "x", "1.5", "99999999999999999999", "2000000000", "", &huge] {
        calls.push(s(&["train", "--steps", steps]));
    }
    for seed in ["-1", "x", "1e3", "18446744073709551616", ""] {
        calls.push(s(&["train", "--steps", "150", "--seed", seed]));
    }
    for mut args in calls {
        let out = sb.out("o");
        args.extend(s(&["--out", &out]));
        sb.refused(&args, Some(&out));
    }
    sb.finish();
}

#[test]
fn eval_refuses_bad_episode_counts_and_an_absent_weights_file() {
    let mut sb = Sandbox::new("cli-eval");
    for episodes in ["0", "-1", "x", "1000000"] {
        sb.refused(&s(&["eval", "--weights", "absent.alam", "--episodes", episodes]), None);
    }
    sb.refused(&s(&["eval", "--weights", "absent.alam"]), None);
    sb.finish();
}

#[test]
fn bench_refuses_bad_sizes_and_an_unknown_device() {
    let mut sb = Sandbox::new("cli-bench");
    for flag in ["--updates", "--env-steps", "--obs-dim", "--act-dim", "--batch", "--hidden", "--population"] {
        for v in ["0", "-1", "x", "18446744073709551616", "100000000000"] {
            sb.refused(&s(&["bench", flag, v]), None);
        }
    }
    sb.refused(&s(&["bench", "--device", "tpu"]), None);
    sb.finish();
}
