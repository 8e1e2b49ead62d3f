"""Procedural actor motion on the anny rig, with feet that stay planted while in contact.

An actor's motion is a script of actions (:data:`ACTIONS`), each a few seconds long,
cross-faded into one another. Each action gives, per frame, the rotation of every bone
(anny's "local-ref" parameterisation: a bone turns about its own head, in world-aligned
axes, its parents' turns composed before it) and, for a jump, the height of the flight.
The actor's root (pelvis) never tilts; its heading is the script's turns.

Where the body goes is not scripted: it follows from the legs. The foot that has landed
carries the weight (the lower foot, once it no longer swings forward: ``plant``); that
foot is pinned to the ground where it landed and the root is placed so that it stays
there (ground contact solved by construction, no sliding), and the feet are kept flat,
turned with the heading of the step they belong to. Walking, running and turning
therefore move the body exactly as far as its strides reach, forward at a steady pace
(one sampled walk's root between 1.1 and 2.0 m/s once under way; before the rule and the
stride profile of ``_stride`` it was thrown back at 3.5 m/s for two frames a step). One
wart is left: as a gait stops and the legs close, the carrying foot comes forward while
the other is still in the air, and the body draws back a few centimetres.

Angles are in radians. The rig's axes (anny): Z up, the body faces -Y, its left is +X.
For a bone that points down (legs, arms) a turn of -a about X swings it forward; for one
that points up (spine, neck) +a about X leans it forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reshoot.errors import InputError

ACTIONS = ("stand", "walk", "run", "wave", "talk", "jump", "sit")
"""What an actor can do in a script segment. ``walk`` and ``run`` with a ``turn_deg`` turn."""

#: The bones of anny's ``anny-notoes-nohands`` rig, in its order (both reshoot variants).
BONES = (
    "root", "pelvis.L", "upperleg01.L", "upperleg02.L", "lowerleg01.L", "lowerleg02.L", "foot.L",
    "pelvis.R", "upperleg01.R", "upperleg02.R", "lowerleg01.R", "lowerleg02.R", "foot.R",
    "spine05", "spine04", "spine03", "spine02", "spine01",
    "clavicle.L", "shoulder01.L", "upperarm01.L", "upperarm02.L", "lowerarm01.L", "lowerarm02.L", "wrist.L",
    "clavicle.R", "shoulder01.R", "upperarm01.R", "upperarm02.R", "lowerarm01.R", "lowerarm02.R", "wrist.R",
    "neck01", "neck02", "neck03", "head", "eye.L", "eye.R",
)  # fmt: skip
BONE = {name: k for k, name in enumerate(BONES)}
LEG_CHAIN = {side: [BONE[f"{b}.{side}"] for b in ("pelvis", "upperleg01", "upperleg02", "lowerleg01", "lowerleg02")]
             for side in "LR"}  # fmt: skip
GRAVITY_MPS2 = 9.81


@dataclass
class Segment:
    """One action of a script."""

    action: str
    """one of :data:`ACTIONS`"""
    seconds: float
    """duration; a ``sit`` holds the seat to the end of the shot"""
    turn_deg: float = 0.0
    """``walk``/``run``: change of heading over the segment (+ turns left, seen from above)"""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise InputError(f"unknown action {self.action!r}; expected one of {', '.join(ACTIONS)}")
        if not self.seconds > 0:
            raise InputError(f"a {self.action} segment must last > 0 s, received {self.seconds}")
        if self.turn_deg and self.action not in ("walk", "run"):
            raise InputError(f"only walk and run segments turn, received turn_deg={self.turn_deg} for {self.action}")


@dataclass
class Style:
    """How one actor moves: small per-person differences so that no two walk alike."""

    cadence_hz: float = 1.8
    """walking steps per second (running: x 1.55)"""
    stride_deg: float = 31.0
    """hip swing amplitude of a walk (running: + 12)"""
    arm_swing_deg: float = 14.0
    arms_down_deg: float = 33.0
    """how far the arms are lowered from anny's A-pose towards the body"""
    gesture_phase: np.ndarray = field(default_factory=lambda: np.zeros(8))
    """phases of the talk/idle oscillations"""

    @staticmethod
    def sample(rng: np.random.Generator) -> Style:
        return Style(
            cadence_hz=rng.uniform(1.7, 2.0), stride_deg=rng.uniform(28.0, 34.0),
            arm_swing_deg=rng.uniform(10.0, 20.0), arms_down_deg=rng.uniform(30.0, 36.0),
            gesture_phase=rng.uniform(0, 2 * np.pi, 8),
        )  # fmt: skip


class _Channels:
    """(n, B, 3) bone angles about world-aligned x, y, z, filled by name."""

    def __init__(self, n: int) -> None:
        self.a = np.zeros((n, len(BONES), 3))

    def add(self, bone: str, x: np.ndarray | float = 0.0, y: np.ndarray | float = 0.0, z: np.ndarray | float = 0.0):
        self.a[:, BONE[bone]] += np.stack(np.broadcast_arrays(x, y, z, np.zeros(len(self.a)))[:3], -1)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _envelope(tau: np.ndarray, seconds: float, ramp_s: float = 0.5) -> np.ndarray:
    """0 -> 1 over the first ``ramp_s``, 1 -> 0 over the last: a gesture that starts and ends at rest."""
    ramp = min(ramp_s, seconds / 2)
    return _smoothstep(tau / ramp) * _smoothstep((seconds - tau) / ramp)


def _keyframes(tau: np.ndarray, keys: list[tuple[float, dict[str, tuple[float, float, float]]]]) -> _Channels:
    """Channels interpolated (smoothstep between keys) from ``(time_s, {bone: (x, y, z) deg})`` keys."""
    ch = _Channels(len(tau))
    times = np.array([k[0] for k in keys])
    bones = sorted({b for _, pose in keys for b in pose})
    idx = np.clip(np.searchsorted(times, tau, side="right") - 1, 0, len(times) - 1)
    nxt = np.minimum(idx + 1, len(times) - 1)
    span = np.where(nxt > idx, times[nxt] - times[idx], 1.0)
    w = _smoothstep((tau - times[idx]) / span)
    for b in bones:
        vals = np.deg2rad(np.array([pose.get(b, (0.0, 0.0, 0.0)) for _, pose in keys]))  # (n_keys, 3)
        ch.a[:, BONE[b]] += (1 - w)[:, None] * vals[idx] + w[:, None] * vals[nxt]
    return ch


def _base_posture(ch: _Channels, style: Style) -> None:
    """Arms lowered from anny's A-pose to hang by the body. (The A-pose bends the elbows
    about 50 degrees forward; straightening them by 40 leaves them relaxed.)"""
    down = np.deg2rad(style.arms_down_deg)
    ch.add("upperarm01.L", y=down)
    ch.add("upperarm01.R", y=-down)
    ch.add("lowerarm01.L", x=np.deg2rad(40))
    ch.add("lowerarm01.R", x=np.deg2rad(40))


def gait_cadence_hz(style: Style, run: bool) -> float:
    """Steps per second of a walk or a run."""
    return style.cadence_hz * (1.55 if run else 1.0)


def gait_steps_s(seconds: float, cadence_hz: float) -> float:
    """How long a gait of ``seconds`` moves: its whole steps (at least one)."""
    return max(np.floor(seconds * cadence_hz), 1.0) / cadence_hz


def _stride(c: np.ndarray) -> np.ndarray:
    """Where a leg points along its stride at gait phase ``c`` (rad; 0 heel strike, 0..pi
    stance, pi..2pi swing): 1 forward at heel strike, -1 back at toe-off.

    Through the stance at a steady pace: the planted foot moves back under the body at a
    constant angular rate, so the body passes over it at a steady speed (a cosine here
    would bring the body to a halt at every step). Forward again through the swing on a
    cubic that meets the stance's pace at both ends: the leg swings on back for a moment
    after toe-off and draws back a little before heel strike, as legs do (9 % of the
    amplitude), so the landing foot is not still swinging forward when it takes the weight."""
    s = np.mod(c, 2 * np.pi) / np.pi  # 0..1 stance, 1..2 swing
    u = s - 1.0
    swing = -8.0 * u**3 + 12.0 * u**2 - 2.0 * u - 1.0  # -1 -> 1, slope -2 at both ends
    return np.where(s < 1.0, 1.0 - 2.0 * s, swing)


def _gait(ch: _Channels, tau: np.ndarray, seconds: float, style: Style, run: bool) -> None:
    """Walk or run cycle: hips swing in anti-phase, the swing knee flexes, arms counter-swing.

    The first step starts from standing and the last one ends there, feet side by side
    (the amplitude ramps over one step at each end, and the gait stops at the last whole
    step of the segment), so a gait joins any other action without a foot sliding into
    place. Steps land at multiples of 1 / cadence.
    """
    cadence = gait_cadence_hz(style, run)
    step_s = 1.0 / cadence
    end_s = gait_steps_s(seconds, cadence)  # the last whole step lands with the legs together
    ramp = _smoothstep(tau / step_s) * _smoothstep((end_s - tau) / step_s)
    hip = np.deg2rad(style.stride_deg + (12.0 if run else 0.0)) * ramp**2
    lift = ramp**0.35  # knees lead the hips: the first and last steps clear the ground
    knee_stance, knee_swing = np.deg2rad(25.0 if run else 10.0) * lift, np.deg2rad(100.0 if run else 58.0) * lift
    arm = np.deg2rad(style.arm_swing_deg * (1.8 if run else 1.0)) * ramp
    cycle = 0.5 * cadence * tau  # strides: one stride is two steps
    for side, offset in (("L", 0.0), ("R", 0.5)):
        c = 2 * np.pi * (cycle + offset)  # 0: heel strike, 0..pi stance, pi..2pi swing
        ch.add(f"upperleg01.{side}", x=-hip * _stride(c))
        ch.add(f"lowerleg01.{side}", x=knee_stance * np.maximum(np.sin(c), 0) + knee_swing * np.maximum(-np.sin(c), 0))
        ch.add(f"upperarm01.{side}", x=-arm * np.cos(c + np.pi))
        elbow = np.deg2rad(75.0) * ramp if run else np.deg2rad(8.0) + 0.5 * arm * (1 - np.cos(c))
        ch.add(f"lowerarm01.{side}", x=-elbow)
    lean = np.deg2rad(9.0 if run else 2.5) * ramp
    ch.add("spine04", x=lean)
    ch.add("neck01", x=-lean)  # eyes on the horizon
    ch.add("spine03", z=np.deg2rad(4.0) * np.cos(2 * np.pi * cycle))  # shoulders counter-rotate


def _talk(ch: _Channels, tau: np.ndarray, seconds: float, style: Style) -> None:
    """Conversational gestures: forearms up, hands moving, head nodding and turning."""
    e = _envelope(tau, seconds, 0.6)
    ph = style.gesture_phase
    for k, (side, sign) in enumerate((("L", 1.0), ("R", -1.0))):
        wobble = 0.6 * np.sin(2 * np.pi * 0.9 * tau + ph[k]) + 0.4 * np.sin(2 * np.pi * 1.7 * tau + ph[k + 2])
        ch.add(f"upperarm01.{side}", x=e * np.deg2rad(-18 - 10 * wobble), y=sign * e * np.deg2rad(-6 + 8 * wobble))
        ch.add(f"lowerarm01.{side}", x=e * np.deg2rad(-70 - 22 * wobble))
    ch.add("neck02", x=e * np.deg2rad(5) * np.sin(2 * np.pi * 0.8 * tau + ph[4]))
    ch.add("head", z=e * np.deg2rad(14) * np.sin(2 * np.pi * 0.3 * tau + ph[5]))
    ch.add("spine03", z=e * np.deg2rad(5) * np.sin(2 * np.pi * 0.25 * tau + ph[6]))


def _wave(ch: _Channels, tau: np.ndarray, seconds: float, style: Style) -> None:
    """The right hand raised and waving side to side."""
    e = _envelope(tau, seconds, 0.5)
    ch.add("upperarm01.R", y=e * np.deg2rad(95 + style.arms_down_deg), x=e * np.deg2rad(-15))
    ch.add("lowerarm01.R", y=e * np.deg2rad(35 + 28 * np.sin(2 * np.pi * 2.2 * tau + style.gesture_phase[7])))
    ch.add("head", z=e * np.deg2rad(-8))


def _jump_keys(seconds: float) -> tuple[list, float, float]:
    """A standing jump: crouch, take off, fly, land, recover. Returns keys, take-off and landing times."""
    t0 = max(0.0, (seconds - 1.7) / 2)  # centred in the segment
    flight_s = 0.4
    takeoff, land = t0 + 0.65, t0 + 0.65 + flight_s
    crouch = {"upperleg01.L": (-55, 0, 0), "upperleg01.R": (-55, 0, 0), "lowerleg01.L": (100, 0, 0),
              "lowerleg01.R": (100, 0, 0), "spine04": (28, 0, 0), "neck01": (-20, 0, 0),
              "upperarm01.L": (35, 0, 0), "upperarm01.R": (35, 0, 0)}  # fmt: skip
    reach = {"upperarm01.L": (-150, -10, 0), "upperarm01.R": (-150, 10, 0), "spine04": (-3, 0, 0)}
    landing = {"upperleg01.L": (-40, 0, 0), "upperleg01.R": (-40, 0, 0), "lowerleg01.L": (75, 0, 0),
               "lowerleg01.R": (75, 0, 0), "spine04": (20, 0, 0), "neck01": (-15, 0, 0),
               "upperarm01.L": (-30, 0, 0), "upperarm01.R": (-30, 0, 0)}  # fmt: skip
    keys = [(t0, {}), (t0 + 0.45, crouch), (takeoff, reach), (land - 0.05, reach), (land + 0.2, landing), (t0 + 1.7, {})]
    return keys, takeoff, land


def _sit_keys(seconds: float) -> list:
    """Sit down on a seat behind the actor over 1.3 s, then hold."""
    half = {"upperleg01.L": (-45, 0, 0), "upperleg01.R": (-45, 0, 0), "lowerleg01.L": (60, 0, 0),
            "lowerleg01.R": (60, 0, 0), "spine04": (30, 0, 0), "neck01": (-20, 0, 0)}  # fmt: skip
    seated = {"upperleg01.L": (-88, 0, 0), "upperleg01.R": (-88, 0, 0), "lowerleg01.L": (85, 0, 0),
              "lowerleg01.R": (85, 0, 0), "spine04": (8, 0, 0), "neck01": (-6, 0, 0),
              "upperarm01.L": (-25, 0, 0), "upperarm01.R": (-25, 0, 0),
              "lowerarm01.L": (-35, 0, 0), "lowerarm01.R": (-35, 0, 0)}  # fmt: skip
    return [(0.0, {}), (0.65, half), (1.3, seated), (max(seconds, 1.31), seated)]


def action_channels(seg: Segment, tau: np.ndarray, style: Style) -> tuple[np.ndarray, np.ndarray]:
    """Angles (n, B, 3) and flight height (n,) metres of ``seg`` at times ``tau`` (s, from its start)."""
    n = len(tau)
    tau = np.clip(tau, 0.0, seg.seconds)
    lift = np.zeros(n)
    if seg.action in ("jump", "sit"):
        if seg.action == "jump":
            keys, takeoff, land = _jump_keys(seg.seconds)
            flying = (tau > takeoff) & (tau < land)
            lift[flying] = 0.5 * GRAVITY_MPS2 * (tau[flying] - takeoff) * (land - tau[flying])
        else:
            keys = _sit_keys(seg.seconds)
        ch = _keyframes(tau, keys)
    else:
        ch = _Channels(n)
        if seg.action in ("walk", "run"):
            _gait(ch, tau, seg.seconds, style, run=seg.action == "run")
        elif seg.action == "talk":
            _talk(ch, tau, seg.seconds, style)
        elif seg.action == "wave":
            _wave(ch, tau, seg.seconds, style)
    breathe = np.deg2rad(1.2) * np.sin(2 * np.pi * 0.25 * tau + style.gesture_phase[0])
    ch.add("spine02", x=breathe)
    _base_posture(ch, style)
    return ch.a, lift


@dataclass
class ScriptedMotion:
    """A script evaluated on the frame times, before ground contact is solved."""

    angles: np.ndarray
    """(T, B, 3) bone angles (rad) about world-aligned x, y, z; the root's are zero"""
    heading_rad: np.ndarray
    """(T,) yaw of the root about world Z; 0 faces -Y"""
    lift_m: np.ndarray
    """(T,) height of the root above its standing height (jump flight)"""
    sitting: np.ndarray
    """(T,) bool: frames where the actor is on (or going down onto) a seat"""


def evaluate_script(script: list[Segment], times_s: np.ndarray, style: Style, heading0_rad: float = 0.0,
                    crossfade_s: float = 0.4) -> ScriptedMotion:  # fmt: skip
    """Evaluate a script on ``times_s`` (T,). Segments follow one another from t = 0 and
    cross-fade over ``crossfade_s``; the last one holds to the end of the shot."""
    if not script:
        raise InputError("an actor's script needs at least one segment")
    if any(s.action == "sit" for s in script[:-1]):
        raise InputError("a sit must be the last segment of a script (actors do not stand up again)")
    starts = np.concatenate([[0.0], np.cumsum([s.seconds for s in script])[:-1]])
    angles, lift = action_channels(script[0], times_s - starts[0], style)
    heading = np.full(len(times_s), heading0_rad)
    for k, (seg, start) in enumerate(zip(script, starts)):
        tau = times_s - start
        if k > 0:
            a_k, lift_k = action_channels(seg, tau, style)
            w = _smoothstep((tau + crossfade_s / 2) / crossfade_s)[:, None, None]
            angles = (1 - w) * angles + w * a_k
            lift = lift + np.where(tau >= 0, lift_k, 0.0)
        if seg.turn_deg:  # over the whole steps of the gait: once it stops, feet stay put
            turn_s = gait_steps_s(seg.seconds, gait_cadence_hz(style, seg.action == "run"))
            heading = heading + np.deg2rad(seg.turn_deg) * _smoothstep(tau / turn_s)
    sitting = np.zeros(len(times_s), bool)
    if script[-1].action == "sit":
        sitting = times_s >= starts[-1]
    return ScriptedMotion(angles=angles, heading_rad=heading, lift_m=lift, sitting=sitting)


# ------------------------------------------------------------------------ rotations


def rot_xyz(angles: np.ndarray) -> np.ndarray:
    """(..., 3) angles about x, y, z -> (..., 3, 3) rotation Rz @ Ry @ Rx."""
    x, y, z = np.moveaxis(angles, -1, 0)
    cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
    one, zero = np.ones_like(x), np.zeros_like(x)
    Rx = np.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], -1).reshape(*x.shape, 3, 3)
    Ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(*x.shape, 3, 3)
    Rz = np.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], -1).reshape(*x.shape, 3, 3)
    return Rz @ Ry @ Rx


def rot_z(yaw: np.ndarray) -> np.ndarray:
    """(...,) -> (..., 3, 3) rotation about Z."""
    return rot_xyz(np.stack([np.zeros_like(yaw), np.zeros_like(yaw), yaw], -1))


def flat_feet(R_bones: np.ndarray, foot_yaw: dict[str, np.ndarray]) -> np.ndarray:
    """Set each foot's rotation so that, with its leg chain above it, the foot's world
    turn relative to the root is a yaw of ``foot_yaw[side]`` (T,): the sole stays flat."""
    R = R_bones.copy()
    for side in "LR":
        chain = np.broadcast_to(np.eye(3), R.shape[:1] + (3, 3)).copy()
        for b in LEG_CHAIN[side]:
            chain = chain @ R[:, b]
        R[:, BONE[f"foot.{side}"]] = np.swapaxes(chain, -1, -2) @ rot_z(foot_yaw[side])
    return R


# ------------------------------------------------------------------ ground contact


@dataclass
class Planted:
    """Where the body goes once its feet are planted."""

    T_world_root: np.ndarray
    """(T, 4, 4) root (pelvis) pose in the world: a yaw and a translation"""
    stance: np.ndarray
    """(T,) int: 0 when the left foot carries the weight, 1 the right (the foot pinned)"""


def stance_feet(sole_z: np.ndarray, tol_m: float = 1e-4) -> np.ndarray:
    """(T,) 0/1: the lower foot of ``sole_z`` (T, 2) carries the weight; on a tie (both
    feet down) the weight stays where it was."""
    stance = np.zeros(len(sole_z), int)
    stance[0] = int(sole_z[0, 1] < sole_z[0, 0] - tol_m)
    for t in range(1, len(sole_z)):
        prev = stance[t - 1]
        stance[t] = 1 - prev if sole_z[t, 1 - prev] < sole_z[t, prev] - tol_m else prev
    return stance


def step_yaws(stance: np.ndarray, sole_z: np.ndarray, heading_rad: np.ndarray, tol_m: float = 1e-4) -> dict[str, np.ndarray]:
    """Foot yaws relative to the root (T,) per side: a foot on the ground keeps the heading
    it landed with (the hips turn over it); in the air it turns back with the body."""
    yaws = {}
    support = sole_z[np.arange(len(stance)), stance]
    for s, side in enumerate("LR"):
        yaw = np.zeros(len(stance))
        down = (stance == s) | (sole_z[:, s] <= support + tol_m)
        for t, end in _runs(down):
            if down[t]:
                yaw[t:end] = heading_rad[t] - heading_rad[t:end]
            elif t > 0:  # swing: unwind the offset of the last stance before landing
                w = _smoothstep(np.arange(1, end - t + 1) / (end - t + 1))
                yaw[t:end] = (1 - w) * yaw[t - 1]
        yaws[side] = yaw
    return yaws


def plant(sole_z: np.ndarray, foot_xy: np.ndarray, stance: np.ndarray, heading_rad: np.ndarray,
          lift_m: np.ndarray, start_xy: np.ndarray, frame_s: float, tol_m: float = 1e-3) -> Planted:  # fmt: skip
    """Place the root so that the weight-bearing foot stays where it landed.

    ``sole_z`` (T, 2) lowest point and ``foot_xy`` (T, 2, 2) centre of each foot (left,
    right) in the root frame (root at the origin, heading 0); ``stance`` (T,) the lower
    foot (``stance_feet``); ``start_xy`` (2,) is the root's position at frame 0. The
    root's height puts the lower sole on z = 0 (plus the jump's ``lift_m``).

    The weight passes to the lower foot once it has landed: once it no longer swings
    forward under the body (by more than ``tol_m`` a frame). A foot that reaches the
    ground still swinging forward cannot carry the body: pinned, it would throw the body
    back (by 3.5 m/s for a frame or two of every step of a walk, measured before this
    rule). Until it lands, the foot that carried the weight holds. It is then the higher
    of the two, and the lower one swings: nothing is on the ground, the body is in the
    air (a run's flight), and the root rises on a ballistic arc over those frames
    (``frame_s`` seconds apart) instead of putting the swinging foot on the ground. The
    root's ground position keeps the carrying foot's centre still, from the frame after
    it lands until the weight passes on.
    """
    T = len(stance)
    R = rot_z(heading_rad)[:, :2, :2]  # (T, 2, 2)
    swinging = np.zeros((T, 2), bool)  # the foot moves forward (-Y in the root frame) by the next frame
    swinging[:-1] = foot_xy[:-1, :, 1] - foot_xy[1:, :, 1] > tol_m
    carry = np.empty(T, int)
    carry[0] = stance[0]
    p = np.zeros((T, 2))
    p[0] = start_xy
    pin = R[0] @ foot_xy[0, carry[0]] + p[0]
    for t in range(1, T):
        p[t] = pin - R[t] @ foot_xy[t, carry[t - 1]]
        landed = stance[t] != carry[t - 1] and not swinging[t, stance[t]]
        carry[t] = stance[t] if landed else carry[t - 1]
        if landed:  # the new foot holds from here
            pin = R[t] @ foot_xy[t, carry[t]] + p[t]
    T_world_root = np.repeat(np.eye(4)[None], T, 0)
    T_world_root[:, :3, :3] = rot_z(heading_rad)
    T_world_root[:, :2, 3] = p
    T_world_root[:, 2, 3] = -sole_z[np.arange(T), stance] + lift_m + _flight(stance != carry, frame_s)
    return Planted(T_world_root=T_world_root, stance=carry)


def _flight(airborne: np.ndarray, frame_s: float) -> np.ndarray:
    """(T,) height (m) of a ballistic arc over each run of ``airborne`` frames (T,), from
    the frame before it to the frame after."""
    lift = np.zeros(len(airborne))
    for t, end in _runs(airborne):
        if airborne[t]:
            since, until = (np.arange(t, end) - (t - 1)) * frame_s, (end - np.arange(t, end)) * frame_s
            lift[t:end] = 0.5 * GRAVITY_MPS2 * since * until
    return lift


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of equal ``values`` (T,), in order."""
    cuts = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate([[0], cuts, [len(values)]])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
