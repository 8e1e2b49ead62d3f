"""The bodies stage (S_c lifted to S_w) against the generator's ground truth: the camera
path's scale from the actors' size, a child beside an adult, a close-up without feet, an
actor seen for three frames, and a still camera whose ground comes from the feet."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from reshoot.bodymodel import pose_body, stature_m
from reshoot.eval.body import BODY_JOINTS, w_mpjpe_mm
from reshoot.shot import Shot
from reshoot.stages.bodies.stage import bodies, camera_init_path
from reshoot.synth.generate import SynthConfig, generate

UNITS_PER_M = 0.37
"""the camera stage's arbitrary units, as a test stands in for it"""


def _as_camera_stage_left_it(gt: Shot, ground: bool, turn_deg: float = 0.0) -> Shot:
    """The ground truth shot with what the bodies stage does not get taken away: bodies
    gone, the camera path in arbitrary units (and, for a still camera, tilted by
    ``turn_deg`` about the x axis, as a wrong guess of up would)."""
    shot = copy.deepcopy(gt)
    for actor in shot.actors:
        actor.body, actor.joint_names, actor.joints_world = None, None, None
    T = shot.camera.T_world_cam.copy()
    T[:, :3, 3] *= UNITS_PER_M
    c, s = np.cos(np.radians(turn_deg)), np.sin(np.radians(turn_deg))
    tilt = np.eye(4)
    tilt[1:3, 1:3] = [[c, -s], [s, c]]
    shot.camera.T_world_cam, shot.camera.metric = tilt @ T, False
    shot.meta = {"camera_init": {"ground": {"points": 100} if ground else None}}
    return shot


def _in_gt_world(est: Shot, gt: Shot, a: int) -> np.ndarray:
    """Actor ``a``'s estimated world joints moved into the ground truth world by the first
    camera, with the path's scale error taken out (about that camera): the estimate's
    world is the truth's up to a turn about up, a shift and the scale the prior gives."""
    scale = est.camera.path_length() / gt.camera.path_length()
    in_cam = np.linalg.inv(est.camera.T_world_cam[0])
    X = (np.einsum("ij,tkj->tki", in_cam[:3, :3], est.actors[a].joints_world) + in_cam[:3, 3]) / scale
    T0 = gt.camera.T_world_cam[0]
    return np.einsum("ij,tkj->tki", T0[:3, :3], X) + T0[:3, 3]


def _major(shot: Shot, a: int) -> list[int]:
    return [shot.actors[a].joint_names.index(n) for n in BODY_JOINTS]





@pytest.fixture(scope="module")
def adult_and_child(tmp_path_factory) -> Shot:
    out = tmp_path_factory.mktemp("pair")
    cfg = SynthConfig(shot_type="arc", people=2, child=True, seconds=2.0, fps=8.0, width=640, height=360, seed=5)
    generate(cfg, out)
    return Shot.load(out / "gt")


@pytest.fixture(scope="module")
def pair_lifted(adult_and_child) -> Shot:
    return bodies(_as_camera_stage_left_it(adult_and_child, ground=True))


def test_the_ground_sizes_a_child_beside_an_adult(adult_and_child, pair_lifted):
    gt, est = adult_and_child, pair_lifted
    adult, child = (stature_m(a.body.phenotype) for a in gt.actors)
    assert child < 1.45 < adult
    meta = est.meta["bodies"]
    assert est.camera.metric and meta["ground"] == "background"
    # both are taken for adults of average height (1.70 m): the path's scale is off by
    # their mean (log) deviation from it, plus what the fit itself misses
    scale_err = est.camera.path_length() / gt.camera.path_length() - 1
    expected = 1.70 / np.sqrt(adult * child) - 1
    assert abs(scale_err - expected) < 0.03, (scale_err, expected)
    # but the ground says who is taller, and the disagreement is flagged
    sizes = {int(k): v["stature_m"] for k, v in meta["actors"].items()}
    ratio = sizes[gt.actors[1].track_id] / sizes[gt.actors[0].track_id]
    assert abs(ratio / (child / adult) - 1) < 0.05, (ratio, child / adult)
    assert any("heights differ" in n for n in meta["notes"])
    # the bodies stand where the truth does, up to the scale the prior cannot know
    for a in range(2):
        err = w_mpjpe_mm(_in_gt_world(est, gt, a)[:, _major(est, a)], gt.actors[a].joints_world[:, _major(gt, a)],
                         np.ones((gt.num_frames, 14), bool))  # fmt: skip
        assert err < 100.0, (a, err)
    # the body parameters pose to the joints the shot stores
    body = est.actors[0].body
    posed = pose_body(body.model, body.phenotype, body.bone_quats_wxyz, body.T_world_root)
    assert np.abs(posed.bone_heads_world - est.actors[0].joints_world).max() < 0.05
    assert body.observed.all()


def test_a_rerun_starts_from_the_camera_stage_path(adult_and_child, pair_lifted):
    before = _as_camera_stage_left_it(adult_and_child, ground=True).camera.T_world_cam
    np.testing.assert_allclose(camera_init_path(pair_lifted), before, atol=1e-9)


def test_a_close_up_without_feet_stands_on_the_ground(adult_and_child):
    shot = _as_camera_stage_left_it(adult_and_child, ground=True)
    obs = shot.actors[0].observations
    obs.kpts_conf[:, 25:] = 0.0  # knees, ankles, heels and toes never seen: a waist-up framing
    est = bodies(shot)
    notes = est.meta["bodies"]["actors"][str(shot.actors[0].track_id)]["notes"]
    assert any("legs seen in 0%" in n for n in notes)
    assert any("feet never seen" in n for n in est.meta["bodies"]["notes"])
    # the guessed legs stand: the lowest sole is on the ground
    joints = est.actors[0].joints_world
    feet = [est.actors[0].joint_names.index(n) for n in ("foot.L", "foot.R")]
    assert np.all(np.abs(joints[:, feet, 2].min(1)) < 0.2)
    # the upper body is where the truth's is
    names = ("upperarm01.L", "upperarm01.R", "neck01", "head")
    upper = [est.actors[0].joint_names.index(n) for n in names]
    truth = adult_and_child.actors[0].joints_world[:, [adult_and_child.actors[0].joint_names.index(n) for n in names]]
    err = np.linalg.norm(_in_gt_world(est, adult_and_child, 0)[:, upper] - truth, axis=-1)
    assert np.median(err) < 0.25


def test_an_actor_seen_for_three_frames_gets_a_flagged_body(adult_and_child):
    shot = _as_camera_stage_left_it(adult_and_child, ground=True)
    obs = shot.actors[1].observations
    obs.kpts_conf[:6] = 0.0
    obs.kpts_conf[9:] = 0.0
    est = bodies(shot)
    child = est.actors[1]
    assert child.body is not None and np.flatnonzero(child.body.observed).tolist() == [6, 7, 8]
    notes = est.meta["bodies"]["actors"][str(child.track_id)]["notes"]
    assert any("only 3 frames" in n for n in notes)
    assert np.isfinite(child.joints_world).all()


def test_an_actor_never_seen_gets_no_body(adult_and_child):
    shot = _as_camera_stage_left_it(adult_and_child, ground=True)
    shot.actors[1].observations.kpts_conf[:] = 0.0
    est = bodies(shot)
    assert est.actors[1].body is None and est.actors[1].joints_world is None
    assert est.actors[0].body is not None
    assert "no body" in est.meta["bodies"]["actors"][str(shot.actors[1].track_id)]["notes"][0]


def test_a_still_camera_finds_the_ground_under_walking_feet(tmp_path):
    # seed 7: the performer walks, a passer-by crosses nearer the camera: the soles cover the floor
    generate(SynthConfig(shot_type="static", people=2, seconds=2.0, fps=8.0, width=640, height=360, seed=7), tmp_path)
    gt = Shot.load(tmp_path / "gt")
    est = bodies(_as_camera_stage_left_it(gt, ground=False, turn_deg=4.0))  # up guessed 4 degrees wrong
    assert est.meta["bodies"]["ground"] == "feet" and est.camera.metric

    def pitch_deg(shot: Shot) -> float:  # the view direction's angle below the horizon
        return float(np.degrees(np.arcsin(shot.camera.T_world_cam[0, 2, 2])))

    assert abs(pitch_deg(est) - pitch_deg(gt)) < 1.5
    # the camera stands at its height above the floor, in the metres of actors taken for
    # adults of average height (1.70 m)
    statures = [stature_m(a.body.phenotype) for a in gt.actors]
    expected = gt.camera.T_world_cam[0, 2, 3] * 1.70 / np.exp(np.mean(np.log(statures)))
    assert abs(est.camera.T_world_cam[0, 2, 3] / expected - 1) < 0.05, (est.camera.T_world_cam[0, 2, 3], expected)

    # up measured by the camera stage (the background's vertical edges): the feet set the
    # ground's height only, the tilt stays the camera stage's, here the true one
    shot = _as_camera_stage_left_it(gt, ground=False)
    shot.meta["camera_init"]["up"] = {"source": "verticals"}
    measured = bodies(shot)
    assert measured.meta["bodies"]["ground"] == "feet"
    assert pitch_deg(measured) == pytest.approx(pitch_deg(gt), abs=1e-6)
    height = measured.camera.T_world_cam[0, 2, 3]
    assert abs(height / expected - 1) < 0.05, (height, expected)


def test_a_moving_camera_without_ground_is_scaled_by_the_feet_that_stay_put(tmp_path):
    generate(SynthConfig(shot_type="arc", people=1, seconds=2.0, fps=8.0, width=640, height=360, seed=4), tmp_path)
    gt = Shot.load(tmp_path / "gt")
    est = bodies(_as_camera_stage_left_it(gt, ground=False))
    meta = est.meta["bodies"]
    assert meta["ground"] == "feet" and est.camera.metric
    assert any("planted feet" in n for n in meta["notes"])
    # in the metres of an actor taken for an adult of average height
    expected = 1.70 / stature_m(gt.actors[0].body.phenotype)
    scale = est.camera.path_length() / gt.camera.path_length()
    assert abs(scale / expected - 1) < 0.05, (scale, expected)


def test_feet_in_the_air_are_not_taken_for_a_step_away(tmp_path):
    # seed 3: the performer stands, jumps (0.35 s in the air at 24 fps: longer than the
    # depth's running median outvotes) and talks; the camera tracks sideways
    generate(SynthConfig(shot_type="track", people=1, seconds=3.0, fps=24.0, width=640, height=360, seed=3), tmp_path)
    gt = Shot.load(tmp_path / "gt")
    assert [s["action"] for s in gt.meta["synth"]["roles"][0]["script"]] == ["stand", "jump", "talk"]
    est = bodies(_as_camera_stage_left_it(gt, ground=True))
    assert any("feet in the air" in n for n in est.meta["bodies"]["notes"])
    major = _major(gt, 0)
    truth = gt.actors[0].joints_world[:, major]
    feet = truth[:, [BODY_JOINTS.index("foot.L"), BODY_JOINTS.index("foot.R")], 2].min(1)
    flight = feet > feet.min() + 0.05
    assert 6 <= flight.sum() <= 10, flight.sum()
    error = np.linalg.norm(_in_gt_world(est, gt, 0)[:, _major(est, 0)] - truth, axis=-1).mean(1)
    # putting the raised soles on the ground carried the body ~0.5 m away along its ray
    # (254 mm mean joint error in the flight): the flight's depth is bridged instead
    assert error[flight].mean() < 0.18, error[flight].mean()
    assert error[~flight].mean() < 0.06, error[~flight].mean()


def test_the_ground_smooths_where_a_body_is_not_how_its_fit_wavers():
    # a fitted depth that wavers with the stride (the keypoints' spread at a fixed stature)
    # and a ground that says, with a little noise, where the body really is: the smoothed
    # placement follows the body's true, smooth path, not the fit's wavering
    from reshoot.stages.bodies.world import _frame_scale

    t = np.arange(60)
    true_depth = 5.0 + 0.02 * t  # metres, walking slowly away
    fitted = true_depth / 1.1 * (1.0 + 0.05 * np.sin(2 * np.pi * t / 8))  # a 1.87 m actor fitted at 1.70
    ratio = true_depth / fitted * (1.0 + 0.01 * np.random.default_rng(0).standard_normal(60))
    ok = np.ones(60, bool)
    ok[20:26] = False  # feet unseen: bridged
    placed = _frame_scale(ratio, ok, 1.1, fitted) * fitted
    assert np.abs(placed / true_depth - 1.0).max() < 0.015  # the wavering was 5 %


def test_a_body_walking_in_before_its_feet_are_seen_keeps_its_scale_not_its_place():
    # the first 20 frames show no feet (the actor walks in from the edge): nothing places
    # the body there, so it keeps the scale the first placed frame found and moves as
    # fitted (walking towards the camera), not frozen where it was first put down
    from reshoot.stages.bodies.world import _frame_scale

    t = np.arange(60)
    true_depth = 8.0 - 0.05 * t  # metres: 1 m nearer by the first placed frame
    fitted = true_depth / 1.1
    ok = t >= 20
    placed = _frame_scale(np.full(60, 1.1), ok, 1.1, fitted) * fitted
    # the place held would stand it at 7.0 m where the truth is 8.0 (10 % off after the
    # clip to the actor's own scale); the scale held is exact but for the smoothing's
    # repeated ends (the Gaussian pulls a steady walk's first and last frames in by 0.8 %)
    assert np.abs(placed / true_depth - 1.0).max() < 0.01
    assert np.abs(placed / true_depth - 1.0)[5:55].max() < 1e-3


def test_feet_folded_into_the_frame_of_an_actor_cut_by_its_bottom_edge_are_not_trusted():
    from reshoot.shot import ActorObservations
    from reshoot.stages.bodies.stage import trusted_confidence

    H = 540
    kpts = np.zeros((3, 33, 2))
    kpts[:, [11, 12]] = [[400, 250], [440, 250]]  # shoulders
    kpts[:, [23, 24]] = [[405, 400], [435, 400]]  # hips: a torso 150 px long
    kpts[:, [25, 26]] = [[405, 490], [435, 490]]  # knees: below the hips
    kpts[:, 27:33, 1] = [[520] * 6, [420] * 6, [420] * 6]  # feet: at the edge, at hip height (twice)
    boxes = np.array([[380, 200, 460, 540], [380, 200, 460, 540], [380, 200, 460, 470]], float)
    obs = ActorObservations("mediapipe33", kpts, np.full((3, 33), 0.9), boxes)
    conf = trusted_confidence(obs, 960, H)
    feet = conf[:, 27:33]
    assert (feet[0] == 0.9).all()  # cut by the edge, feet guessed at it: kept
    assert (feet[1] == 0.0).all()  # cut by the edge, feet at hip height: folded into the frame
    assert (feet[2] == 0.9).all()  # the whole actor in the frame: the feet are seen
    assert (conf[:, :27] == 0.9).all() and obs.kpts_conf.min() == 0.9  # nothing else touched, the input kept


def test_legs_folded_up_a_moment_by_an_actor_cut_by_the_bottom_edge_are_not_trusted():
    """Someone walking in at the bottom of the frame, legs below its edge: where the
    detector flickers into folding the knees up level with the hips, the frame keeps no
    keypoint (the detector folds the torso with them); an actor seated through the shot
    keeps its knees at its hips, and someone whole in the frame may raise a knee."""
    from reshoot.shot import ActorObservations
    from reshoot.stages.bodies.stage import trusted_confidence

    W, H, T = 960, 540, 30

    def actor(knee_below_hips_px: np.ndarray, bottom: float) -> ActorObservations:
        kpts = np.zeros((T, 33, 2))
        kpts[:, [11, 12]] = [[600, 280], [640, 280]]
        kpts[:, [23, 24]] = [[605, 400], [635, 400]]  # a torso 120 px long
        kpts[:, [25, 26], 0] = [605, 635]
        kpts[:, [25, 26], 1] = 400 + knee_below_hips_px[:, None]
        kpts[:, 27:33, 1] = H + 60 if bottom >= H else bottom - 10  # the feet below the edge, or in the frame
        return ActorObservations("mediapipe33", kpts, np.full((T, 33), 0.9), np.tile([570.0, 240.0, 680.0, bottom], (T, 1)))

    walking = np.full(T, 60.0)  # knees half a torso below the hips
    walking[[8, 10, 11]] = [-20.0, 0.0, 20.0]  # folded up to the hips
    conf = trusted_confidence(actor(walking, H), W, H)
    assert np.flatnonzero((conf == 0).all(1)).tolist() == [8, 10, 11]
    assert (conf[(conf > 0).any(1)][:, :27] == 0.9).all()
    seated = np.full(T, 5.0)  # knees level with the hips all along
    assert (trusted_confidence(actor(seated, H), W, H)[:, :27] == 0.9).all()
    assert (trusted_confidence(actor(walking, H - 40), W, H)[:, :27] == 0.9).all()  # whole in the frame: a raised knee


def test_a_body_folded_up_at_the_frames_side_is_not_trusted():
    from reshoot.shot import ActorObservations
    from reshoot.stages.bodies.stage import trusted_confidence

    W, H, T = 960, 540, 30
    torso = np.full(T, 150.0)
    torso[10] = 60.0  # bending over, whole in the frame: a pose, not a fold
    torso[24:] = [140, 120, 85, 60, 40, 30]  # walking out at the right, the last four folded up
    kpts = np.zeros((T, 33, 2))
    kpts[:, [23, 24]] = [[800, 400], [830, 400]]
    kpts[:, [11, 12], 0] = [800, 830]
    kpts[:, [11, 12], 1] = 400 - torso[:, None]
    boxes = np.tile([760.0, 200.0, 870.0, 530.0], (T, 1))
    boxes[24:, 2] = W  # cut by the right side
    obs = ActorObservations("mediapipe33", kpts, np.full((T, 33), 0.9), boxes)
    conf = trusted_confidence(obs, W, H)
    folded = (conf == 0).all(1)
    assert folded.tolist() == [False] * 26 + [True] * 4
    assert (conf[~folded] == 0.9).all() and obs.kpts_conf.min() == 0.9  # the rest, and the input, untouched
    always = ActorObservations("mediapipe33", kpts, np.full((T, 33), 0.9), np.tile([0.0, 200.0, 110.0, 530.0], (T, 1)))
    assert (trusted_confidence(always, W, H) == 0.9).all()  # at the side all along: nothing to compare with


def test_a_body_folded_up_behind_someone_in_front_is_not_trusted():
    """One walks behind another who is nearer the camera (their box reaches lower): in
    the frames where the one in front covers part of them, a torso folded up to a third
    of its length is the landmark model's guess, not a pose; the one in front, and the
    one behind where nobody covers them, keep every keypoint."""
    from reshoot.shot import Actor, ActorObservations, Video
    from reshoot.stages.bodies.stage import hidden_in_part, trusted_confidence

    W, H, T = 960, 540, 30
    torso = np.full(T, 80.0)
    torso[[12, 14, 16]] = 25.0  # folded while half hidden
    torso[25] = 25.0  # bending over, in full view: a pose
    kpts = np.zeros((T, 33, 2))
    kpts[:, [23, 24]] = [[600, 400], [630, 400]]
    kpts[:, [11, 12], 0] = [600, 630]
    kpts[:, [11, 12], 1] = 400 - torso[:, None]
    behind = ActorObservations("mediapipe33", kpts, np.full((T, 33), 0.9), np.tile([570.0, 200.0, 660.0, 480.0], (T, 1)))
    x0 = np.linspace(200.0, 900.0, T)[:, None]  # crossing in front, left to right: over them in frames 12-18
    front_boxes = np.concatenate([x0, np.full((T, 1), 180.0), x0 + 100, np.full((T, 1), 530.0)], 1)
    front = ActorObservations("mediapipe33", kpts + (x0 - 600)[:, :, None] * [1, 0], np.full((T, 33), 0.9), front_boxes)
    shot = Shot(video=Video(fps=24.0, num_frames=T, width=W, height=H),
                actors=[Actor(1, np.ones(T, bool), behind), Actor(2, np.ones(T, bool), front)])  # fmt: skip
    hidden = hidden_in_part(shot, 0)
    assert np.flatnonzero(hidden).tolist() == list(range(12, 19)) and not hidden_in_part(shot, 1).any()
    conf = trusted_confidence(behind, W, H, hidden)
    assert np.flatnonzero((conf == 0).all(1)).tolist() == [12, 14, 16]
    assert (trusted_confidence(behind, W, H) == 0.9).all()  # not hidden, not cut: trusted as it is


def test_a_body_walking_out_of_the_frame_goes_on_at_its_speed():
    """Beyond the frames it is fitted on, a body goes on at the speed it had while the
    actor crosses the frame's edge (the tracker keeps the part of them still in it, with
    no keypoints to fit), backwards where they walked in; then it is held, as it is where
    the actor stands away from the edge; a speed out of jittery frames is capped."""
    from reshoot.shot import Actor, ActorObservations
    from reshoot.stages.bodies.stage import GLIDE_FRAMES, MAX_GLIDE_MPS, _glide, crossing_edge

    W, H, T, fps = 960, 540, 40, 24.0
    span = slice(10, 30)
    v = np.array([0.05, 0.0, -0.01])  # metres a frame in the camera's frame: 1.2 m/s across, towards it
    root = np.array([-1.0, 0.2, 6.0]) + np.arange(span.start, span.stop)[:, None] * v
    boxes = np.tile([400.0, 100.0, 500.0, 400.0], (T, 1))
    boxes[30:34, 2] = W  # walking out at the right from frame 30 ...
    boxes[5:10, 0] = 0.0  # ... having walked in at the left from frame 5
    actor = Actor(1, np.ones(T, bool), ActorObservations("mediapipe33", np.zeros((T, 33, 2)), np.zeros((T, 33)), boxes))
    crossing = crossing_edge(actor, W, H)
    assert np.flatnonzero(crossing).tolist() == [5, 6, 7, 8, 9, 30, 31, 32, 33]
    glide = _glide(root, span, crossing, fps)
    steps = np.r_[np.full(5, -5), np.arange(-5, 0), np.zeros(20), np.arange(1, 5), np.full(6, 4)]
    np.testing.assert_allclose(glide, steps[:, None] * v, atol=1e-9)
    # standing at the edge or away from it, not crossing: held
    assert not _glide(root, span, np.zeros(T, bool), fps).any()
    # last frames that make a sprint of it (a fit gone astray): no faster than MAX_GLIDE_MPS
    astray = root.copy()
    astray[-GLIDE_FRAMES:, 0] += 0.5 * np.arange(GLIDE_FRAMES)  # 13 m/s
    fast = _glide(astray, span, crossing, fps)
    assert np.linalg.norm(fast[31] - fast[30]) * fps == pytest.approx(MAX_GLIDE_MPS)


def test_a_moment_lost_in_view_is_drawn_and_a_walk_out_of_the_frame_is_not(adult_and_child):
    """A short gap in an actor's presence with them in view on both sides (hidden behind
    someone, missed by the tracker) is drawn with the bridged body; a longer one, or one
    beside the frame's edge (gone out of the frame), is not."""
    from reshoot.shot import Actor, ActorObservations, BodyParams
    from reshoot.stages.bodies.stage import LOST_IN_VIEW_FRAMES as N
    from reshoot.stages.bodies.stage import crossing_edge, lost_in_view

    W, H, T = 960, 540, 80
    boxes = np.tile([400.0, 100.0, 500.0, 400.0], (T, 1))
    present = np.ones(T, bool)
    present[10:14] = False  # a moment: drawn
    present[20 : 21 + N] = False  # one frame too long: not
    present[40 : 40 + N] = False  # just short enough: drawn
    boxes[59, 2] = W  # out at the right edge, back a few frames later: not
    present[60:63] = False
    present[70:] = False  # gone at the end: not
    actor = Actor(1, present, ActorObservations("mediapipe33", np.zeros((T, 33, 2)), np.zeros((T, 33)), boxes))
    lost = lost_in_view(actor, W, H)
    assert np.flatnonzero(lost).tolist() == [*range(10, 14), *range(40, 40 + N)]
    # what is drawn: the body's shown frames, else where the actor is present
    assert (actor.drawn() == present).all()
    quats = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1, 1))
    actor.body = BodyParams("anny", {}, ["root"], quats, np.tile(np.eye(4), (T, 1, 1)), shown=present | lost)
    assert (actor.drawn() == present | lost).all()
    # the bodies stage writes them: the child missed by the tracker for two frames in view
    shot = _as_camera_stage_left_it(adult_and_child, ground=True)
    child = shot.actors[1]
    in_view = child.present & ~crossing_edge(child, shot.video.width, shot.video.height)
    assert in_view[2:7].all(), "the premise: the child in view"
    child.present[3:5] = False
    child.observations.kpts_conf[3:5] = 0.0
    est = bodies(shot)
    assert np.flatnonzero(~est.actors[1].body.shown).tolist() == np.flatnonzero(~adult_and_child.actors[1].present).tolist()
    assert est.meta["bodies"]["actors"][str(child.track_id)]["frames_lost_in_view"] == 2
