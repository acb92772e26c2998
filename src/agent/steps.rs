//! The update's formulas, written once and rank-generic: `[N, batch, _]` tensors (D = 3) for
//! the update of N ≥ 1 stacked seeds ([`super::population::PopulationAgent`], the one update
//! every run trains through; a single run is a population of one), `[batch, _]` (D = 2) for
//! hand checks. The constraint handlers' formulas (ψ_ρ, the dual target, the multiplier losses)
//! are rank-generic in the same way: a change to a loss is made here, once, and every
//! algorithm follows (docs/method.md §3–§4).

use burn::tensor::Tensor;

use crate::config::CostCritic;

/// The mean over the batch axis (D − 2) of values `[.., batch, 1]`, one per agent: `[1, 1]`
/// for one agent, `[N, 1, 1]` for N stacked seeds. One agent's (a population of one included)
/// is the whole tensor's mean: the same number, and the axis mean cost ~3% of an update on
/// burn's CPU device (BENCHMARKS.md). It is taken over the values flattened to one axis: burn's
/// GPU backends reduce a whole tensor one axis at a time, one kernel per axis (size-1 axes
/// included), so `[1, b, 1]` cost three WebGPU dispatches where `[b]` costs one.
pub fn batch_mean<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if D == 2 || x.dims()[0] == 1 {
        x.reshape([-1]).mean().reshape([1; D])
    } else {
        x.mean_dim(D - 2)
    }
}

/// The loss a population's backward pass starts from, given per-sample terms `[N, b, 1]`: the
/// sum over seeds of each seed's batch mean, `[1]` (each seed's gradient is its own mean's). One
/// reduction over the values flattened to one axis, where [`batch_mean`] and a sum over the seeds
/// cost two on WebGPU (BENCHMARKS.md); for one seed it is [`batch_mean`]'s number. Per-seed values,
/// where wanted, come from the statistics' batch mean (`population.rs`).
pub fn seeds_loss(terms: Tensor<3>) -> Tensor<1> {
    let [n, b, _] = terms.dims();
    let flat: Tensor<1> = terms.reshape([-1]);
    if n == 1 {
        flat.mean()
    } else {
        flat.sum().div_scalar(b as f64)
    }
}

/// Each critic head's regression loss E[(Q(s, a) − y)²] over the batch axis (D − 2): `q` and
/// its `targets` `[.., heads, batch, 1]` give `[.., heads, 1, 1]`; the critics' loss is their sum.
pub fn critic_losses<const D: usize>(q: Tensor<D>, targets: Tensor<D>) -> Tensor<D> {
    (q - targets).square().mean_dim(D - 2)
}

/// The soft Bellman target y = r + γ(1 − done)(min(Q'₁, Q'₂) − α log π(a'|s')) (§4). The
/// next-state terms come from the plain device (no gradient into the target); `reward` and
/// `not_done` from the autodiff device, as the result.
pub fn reward_target<const D: usize>(
    reward: Tensor<D>,
    not_done: Tensor<D>,
    min_q_next: Tensor<D>,
    next_logp: Tensor<D>,
    alpha: Tensor<D>,
    gamma: f64,
) -> Tensor<D> {
    let soft_value = min_q_next - next_logp * alpha;
    reward + not_done * soft_value.autodiff().mul_scalar(gamma)
}

/// The cost critic's target (§4), the next-state value Q'_c(s', a') from the plain device:
/// - [`CostCritic::Discounted`]: y_c = c + γ_c(1 − done)·Q'_c, the discounted count of
///   violations ahead;
/// - [`CostCritic::Probability`]: y_c = clip(c + (1 − c)·γ_c(1 − done)·Q'_c, 0, 1), the
///   discounted probability of a first violation (a violating step is certain, 1; a safe one
///   inherits the next state's probability, discounted).
pub fn cost_target<const D: usize>(
    cost: Tensor<D>,
    not_done: Tensor<D>,
    cost_value_next: Tensor<D>,
    cost_gamma: f64,
    form: CostCritic,
) -> Tensor<D> {
    let ahead = not_done * cost_value_next.autodiff().mul_scalar(cost_gamma);
    match form {
        CostCritic::Discounted => cost + ahead,
        CostCritic::Probability => (cost.clone() + (cost.neg() + 1.0) * ahead).clamp(0.0, 1.0),
    }
}

/// The actor's loss per sample `[.., batch, 1]`: α log π(a|s) − min Q_r(s, a) plus the
/// handler's penalty on h = Q_c(s, a) − d, divided by (1 + λ(s)) when `normalize` (so the
/// policy gradient keeps a bounded scale however large λ grows: a big multiplier re-weights
/// reward against cost instead of amplifying the cost critic's action-gradient noise).
pub fn actor_objective<const D: usize>(
    logp: Tensor<D>,
    alpha: Tensor<D>,
    min_q: Tensor<D>,
    penalty: Option<Tensor<D>>,
    lambda: Tensor<D>,
    normalize: bool,
) -> Tensor<D> {
    let objective = logp * alpha - min_q;
    match penalty {
        Some(p) if normalize => (objective + p) / (lambda + 1.0),
        Some(p) => objective + p,
        None => objective,
    }
}

/// E[log π] + H̄ per agent, with the target entropy H̄ = −|A| (no gradient): the temperature's
/// signal.
pub fn entropy_gap<const D: usize>(logp: Tensor<D>, act_dim: usize) -> Tensor<D> {
    batch_mean(logp.detach().add_scalar(-(act_dim as f64)))
}

/// The temperature's loss −log α · (E[log π] + H̄): α grows while the policy's entropy is
/// below the target and shrinks above it.
pub fn temperature_loss<const D: usize>(log_alpha: Tensor<D>, entropy_gap: Tensor<D>) -> Tensor<D> {
    (log_alpha * entropy_gap).neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::readback::read_floats;
    use burn::tensor::{Device, TensorData};

    fn t<const D: usize>(v: &[f32], shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(TensorData::new(v.to_vec(), shape), &Device::flex().autodiff())
    }

    /// The same formulas on one agent's `[b, 1]` and on stacked seeds' `[N, b, 1]` give each
    /// seed what it gets alone; the numbers against a hand computation.
    #[test]
    fn one_agent_and_stacked_seeds_get_the_same_numbers() {
        let logp = [-1.0f32, 0.5, -0.25, 2.0];
        let min_q = [3.0f32, -1.0, 0.0, 1.5];
        let lambda = [0.0f32, 1.0, 3.0, 0.5];
        let penalty = [0.5f32, -0.5, 2.0, 0.0];
        let alpha = 0.2;
        // By hand: (α log π − min Q + penalty) / (1 + λ).
        let want: Vec<f32> = (0..4).map(|i| (alpha * logp[i] - min_q[i] + penalty[i]) / (1.0 + lambda[i])).collect();
        let one = actor_objective(
            t(&logp, [4, 1]),
            t(&[alpha], [1, 1]),
            t(&min_q, [4, 1]),
            Some(t(&penalty, [4, 1])),
            t(&lambda, [4, 1]),
            true,
        );
        let two = actor_objective(
            t(&logp, [2, 2, 1]),
            t(&[alpha, alpha], [2, 1, 1]),
            t(&min_q, [2, 2, 1]),
            Some(t(&penalty, [2, 2, 1])),
            t(&lambda, [2, 2, 1]),
            true,
        );
        for (got, want) in read_floats(one).unwrap().iter().zip(&want) {
            assert!((got - want).abs() < 1e-6);
        }
        assert_eq!(
            read_floats(two).unwrap(),
            read_floats(actor_objective(
                t(&logp, [4, 1]),
                t(&[alpha], [1, 1]),
                t(&min_q, [4, 1]),
                Some(t(&penalty, [4, 1])),
                t(&lambda, [4, 1]),
                true
            ))
            .unwrap()
        );
        // The batch mean: one value for the agent, one per seed.
        assert_eq!(read_floats(batch_mean(t(&logp, [4, 1]))).unwrap(), vec![0.3125]);
        assert_eq!(read_floats(batch_mean(t(&logp, [2, 2, 1]))).unwrap(), vec![-0.25, 0.875]);
        // The population's loss: the seeds' batch means summed (one seed: its mean).
        assert_eq!(read_floats(seeds_loss(t(&logp, [1, 4, 1]))).unwrap(), vec![0.3125]);
        assert_eq!(read_floats(seeds_loss(t(&logp, [2, 2, 1]))).unwrap(), vec![0.625]);
        // Temperature: −log α · (E[log π] − |A|) with |A| = 2.
        let gap = entropy_gap(t(&logp, [4, 1]), 2);
        assert_eq!(read_floats(gap.clone()).unwrap(), vec![0.3125 - 2.0]);
        assert_eq!(read_floats(temperature_loss(t(&[0.5], [1, 1]), gap)).unwrap(), vec![-0.5 * (0.3125 - 2.0)]);
        // Targets: y = r + γ(1 − done)(min Q' − α log π'), y_c = c + γ_c(1 − done) Q'_c.
        let y = reward_target(
            t(&[1.0], [1, 1]),
            t(&[1.0], [1, 1]),
            t(&[2.0], [1, 1]).inner(),
            t(&[-1.0], [1, 1]).inner(),
            t(&[0.5], [1, 1]).inner(),
            0.5,
        );
        assert_eq!(read_floats(y).unwrap(), vec![1.0 + 0.5 * (2.0 + 0.5)]);
        let discounted = CostCritic::Discounted;
        let y_c = cost_target(
            t(&[1.0, 0.0], [2, 1]),
            t(&[0.0, 1.0], [2, 1]),
            t(&[4.0, 4.0], [2, 1]).inner(),
            0.25,
            discounted,
        );
        assert_eq!(read_floats(y_c).unwrap(), vec![1.0, 1.0]);
        // The probability form, by hand with γ_c = 0.5. Rows: a violation (c = 1) is 1 whatever
        // follows; a safe step takes γ_c·g' = 0.5·0.5 = 0.25; a safe last step (done) is 0; a
        // safe step whose critic overshoots (g' = 4) is clipped to 1; an undershoot (g' = −1) to 0.
        let (c, nd, g) = ([1.0, 0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 0.0, 1.0, 1.0], [0.5, 0.5, 0.5, 4.0, -1.0]);
        let y_p = cost_target(t(&c, [5, 1]), t(&nd, [5, 1]), t(&g, [5, 1]).inner(), 0.5, CostCritic::Probability);
        assert_eq!(read_floats(y_p).unwrap(), vec![1.0, 0.25, 0.0, 1.0, 0.0]);
        // The discounted form on the same rows: counts, not clipped.
        let y_d = cost_target(t(&c, [5, 1]), t(&nd, [5, 1]), t(&g, [5, 1]).inner(), 0.5, discounted);
        assert_eq!(read_floats(y_d).unwrap(), vec![1.25, 0.25, 0.0, 2.0, -0.5]);
    }
}
