"""The differentiable soft rasteriser against its slow reference, finite differences and
the hard (OpenGL) rasteriser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reshoot.bodymodel import load_anny
from reshoot.render.soft import SoftRaster, composite, soft_silhouette, soft_silhouette_reference


def _body_in_front(n: int = 2, focal: float = 40.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """anny's low-poly body standing 4 m in front of a camera (OpenCV axes), turned a little
    more each frame; intrinsics for 64x48 pixels."""
    model = load_anny("fit", "float64")
    out = model(pose_parameters=torch.eye(4, dtype=torch.float64).repeat(1, model.bone_count, 1, 1),
                phenotype_kwargs={k: torch.full((1,), 0.5, dtype=torch.float64)
                                  for k in ("gender", "age", "muscle", "weight", "height", "proportions")})  # fmt: skip
    v = out["vertices"][0]  # Z up, faces -Y
    to_cam = torch.tensor([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=torch.float64)  # Z up -> y down, faces the camera
    frames = []
    for k in range(n):
        a = 0.3 * k
        turn = torch.tensor([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]], dtype=torch.float64)
        frames.append((v - v.mean(0)) @ to_cam.T @ turn.T + torch.tensor([0.1 * k, 0.0, 4.0], dtype=torch.float64))
    K = torch.tensor([[focal, 0, 32.0], [0, focal, 24.0], [0, 0, 1]], dtype=torch.float64).expand(n, 3, 3).clone()
    return torch.stack(frames), model.get_triangular_faces().long(), K


def test_the_fast_rasteriser_matches_the_reference_in_values_and_gradients():
    verts, faces, K = _body_in_front()
    # the fast one leaves out a triangle where it covers a pixel less than cull_below: at
    # most that times the triangles near a pixel (under 100 here) per pixel
    raster = SoftRaster(64, 48, sigma=0.5, cull_below=1e-7)
    weights = torch.rand(2, 48, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    grads = []
    images = []
    for render in (soft_silhouette, soft_silhouette_reference):
        v = verts.clone().requires_grad_()
        image = render(raster, v, faces, K)
        (image * weights).sum().backward()
        images.append(image.detach())
        grads.append(v.grad)
    assert images[0].max() > 0.99 and images[0].min() < 1e-6  # the body is there, and so is the background
    assert (images[0] - images[1]).abs().max() < 1e-5
    assert (grads[0] - grads[1]).abs().max() < 1e-5 * grads[1].abs().max()


def test_gradients_agree_with_finite_differences():
    tri = torch.tensor([[[-0.3, -0.2, 2.0], [0.3, -0.25, 2.2], [0.05, 0.3, 1.9], [0.4, 0.3, 2.4]]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2], [1, 3, 2]])
    K = torch.tensor([[[10.0, 0, 4.1], [0, 10.0, 2.9], [0, 0, 1]]], dtype=torch.float64)
    raster = SoftRaster(8, 6, sigma=0.7)
    assert torch.autograd.gradcheck(lambda v, k: soft_silhouette(raster, v, faces, k),
                                    (tri.clone().requires_grad_(), K.clone().requires_grad_()), eps=1e-6, atol=1e-5)  # fmt: skip


def test_a_sharp_soft_silhouette_is_the_hard_one():
    from reshoot.render.raster import Mesh, Rasterizer

    verts, faces, K = _body_in_front(1, focal=320.0)  # 256x192 pixels: the body 140 px tall
    K[:, :2, 2] *= 4
    soft = soft_silhouette(SoftRaster(256, 192, sigma=0.05), verts, faces, K)[0].numpy() > 0.5
    with Rasterizer(256, 192) as hard:
        labels = hard.render([Mesh(verts[0].numpy(), faces.numpy(), label=1)], np.eye(4), K[0].numpy()).labels > 0
    iou = (soft & labels).sum() / (soft | labels).sum()
    assert labels.sum() > 2000 and iou > 0.95, (labels.sum(), iou)


def test_the_nearer_actor_covers_the_farther_one():
    square = torch.tensor([[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    K = torch.tensor([[[20.0, 0, 16.0], [0, 20.0, 16.0], [0, 0, 1]]], dtype=torch.float64)
    raster = SoftRaster(32, 32, sigma=0.3)
    near = soft_silhouette(raster, (0.3 * square + torch.tensor([-0.1, 0.0, 2.0]))[None], faces, K)
    far = soft_silhouette(raster, (0.3 * square + torch.tensor([0.1, 0.0, 3.0]))[None], faces, K)
    colours = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    image = composite([far, near], torch.tensor([[3.0, 2.0]], dtype=torch.float64), colours)[0]
    assert torch.allclose(image[16, 15], torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64), atol=1e-3)  # near: blue
    assert torch.allclose(image[0, 0], torch.ones(3, dtype=torch.float64))  # white behind everyone


@pytest.mark.parametrize("sigma", [0.5, 2.0])
def test_a_triangle_is_left_out_only_where_it_covers_less_than_the_cull(sigma):
    """The fast rasteriser draws a triangle up to ``reach`` around it and nothing beyond;
    beyond, the reference has it below ``cull_below``; more blur reaches farther."""
    tri = torch.tensor([[[-0.5, -0.5, 2.0], [0.5, -0.5, 2.0], [0.0, 0.5, 2.0]]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2]])
    K = torch.tensor([[[8.0, 0, 16.0], [0, 8.0, 16.0], [0, 0, 1]]], dtype=torch.float64)
    raster = SoftRaster(32, 32, sigma=sigma)
    fast = soft_silhouette(raster, tri, faces, K)[0]
    slow = soft_silhouette_reference(raster, tri, faces, K)[0]
    left_out = (fast == 0) & (slow > 0)
    assert left_out.any() and slow[left_out].max() < raster.cull_below
    drawn = fast > 0
    assert torch.allclose(fast[drawn], slow[drawn], atol=1e-12)
    assert raster.reach > SoftRaster(32, 32, sigma=sigma / 4).reach
