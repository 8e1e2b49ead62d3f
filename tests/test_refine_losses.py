"""The refine losses: the composition target, two-sided against one-sided, robust joints."""

from __future__ import annotations

import torch

from reshoot.stages.refine.losses import composition_loss, joint_loss, target_image

COLOURS = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


def test_the_target_paints_each_actor_in_its_colour_on_white():
    labels = torch.zeros(1, 4, 4, dtype=torch.uint8)
    labels[0, :2, :2] = 1
    labels[0, 2:, 2:] = 2
    image = target_image(labels, COLOURS, (2, 2))[0]
    assert torch.equal(image[0, 0], COLOURS[0]) and torch.equal(image[1, 1], COLOURS[1])
    assert torch.equal(image[0, 1], torch.ones(3))


def test_a_body_rendered_where_nobody_is_costs_only_when_two_sided():
    labels = torch.zeros(1, 8, 8, dtype=torch.uint8)
    labels[0, 2:6, 2:4] = 1
    target = target_image(labels, COLOURS, (8, 8))
    exact = target.clone()
    too_big = target.clone()
    too_big[0, 2:6, 4:7] = COLOURS[0]  # the body drawn wider than the mask
    assert composition_loss(exact, target) == 0
    assert composition_loss(too_big, target, two_sided=False) == 0  # the paper's code: free
    assert composition_loss(too_big, target) > 0


def test_the_joint_loss_is_robust_to_a_wrong_detection():
    kpts = torch.zeros(1, 4, 2)
    conf = torch.ones(1, 4)
    near = kpts + torch.tensor([1.0, 0.0])
    one_wild = near.clone()
    one_wild[0, 0] = torch.tensor([500.0, 0.0])
    assert joint_loss(kpts, kpts, conf) == 0
    assert joint_loss(near, kpts, conf) < joint_loss(one_wild, kpts, conf) < joint_loss(near, kpts, conf) + 0.26
    assert joint_loss(one_wild, kpts, conf * torch.tensor([0.0, 1, 1, 1])) == joint_loss(near, kpts, conf)
