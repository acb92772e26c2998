//! Each handler's formula against a hand computation (PAPER.md §3–§5).

use alam::agent::handler::{dual_target, psi, HandlerState, LagHandler, PidLagHandler};
use alam::agent::population::PopulationAgent;
use alam::agent::Agent;
use alam::config::{Algo, TrainConfig};
use burn::tensor::{Device, Tensor, TensorData};

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

/// A single run's learner (a population of one) of `algo` on 2-D states, its multiplier
/// trained at `lr` every `every` policy updates, and its handler's scalars.
fn learner(algo: Algo, lr: f64, every: u64) -> (PopulationAgent, Vec<HandlerState>) {
    let mut cfg = TrainConfig::preset(alam::EnvKind::DoubleIntegrator, algo);
    (cfg.hidden, cfg.multiplier_lr, cfg.multiplier_every) = (16, lr, every);
    let agent = Agent::new(&cfg, 2, 1, &Device::flex());
    let states = vec![agent.handler().state()];
    (PopulationAgent::from_agents(&[&agent]).unwrap(), states)
}

/// Three 2-D states `[1, 3, 2]` on the learner's (autodiff) device.
fn states3() -> Tensor<3> {
    Tensor::from_data(TensorData::new(vec![0.1f32, 0.2, -0.5, 0.9, 0.7, -0.3], [1, 3, 2]), &Device::flex().autodiff())
}

fn column3(v: &[f32]) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v.to_vec(), [1, v.len(), 1]), &Device::flex())
}

fn read3(x: Tensor<3>) -> Vec<f32> {
    x.into_data().try_to_vec::<f32>().unwrap()
}

#[test]
fn one_regression_step_moves_lambda_toward_the_dual_target() {
    let (mut m, states) = learner(Algo::Alam, 1e-2, 100);
    let obs = states3();
    let h = [1.0f32, -0.5, 0.2];
    let before = read3(m.multiplier_now(obs.clone()).unwrap());
    let target: Vec<f32> = before.iter().zip(&h).map(|(l, h)| (l + h).clamp(0.0, 100.0)).collect();
    let dist = |l: &[f32]| l.iter().zip(&target).map(|(a, b)| (a - b) * (a - b)).sum::<f32>();
    let (_, loss) = m.multiplier_only(obs.clone(), column3(&h), &states);
    let after = read3(m.multiplier_now(obs).unwrap());
    // The regression loss is the mean of the squared distances to max(0, λ_old + ρh), ρ = 1.
    assert!((read3(loss)[0] - dist(&before) / 3.0).abs() < 1e-5);
    assert!(dist(&after) < dist(&before), "λ moved away from the target: {} → {}", dist(&before), dist(&after));
}

/// The λ the policy's penalty uses: ALaM's anchor λ_old, which stays put while the network is
/// regressed and becomes the network at the end of each dual period (m updates); FAC's current
/// network.
#[test]
fn the_penalty_uses_the_anchor_until_the_dual_period_ends() {
    let obs = states3();
    let h = column3(&[3.0, -2.0, 4.0]);
    let (mut m, states) = learner(Algo::Alam, 1e-2, 3);
    let start = read3(m.multiplier_now(obs.clone()).unwrap());
    for update in 1..=3 {
        let (used, loss) = m.multiplier_only(obs.clone(), h.clone(), &states);
        assert_eq!(read3(used), start, "update {update}: the anchor moved inside the period");
        assert_ne!(read3(loss)[0], 0.0, "ALaM regresses on every update");
        assert_ne!(read3(m.multiplier_now(obs.clone()).unwrap()), start, "the network did not move");
    }
    let now = read3(m.multiplier_now(obs.clone()).unwrap());
    let (used, _) = m.multiplier_only(obs.clone(), h.clone(), &states);
    assert_eq!(read3(used), now, "the anchor was not refreshed at the period's end");

    let (mut fac, states) = learner(Algo::Fac, 1e-2, 2);
    let start = read3(fac.multiplier_now(obs.clone()).unwrap());
    let (_, loss) = fac.multiplier_only(obs.clone(), h.clone(), &states);
    assert_eq!(read3(loss)[0], 0.0, "FAC steps on every m-th update only");
    assert_eq!(read3(fac.multiplier_now(obs.clone()).unwrap()), start);
    fac.multiplier_only(obs.clone(), h.clone(), &states);
    let now = read3(fac.multiplier_now(obs.clone()).unwrap());
    assert_ne!(now, start, "FAC's second update steps");
    assert_eq!(read3(fac.multiplier_only(obs, h, &states).0), now, "FAC's penalty uses the current network");
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
    let (mut m, states) = learner(Algo::Fac, 1e-2, 1);
    let obs = Tensor::<3>::from_data(TensorData::new(vec![0.5f32, 0.5], [1, 1, 2]), &Device::flex().autodiff());
    let lambda = |m: &PopulationAgent| read3(m.multiplier_now(obs.clone()).unwrap())[0];
    let before = lambda(&m);
    m.multiplier_only(obs.clone(), column3(&[1.0]), &states);
    let up = lambda(&m);
    assert!(up > before, "h > 0 must raise λ: {before} → {up}");
    for _ in 0..3 {
        m.multiplier_only(obs.clone(), column3(&[-1.0]), &states);
    }
    let down = lambda(&m);
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
