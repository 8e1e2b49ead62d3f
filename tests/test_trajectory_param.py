"""The paper's camera path parameterisation (seed 001, Eq. 4-8)."""

from __future__ import annotations

import torch

from reshoot.geometry import rigidity_error, screw_exp
from reshoot.stages.refine.trajectory import CameraTrajectory


def _arc(T: int = 20) -> torch.Tensor:
    from reshoot.geometry import look_at

    angle = torch.linspace(-0.6, 0.4, T, dtype=torch.float64)
    eye = torch.stack([5 * torch.cos(angle), 5 * torch.sin(angle), torch.full_like(angle, 1.6)], -1)
    return look_at(eye, torch.tensor([0.0, 0.0, 1.2], dtype=torch.float64).expand(T, 3))


def test_it_starts_as_the_initial_path():
    init = _arc()
    path = CameraTrajectory(init)()
    assert (path - init).abs().max() < 1e-4  # parameters drawn from N(0, 1e-6)
    assert rigidity_error(path).max() < 1e-9


def test_a_correction_at_the_start_carries_along_the_path():
    init = _arc()
    traj = CameraTrajectory(init)
    with torch.no_grad():  # turn and shift the first camera only: Eq. 5
        traj.w1.copy_(torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64))
        traj.v1.copy_(torch.tensor([0.3, 0.0, 0.0], dtype=torch.float64))
        traj.theta.fill_(0.1)
        for mlp in (traj.f_w, traj.f_v):  # so that w_t = w_1, v_t = v_1 at every t
            for p in mlp.parameters():
                p.zero_()
    path = traj()
    A = screw_exp(traj.w1, traj.v1, traj.theta)
    assert torch.allclose(path[0], init[0] @ A, atol=1e-12)  # A in the camera's own frame
    # each later camera is the init's step from the refined previous one, then A again
    for t in range(1, len(init)):
        step = torch.linalg.inv(init[t - 1]) @ init[t]
        assert torch.allclose(path[t], path[t - 1] @ step @ A, atol=1e-10)


def test_gradients_reach_every_parameter():
    init = _arc()
    traj = CameraTrajectory(init)
    target = init.clone()
    target[:, :3, 3] += torch.tensor([0.1, -0.05, 0.02], dtype=torch.float64)
    loss = ((traj()[:, :3, 3] - target[:, :3, 3]) ** 2).sum()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in traj.parameters())
    assert traj.v1.grad.abs().max() > 0 and traj.theta.grad.abs() > 0


def test_a_camera_held_from_turning_only_moves_and_a_pan_only_turns():
    """The camera stage's models carry into refine: whatever the parameters, a
    ``translation`` path keeps the init's orientations (all one, turned once by A_1), a
    ``rotation`` path keeps one centre."""
    T = 20
    dolly = torch.eye(4, dtype=torch.float64).repeat(T, 1, 1)
    dolly[:, :3, 3] = torch.stack([torch.linspace(0, 1.5, T), torch.zeros(T), torch.zeros(T)], -1).double()
    pan = _arc(T)
    pan[:, :3, 3] = pan[0, :3, 3]
    for init, model in ((dolly, "translation"), (pan, "rotation")):
        traj = CameraTrajectory(init, model=model)
        with torch.no_grad():
            for p in traj.parameters():
                p.copy_(torch.randn_like(p) * 0.3)
        path = traj()
        assert rigidity_error(path).max() < 1e-9
        if model == "translation":
            assert (path[:, :3, :3] - path[0, :3, :3]).abs().max() < 1e-12
            assert (path[:, :3, 3] - path[0, :3, 3]).abs().max() > 0.1  # it moves
        else:
            assert (path[:, :3, 3] - path[0, :3, 3]).abs().max() < 1e-12
