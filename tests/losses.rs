//! Each handler's formula against a hand computation (PAPER.md §3–§5).

use alam::agent::handler::{
    ascent_loss, dual_target, psi, regression_loss, HandlerState, LagHandler, MultiplierTrainer, PidLagHandler,
};
use alam::config::{Algo, TrainConfig};
use alam::Rng64;
use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;

fn t(v: &[f32], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len(), 1]), device)
}

fn read(x: Tensor<2>) -> Vec<f32> {
    x.into_data().try_to_vec::<f32>().unwrap()
}

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

#[test]
fn psi_on_both_branches() {
    let dev = Device::flex();
    // ρ = 2. Active branch (λ + ρh ≥ 0): λh + ρh²/2. Slack branch: −λ²/(2ρ).
    let h = [0.5f32, -0.1, -2.0, 0.0];
    let lambda = [1.0f32, 1.0, 1.0, 3.0];
    // 1·0.5 + 2·0.25/2 = 0.75;  −0.1 + 2·0.01/2 = −0.09;  λ+ρh = −3 < 0 → −1/4;  h = 0 → 0
    let expect = [0.75f32, -0.09, -0.25, 0.0];
    close(&read(psi(t(&h, &dev), t(&lambda, &dev), 2.0)), &expect);
}

#[test]
fn psi_gradient_is_the_updated_multiplier() {
    let dev = Device::flex().autodiff();
    let rho = 2.0;
    let h_vals = [0.5f32, -0.1, -2.0, 0.3];
    let lambda = [1.0f32, 1.0, 1.0, 0.0];
    let h = t(&h_vals, &dev).require_grad();
    let loss = psi(h.clone(), t(&lambda, &dev), rho).sum();
    let grads = loss.backward();
    let g = h.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
    // ∂ψ/∂h = max(0, λ + ρh): 2.0, 0.8, 0, 0.6
    close(&g, &[2.0, 0.8, 0.0, 0.6]);
}

#[test]
fn dual_target_is_one_multiplier_step_capped() {
    let dev = Device::flex();
    let out = read(dual_target(t(&[1.0, 1.0, 0.0, 90.0], &dev), t(&[0.5, -2.0, -1.0, 20.0], &dev), 2.0, 100.0));
    // max(0, λ + ρh) capped at λ_max: 2.0, 0 (would be −3), 0, 100 (would be 130)
    close(&out, &[2.0, 0.0, 0.0, 100.0]);
}

#[test]
fn rho_zero_is_fac_loss_with_a_unit_dual_step() {
    let dev = Device::flex();
    let (h, lambda) = ([0.5f32, -0.1, -2.0], [1.0f32, 3.0, 1.0]);
    // ψ_0 = λ·h: 0.5, −0.3, −2.0 (no slack branch: FAC's loss).
    close(&read(psi(t(&h, &dev), t(&lambda, &dev), 0.0)), &[0.5, -0.3, -2.0]);
    // λ̂ = max(0, λ + h): 1.5, 2.9, 0.
    close(&read(dual_target(t(&lambda, &dev), t(&h, &dev), 0.0, 100.0)), &[1.5, 2.9, 0.0]);
}

fn multiplier(algo: Algo, lr: f64) -> (MultiplierTrainer, Device) {
    let dev = Device::flex().autodiff();
    let mut cfg = TrainConfig::preset(alam::EnvKind::DoubleIntegrator, algo);
    cfg.hidden = 16;
    cfg.multiplier_lr = lr;
    cfg.multiplier_every = 1;
    (MultiplierTrainer::new(&cfg, 2, &mut Rng64::seed_from_u64(3), &dev), dev)
}

#[test]
fn one_regression_step_moves_lambda_toward_the_dual_target() {
    let (mut m, dev) = multiplier(Algo::Alam, 1e-2);
    let obs = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, 0.2, -0.5, 0.9, 0.7, -0.3], [3, 2]), &dev);
    let h = t(&[1.0, -0.5, 0.2], &dev);
    let before = m.lambda(obs.clone());
    let target = dual_target(before.clone(), h, 1.0, 100.0);
    let dist = |l: Tensor<2>| read((l - target.clone()).square()).iter().sum::<f32>();
    let d0 = dist(before.clone());
    let loss = m.train_if_due(&obs, 1, |l| regression_loss(l, target.clone())).expect("due every update");
    let d1 = dist(m.lambda(obs));
    // The regression loss is the mean of the squared distances it reports.
    assert!((loss.into_scalar::<f32>() - d0 / 3.0).abs() < 1e-5);
    assert!(d1 < d0, "λ moved away from the target: {d0} → {d1}");
}

/// The λ the policy's penalty uses: ALaM's anchor λ_old, which stays put while the network is
/// regressed and becomes the network at the end of each dual period (m updates); FAC's current
/// network.
#[test]
fn the_penalty_uses_the_anchor_until_the_dual_period_ends() {
    let dev = Device::flex().autodiff();
    let obs = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, 0.2, -0.5, 0.9, 0.7, -0.3], [3, 2]), &dev);
    let target = t(&[3.0, 2.0, 4.0], &dev);
    let loss = |l: Tensor<2>| regression_loss(l, target.clone());
    let mut cfg = TrainConfig::preset(alam::EnvKind::DoubleIntegrator, Algo::Alam);
    (cfg.hidden, cfg.multiplier_every, cfg.multiplier_lr) = (16, 3, 1e-2);
    let mut m = MultiplierTrainer::new(&cfg, 2, &mut Rng64::seed_from_u64(3), &dev);
    let start = read(m.lambda(obs.clone()));
    for update in 1..=2 {
        assert!(m.train_if_due(&obs, update, loss).is_some(), "ALaM regresses on every update");
        assert_eq!(read(m.lambda_for_penalty(&obs)), start, "the anchor moved inside the period");
        assert_ne!(read(m.lambda(obs.clone())), start, "the network did not move");
    }
    m.train_if_due(&obs, 3, loss);
    assert_eq!(read(m.lambda_for_penalty(&obs)), read(m.lambda(obs.clone())), "the anchor was not refreshed");

    cfg.algo = Algo::Fac;
    cfg.multiplier_every = 2;
    let mut fac = MultiplierTrainer::new(&cfg, 2, &mut Rng64::seed_from_u64(3), &dev);
    assert!(fac.train_if_due(&obs, 1, loss).is_none(), "FAC steps on every m-th update only");
    fac.train_if_due(&obs, 2, loss).unwrap();
    assert_eq!(read(fac.lambda_for_penalty(&obs)), read(fac.lambda(obs.clone())));
}

/// λ = λ_max·σ(f − ln λ_max) by hand (docs/method.md §3e), at λ_max = 100: f = 0 gives
/// 100/(1 + 100) = 0.990…, f = ln 100 gives 50, f = ln 100 + ln 3 gives 75.
#[test]
fn the_smooth_cap_by_hand() {
    let dev = Device::flex();
    let l = 100f32.ln();
    let f = t(&[0.0, l, l + 3f32.ln(), -l], &dev);
    close(&read(alam::agent::nets::smooth_cap(f, 100.0)), &[100.0 / 101.0, 50.0, 75.0, 100.0 / 10001.0]);
}

#[test]
fn fac_ascent_raises_lambda_where_violated_and_lowers_it_where_slack() {
    let (mut m, dev) = multiplier(Algo::Fac, 1e-2);
    let obs = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, 0.5], [1, 2]), &dev);
    let before = read(m.lambda(obs.clone()))[0];
    m.train_if_due(&obs, 1, |l| ascent_loss(l, t(&[1.0], &dev)));
    let up = read(m.lambda(obs.clone()))[0];
    assert!(up > before, "h > 0 must raise λ: {before} → {up}");
    for _ in 0..3 {
        m.train_if_due(&obs, 1, |l| ascent_loss(l, t(&[-1.0], &dev)));
    }
    let down = read(m.lambda(obs))[0];
    assert!(down < up, "h < 0 must lower λ: {up} → {down}");
}

#[test]
fn lag_dual_ascent_by_hand() {
    // λ + η(J − b) = 0.5 + 0.1·(7 − 2) = 1.0; clipped at 0 and at λ_max.
    assert!((LagHandler::dual_ascent(0.5, 0.1, 7.0, 2.0, 100.0) - 1.0).abs() < 1e-12);
    assert_eq!(LagHandler::dual_ascent(0.1, 0.1, 0.0, 2.0, 100.0), 0.0);
    assert_eq!(LagHandler::dual_ascent(99.0, 1.0, 50.0, 0.0, 100.0), 100.0);
}

#[test]
fn pid_step_by_hand() {
    let mut cfg = TrainConfig::preset(alam::EnvKind::DoubleIntegrator, Algo::PidLag);
    (cfg.pid_kp, cfg.pid_ki, cfg.pid_kd, cfg.cost_budget) = (0.1, 0.01, 0.2, 1.0);
    let pid = PidLagHandler::new(&cfg);
    // e = 5 − 1 = 4: I = 0.04, D = 0.2·max(0, 5 − 2) = 0.6, λ = 0.4 + 0.04 + 0.6 = 1.04
    let s = pid.pid_step(HandlerState { prev_cost: 2.0, ..Default::default() }, 5.0);
    assert!((s.integral - 0.04).abs() < 1e-12 && (s.lambda - 1.04).abs() < 1e-12, "{s:?}");
    // Cost falls to 0: e = −1, I = max(0, 0.04 − 0.01) = 0.03, D = 0 (cost fell), λ = max(0, −0.1 + 0.03) = 0
    let s = pid.pid_step(s, 0.0);
    assert!((s.integral - 0.03).abs() < 1e-12 && s.lambda == 0.0, "{s:?}");
}
