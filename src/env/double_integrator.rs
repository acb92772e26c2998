//! The double integrator: a 1-D cart between two walls, the calibration ground truth.
//!
//! Its feasible set is known exactly (a state is doomed when even full braking carries it
//! past a wall), so λ(s) can be scored as a detector of doomed states (docs/method.md §6 C3, §7).

use rand::{Rng, SeedableRng};

use super::{cell_centre, Env, EnvKind, EnvRng, ProbeGrid, Scene, StepOutcome};

/// Parameters of [`DoubleIntegrator`]; the defaults are the paper's setup.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct DoubleIntegratorParams {
    /// Integration step, seconds.
    pub dt: f32,
    /// Largest acceleration; action 1.0 maps to it.
    pub u_max: f32,
    /// The walls: cost 1.0 whenever |x| > x_max.
    pub x_max: f32,
    /// Speed limit (v is clamped to ±v_max), which also bounds the observation.
    pub v_max: f32,
    /// Episode length limit (truncation).
    pub max_episode_steps: usize,
    /// Start x and v are drawn uniformly from [-start_half_width, start_half_width].
    pub start_half_width: f32,
    /// Penalty on action², so a policy that idles does not jitter.
    pub action_penalty: f32,
}

impl Default for DoubleIntegratorParams {
    fn default() -> Self {
        Self {
            dt: 0.05,
            u_max: 1.0,
            x_max: 1.0,
            v_max: 2.0,
            max_episode_steps: 200,
            start_half_width: 0.5,
            action_penalty: 0.01,
        }
    }
}

/// State x (position) and v (velocity), semi-implicit Euler:
/// v ← clamp(v + u·dt, ±v_max); x ← x + v·dt.
/// Reward pulls toward the right wall but is capped there, so violating never pays more.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DoubleIntegrator {
    p: DoubleIntegratorParams,
    rng: EnvRng,
    x: f32,
    v: f32,
    /// The last applied acceleration (for drawing).
    u: f32,
    t: usize,
}

impl DoubleIntegrator {
    /// The start state is drawn at once, so `scene()` is meaningful before the first reset.
    pub fn new(params: DoubleIntegratorParams, seed: u64) -> Self {
        let mut env = Self { p: params, rng: EnvRng::seed_from_u64(seed), x: 0.0, v: 0.0, u: 0.0, t: 0 };
        env.draw_start();
        env
    }

    pub fn params(&self) -> &DoubleIntegratorParams {
        &self.p
    }

    /// Current (x, v).
    pub fn state(&self) -> (f32, f32) {
        (self.x, self.v)
    }

    /// Puts the system in a chosen state (tests, probes, demos); the step counter is kept.
    pub fn set_state(&mut self, x: f32, v: f32) {
        self.x = x;
        self.v = v;
    }

    /// Distance travelled while braking at full force from speed `v` until standing still,
    /// exact for the discrete dynamics (see [`braking_distance`]).
    pub fn braking_distance(&self, v: f32) -> f32 {
        braking_distance(v, &self.p)
    }

    /// True when no action sequence from (x, v) avoids |x| > x_max at some future step
    /// (already-violating states included).
    pub fn is_doomed(&self, x: f32, v: f32) -> bool {
        is_doomed(x, v, &self.p)
    }

    /// Signed safety margin of (x, v): > 0 safe, < 0 doomed (see [`doom_margin`]).
    pub fn doom_margin(&self, x: f32, v: f32) -> f32 {
        doom_margin(x, v, &self.p)
    }

    fn draw_start(&mut self) {
        let w = self.p.start_half_width.abs();
        self.x = self.rng.random_range(-w..=w);
        self.v = self.rng.random_range(-w..=w);
        self.u = 0.0;
        self.t = 0;
    }

    fn write_obs(&self, x: f32, v: f32, obs: &mut [f32]) {
        obs[0] = x / self.p.x_max;
        obs[1] = v / self.p.v_max;
    }
}

/// Distance covered under full braking from speed `v` until the cart stands still, in
/// closed form.
///
/// Braking at full force makes every future velocity as small as any action can, so it
/// gives the smallest reach. The first step gives v₁ = min(|v| − δ, v_max) with δ = u_max·dt,
/// then v₁ − δ, v₁ − 2δ, … while positive; the last step lands exactly on 0 (a smaller
/// brake than u_max, always available), so it adds nothing. With n = ⌈v₁/δ⌉ positive terms
/// the arithmetic series gives
///
///   d = dt · (n·v₁ − δ·n(n−1)/2).
///
/// When |v| is a multiple of δ this is v²/(2·u_max) − |v|·dt/2: semi-implicit Euler stops
/// half a step's travel shorter than the continuous v²/(2·u_max), which it approaches as
/// dt → 0. This is real arithmetic; [`doom_margin`] and [`is_doomed`] instead replay the
/// f32 steps, so that states exactly on the boundary are judged as `step` judges them.
pub fn braking_distance(v: f32, p: &DoubleIntegratorParams) -> f32 {
    let (dt, delta) = (f64::from(p.dt), f64::from(p.u_max) * f64::from(p.dt));
    let v1 = (f64::from(v).abs() - delta).min(f64::from(p.v_max));
    if v1 <= 0.0 {
        return 0.0;
    }
    let n = (v1 / delta).ceil();
    (dt * (n * v1 - delta * n * (n - 1.0) / 2.0)) as f32
}

/// Signed safety margin x_max − max |x| over the current state and the full-braking
/// trajectory from it: > 0 safe, < 0 doomed, 0 exactly at the wall (allowed). Replays the
/// f32 dynamics of `step` (full force, then the stopping step), so it is exact for the
/// implemented system, rounding included; up to rounding it equals
/// min(x_max − |x|, x_max − |x + sign(v)·braking_distance(v)|).
pub fn doom_margin(x: f32, v: f32, p: &DoubleIntegratorParams) -> f32 {
    let (mut x, mut v) = (x, v);
    let mut reach = x.abs();
    let delta = p.u_max * p.dt;
    // Full braking stops within |v|/δ + 1 steps; a few more absorb rounding residue.
    let max_steps = (2.0 * p.v_max.max(v.abs()) / delta) as usize + 8;
    for _ in 0..max_steps {
        if v == 0.0 {
            break;
        }
        (x, v) = advance(x, v, stopping_action(v, p), p);
        reach = reach.max(x.abs());
    }
    p.x_max - reach
}

/// True when even full braking from (x, v) crosses |x| > x_max at some future step, or the
/// state already violates: no action sequence then avoids a violation.
pub fn is_doomed(x: f32, v: f32, p: &DoubleIntegratorParams) -> bool {
    doom_margin(x, v, p) < 0.0
}

/// The best braking action: full force, except a last, smaller push that lands on v = 0.
fn stopping_action(v: f32, p: &DoubleIntegratorParams) -> f32 {
    (-v / (p.u_max * p.dt)).clamp(-1.0, 1.0)
}

/// One step of the dynamics (semi-implicit Euler) for a clamped action; shared by `step`
/// and the oracle so they cannot drift apart.
fn advance(x: f32, v: f32, action: f32, p: &DoubleIntegratorParams) -> (f32, f32) {
    let v = (v + p.u_max * action * p.dt).clamp(-p.v_max, p.v_max);
    (x + v * p.dt, v)
}

impl Env for DoubleIntegrator {
    fn kind(&self) -> EnvKind {
        EnvKind::DoubleIntegrator
    }
    fn obs_dim(&self) -> usize {
        2
    }
    fn act_dim(&self) -> usize {
        1
    }
    fn max_episode_steps(&self) -> usize {
        self.p.max_episode_steps
    }

    fn reset(&mut self, obs: &mut [f32]) {
        self.draw_start();
        self.write_obs(self.x, self.v, obs);
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepOutcome {
        let p = &self.p;
        let a = action[0].clamp(-1.0, 1.0);
        self.u = p.u_max * a;
        (self.x, self.v) = advance(self.x, self.v, a, p);
        self.t += 1;
        let violating = self.x.abs() > p.x_max;
        let outcome = StepOutcome {
            // Capped at the wall: no gain from crossing it (docs/method.md §7: a violation must
            // never pay without limit).
            reward: self.x.min(p.x_max) / p.x_max - p.action_penalty * a * a,
            cost: if violating { 1.0 } else { 0.0 },
            // Far outside: nothing left to learn, stop the runaway.
            terminated: self.x.abs() > 2.0 * p.x_max,
            truncated: self.t >= p.max_episode_steps,
        };
        self.write_obs(self.x, self.v, obs);
        outcome
    }

    fn scene(&self) -> Scene {
        Scene::DoubleIntegrator {
            x: self.x,
            v: self.v,
            x_max: self.p.x_max,
            v_max: self.p.v_max,
            u: self.u,
            doomed: self.is_doomed(self.x, self.v),
            violating: self.x.abs() > self.p.x_max,
        }
    }

    fn save_state(&self) -> serde_json::Value {
        super::state_json(self)
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<(), String> {
        *self = super::restore_state(
            state,
            &self.p,
            |e: &Self| &e.p,
            |e: &Self| [e.x, e.v, e.u].iter().all(|v| v.is_finite()) && e.t <= e.p.max_episode_steps,
        )?;
        Ok(())
    }
    /// x over [-1.2·x_max, 1.2·x_max] × v over [-v_max, v_max], doomed from the oracle.
    fn probe_grid(&self, nx: usize, ny: usize) -> Option<ProbeGrid> {
        let x_range = [-1.2 * self.p.x_max, 1.2 * self.p.x_max];
        let y_range = [-self.p.v_max, self.p.v_max];
        let mut obs = vec![0.0; nx * ny * 2];
        let mut doomed = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            let v = cell_centre(y_range, j, ny);
            for i in 0..nx {
                let x = cell_centre(x_range, i, nx);
                let k = j * nx + i;
                self.write_obs(x, v, &mut obs[2 * k..2 * k + 2]);
                doomed.push(self.is_doomed(x, v));
            }
        }
        Some(ProbeGrid {
            x_label: "position x".into(),
            y_label: "velocity v".into(),
            x_range,
            y_range,
            nx,
            ny,
            obs,
            doomed: Some(doomed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> DoubleIntegrator {
        DoubleIntegrator::new(DoubleIntegratorParams::default(), 0)
    }

    /// Ground truth by simulation: drive `step()` itself with the best braking action
    /// (full force, but the last step stops exactly at v = 0) and report any violation.
    fn doomed_by_rollout(x: f32, v: f32) -> bool {
        let mut e = env();
        if x.abs() > e.p.x_max {
            return true;
        }
        e.set_state(x, v);
        let mut obs = [0.0; 2];
        for _ in 0..100 {
            let (_, v) = e.state();
            if v == 0.0 {
                return false;
            }
            let a = if v.abs() > 0.05 { -v.signum() } else { -v / 0.05 };
            if e.step(&[a], &mut obs).cost > 0.0 {
                return true;
            }
        }
        // Rounding may leave a tiny |v|; it moves the cart by far less than any margin.
        false
    }

    #[test]
    fn oracle_matches_brute_force_rollouts() {
        let p = DoubleIntegratorParams::default();
        let n = 121;
        let (mut disagree, mut n_doomed) = (Vec::new(), 0);
        for i in 0..n {
            for j in 0..n {
                let x = -1.2 + 2.4 * i as f32 / (n - 1) as f32;
                let v = -2.0 + 4.0 * j as f32 / (n - 1) as f32;
                let oracle = is_doomed(x, v, &p);
                n_doomed += oracle as usize;
                if oracle != doomed_by_rollout(x, v) {
                    disagree.push((x, v, doom_margin(x, v, &p)));
                }
            }
        }
        assert!(disagree.is_empty(), "{} disagreements: {:?}", disagree.len(), &disagree[..disagree.len().min(10)]);
        assert!(n_doomed > n * n / 10 && n_doomed < n * n * 9 / 10);
    }

    /// The replayed margin and the closed-form braking distance agree up to rounding.
    #[test]
    fn margin_matches_closed_form() {
        let p = DoubleIntegratorParams::default();
        for i in 0..61 {
            for j in 0..61 {
                let x = -1.2 + 2.4 * i as f32 / 60.0;
                let v = -2.0 + 4.0 * j as f32 / 60.0;
                let stop = x + v.signum() * braking_distance(v, &p);
                let closed = (p.x_max - x.abs()).min(p.x_max - stop.abs());
                assert!((doom_margin(x, v, &p) - closed).abs() < 1e-5, "({x}, {v})");
            }
        }
    }

    /// Full braking is the best escape: from doomed states no other action sequence
    /// (random ones, bang-bang with a late switch) avoids the violation either.
    #[test]
    fn nothing_escapes_a_doomed_state() {
        use rand::{Rng, SeedableRng};
        let p = DoubleIntegratorParams::default();
        let mut rng = EnvRng::seed_from_u64(1);
        let mut obs = [0.0; 2];
        for i in 0..31 {
            for j in 0..31 {
                let (x, v) = (-1.0 + 2.0 * i as f32 / 30.0, -2.0 + 4.0 * j as f32 / 30.0);
                if !is_doomed(x, v, &p) {
                    continue;
                }
                for trial in 0..20 {
                    let mut e = env();
                    e.set_state(x, v);
                    let violated = (0..120).any(|t| {
                        let a = if trial < 10 {
                            rng.random_range(-1.0..=1.0)
                        } else {
                            -v.signum() * if t < trial { 1.0 } else { 0.5 }
                        };
                        e.step(&[a], &mut obs).cost > 0.0
                    });
                    assert!(violated, "escaped from ({x}, {v})");
                }
            }
        }
    }

    #[test]
    fn oracle_hand_checked_values() {
        let p = DoubleIntegratorParams::default();
        // Standing still inside the walls is always safe, also right at a wall.
        for x in [-1.0, -0.5, 0.0, 0.99, 1.0] {
            assert!(!is_doomed(x, 0.0, &p), "x = {x}");
        }
        // v = 1: terms 0.95, 0.90, …, 0.05 → 0.05·9.5 = 0.475 (continuous: 0.5 − 0.025).
        assert!((braking_distance(1.0, &p) - 0.475).abs() < 1e-6);
        assert!((braking_distance(-1.0, &p) - 0.475).abs() < 1e-6);
        assert_eq!(braking_distance(0.05, &p), 0.0);
        assert!(is_doomed(0.99, 1.0, &p));
        assert!(!is_doomed(0.5, 1.0, &p)); // stops at 0.975
        assert!(is_doomed(0.53, 1.0, &p)); // stops at 1.005
        assert!(!is_doomed(0.99, -1.0, &p)); // moving away from the near wall
        assert!(is_doomed(-0.99, -1.0, &p));
        assert!(is_doomed(1.01, -2.0, &p)); // already violating
        assert!((doom_margin(0.5, 1.0, &p) - 0.025).abs() < 1e-6);
    }

    #[test]
    fn cost_is_one_exactly_past_the_wall() {
        let mut e = env();
        let mut obs = [0.0; 2];
        e.set_state(0.5, 0.0);
        let out = e.step(&[0.0], &mut obs);
        assert_eq!(out.cost, 0.0);
        // Drive into the right wall at full throttle.
        let mut costs = Vec::new();
        for _ in 0..40 {
            let out = e.step(&[1.0], &mut obs);
            costs.push((e.state().0, out.cost));
        }
        assert!(costs.iter().all(|&(x, c)| c == if x > 1.0 { 1.0 } else { 0.0 }));
        assert!(costs.iter().any(|&(_, c)| c == 1.0));
    }

    #[test]
    fn reward_is_capped_at_the_wall() {
        let mut e = env();
        let mut obs = [0.0; 2];
        e.set_state(1.0, 0.0);
        let at_wall = e.step(&[0.0], &mut obs).reward;
        e.set_state(1.5, 0.0);
        let outside = e.step(&[0.0], &mut obs);
        assert!(outside.reward <= at_wall, "{} > {at_wall}", outside.reward);
        assert_eq!(outside.cost, 1.0);
        e.set_state(0.5, 0.0);
        assert!(e.step(&[0.0], &mut obs).reward < at_wall);
    }

    #[test]
    fn runaway_terminates() {
        let mut e = env();
        let mut obs = [0.0; 2];
        e.set_state(1.99, 2.0);
        let out = e.step(&[1.0], &mut obs);
        assert!(out.terminated && out.cost == 1.0);
    }

    #[test]
    fn same_seed_same_trajectory_different_seed_different_start() {
        let run = |seed| {
            let mut e = DoubleIntegrator::new(DoubleIntegratorParams::default(), seed);
            crate::env::rollout_log(&mut e, 600, |t| vec![((t as f32) * 0.37).sin() * 1.2])
        };
        let a = run(11);
        assert!(a.len() > 2 + 600 * 6, "expected at least one reset");
        assert_eq!(a, run(11));
        assert_ne!(a[..2], run(12)[..2], "a different seed starts elsewhere");
    }

    #[test]
    fn truncates_at_max_episode_steps() {
        let mut e = env();
        let mut obs = [0.0; 2];
        e.reset(&mut obs);
        for t in 1..=200 {
            // Stay near the middle: a PD controller keeps it inside.
            let (x, v) = e.state();
            let out = e.step(&[-2.0 * x - 2.0 * v], &mut obs);
            assert!(!out.terminated);
            assert_eq!(out.truncated, t == 200);
        }
    }

    #[test]
    fn probe_grid_shape_and_doomed_fraction() {
        let g = env().probe_grid(41, 31).unwrap();
        assert_eq!(g.obs.len(), 41 * 31 * 2);
        let d = g.doomed.unwrap();
        let frac = d.iter().filter(|&&b| b).count() as f32 / d.len() as f32;
        assert!((0.1..0.9).contains(&frac), "doomed fraction {frac}");
        // Row 0, column 0 is (x, v) = lowest corner: far left and moving left.
        assert!(g.obs[0] < -1.0 && g.obs[1] < -0.9 && d[0]);
    }
}
