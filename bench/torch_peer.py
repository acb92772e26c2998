#!/usr/bin/env python3
"""PyTorch peer of the Rust `alam bench`: time one full SAC-ALaM update.

CleanRL style, one file. Same shapes and steps as the Rust bench
(see ../shared/PAPER.md sections 3-4):

  actor, twin reward critics + Polyak targets, cost critic + target,
  state-wise multiplier net lambda(s), automatic entropy temperature.

The replay buffer holds random transitions (only speed is measured here).
Prints ONE JSON object on stdout.
"""
import argparse
import json
import platform
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

GAMMA = 0.99
GAMMA_C = 0.99
TAU = 0.005
RHO = 1.0
COST_LIMIT_D = 0.0
LAMBDA_MAX = 100.0
LR = 3e-4
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--obs-dim", type=int, default=32)
    p.add_argument("--act-dim", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--updates", type=int, default=300, help="timed updates")
    p.add_argument("--warmup", type=int, default=20, help="untimed updates before timing")
    p.add_argument("--device", type=str, default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    p.add_argument("--buffer", type=int, default=100_000, help="replay buffer size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compile", action="store_true", help="torch.compile the update function")
    p.add_argument("--compile-mode", type=str, default=None,
                   help="torch.compile mode, e.g. reduce-overhead / max-autotune (with --compile)")
    return p.parse_args()


def mlp(inp, hidden, out):
    return nn.Sequential(
        nn.Linear(inp, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, out),
    )


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = mlp(obs_dim, hidden, 2 * act_dim)
        self.act_dim = act_dim

    def sample(self, obs):
        """tanh-squashed reparameterised Gaussian sample and its log-prob (summed over dims)."""
        out = self.net(obs)
        mean, log_std = out[:, : self.act_dim], out[:, self.act_dim:]
        log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        std = log_std.exp()
        normal = torch.distributions.Normal(mean, std)
        u = normal.rsample()
        a = torch.tanh(u)
        logp = normal.log_prob(u) - torch.log(1.0 - a.pow(2) + 1e-6)
        return a, logp.sum(dim=1, keepdim=True)


class QNet(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = mlp(obs_dim + act_dim, hidden, 1)

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], dim=1))


class LambdaNet(nn.Module):
    def __init__(self, obs_dim, hidden):
        super().__init__()
        self.net = mlp(obs_dim, hidden, 1)

    def forward(self, obs):
        return F.softplus(self.net(obs)).clamp(max=LAMBDA_MAX)


def make_buffer(n, obs_dim, act_dim, device, gen):
    def on(t):
        return t.to(device)
    return dict(
        obs=on(torch.randn(n, obs_dim, generator=gen)),
        act=on(torch.rand(n, act_dim, generator=gen) * 2.0 - 1.0),
        rew=on(torch.randn(n, 1, generator=gen)),
        cost=on(torch.randint(0, 2, (n, 1), generator=gen).float()),
        next_obs=on(torch.randn(n, obs_dim, generator=gen)),
        done=on(torch.randint(0, 2, (n, 1), generator=gen).float()),
    )


def main():
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but torch.cuda.is_available() is False")

    obs_dim, act_dim, hidden, batch = args.obs_dim, args.act_dim, args.hidden, args.batch

    actor = Actor(obs_dim, act_dim, hidden).to(device)
    q1 = QNet(obs_dim, act_dim, hidden).to(device)
    q2 = QNet(obs_dim, act_dim, hidden).to(device)
    qc = QNet(obs_dim, act_dim, hidden).to(device)
    q1_t = QNet(obs_dim, act_dim, hidden).to(device)
    q2_t = QNet(obs_dim, act_dim, hidden).to(device)
    qc_t = QNet(obs_dim, act_dim, hidden).to(device)
    q1_t.load_state_dict(q1.state_dict())
    q2_t.load_state_dict(q2.state_dict())
    qc_t.load_state_dict(qc.state_dict())
    for t in (q1_t, q2_t, qc_t):
        t.requires_grad_(False)
    lam_net = LambdaNet(obs_dim, hidden).to(device)
    log_alpha = torch.zeros(1, device=device, requires_grad=True)
    target_entropy = -float(act_dim)

    q_opt = torch.optim.Adam(list(q1.parameters()) + list(q2.parameters()), lr=LR)
    qc_opt = torch.optim.Adam(qc.parameters(), lr=LR)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=LR)
    alpha_opt = torch.optim.Adam([log_alpha], lr=LR)
    lam_opt = torch.optim.Adam(lam_net.parameters(), lr=LR)

    gen = torch.Generator().manual_seed(args.seed)
    rb = make_buffer(args.buffer, obs_dim, act_dim, device, gen)
    buffer_n = args.buffer

    target_pairs = [(q1, q1_t), (q2, q2_t), (qc, qc_t)]
    online_params = [p for net, _ in target_pairs for p in net.parameters()]
    target_params = [p for _, tgt in target_pairs for p in tgt.parameters()]

    def update():
        # a. sample a batch from the replay buffer
        idx = torch.randint(0, buffer_n, (batch,), device=device)
        obs, act, rew = rb["obs"][idx], rb["act"][idx], rb["rew"][idx]
        cost, next_obs, done = rb["cost"][idx], rb["next_obs"][idx], rb["done"][idx]
        alpha = log_alpha.detach().exp()

        # b. TD targets
        with torch.no_grad():
            next_a, next_logp = actor.sample(next_obs)
            min_q_next = torch.min(q1_t(next_obs, next_a), q2_t(next_obs, next_a)) - alpha * next_logp
            y = rew + GAMMA * (1.0 - done) * min_q_next
            yc = cost + GAMMA_C * (1.0 - done) * qc_t(next_obs, next_a)

        # c. twin reward critics, then the cost critic
        q_loss = F.mse_loss(q1(obs, act), y) + F.mse_loss(q2(obs, act), y)
        q_opt.zero_grad()
        q_loss.backward()
        q_opt.step()
        qc_loss = F.mse_loss(qc(obs, act), yc)
        qc_opt.zero_grad()
        qc_loss.backward()
        qc_opt.step()

        # d. actor with the augmented-Lagrangian penalty psi_rho(h, lambda)
        # The critics are constants here: freezing them skips their weight gradients, as the
        # Rust side does by evaluating them without autodiff.
        for p in online_params:
            p.requires_grad_(False)
        a, logp = actor.sample(obs)
        q = torch.min(q1(obs, a), q2(obs, a))
        qc_pi = qc(obs, a)
        with torch.no_grad():
            lam = lam_net(obs)
        h = qc_pi - COST_LIMIT_D
        psi = (F.relu(lam + RHO * h).pow(2) - lam.pow(2)) / (2.0 * RHO)
        actor_loss = (alpha * logp - q + psi).mean()
        actor_opt.zero_grad()
        actor_loss.backward()
        actor_opt.step()
        for p in online_params:
            p.requires_grad_(True)

        # e. entropy temperature
        alpha_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
        alpha_opt.zero_grad()
        alpha_loss.backward()
        alpha_opt.step()

        # f. multiplier regression onto the method-of-multipliers target
        lam_hat = (lam + RHO * h.detach()).clamp(0.0, LAMBDA_MAX)
        lam_loss = F.mse_loss(lam_net(obs), lam_hat)
        lam_opt.zero_grad()
        lam_loss.backward()
        lam_opt.step()

        # g. Polyak averaging of the three target critics
        with torch.no_grad():
            torch._foreach_lerp_(target_params, online_params, TAU)

    step = update
    if args.compile:
        step = torch.compile(update, mode=args.compile_mode)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(args.warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.updates):
        step()
    sync()
    elapsed = time.perf_counter() - t0

    print(json.dumps({
        "impl": "pytorch",
        "torch_version": torch.__version__,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "obs_dim": obs_dim,
        "act_dim": act_dim,
        "batch": batch,
        "hidden": hidden,
        "updates": args.updates,
        "compile": args.compile,
        "sac_alam_updates_per_s": args.updates / elapsed,
    }))


if __name__ == "__main__":
    main()
