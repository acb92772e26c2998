//! Constrained environments with Safety-Gymnasium's step shape
//! `(obs, reward, cost, terminated, truncated)`, in pure Rust so the same code runs in the
//! CLI and in the browser (no time, threads or files). Each one is deterministic given its
//! seed, so a run can be replayed exactly.

pub mod car_following;
pub mod double_integrator;
pub mod point_goal;

pub use car_following::CarFollowing;
pub use double_integrator::DoubleIntegrator;
pub use point_goal::PointGoal;

/// The generator every environment owns. One alias so that all envs change together.
///
/// It is the crate's portable generator, so a seed gives the same trajectory natively and in
/// the browser.
pub(crate) type EnvRng = crate::Rng64;

/// What one step returns besides the observation (Safety-Gymnasium's step shape).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StepOutcome {
    pub reward: f32,
    /// Exactly 1.0 on a violation, else 0.0.
    pub cost: f32,
    /// The episode ended for a reason inside the task (collision, runaway).
    pub terminated: bool,
    /// The episode hit `max_episode_steps`; bootstrapping should continue through it.
    pub truncated: bool,
}

/// Which environment; serde/CLI name in kebab-case: "point-goal", "double-integrator", "car-following".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    PointGoal,
    DoubleIntegrator,
    CarFollowing,
}

impl EnvKind {
    pub const ALL: [EnvKind; 3] = [EnvKind::PointGoal, EnvKind::DoubleIntegrator, EnvKind::CarFollowing];

    /// The kebab-case name, the same one serde and the CLI use.
    pub fn name(self) -> &'static str {
        match self {
            EnvKind::PointGoal => "point-goal",
            EnvKind::DoubleIntegrator => "double-integrator",
            EnvKind::CarFollowing => "car-following",
        }
    }
}

impl std::str::FromStr for EnvKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EnvKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = EnvKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown environment '{s}'; expected one of: {}", names.join(", "))
        })
    }
}

impl std::fmt::Display for EnvKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A seeded, deterministic constrained environment. Actions are in [-1, 1]^act_dim (clamp inside step).
pub trait Env {
    fn kind(&self) -> EnvKind;
    fn obs_dim(&self) -> usize;
    fn act_dim(&self) -> usize;
    fn max_episode_steps(&self) -> usize;
    /// Starts a new episode, drawing the start state from the env's own RNG (seeded at
    /// construction), writes the first observation into `obs` (len obs_dim).
    fn reset(&mut self, obs: &mut [f32]);
    /// Advances one step; writes the next observation into `obs`. cost is exactly 1.0 on a
    /// violation, else 0.0. truncated when max_episode_steps is reached.
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> StepOutcome;
    /// What a canvas needs to draw the current state.
    fn scene(&self) -> Scene;
    /// Observations for a heat map of λ(s) over a 2-D grid of states (nx columns × ny rows), or None.
    fn probe_grid(&self, nx: usize, ny: usize) -> Option<ProbeGrid>;
    /// The whole state as JSON: parameters, RNG and the episode in progress, so that a saved
    /// run continues the same trajectory ([`Env::load_state`]).
    fn save_state(&self) -> serde_json::Value;
    /// Puts back what [`Env::save_state`] wrote.
    ///
    /// # Errors
    /// A message when the state is not this env's (other parameters) or not a sound state
    /// (non-finite numbers, a step count past the episode's end); the env is then unchanged.
    fn load_state(&mut self, state: &serde_json::Value) -> Result<(), String>;
}

/// `env` as JSON (its derive is the whole state); `Null` only if serde fails, which
/// [`restore_state`] then refuses.
pub(crate) fn state_json<E: serde::Serialize>(env: &E) -> serde_json::Value {
    serde_json::to_value(env).unwrap_or(serde_json::Value::Null)
}

/// An env of type `E` from [`state_json`]'s output, accepted only if it has `params` and
/// `sound` holds for it.
pub(crate) fn restore_state<E, P>(
    state: &serde_json::Value,
    params: &P,
    own: impl Fn(&E) -> &P,
    sound: impl Fn(&E) -> bool,
) -> Result<E, String>
where
    E: serde::de::DeserializeOwned,
    P: PartialEq,
{
    let env: E = serde_json::from_value(state.clone()).map_err(|e| format!("env state: {e}"))?;
    if own(&env) != params {
        return Err("env state: made with other env parameters".into());
    }
    if !sound(&env) {
        return Err("env state: a value is out of range".into());
    }
    Ok(env)
}

/// Builds an env from its kind and a seed (`Box<dyn Env>`), default parameters.
pub fn make_env(kind: EnvKind, seed: u64) -> Box<dyn Env> {
    match kind {
        EnvKind::PointGoal => Box::new(PointGoal::new(Default::default(), seed)),
        EnvKind::DoubleIntegrator => Box::new(DoubleIntegrator::new(Default::default(), seed)),
        EnvKind::CarFollowing => Box::new(CarFollowing::new(Default::default(), seed)),
    }
}

/// A grid of states to evaluate λ(s) on: a fixed probe set, so that changes of λ over
/// training are not sampling noise (docs/method.md §8).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProbeGrid {
    pub x_label: String,
    pub y_label: String,
    /// The grid covers these ranges with nx (ny) equal cells; sample i sits at the centre
    /// of cell i, `lo + (i + 0.5)·(hi − lo)/n`. Row 0 is the lowest y.
    pub x_range: [f32; 2],
    pub y_range: [f32; 2],
    pub nx: usize,
    pub ny: usize,
    /// Row-major (y outer, x inner) observations, nx*ny*obs_dim floats.
    pub obs: Vec<f32>,
    /// Ground truth where the env knows it (double integrator): true = doomed (no action avoids
    /// a future violation). Same order as obs.
    pub doomed: Option<Vec<bool>>,
}

/// Centre of cell `i` of `n` equal cells covering `[lo, hi]` (see [`ProbeGrid::x_range`]).
pub(crate) fn cell_centre(range: [f32; 2], i: usize, n: usize) -> f32 {
    range[0] + (i as f32 + 0.5) * (range[1] - range[0]) / n as f32
}

/// Drawing data, tagged by env (serde tag = "env", kebab-case) so JavaScript can switch on it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "env", rename_all = "kebab-case")]
pub enum Scene {
    PointGoal {
        arena: f32,
        robot: [f32; 2],
        velocity: [f32; 2],
        goal: [f32; 2],
        goal_radius: f32,
        /// x, y, r
        hazards: Vec<[f32; 3]>,
        lidar_bins: usize,
        /// Distances at which goal and hazard lidar readings fade to 0 (to draw the rays to scale).
        lidar_range: f32,
        hazard_lidar_range: f32,
        hazard_lidar: Vec<f32>,
        goal_lidar: Vec<f32>,
        violating: bool,
    },
    DoubleIntegrator {
        x: f32,
        v: f32,
        x_max: f32,
        v_max: f32,
        u: f32,
        doomed: bool,
        violating: bool,
    },
    CarFollowing {
        ego_x: f32,
        ego_v: f32,
        lead_x: f32,
        lead_v: f32,
        min_gap: f32,
        /// Each car's length; `*_x` is its rear bumper, so gap = lead_x − ego_x − car_length.
        car_length: f32,
        violating: bool,
    },
}

/// The trajectory of `steps` steps (observation, reward, cost and flags, resets included) as
/// one flat log: the determinism tests of every env compare two of these.
#[cfg(test)]
pub(crate) fn rollout_log(e: &mut dyn Env, steps: usize, action: impl Fn(usize) -> Vec<f32>) -> Vec<f32> {
    let mut obs = vec![0.0; e.obs_dim()];
    e.reset(&mut obs);
    let mut log = obs.clone();
    for t in 0..steps {
        let out = e.step(&action(t), &mut obs);
        log.extend_from_slice(&obs);
        log.extend([out.reward, out.cost, out.terminated as u8 as f32, out.truncated as u8 as f32]);
        if out.terminated || out.truncated {
            e.reset(&mut obs);
            log.extend_from_slice(&obs);
        }
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for k in EnvKind::ALL {
            assert_eq!(k.name().parse::<EnvKind>().unwrap(), k);
            assert_eq!(k.to_string(), k.name());
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.name()));
        }
        let err = "pointgoal".parse::<EnvKind>().unwrap_err();
        assert!(err.contains("point-goal") && err.contains("car-following"), "{err}");
    }

    #[test]
    fn scene_is_tagged_for_javascript() {
        let s = make_env(EnvKind::DoubleIntegrator, 1).scene();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.starts_with("{\"env\":\"double-integrator\""), "{json}");
    }

    /// Every env: obs length and finiteness under random actions, truncation at the limit,
    /// probe grid sizes.
    #[test]
    fn all_envs_random_rollouts_are_finite_and_truncate() {
        use rand::{Rng, SeedableRng};
        let mut rng = crate::Rng64::seed_from_u64(7);
        for kind in EnvKind::ALL {
            let mut env = make_env(kind, 3);
            assert_eq!(env.kind(), kind);
            let mut obs = vec![f32::NAN; env.obs_dim()];
            let mut act = vec![0.0; env.act_dim()];
            env.reset(&mut obs);
            assert!(obs.iter().all(|o| o.is_finite()));
            let (mut t, mut truncations) = (0, 0);
            for _ in 0..10_000 {
                // Beyond [-1, 1] on purpose: step must clamp.
                act.iter_mut().for_each(|a| *a = rng.random_range(-1.5..1.5));
                let out = env.step(&act, &mut obs);
                t += 1;
                assert!(obs.iter().all(|o| o.is_finite()), "{kind}: {obs:?}");
                assert!(out.reward.is_finite());
                assert!(out.cost == 0.0 || out.cost == 1.0);
                assert_eq!(out.truncated, t == env.max_episode_steps(), "{kind} at t = {t}");
                if out.truncated {
                    truncations += 1;
                }
                if out.terminated || out.truncated {
                    env.reset(&mut obs);
                    t = 0;
                }
            }
            assert!(truncations > 0, "{kind} never reached max_episode_steps");
            let g = env.probe_grid(7, 5).unwrap();
            assert_eq!((g.nx, g.ny), (7, 5));
            assert_eq!(g.obs.len(), 7 * 5 * env.obs_dim());
            assert!(g.obs.iter().all(|o| o.is_finite()));
            if let Some(d) = &g.doomed {
                assert_eq!(d.len(), 7 * 5);
            }
        }
    }
}
