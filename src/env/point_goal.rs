//! Point-goal: a point robot reaches goals in a square arena strewn with circular hazards,
//! seeing both through pseudo-lidar — the Safety-Gym PointGoal analogue and the demo.
//!
//! Kept cheap (no heap allocation in `step`, one atan2 per object) because the agent
//! spends most of its samples here.

use std::f32::consts::TAU;

use rand::{Rng, SeedableRng};

use super::{cell_centre, Env, EnvKind, EnvRng, ProbeGrid, Scene, StepOutcome};

/// Parameters of [`PointGoal`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PointGoalParams {
    /// The arena is [-arena, arena]²; the robot is stopped at its walls (no cost there).
    pub arena: f32,
    /// Integration step, seconds.
    pub dt: f32,
    /// Top speed; action 1.0 drives velocity toward it.
    pub max_speed: f32,
    /// Velocity smoothing: vel ← inertia·vel + (1 − inertia)·max_speed·action.
    pub inertia: f32,
    pub n_hazards: usize,
    pub hazard_radius: f32,
    pub goal_radius: f32,
    /// Shaping: reward += goal_progress_scale · (previous goal distance − goal distance).
    pub goal_progress_scale: f32,
    /// Reward added on the step that reaches the goal.
    pub goal_bonus: f32,
    /// Lidar bins per object kind; obs_dim = 4 + 2·lidar_bins.
    pub lidar_bins: usize,
    /// Distance at which a goal-lidar reading fades to 0.
    pub lidar_range: f32,
    /// The same for hazards, and much shorter: a reading then says "close, and how close"
    /// instead of lighting every bin with far-away hazards. Measured (REPRODUCTION.md): at 3.0
    /// no constrained method learned to avoid hazards in 30k steps; at 0.5 ALaM cut violations
    /// several-fold while still reaching goals.
    pub hazard_lidar_range: f32,
    /// Free space kept between placed objects beyond their radii, so a hazard does not
    /// graze the start or the goal.
    pub keepout: f32,
    pub max_episode_steps: usize,
}

impl Default for PointGoalParams {
    fn default() -> Self {
        Self {
            arena: 2.0,
            dt: 0.1,
            max_speed: 1.0,
            inertia: 0.8,
            n_hazards: 6,
            hazard_radius: 0.35,
            goal_radius: 0.3,
            goal_progress_scale: 10.0,
            goal_bonus: 1.0,
            lidar_bins: 16,
            lidar_range: 3.0,
            hazard_lidar_range: 0.5,
            keepout: 0.1,
            max_episode_steps: 250,
        }
    }
}

/// Rejection-sampling budget per object. If it runs out (only with crowded parameters)
/// the last candidate is kept, so reset always finishes.
const PLACEMENT_TRIES: usize = 200;

/// Holonomic point robot with inertia; cost 1.0 while its centre is inside a hazard.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PointGoal {
    p: PointGoalParams,
    rng: EnvRng,
    pos: [f32; 2],
    vel: [f32; 2],
    goal: [f32; 2],
    /// x, y, r; capacity n_hazards, refilled in place each episode.
    hazards: Vec<[f32; 3]>,
    goal_dist: f32,
    t: usize,
}

impl PointGoal {
    /// The first episode's layout is drawn at once, so `scene()` works before `reset`.
    pub fn new(params: PointGoalParams, seed: u64) -> Self {
        let hazards = Vec::with_capacity(params.n_hazards);
        let mut env = Self {
            p: params,
            rng: EnvRng::seed_from_u64(seed),
            pos: [0.0; 2],
            vel: [0.0; 2],
            goal: [0.0; 2],
            hazards,
            goal_dist: 0.0,
            t: 0,
        };
        env.draw_episode();
        env
    }

    pub fn params(&self) -> &PointGoalParams {
        &self.p
    }

    /// Robot position and velocity.
    pub fn robot(&self) -> ([f32; 2], [f32; 2]) {
        (self.pos, self.vel)
    }

    pub fn goal(&self) -> [f32; 2] {
        self.goal
    }

    pub fn hazards(&self) -> &[[f32; 3]] {
        &self.hazards
    }

    /// Moves the robot (tests, demos); the goal distance used for shaping follows it.
    pub fn set_robot(&mut self, pos: [f32; 2], vel: [f32; 2]) {
        self.pos = pos;
        self.vel = vel;
        self.goal_dist = dist(pos, self.goal);
    }

    /// Replaces the hazard layout (tests, hand-made scenes).
    pub fn set_hazards(&mut self, hazards: &[[f32; 3]]) {
        self.hazards.clear();
        self.hazards.extend_from_slice(hazards);
    }

    /// Moves the goal (tests, hand-made scenes).
    pub fn set_goal(&mut self, goal: [f32; 2]) {
        self.goal = goal;
        self.goal_dist = dist(self.pos, goal);
    }

    fn uniform_point(&mut self, margin: f32) -> [f32; 2] {
        let h = (self.p.arena - margin).max(0.0);
        [self.rng.random_range(-h..=h), self.rng.random_range(-h..=h)]
    }

    /// Robot start, then the goal (not already reached), then hazards clear of both and of
    /// each other.
    fn draw_episode(&mut self) {
        let p = self.p.clone();
        self.t = 0;
        self.vel = [0.0; 2];
        self.pos = self.uniform_point(p.keepout);
        self.hazards.clear();
        self.goal = self.place_goal();
        for _ in 0..p.n_hazards {
            let mut c = [0.0; 2];
            for _ in 0..PLACEMENT_TRIES {
                c = self.uniform_point(p.hazard_radius);
                let r = p.hazard_radius + p.keepout;
                let clear = dist(c, self.pos) > r
                    && dist(c, self.goal) > r + p.goal_radius
                    && self.hazards.iter().all(|h| dist(c, [h[0], h[1]]) > r + h[2]);
                if clear {
                    break;
                }
            }
            self.hazards.push([c[0], c[1], p.hazard_radius]);
        }
        self.goal_dist = dist(self.pos, self.goal);
    }

    /// A goal away from the robot (so it is not reached at once) and from every hazard.
    fn place_goal(&mut self) -> [f32; 2] {
        let p = &self.p;
        let (gr, ko, arena) = (p.goal_radius, p.keepout, p.arena);
        let mut g = [0.0; 2];
        for _ in 0..PLACEMENT_TRIES {
            let h = (arena - gr).max(0.0);
            g = [self.rng.random_range(-h..=h), self.rng.random_range(-h..=h)];
            let clear = dist(g, self.pos) > 2.0 * gr + ko
                && self.hazards.iter().all(|h| dist(g, [h[0], h[1]]) > h[2] + gr + ko);
            if clear {
                break;
            }
        }
        g
    }

    fn in_hazard(&self, pos: [f32; 2]) -> bool {
        self.hazards.iter().any(|h| {
            let (dx, dy) = (pos[0] - h[0], pos[1] - h[1]);
            dx * dx + dy * dy < h[2] * h[2]
        })
    }

    /// The observation the robot would get at `pos` with velocity `vel`:
    /// [vel / max_speed, goal lidar, hazard lidar, goal compass], world frame. The compass
    /// (unit vector to the goal, Safety-Gym's `goal_compass` sensor) makes the goal's bearing
    /// exact where the 16 lidar bins quantise it, which lets a small network learn to reach
    /// goals in the tens of thousands of steps a browser demo can afford.
    fn write_obs(&self, pos: [f32; 2], vel: [f32; 2], obs: &mut [f32]) {
        let b = self.p.lidar_bins;
        obs[0] = vel[0] / self.p.max_speed;
        obs[1] = vel[1] / self.p.max_speed;
        let (goal_lidar, hazard_lidar) = obs[2..2 + 2 * b].split_at_mut(b);
        goal_lidar.fill(0.0);
        hazard_lidar.fill(0.0);
        Self::lidar_hit(goal_lidar, pos, self.goal, 0.0, self.p.lidar_range);
        for h in &self.hazards {
            Self::lidar_hit(hazard_lidar, pos, [h[0], h[1]], h[2], self.p.hazard_lidar_range);
        }
        let (dx, dy) = (self.goal[0] - pos[0], self.goal[1] - pos[1]);
        let d = (dx * dx + dy * dy).sqrt().max(1e-6);
        obs[2 + 2 * b] = dx / d;
        obs[3 + 2 * b] = dy / d;
    }

    /// Safety-Gym pseudo-lidar: the object lands in the bin of its bearing
    /// (bin 0 starts at +x, counter-clockwise) with 1 − distance/range, max per bin.
    /// `radius` > 0 measures to the object's edge, so a reading of 1 means "touching".
    fn lidar_hit(bins: &mut [f32], pos: [f32; 2], obj: [f32; 2], radius: f32, range: f32) {
        let (dx, dy) = (obj[0] - pos[0], obj[1] - pos[1]);
        let d = ((dx * dx + dy * dy).sqrt() - radius).max(0.0);
        let value = 1.0 - d / range;
        if value <= 0.0 {
            return;
        }
        let mut angle = dy.atan2(dx);
        if angle < 0.0 {
            angle += TAU;
        }
        let n = bins.len();
        let bin = ((angle * (n as f32 / TAU)) as usize).min(n - 1);
        bins[bin] = bins[bin].max(value);
    }
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

impl Env for PointGoal {
    fn kind(&self) -> EnvKind {
        EnvKind::PointGoal
    }
    fn obs_dim(&self) -> usize {
        4 + 2 * self.p.lidar_bins
    }
    fn act_dim(&self) -> usize {
        2
    }
    fn max_episode_steps(&self) -> usize {
        self.p.max_episode_steps
    }

    fn reset(&mut self, obs: &mut [f32]) {
        self.draw_episode();
        self.write_obs(self.pos, self.vel, obs);
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepOutcome {
        let p = &self.p;
        let push = (1.0 - p.inertia) * p.max_speed;
        for (k, a) in action[..2].iter().enumerate() {
            let a = a.clamp(-1.0, 1.0);
            self.vel[k] = p.inertia * self.vel[k] + push * a;
            let x = self.pos[k] + self.vel[k] * p.dt;
            self.pos[k] = x.clamp(-p.arena, p.arena);
            // A wall stops the motion into it, so the velocity in obs says "stuck".
            if self.pos[k] != x {
                self.vel[k] = 0.0;
            }
        }
        self.t += 1;
        let d = dist(self.pos, self.goal);
        let mut reward = p.goal_progress_scale * (self.goal_dist - d);
        if d <= p.goal_radius {
            reward += p.goal_bonus;
            self.goal = self.place_goal();
            self.goal_dist = dist(self.pos, self.goal);
        } else {
            self.goal_dist = d;
        }
        let outcome = StepOutcome {
            reward,
            cost: if self.in_hazard(self.pos) { 1.0 } else { 0.0 },
            terminated: false,
            truncated: self.t >= self.p.max_episode_steps,
        };
        self.write_obs(self.pos, self.vel, obs);
        outcome
    }

    fn scene(&self) -> Scene {
        let b = self.p.lidar_bins;
        let mut obs = vec![0.0; self.obs_dim()];
        self.write_obs(self.pos, self.vel, &mut obs);
        Scene::PointGoal {
            arena: self.p.arena,
            robot: self.pos,
            velocity: self.vel,
            goal: self.goal,
            goal_radius: self.p.goal_radius,
            hazards: self.hazards.clone(),
            lidar_bins: b,
            lidar_range: self.p.lidar_range,
            hazard_lidar_range: self.p.hazard_lidar_range,
            goal_lidar: obs[2..2 + b].to_vec(),
            hazard_lidar: obs[2 + b..2 + 2 * b].to_vec(),
            violating: self.in_hazard(self.pos),
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
                e.pos
                    .iter()
                    .chain(&e.vel)
                    .chain(&e.goal)
                    .chain(e.hazards.iter().flatten())
                    .chain([&e.goal_dist])
                    .all(|v| v.is_finite())
                    && e.hazards.len() <= e.p.n_hazards
                    && e.t <= e.p.max_episode_steps
            },
        )?;
        Ok(())
    }
    /// Robot positions over the arena (x right, y up; row 0 is the bottom), at rest, with the
    /// current goal and hazards.
    fn probe_grid(&self, nx: usize, ny: usize) -> Option<ProbeGrid> {
        let range = [-self.p.arena, self.p.arena];
        let d = self.obs_dim();
        let mut obs = vec![0.0; nx * ny * d];
        for j in 0..ny {
            let y = cell_centre(range, j, ny);
            for i in 0..nx {
                let k = j * nx + i;
                self.write_obs([cell_centre(range, i, nx), y], [0.0; 2], &mut obs[k * d..(k + 1) * d]);
            }
        }
        Some(ProbeGrid {
            x_label: "x".into(),
            y_label: "y".into(),
            x_range: range,
            y_range: range,
            nx,
            ny,
            obs,
            doomed: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> PointGoal {
        PointGoal::new(PointGoalParams::default(), 5)
    }

    #[test]
    fn layout_respects_keepouts() {
        let mut e = env();
        let mut obs = [0.0; 36];
        for _ in 0..200 {
            e.reset(&mut obs);
            let p = e.params().clone();
            assert_eq!(e.hazards().len(), p.n_hazards);
            assert!(dist(e.pos, e.goal) > 2.0 * p.goal_radius);
            for (i, h) in e.hazards().iter().enumerate() {
                assert!(dist([h[0], h[1]], e.pos) > h[2]);
                assert!(dist([h[0], h[1]], e.goal) > h[2] + p.goal_radius);
                for g in &e.hazards()[..i] {
                    assert!(dist([h[0], h[1]], [g[0], g[1]]) > h[2] + g[2]);
                }
            }
        }
    }

    #[test]
    fn cost_is_one_exactly_inside_a_hazard() {
        let mut e = env();
        let mut obs = [0.0; 36];
        e.set_hazards(&[[1.0, 1.0, 0.35]]);
        e.set_goal([-1.5, -1.5]);
        e.set_robot([1.1, 1.0], [0.0; 2]);
        assert_eq!(e.step(&[0.0, 0.0], &mut obs).cost, 1.0);
        e.set_robot([1.0 + 0.36, 1.0], [0.0; 2]);
        assert_eq!(e.step(&[0.0, 0.0], &mut obs).cost, 0.0);
        e.set_robot([0.0, 0.0], [0.0; 2]);
        assert_eq!(e.step(&[0.0, 0.0], &mut obs).cost, 0.0);
        // Walls stop the robot without cost.
        e.set_robot([-1.99, 0.0], [-1.0, 0.0]);
        let out = e.step(&[-1.0, 0.0], &mut obs);
        assert_eq!((out.cost, e.pos[0], e.vel[0]), (0.0, -2.0, 0.0));
    }

    #[test]
    fn reaching_the_goal_pays_the_bonus_and_moves_the_goal() {
        let mut e = env();
        let mut obs = [0.0; 36];
        e.set_hazards(&[[-1.5, 1.5, 0.35]]);
        e.set_goal([0.5, 0.0]);
        e.set_robot([0.15, 0.0], [0.0; 2]);
        let out = e.step(&[1.0, 0.0], &mut obs);
        // Moved 0.02 closer, then reached (distance 0.33 → 0.33 − 0.02 = 0.31 > 0.3: not yet).
        assert!(out.reward < 1.0 && e.goal == [0.5, 0.0]);
        let mut reached = None;
        for _ in 0..20 {
            let out = e.step(&[1.0, 0.0], &mut obs);
            if e.goal != [0.5, 0.0] {
                reached = Some(out.reward);
                break;
            }
            assert!(out.reward > 0.0 && out.reward < 1.0);
        }
        let r = reached.expect("goal not reached");
        assert!(r > 1.0, "bonus missing: {r}");
        assert!(dist(e.pos, e.goal) > 2.0 * e.p.goal_radius);
        assert!(dist(e.goal, [-1.5, 1.5]) > 0.35 + e.p.goal_radius);
        // The next step's shaping refers to the new goal: no jump from the switch.
        let out = e.step(&[0.0, 0.0], &mut obs);
        assert!(out.reward.abs() < 1.0);
    }

    #[test]
    fn hazard_to_the_right_is_in_bin_zero_and_grows_when_close() {
        let mut e = env();
        let mut obs = [0.0; 36];
        e.set_goal([-1.8, -1.8]);
        let hazard_bins = |e: &PointGoal, x: f32, obs: &mut [f32; 36]| {
            e.write_obs([x, 0.0], [0.0; 2], obs);
            obs[18..34].to_vec()
        };
        e.set_hazards(&[[1.0, 0.0, 0.35]]);
        // The hazard lidar fades at hazard_lidar_range (0.5) from the hazard's edge.
        let out_of_range = hazard_bins(&e, -1.5, &mut obs);
        assert!(out_of_range.iter().all(|&b| b == 0.0), "{out_of_range:?}");
        let far = hazard_bins(&e, 0.4, &mut obs);
        let near = hazard_bins(&e, 0.55, &mut obs);
        for bins in [&far, &near] {
            assert!(bins[0] > 0.0);
            assert!(bins[1..].iter().all(|&b| b == 0.0), "{bins:?}");
        }
        assert!(near[0] > far[0]);
        // Edge 0.1 away: 1 − 0.1/0.5.
        assert!((near[0] - 0.8).abs() < 1e-5, "{near:?}");
        // Just above the +x axis is still bin 0, just below (−45°) is bin 14; up is bin 4.
        e.set_hazards(&[[0.6, 0.01, 0.35], [0.4, -0.4, 0.35], [-0.01, 0.6, 0.35]]);
        let b = hazard_bins(&e, 0.0, &mut obs);
        assert!(b[0] > 0.0 && b[4] > 0.0 && b[14] > 0.0, "{b:?}");
        // Goal lidar uses the centre distance.
        e.set_goal([0.01, -1.5]);
        e.write_obs([0.0, 0.0], [0.0; 2], &mut obs);
        assert!((obs[2 + 12] - 0.5).abs() < 1e-4, "{obs:?}");
    }

    #[test]
    fn same_seed_same_trajectory_different_seed_different_start() {
        let run = |seed| {
            let mut e = PointGoal::new(PointGoalParams::default(), seed);
            let log =
                crate::env::rollout_log(&mut e, 700, |t| vec![((t as f32) * 0.13).sin(), ((t as f32) * 0.07).cos()]);
            // The layout drawn at the first reset: robot, goal, a hazard.
            [vec![e.pos[0], e.pos[1], e.goal[0], e.hazards[0][0]], log].concat()
        };
        let a = run(1);
        assert_eq!(a, run(1));
        assert_ne!(a[..4], run(2)[..4], "a different seed lays out another arena");
    }

    #[test]
    fn truncates_at_max_episode_steps() {
        let mut e = env();
        let mut obs = [0.0; 36];
        e.reset(&mut obs);
        for t in 1..=250 {
            let out = e.step(&[0.3, -0.2], &mut obs);
            assert!(!out.terminated);
            assert_eq!(out.truncated, t == 250);
        }
    }

    #[test]
    fn probe_grid_matches_step_observations() {
        let mut e = env();
        let g = e.probe_grid(9, 6).unwrap();
        assert_eq!(g.obs.len(), 9 * 6 * 36);
        // Cell (i = 2, j = 4): put the robot there at rest, a zero-action step keeps it.
        let (x, y) = (cell_centre(g.x_range, 2, 9), cell_centre(g.y_range, 4, 6));
        e.set_robot([x, y], [0.0; 2]);
        e.set_goal([1.0, -1.0]); // far from the cell: no goal switch in this step
        let g = e.probe_grid(9, 6).unwrap();
        let mut obs = [0.0; 36];
        e.step(&[0.0, 0.0], &mut obs);
        let k = 4 * 9 + 2;
        assert_eq!(&g.obs[k * 36..(k + 1) * 36], &obs[..]);
    }
}
