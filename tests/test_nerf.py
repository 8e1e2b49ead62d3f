"""The dynamic NeRF (``render.nerf``) and the refine stage's ``renderer="nerf"``: the
NeRF of a body renders its silhouette from a view it was not trained on, its rendering
is differentiable in the camera, and inverting it finds a perturbed camera again."""

from __future__ import annotations

import copy
import time

import numpy as np
import pytest
import torch
from conftest import joints_off_px, make_body_shot, turned

from reshoot.errors import InputError
from reshoot.geometry import look_at, se3_exp
from reshoot.render.nerf import NerfConfig, train_dynamic_nerf
from reshoot.render.raster import Mesh, Rasterizer
from reshoot.stages.refine.stage import RefineConfig, refine, refine_camera

# small enough for a test: 6 frames x 8 views of 64 px, 300 steps (a shot's default: 1000)
SMALL = NerfConfig(views_per_frame=8, steps=300)


@pytest.fixture(scope="module")
def one_body():
    """One anny body walking sideways (6 frames): vertices (T, V, 3), faces, and its NeRF."""
    from reshoot.bodymodel import pose_body

    shot = make_body_shot()
    body = shot.actors[0].body
    posed = pose_body(body.model, body.phenotype, body.bone_quats_wxyz, body.T_world_root)
    verts, faces = torch.from_numpy(posed.vertices_world).float(), torch.from_numpy(posed.faces).long()
    t0 = time.perf_counter()
    nerf = train_dynamic_nerf([verts], [faces], [torch.ones(len(verts))], torch.tensor([[0.9, 0.2, 0.2]]), SMALL,
                              T_world_cam=shot.camera.T_world_cam)  # fmt: skip
    return verts, faces, nerf, time.perf_counter() - t0


def _held_out_view(centre: torch.Tensor, azimuth_deg: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A camera (1, 4, 4) 3.2 m from ``centre``, 1.1 m above it (the training views: 4.3-6
    m at about the shot camera's 0.5 m), and its K (1, 3, 3) at 96x72 px."""
    a = np.radians(azimuth_deg)
    eye = centre + torch.tensor([3.2 * np.cos(a), 3.2 * np.sin(a), 1.1], dtype=torch.float64)
    K = torch.tensor([[[80.0, 0.0, 48.0], [0.0, 80.0, 36.0], [0.0, 0.0, 1.0]]], dtype=torch.float64)
    return look_at(eye[None], centre[None]), K


def test_the_nerf_of_a_body_renders_its_silhouette_from_an_unseen_view(one_body):
    """The NeRF's silhouette (actor share > 0.5) against the rasteriser's, from nearer and
    higher than any training view, at three azimuths and the first, middle and last frame.
    Measured after these 300 steps: IoU 0.926-0.940, mean 0.931 (another initialisation
    of the MLPs: 0.888-0.932, mean 0.918); they differ on a rim about a pixel wide (the
    body is about 45 px tall and covers 230 px, its arms 2-3 px wide). Training: 6 s on
    two cores (20 s while another process shares them)."""
    verts, faces, nerf, seconds = one_body
    ious = []
    with Rasterizer(96, 72) as raster:
        for azimuth in (20.0, 75.0, 200.0):
            for t in (0, 3, 5):
                centre = verts[t].double().mean(0)
                T_world_cam, K = _held_out_view(centre, azimuth)
                truth = raster.render([Mesh(verts[t].double().numpy(), faces.numpy(), label=1)],
                                      T_world_cam[0].numpy(), K[0].numpy()).labels == 1  # fmt: skip
                with torch.no_grad():
                    shares = nerf.render_shares(T_world_cam, K, torch.tensor([t]), (96, 72))[0]
                assert shares.shape == (72, 96, 2) and torch.allclose(shares.sum(-1), torch.ones(72, 96), atol=1e-4)
                mine = (shares[..., 1] > 0.5).numpy()
                ious.append((mine & truth).sum() / (mine | truth).sum())
    assert min(ious) >= 0.85 and np.mean(ious) >= 0.88, (np.round(ious, 3), seconds)


def test_the_nerf_rendering_is_differentiable_in_the_camera(one_body):
    """The composition loss against the rasteriser's image of the same view, through a
    camera moved by a small twist: its gradient in all six twist components is finite and
    non-zero (and in the focal length too); rays that miss the box are white."""
    verts, faces, nerf, _ = one_body
    centre = verts[3].double().mean(0)
    T_world_cam, K = _held_out_view(centre, 75.0)
    with Rasterizer(96, 72) as raster:
        truth = raster.render([Mesh(verts[3].double().numpy(), faces.numpy(), label=1)],
                              T_world_cam[0].numpy(), K[0].numpy()).labels == 1  # fmt: skip
    target = torch.ones(1, 72, 96, 3)
    target[0, torch.from_numpy(truth)] = torch.tensor([0.9, 0.2, 0.2])
    xi = torch.full((1, 6), 1e-3, dtype=torch.float64, requires_grad=True)
    K = K.clone().requires_grad_(True)
    image = nerf.render(T_world_cam @ se3_exp(xi), K, torch.tensor([3]), (96, 72))
    ((image - target) ** 2).sum(-1).mean().backward()
    assert torch.isfinite(xi.grad).all() and (xi.grad.abs() > 1e-7).all(), xi.grad
    assert torch.isfinite(K.grad).all() and K.grad[0, 0, 0].abs() > 0, K.grad
    away = look_at(torch.tensor([[0.0, -5.0, 1.0]], dtype=torch.float64),
                   torch.tensor([[0.0, -10.0, 1.0]], dtype=torch.float64))  # looking away from the body
    with torch.no_grad():
        assert torch.equal(nerf.render(away, K.detach(), torch.tensor([3]), (96, 72)), torch.ones(1, 72, 96, 3))


def test_inverting_the_nerf_finds_a_perturbed_camera_again(walker):
    """The true bodies and masks, a camera path drifting off by up to 1.5 degrees (as in
    tests/test_refine.py), the composition loss alone (no keypoints: the camera moves by
    the NeRF's rendering only). Measured: the joints 8.06 px off where the true camera sees
    them -> 1.12 px (with 600 NeRF steps and 150 camera iterations: 1.00, another
    initialisation of the NeRF 0.95; the raster renderer with 150 iterations: 1.2-1.5)."""
    shot = copy.deepcopy(walker)
    drift = np.linspace(0.5, 1.5, shot.num_frames)
    shot.camera.T_world_cam = turned(walker.camera.T_world_cam, drift, -0.5 * drift)
    before = joints_off_px(shot, shot.camera.T_world_cam, walker)
    cfg = RefineConfig(renderer="nerf", camera_iterations=100, joint_weight=0.0, nerf=NerfConfig(steps=400))
    after = joints_off_px(shot, refine_camera(shot, cfg)[0], walker)
    assert before.mean() > 7.0 and after.mean() < 0.3 * before.mean(), (before.mean(), after.mean())


def test_an_unknown_renderer_is_refused(walker):
    with pytest.raises(InputError, match="--renderer 'bogus'"):
        refine(copy.deepcopy(walker), RefineConfig(renderer="bogus"))
    with pytest.raises(InputError, match="--renderer 'bogus'"):
        refine_camera(walker, RefineConfig(renderer="bogus"))
