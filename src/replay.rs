//! A bounded replay buffer: fixed capacity, the oldest transitions overwritten, so memory
//! stops growing however long a run (or a browser tab) trains.

use crate::Rng64;
use rand::Rng;

/// One sampled minibatch, row-major, ready to become tensors.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub obs: Vec<f32>,
    pub act: Vec<f32>,
    pub reward: Vec<f32>,
    pub cost: Vec<f32>,
    pub next_obs: Vec<f32>,
    /// 1.0 where the episode terminated (not where it was truncated: a time limit is no end
    /// of the task, so bootstrapping continues there).
    pub done: Vec<f32>,
}

impl Batch {
    /// `rows` transitions of zeros (`obs_dim` and `act_dim` floats each): a stand-in batch for
    /// a population's seed that no longer trains.
    pub fn zeros(rows: usize, obs_dim: usize, act_dim: usize) -> Batch {
        Batch {
            obs: vec![0.0; rows * obs_dim],
            act: vec![0.0; rows * act_dim],
            reward: vec![0.0; rows],
            cost: vec![0.0; rows],
            next_obs: vec![0.0; rows * obs_dim],
            done: vec![0.0; rows],
        }
    }

    /// `rows` random transitions for tests and benchmarks of the update: observations, actions
    /// and rewards uniform in [−1, 1), a cost of 1 with probability 0.2 and a terminal state
    /// with probability 0.05 (else 0), drawn from `rng` in that order.
    pub fn random(rng: &mut Rng64, rows: usize, obs_dim: usize, act_dim: usize) -> Batch {
        let mut v = |n: usize| (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect::<Vec<_>>();
        Batch {
            obs: v(rows * obs_dim),
            act: v(rows * act_dim),
            reward: v(rows),
            cost: v(rows).into_iter().map(|c| (c > 0.6) as u8 as f32).collect(),
            next_obs: v(rows * obs_dim),
            done: v(rows).into_iter().map(|d| (d > 0.9) as u8 as f32).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.reward.len()
    }
    pub fn is_empty(&self) -> bool {
        self.reward.is_empty()
    }
}

pub struct ReplayBuffer {
    obs_dim: usize,
    act_dim: usize,
    capacity: usize,
    len: usize,
    next: usize,
    data: Batch,
}

impl ReplayBuffer {
    pub fn new(capacity: usize, obs_dim: usize, act_dim: usize) -> Self {
        ReplayBuffer { obs_dim, act_dim, capacity, len: 0, next: 0, data: Batch::default() }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Stores one transition, overwriting the oldest once full.
    pub fn push(&mut self, obs: &[f32], act: &[f32], reward: f32, cost: f32, next_obs: &[f32], terminated: bool) {
        let (o, a, i) = (self.obs_dim, self.act_dim, self.next);
        let d = &mut self.data;
        if self.len < self.capacity {
            d.obs.extend_from_slice(obs);
            d.act.extend_from_slice(act);
            d.reward.push(reward);
            d.cost.push(cost);
            d.next_obs.extend_from_slice(next_obs);
            d.done.push(terminated as u8 as f32);
            self.len += 1;
        } else {
            d.obs[i * o..(i + 1) * o].copy_from_slice(obs);
            d.act[i * a..(i + 1) * a].copy_from_slice(act);
            d.reward[i] = reward;
            d.cost[i] = cost;
            d.next_obs[i * o..(i + 1) * o].copy_from_slice(next_obs);
            d.done[i] = terminated as u8 as f32;
        }
        self.next = (self.next + 1) % self.capacity;
    }

    /// Uniform sample with replacement of `n` stored transitions.
    pub fn sample(&self, n: usize, rng: &mut Rng64) -> Batch {
        let (o, a) = (self.obs_dim, self.act_dim);
        let mut b = Batch {
            obs: Vec::with_capacity(n * o),
            act: Vec::with_capacity(n * a),
            reward: Vec::with_capacity(n),
            cost: Vec::with_capacity(n),
            next_obs: Vec::with_capacity(n * o),
            done: Vec::with_capacity(n),
        };
        let d = &self.data;
        for _ in 0..n {
            let i = rng.random_range(0..self.len.max(1));
            b.obs.extend_from_slice(&d.obs[i * o..(i + 1) * o]);
            b.act.extend_from_slice(&d.act[i * a..(i + 1) * a]);
            b.reward.push(d.reward[i]);
            b.cost.push(d.cost[i]);
            b.next_obs.extend_from_slice(&d.next_obs[i * o..(i + 1) * o]);
            b.done.push(d.done[i]);
        }
        b
    }
}

impl ReplayBuffer {
    /// Rows stored and the slot the next push overwrites (what [`Self::from_bytes`] needs).
    pub fn cursor(&self) -> (usize, usize) {
        (self.len, self.next)
    }

    /// The stored rows (slot order) as little-endian f32 columns: obs, act, reward, cost,
    /// next_obs, done; `len · (2·obs_dim + act_dim + 3) · 4` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let d = &self.data;
        let mut out = Vec::with_capacity(self.len * self.row_floats() * 4);
        for col in [&d.obs, &d.act, &d.reward, &d.cost, &d.next_obs, &d.done] {
            for v in col.iter() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    fn row_floats(&self) -> usize {
        2 * self.obs_dim + self.act_dim + 3
    }

    /// The inverse of [`Self::to_bytes`] for a buffer of `capacity` rows whose cursor was
    /// `(len, next)`.
    ///
    /// # Errors
    /// A message when the cursor is impossible, the byte count is not the rows', or a value is
    /// not finite (or a done flag not 0/1).
    pub fn from_bytes(
        capacity: usize,
        obs_dim: usize,
        act_dim: usize,
        (len, next): (usize, usize),
        bytes: &[u8],
    ) -> Result<Self, String> {
        let mut buf = ReplayBuffer::new(capacity, obs_dim, act_dim);
        if len > capacity || next >= capacity.max(1) || (len < capacity && next != len) {
            return Err(format!("replay: cursor (len {len}, next {next}) is impossible for capacity {capacity}"));
        }
        let want = len.checked_mul(buf.row_floats() * 4);
        if want != Some(bytes.len()) {
            return Err(format!("replay: {} bytes for {len} rows of {} floats", bytes.len(), buf.row_floats()));
        }
        let floats: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if let Some(k) = floats.iter().position(|v| !v.is_finite()) {
            return Err(format!("replay: a non-finite value at float {k}"));
        }
        let mut rest = floats.as_slice();
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head.to_vec()
        };
        let (o, a) = (obs_dim, act_dim);
        buf.data = Batch {
            obs: take(len * o),
            act: take(len * a),
            reward: take(len),
            cost: take(len),
            next_obs: take(len * o),
            done: take(len),
        };
        if buf.data.done.iter().any(|&d| d != 0.0 && d != 1.0) {
            return Err("replay: a done flag is not 0 or 1".into());
        }
        buf.len = len;
        buf.next = next;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn overwrites_the_oldest_once_full() {
        let mut buf = ReplayBuffer::new(3, 1, 1);
        for i in 0..5 {
            let x = i as f32;
            buf.push(&[x], &[x], x, 0.0, &[x + 1.0], false);
        }
        assert_eq!(buf.len(), 3);
        let copy = ReplayBuffer::from_bytes(3, 1, 1, buf.cursor(), &buf.to_bytes()).unwrap();
        assert_eq!(copy.to_bytes(), buf.to_bytes());
        assert_eq!(copy.cursor(), (3, 2));
        assert!(ReplayBuffer::from_bytes(3, 1, 1, (3, 2), &buf.to_bytes()[1..]).is_err());
        assert!(ReplayBuffer::from_bytes(3, 1, 1, (2, 0), &buf.to_bytes()).is_err());
        let mut seen: Vec<f32> = buf.data.reward.clone();
        seen.sort_by(f32::total_cmp);
        assert_eq!(seen, vec![2.0, 3.0, 4.0]);
        let batch = buf.sample(64, &mut Rng64::seed_from_u64(0));
        assert_eq!(batch.len(), 64);
        assert!(batch.reward.iter().all(|r| (2.0..=4.0).contains(r)));
        for (o, n) in batch.obs.iter().zip(&batch.next_obs) {
            assert_eq!(*n, o + 1.0, "a sampled row keeps its transition together");
        }
    }
}
