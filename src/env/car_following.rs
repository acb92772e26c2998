//! Car-following: keep a minimum headway behind a lead car that brakes at random — the
//! driving example. Reward for speed makes the headway constraint bind when the lead brakes.

use rand::{Rng, SeedableRng};

use super::{cell_centre, Env, EnvKind, EnvRng, ProbeGrid, Scene, StepOutcome};

/// Parameters of [`CarFollowing`] (SI units: m, s, m/s, m/s²).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CarFollowingParams {
    pub dt: f32,
    /// Speed the lead car cruises at; the ego's speed reward saturates here too.
    pub v_lead_cruise: f32,
    /// Chance per step that a cruising lead starts to brake.
    pub brake_prob: f32,
    /// A braking episode's deceleration is drawn uniformly from [brake_min, brake_max].
    pub brake_min: f32,
    pub brake_max: f32,
    /// A braking episode's target speed is drawn uniformly from [0, brake_target_max].
    pub brake_target_max: f32,
    /// Acceleration with which the lead returns to cruise after braking.
    pub lead_recover_accel: f32,
    /// Ego speed limit; its speed stays in [0, v_max].
    pub v_max: f32,
    /// Ego's largest acceleration/deceleration; action ±1 maps to it.
    pub a_max: f32,
    pub car_length: f32,
    /// Cost 1.0 whenever the bumper-to-bumper gap is below this.
    pub min_gap: f32,
    pub max_episode_steps: usize,
    /// Start gap drawn uniformly from this range.
    pub start_gap: [f32; 2],
    /// Start ego speed drawn uniformly from this range.
    pub start_speed: [f32; 2],
    /// Penalty on action², so cruising does not jitter.
    pub action_penalty: f32,
    /// Gap observation scale: `obs[0]` = clamp(gap / gap_scale, 0, 2).
    pub gap_scale: f32,
}

impl Default for CarFollowingParams {
    fn default() -> Self {
        Self {
            dt: 0.1,
            v_lead_cruise: 20.0,
            brake_prob: 0.01,
            brake_min: 4.0,
            brake_max: 6.0,
            brake_target_max: 15.0,
            lead_recover_accel: 2.0,
            v_max: 30.0,
            a_max: 5.0,
            car_length: 4.5,
            min_gap: 5.0,
            max_episode_steps: 400,
            start_gap: [15.0, 40.0],
            start_speed: [15.0, 22.0],
            action_penalty: 0.01,
            gap_scale: 50.0,
        }
    }
}

/// What the lead car is doing.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
enum LeadMode {
    Cruise,
    Braking { decel: f32, target: f32 },
    Recovering,
}

/// Ego car behind a lead car on a 1-D road, semi-implicit Euler for both.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CarFollowing {
    p: CarFollowingParams,
    rng: EnvRng,
    ego_x: f32,
    ego_v: f32,
    lead_x: f32,
    lead_v: f32,
    /// The lead's acceleration over the last step, (v' − v)/dt.
    lead_accel: f32,
    mode: LeadMode,
    t: usize,
}

impl CarFollowing {
    /// The start state is drawn at once, so `scene()` works before `reset`.
    pub fn new(params: CarFollowingParams, seed: u64) -> Self {
        let mut env = Self {
            p: params,
            rng: EnvRng::seed_from_u64(seed),
            ego_x: 0.0,
            ego_v: 0.0,
            lead_x: 0.0,
            lead_v: 0.0,
            lead_accel: 0.0,
            mode: LeadMode::Cruise,
            t: 0,
        };
        env.draw_start();
        env
    }

    pub fn params(&self) -> &CarFollowingParams {
        &self.p
    }

    /// Bumper-to-bumper distance.
    pub fn gap(&self) -> f32 {
        self.lead_x - self.ego_x - self.p.car_length
    }

    /// (gap, ego speed, lead speed).
    pub fn state(&self) -> (f32, f32, f32) {
        (self.gap(), self.ego_v, self.lead_v)
    }

    /// Places the cars (tests, demos): ego at x = 0, lead cruising ahead at `lead_v`; step
    /// counter kept.
    pub fn set_state(&mut self, gap: f32, ego_v: f32, lead_v: f32) {
        self.ego_x = 0.0;
        self.ego_v = ego_v;
        self.lead_x = gap + self.p.car_length;
        self.lead_v = lead_v;
        self.lead_accel = 0.0;
        self.mode = LeadMode::Cruise;
    }

    /// True when the ego cannot avoid gap < min_gap if the lead brakes as hard as it can
    /// (brake_max, down to 0) from the next step on. Exact for the discrete dynamics: full
    /// braking makes every future ego position as small as any action can, so it is the
    /// ego's best answer; the loop runs the same update functions as `step`. The real lead
    /// brakes only from cruise, to a target ≥ 0, then re-accelerates, so it is never worse:
    /// "doomed" here is the conservative, worst-case reading.
    pub fn is_doomed_worst_case(&self, gap: f32, ego_v: f32, lead_v: f32) -> bool {
        let p = &self.p;
        let (mut ego_x, mut ego_v, mut lead_x, mut lead_v) = (0.0, ego_v, gap + p.car_length, lead_v);
        // Both cars stop within v/(decel·dt) steps; the bound only guards odd parameters.
        for _ in 0..100_000 {
            if lead_x - ego_x - p.car_length < p.min_gap {
                return true;
            }
            if ego_v <= 0.0 && lead_v <= 0.0 {
                return false;
            }
            // The lead stays stopped: its re-acceleration in `step` could only help.
            lead_v = brake(lead_v, p.brake_max, 0.0, p);
            lead_x += lead_v * p.dt;
            ego_v = ego_advance(ego_v, -1.0, p);
            ego_x += ego_v * p.dt;
        }
        false
    }

    fn draw_start(&mut self) {
        let (g, s) = (self.p.start_gap, self.p.start_speed);
        let gap = self.rng.random_range(g[0].min(g[1])..=g[0].max(g[1]));
        let v = self.rng.random_range(s[0].min(s[1])..=s[0].max(s[1]));
        self.set_state(gap, v, self.p.v_lead_cruise);
        self.t = 0;
    }

    fn write_obs(&self, gap: f32, ego_v: f32, lead_v: f32, lead_accel: f32, obs: &mut [f32]) {
        let p = &self.p;
        obs[0] = (gap / p.gap_scale).clamp(0.0, 2.0);
        obs[1] = ego_v / p.v_max;
        obs[2] = (lead_v - ego_v) / p.v_max;
        obs[3] = lead_accel / p.a_max;
    }
}

/// The lead's next speed and mode, given that any random brake decision is already made.
fn lead_advance(v: f32, mode: LeadMode, p: &CarFollowingParams) -> (f32, LeadMode) {
    match mode {
        LeadMode::Cruise => (v, mode),
        LeadMode::Braking { decel, target } => {
            let v = brake(v, decel, target, p);
            (v, if v <= target { LeadMode::Recovering } else { mode })
        }
        LeadMode::Recovering => {
            let v = (v + p.lead_recover_accel * p.dt).min(p.v_lead_cruise);
            (v, if v >= p.v_lead_cruise { LeadMode::Cruise } else { mode })
        }
    }
}

/// One step of braking at `decel` that stops at `target`.
fn brake(v: f32, decel: f32, target: f32, p: &CarFollowingParams) -> f32 {
    (v - decel * p.dt).max(target)
}

/// The ego's next speed under a (clamped) action; speed stays in [0, v_max].
fn ego_advance(v: f32, action: f32, p: &CarFollowingParams) -> f32 {
    (v + p.a_max * action.clamp(-1.0, 1.0) * p.dt).clamp(0.0, p.v_max)
}

impl Env for CarFollowing {
    fn kind(&self) -> EnvKind {
        EnvKind::CarFollowing
    }
    fn obs_dim(&self) -> usize {
        4
    }
    fn act_dim(&self) -> usize {
        1
    }
    fn max_episode_steps(&self) -> usize {
        self.p.max_episode_steps
    }

    fn reset(&mut self, obs: &mut [f32]) {
        self.draw_start();
        self.write_obs(self.gap(), self.ego_v, self.lead_v, self.lead_accel, obs);
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepOutcome {
        let p = &self.p;
        if self.mode == LeadMode::Cruise && self.rng.random_bool(f64::from(p.brake_prob.clamp(0.0, 1.0))) {
            let decel = self.rng.random_range(p.brake_min..=p.brake_max.max(p.brake_min));
            let target = self.rng.random_range(0.0..=p.brake_target_max.max(0.0));
            self.mode = LeadMode::Braking { decel, target };
        }
        let (lead_v, mode) = lead_advance(self.lead_v, self.mode, p);
        self.lead_accel = (lead_v - self.lead_v) / p.dt;
        (self.lead_v, self.mode) = (lead_v, mode);
        self.lead_x += self.lead_v * p.dt;

        let a = action[0].clamp(-1.0, 1.0);
        self.ego_v = ego_advance(self.ego_v, a, p);
        self.ego_x += self.ego_v * p.dt;
        self.t += 1;

        let gap = self.gap();
        let p = &self.p;
        let outcome = StepOutcome {
            // Capped at cruise speed: tailgating a slow lead cannot pay (docs/method.md §7: a
            // violation must never pay without limit).
            reward: self.ego_v.min(p.v_lead_cruise) / p.v_lead_cruise - p.action_penalty * a * a,
            cost: if gap < p.min_gap { 1.0 } else { 0.0 },
            terminated: gap <= 0.0,
            truncated: self.t >= p.max_episode_steps,
        };
        self.write_obs(gap, self.ego_v, self.lead_v, self.lead_accel, obs);
        outcome
    }

    fn scene(&self) -> Scene {
        Scene::CarFollowing {
            ego_x: self.ego_x,
            ego_v: self.ego_v,
            lead_x: self.lead_x,
            lead_v: self.lead_v,
            min_gap: self.p.min_gap,
            car_length: self.p.car_length,
            violating: self.gap() < self.p.min_gap,
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
            |e: &Self| {
                [e.ego_x, e.ego_v, e.lead_x, e.lead_v, e.lead_accel].iter().all(|v| v.is_finite())
                    && e.t <= e.p.max_episode_steps
                    && match e.mode {
                        LeadMode::Braking { decel, target } => decel.is_finite() && target.is_finite(),
                        _ => true,
                    }
            },
        )?;
        Ok(())
    }
    /// Gap over [0, 50] m (x) × ego speed over [0, v_max] (y), lead at its current speed and
    /// not accelerating. `doomed` is the worst-case oracle [`CarFollowing::is_doomed_worst_case`].
    fn probe_grid(&self, nx: usize, ny: usize) -> Option<ProbeGrid> {
        let x_range = [0.0, 50.0];
        let y_range = [0.0, self.p.v_max];
        let mut obs = vec![0.0; nx * ny * 4];
        let mut doomed = Vec::with_capacity(nx * ny);
        for j in 0..ny {
            let v = cell_centre(y_range, j, ny);
            for i in 0..nx {
                let gap = cell_centre(x_range, i, nx);
                let k = j * nx + i;
                self.write_obs(gap, v, self.lead_v, 0.0, &mut obs[4 * k..4 * k + 4]);
                doomed.push(self.is_doomed_worst_case(gap, v, self.lead_v));
            }
        }
        Some(ProbeGrid {
            x_label: "gap (m)".into(),
            y_label: "ego speed (m/s)".into(),
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

    fn env() -> CarFollowing {
        CarFollowing::new(CarFollowingParams::default(), 9)
    }

    #[test]
    fn cost_is_one_exactly_when_too_close() {
        let mut e = env();
        e.p.brake_prob = 0.0;
        let mut obs = [0.0; 4];
        // 3 m behind, same speed: violation, no collision.
        e.set_state(3.0, 20.0, 20.0);
        let out = e.step(&[0.0], &mut obs);
        assert_eq!((out.cost, out.terminated), (1.0, false));
        e.set_state(20.0, 20.0, 20.0);
        let out = e.step(&[0.0], &mut obs);
        assert_eq!((out.cost, out.terminated), (0.0, false));
        // Just above the limit stays free, crossing it costs.
        e.set_state(5.05, 20.0, 20.0);
        assert_eq!(e.step(&[0.0], &mut obs).cost, 0.0);
        e.set_state(5.05, 20.0, 19.0);
        assert_eq!(e.step(&[0.0], &mut obs).cost, 1.0);
        // Collision terminates, with cost.
        e.set_state(1.0, 30.0, 0.0);
        let out = e.step(&[1.0], &mut obs);
        assert_eq!((out.cost, out.terminated), (1.0, true));
        assert_eq!(obs[0], 0.0);
    }

    #[test]
    fn reward_is_capped_at_cruise_speed() {
        let mut e = env();
        e.p.brake_prob = 0.0;
        let mut obs = [0.0; 4];
        e.set_state(40.0, 20.0, 20.0);
        let cruise = e.step(&[0.0], &mut obs).reward;
        e.set_state(40.0, 29.0, 20.0);
        assert!(e.step(&[0.0], &mut obs).reward <= cruise);
        e.set_state(40.0, 10.0, 20.0);
        assert!(e.step(&[0.0], &mut obs).reward < cruise);
    }

    #[test]
    fn lead_brakes_and_recovers() {
        let mut e = env();
        e.p.brake_prob = 1.0;
        let mut obs = [0.0; 4];
        e.set_state(1000.0, 20.0, 20.0);
        e.step(&[0.0], &mut obs);
        let LeadMode::Braking { decel, target } = e.mode else { panic!("{:?}", e.mode) };
        assert!((4.0..=6.0).contains(&decel) && (0.0..=15.0).contains(&target));
        assert!((obs[3] + decel / 5.0).abs() < 1e-4, "{obs:?}");
        let mut seen = vec![e.mode];
        for _ in 0..300 {
            e.step(&[0.0], &mut obs);
            assert!(e.lead_v >= 0.0 && e.lead_v <= 20.0);
            if *seen.last().unwrap() != e.mode {
                seen.push(e.mode);
            }
        }
        assert!(seen.len() >= 3 && seen[1] == LeadMode::Recovering && seen[2] == LeadMode::Cruise, "{seen:?}");
    }

    /// Ground truth by simulation: force the lead into its hardest brake to 0 (and keep it
    /// stopped), brake the ego fully through `step()`, look for any violation.
    fn doomed_by_rollout(gap: f32, v: f32, lead_v: f32) -> bool {
        let mut e = env();
        e.p.lead_recover_accel = 0.0;
        e.p.max_episode_steps = usize::MAX;
        e.set_state(gap, v, lead_v);
        if gap < e.p.min_gap {
            return true;
        }
        e.mode = LeadMode::Braking { decel: e.p.brake_max, target: 0.0 };
        let mut obs = [0.0; 4];
        for _ in 0..1000 {
            if e.step(&[-1.0], &mut obs).cost > 0.0 {
                return true;
            }
        }
        false
    }

    #[test]
    fn worst_case_oracle_matches_rollouts() {
        let e = env();
        let mut n_doomed = 0;
        for lead_v in [0.0, 7.5, 20.0] {
            for i in 0..61 {
                for j in 0..61 {
                    let (gap, v) = (50.0 * i as f32 / 60.0, 30.0 * j as f32 / 60.0);
                    let oracle = e.is_doomed_worst_case(gap, v, lead_v);
                    assert_eq!(oracle, doomed_by_rollout(gap, v, lead_v), "gap {gap}, v {v}, lead {lead_v}");
                    n_doomed += oracle as usize;
                }
            }
        }
        assert!(n_doomed > 0 && n_doomed < 3 * 61 * 61);
        // Hand checks: standing still far back is safe; 6 m behind at 30 m/s with a stopped lead is not.
        assert!(!e.is_doomed_worst_case(50.0, 0.0, 0.0));
        assert!(e.is_doomed_worst_case(6.0, 30.0, 0.0));
        // Equal speeds: the lead (6 m/s²) stops shorter than the ego (5 m/s²) by about
        // v²/60 ≈ 6.7 m at 20 m/s, so about 12 m of gap are needed.
        assert!(!e.is_doomed_worst_case(20.0, 20.0, 20.0));
        assert!(e.is_doomed_worst_case(8.0, 20.0, 20.0));
    }

    #[test]
    fn same_seed_same_trajectory_different_seed_different_start() {
        let run = |seed| {
            let mut e = CarFollowing::new(CarFollowingParams::default(), seed);
            crate::env::rollout_log(&mut e, 1000, |t| vec![((t as f32) * 0.05).sin()])
        };
        let a = run(3);
        assert_eq!(a, run(3));
        assert_ne!(a[..4], run(4)[..4], "a different seed starts elsewhere");
    }

    #[test]
    fn truncates_at_max_episode_steps() {
        let mut e = env();
        let mut obs = [0.0; 4];
        e.reset(&mut obs);
        e.set_state(30.0, 20.0, 20.0);
        for t in 1..=400 {
            // Stop and stay: never collides, whatever the lead does.
            let out = e.step(&[-1.0], &mut obs);
            assert!(!out.terminated);
            assert_eq!(out.truncated, t == 400);
        }
    }

    #[test]
    fn probe_grid_shape() {
        let g = env().probe_grid(11, 7).unwrap();
        assert_eq!(g.obs.len(), 11 * 7 * 4);
        let d = g.doomed.unwrap();
        // Bottom-left cell: nearly touching; bottom-right: 50 m back, crawling.
        assert!(d[0] && !d[10]);
    }
}
