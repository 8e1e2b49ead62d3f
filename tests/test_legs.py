"""The legs' sides kept consistent over a track (stages/perceive/legs.py), on the
generator's walker: its true keypoints, then with the legs swapped as mediapipe swaps
them seen from the side."""

import numpy as np

from reshoot.stages.perceive.legs import LEFT, RIGHT, SWAPPED, relabel_legs, swapped_legs


def _detected(walker, swap_frames):
    """The walker's true keypoints with the lower body's sides swapped on ``swap_frames``."""
    obs = walker.actors[0].observations
    kpts, conf, kpts3d = obs.kpts2d_px.copy(), np.where(obs.kpts_conf > 0, 0.9, 0.0), obs.kpts3d_m.copy()
    for t in swap_frames:
        kpts[t], conf[t], kpts3d[t] = kpts[t, SWAPPED], conf[t, SWAPPED], kpts3d[t, SWAPPED]
    return kpts, conf, kpts3d


def test_the_swap_table_exchanges_the_lower_bodys_sides_only():
    assert (SWAPPED[list(LEFT)] == RIGHT).all() and (SWAPPED[list(RIGHT)] == LEFT).all()
    assert (SWAPPED[:23] == np.arange(23)).all() and (SWAPPED[SWAPPED] == np.arange(33)).all()


def test_legs_labelled_the_wrong_way_round_are_found_and_put_back(walker):
    # the walker's 8 fps: a foot moves up to 0.42 torso lengths between frames
    obs = walker.actors[0].observations
    swap = [3, 9, 10]
    kpts, conf, kpts3d = _detected(walker, swap)
    assert np.flatnonzero(swapped_legs(kpts, conf)).tolist() == swap
    fixed, fixed_conf, fixed3d, found = relabel_legs(kpts, conf, kpts3d)
    assert np.flatnonzero(found).tolist() == swap
    assert np.allclose(fixed, obs.kpts2d_px) and np.allclose(fixed3d, obs.kpts3d_m)
    assert (fixed_conf == np.where(obs.kpts_conf > 0, 0.9, 0.0)).all()
    assert np.allclose(kpts[swap[0]], obs.kpts2d_px[swap[0], SWAPPED])  # the input is left as it was


def test_a_detectors_labels_that_hold_together_stand(walker):
    kpts, conf, _ = _detected(walker, [])
    assert not swapped_legs(kpts, conf).any()
    # nor does it matter which way round the whole track is labelled: the detector's stands
    all_swapped, conf_swapped, _ = _detected(walker, range(walker.num_frames))
    assert not swapped_legs(all_swapped, conf_swapped).any()


def test_frames_without_legs_are_bridged_and_too_little_is_left_alone(walker):
    kpts, conf, _ = _detected(walker, [7])
    hidden = conf.copy()
    hidden[[5, 6], 23:] = 0.0  # the legs unseen for two frames around the swap
    assert np.flatnonzero(swapped_legs(kpts, hidden)).tolist() == [7]
    alone = np.zeros_like(conf)
    alone[4] = conf[4]  # one frame cannot be judged against anything
    assert not swapped_legs(kpts, alone).any()
    assert not swapped_legs(kpts[:0], conf[:0]).any()
