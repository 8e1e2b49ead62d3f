"""The camera_init stage: the camera path and lens from the background, people masked out
(seed 001 sec. 3.1 starts from a SLAM camera; SLAM fails on dynamic content, so the
actors' instance masks keep their points out).

World frame (``level_world``): Z up, the first camera above the origin looking along
+Y. Up is the ground plane's normal when the background holds one, else the background's
vertical edges' vanishing direction (``verticals``), else the axis a pan turns about,
else square to the cameras' x axes (film cameras are levelled, they do not roll); which
one is recorded (``meta.camera_init.up``). The scale is arbitrary
(``Camera.metric`` False) until the bodies stage fixes it from people's size: with a
ground plane the first camera is put ``CAMERA_HEIGHT`` units above it (eye level: near
metres), without one the background's median depth is ``BACKGROUND_DEPTH`` units.

The lens: given (``--focal-px``), from the source's metadata, estimated with the path
when the camera turns, else, for a camera that moves over a ground without turning, from
that ground against the vertical edges (``horizon``; the path solved again with it), else
assumed; ``meta.camera_init.focal_source`` says which.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from reshoot.shot import Camera, Lens, Shot
from reshoot.stages.camera.ground import ground_plane
from reshoot.stages.camera.horizon import HorizonFocal, focal_from_horizon
from reshoot.stages.camera.solve import (
    MIN_TURN_DEG,
    CameraSolution,
    SolveConfig,
    assumed_focal,
    plausible_focal,
    solve,
    turned_deg,
)
from reshoot.stages.camera.tracks import TrackConfig, track_background
from reshoot.stages.camera.verticals import Verticals, up_from_frames
from reshoot.stages.camera.zoom import figures, resolve
from reshoot.stages.decode import Footage

log = logging.getLogger(__name__)

FULL_FRAME_DIAGONAL_MM = float(np.hypot(36.0, 24.0))
CAMERA_HEIGHT = 1.6
"""the first camera's height above the ground, in the (arbitrary) units of the path"""
BACKGROUND_DEPTH = 5.0
"""the median depth of the background points from the first camera, in those units (a
room or a street: the path comes out at about the right size, and a camera that hardly
moves stays small rather than being blown up to a unit path)"""


@dataclass
class CameraInitConfig:
    tracks: TrackConfig = field(default_factory=TrackConfig)
    solve: SolveConfig = field(default_factory=SolveConfig)


def _up(R_wc: np.ndarray) -> tuple[np.ndarray, str]:
    """World up, in the solver's frame, from levelled cameras, and what set it: square to
    every camera's x axis (film cameras do not roll: "pan axis"), on the side of the
    cameras' up (-y in OpenCV axes). When the x axes do not turn (no pan), the mean up
    made square to them ("assumed level")."""
    x_axes, ups = R_wc[:, :, 0], -R_wc[:, :, 1]
    evals, evecs = np.linalg.eigh(x_axes.T @ x_axes)
    if evals[1] > 1e-4 * len(R_wc) and evals[1] > 20 * evals[0]:  # the x axes span a plane: its normal
        up, source = evecs[:, 0], "pan axis"
    else:
        x = x_axes.mean(0) / np.linalg.norm(x_axes.mean(0))
        up, source = ups.mean(0) - x * (ups.mean(0) @ x), "assumed level"
    up = up / np.linalg.norm(up)
    return (up if up @ ups.mean(0) >= 0 else -up), source


def level_world(sol: CameraSolution, verticals: Verticals | None = None) -> tuple[np.ndarray, dict]:
    """(T, 4, 4) camera-to-world transforms of ``sol`` in the stage's world frame, and
    what set it. Z up; the first camera above the origin looking along +Y.

    When the background's points hold a ground plane (a moving camera over a textured
    floor or street), Z is its normal, the origin lies on it and the first camera stands
    ``CAMERA_HEIGHT`` units above it (an eye-level camera, so the path comes out near
    metres). Otherwise Z is where ``verticals`` (the background's vertical edges, in the
    solver's frame) point, when found, else square to the cameras' x axes (film cameras
    do not roll); the first camera is put at ``CAMERA_HEIGHT`` and the scale puts the
    background's median depth at ``BACKGROUND_DEPTH`` units. (``verticals`` also steer
    the search for the ground plane: it lies within 20 degrees of their up.)"""
    T = len(sol.focal_px)
    R_wc = np.swapaxes(sol.R_cam_world, 1, 2)  # camera-to-(solver)world rotations
    C = sol.centres
    up, source = _up(R_wc)
    if verticals is not None:
        up, source = verticals.up, "verticals"
    s, origin, info = 1.0, C[0] - up * CAMERA_HEIGHT, {"ground": None}
    if sol.model == "general" and len(sol.points):
        depth = (sol.points @ sol.R_cam_world[0].T + sol.t_cam_world[0])[:, 2]
        depth = depth[depth > 0]
        if len(depth):
            s = BACKGROUND_DEPTH / float(np.median(depth))
            origin = C[0] - up * CAMERA_HEIGHT / s
        plane = ground_plane(sol.points, up, C[0], float(np.median(depth)) if len(depth) else 1.0)
        if plane is not None:
            up, d, count = plane
            height = float(up @ C[0] - d)
            s, origin = CAMERA_HEIGHT / height, C[0] - up * height
            info["ground"] = {"points": count, "of": len(sol.points), "camera_height_solver_units": height}
            source = "ground"
    fwd = R_wc[0, :, 2] - up * (R_wc[0, :, 2] @ up)
    if np.linalg.norm(fwd) < 1e-6:  # looking straight up or down: take the camera's y
        fwd = R_wc[0, :, 1] - up * (R_wc[0, :, 1] @ up)
    fwd /= np.linalg.norm(fwd)
    A = np.stack([np.cross(fwd, up), fwd, up])  # rows: the new X, Y, Z in solver coordinates
    out = np.repeat(np.eye(4)[None], T, 0)
    out[:, :3, :3] = A @ R_wc
    out[:, :3, 3] = s * (C - origin) @ A.T
    info["scale"] = s
    info["up"] = {"source": source}
    if verticals is not None:
        info["up"]["verticals"] = {"edges": verticals.edges, "spread_deg": round(verticals.spread_deg, 2),
                                   "residual_deg": round(verticals.residual_deg, 3)}  # fmt: skip
    return out, info


def _counted(frames: Iterator[np.ndarray], total: int, progress: Callable[[int, int], None]) -> Iterator[np.ndarray]:
    """``frames``, calling ``progress(done, total)`` once each has been used."""
    for t, rgb in enumerate(frames):
        yield rgb
        progress(t + 1, total)


VERTICALS_FRAMES = 5
"""frames, spread over the shot, whose vertical edges say where up is"""


def _keeping(frames: Iterator[np.ndarray], wanted: set[int], kept: dict[int, np.ndarray]) -> Iterator[np.ndarray]:
    """``frames``, keeping those at indices ``wanted`` in ``kept`` as they pass."""
    for t, rgb in enumerate(frames):
        if t in wanted:
            kept[t] = rgb
        yield rgb


def _verticals(sol: CameraSolution, kept: dict[int, np.ndarray], labels: np.ndarray | None,
               K: np.ndarray) -> Verticals | None:  # fmt: skip
    """Up from the vertical edges of the ``kept`` frames (registered ones; ``K`` (T, 3, 3)
    the shot's intrinsics), in the solver's frame."""
    ts = [t for t in sorted(kept) if sol.registered[t]]
    if not ts:
        return None
    R_wc = np.swapaxes(sol.R_cam_world[ts], 1, 2)
    return up_from_frames([kept[t] for t in ts], [None if labels is None else labels[t] for t in ts], K[ts], R_wc,
                          prior_up=-R_wc[:, :, 1].mean(0))  # fmt: skip


def _lens(sol: CameraSolution, W: int, H: int) -> Lens:
    return Lens(fx=sol.focal_px.copy(), fy=sol.focal_px.copy(), cx=np.full(len(sol.focal_px), W / 2.0),
                cy=np.full(len(sol.focal_px), H / 2.0), zooms=sol.zooms)  # fmt: skip


def _horizon_focal(sol: CameraSolution, verticals: Verticals | None, T_world_cam: np.ndarray, world: dict,
                   width: int) -> HorizonFocal | None:  # fmt: skip
    """The focal length from the ground plane against the vertical edges
    (``horizon``), for a camera that moves without turning (less than ``MIN_TURN_DEG``)
    over a ground, its lens assumed and fixed; else None."""
    if sol.focal_source != "assumed" or sol.zooms or verticals is None or world["ground"] is None:
        return None
    if turned_deg(sol.R_cam_world) >= MIN_TURN_DEG:  # not one stretch of the scene
        return None
    ground_up_cam = T_world_cam[0, 2, :3]  # the world's Z in the first camera's axes
    found = focal_from_horizon(float(sol.focal_px[0]), ground_up_cam, sol.R_cam_world[0] @ verticals.up)
    if found is None or not plausible_focal(found.focal_px, width):
        return None
    return found


def camera_init(shot: Shot, footage: Footage, cfg: CameraInitConfig | None = None,
                progress: Callable[[int, int], None] | None = None) -> Shot:  # fmt: skip
    """Add the camera path and lens to ``shot`` (its video must be ``footage``'s; its
    instance masks, when present, keep the people out). ``progress(done, total)``: frames
    tracked."""
    cfg = cfg or CameraInitConfig()
    t0 = time.perf_counter()
    labels = shot.masks.labels if shot.masks is not None else None
    frames = footage.frames() if progress is None else _counted(footage.frames(), footage.num_frames, progress)
    kept: dict[int, np.ndarray] = {}
    wanted = {round(t) for t in np.linspace(0, footage.num_frames - 1, VERTICALS_FRAMES)}
    tracks = track_background(_keeping(frames, wanted, kept), labels, cfg.tracks)
    t1 = time.perf_counter()
    solve_cfg, declared = cfg.solve, footage.info.focal_35mm
    if solve_cfg.focal_px is None and declared:
        # the 35 mm equivalent matches the diagonal view of a 36 x 24 mm frame
        diagonal_px = float(np.hypot(shot.video.width, shot.video.height))
        solve_cfg = replace(cfg.solve, focal_px=declared / FULL_FRAME_DIAGONAL_MM * diagonal_px)
    sol = solve(tracks, shot.video.width, shot.video.height, solve_cfg)
    if solve_cfg is not cfg.solve:
        sol.focal_source = "metadata"
        sol.notes.append(f"focal length {solve_cfg.focal_px:.0f} px from the source's metadata "
                         f"({declared:g} mm, 35 mm equivalent)")
    W, H = shot.video.width, shot.video.height
    dolly = None if solve_cfg.zoom == "fixed" else resolve(sol, figures(shot.actors, len(sol.focal_px), W, H), W, H)
    sol = dolly or sol
    shot.lens = _lens(sol, W, H)
    verticals = _verticals(sol, kept, labels, shot.lens.K())
    T_world_cam, world = level_world(sol, verticals)
    horizon = _horizon_focal(sol, verticals, T_world_cam, world, W)
    if horizon is not None:  # solved again with that lens: the background's depths follow it
        sol = solve(tracks, W, H, replace(solve_cfg, focal_px=horizon.focal_px))
        sol.focal_source = "horizon"
        sol.notes.insert(0, f"focal length {horizon.focal_px:.0f} px from the ground plane against the vertical "
                            f"edges, the camera turning too little to show it in its motion (tilted "
                            f"{horizon.tilt_deg:.1f} degrees; {horizon.measured_px:.0f} px measured, +-"
                            f"{100 * horizon.sd_log:.0f} %, combined with the assumed {assumed_focal(W):.0f} px)")
        shot.lens = _lens(sol, W, H)
        verticals = _verticals(sol, kept, labels, shot.lens.K())
        T_world_cam, world = level_world(sol, verticals)
    shot.camera = Camera(T_world_cam=T_world_cam, metric=False, registered=sol.registered)
    seconds = time.perf_counter() - t0
    shot.meta["camera_init"] = {
        "model": sol.model, "focal_source": sol.focal_source, "scale": "arbitrary", "zooms": sol.zooms, "turns": sol.turns,
        "registered": int(sol.registered.sum()), "frames": len(sol.registered), "points": len(sol.points),
        "reprojection_px": sol.reprojection_px if np.isfinite(sol.reprojection_px) else None, "notes": sol.notes,
        "ground": world["ground"], "up": world["up"], "dolly_zoom": dolly is not None,
        "seconds": {"tracks": t1 - t0, "solve": seconds - (t1 - t0)},
    }  # fmt: skip
    shot.record("camera_init", asdict(cfg), wrote=["camera", "lens"], seconds=seconds)
    for note in sol.notes:
        log.info("camera_init: %s", note)
    log.info("camera_init: %s, focal %.0f px (%s), %d/%d frames registered, %.1f s", sol.model, np.median(sol.focal_px),
             sol.focal_source, sol.registered.sum(), len(sol.registered), seconds)  # fmt: skip
    return shot


def plot_path(shot: Shot, out_path: str | Path) -> None:
    """Top (X-Y) and side (Y-Z) views of the camera path with the view direction every few
    frames (and, once the bodies stage has run, each person's path: the pelvis, in their
    track colour), and the camera's pan, tilt and roll over the shot (what a still or
    panning camera does), to ``out_path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reshoot.render.overlay import PALETTE

    T_wc = shot.camera.T_world_cam
    C = T_wc[:, :3, 3]
    fwd = T_wc[:, :3, 2]
    extent = max(float(np.ptp(C, axis=0).max()), 1e-3)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    meta = shot.meta.get("camera_init", {})
    units = " (m)" if shot.camera.metric else " (arbitrary units)"
    for ax, (i, j), name in zip(axes, ((0, 1), (1, 2)), ("top (X-Y)", "side (Y-Z)")):
        ax.plot(C[:, i], C[:, j], "-", color="tab:blue", lw=1.5)
        ax.scatter(C[0, i], C[0, j], color="tab:green", zorder=3, label="first frame")
        ax.scatter(C[-1, i], C[-1, j], color="tab:red", zorder=3, label="last frame")
        step = max(1, len(C) // 12)
        ax.quiver(C[::step, i], C[::step, j], fwd[::step, i], fwd[::step, j], angles="xy", scale_units="xy",
                  scale=4.0 / extent, width=0.004, color="0.4")  # fmt: skip
        if shot.camera.registered is not None and not shot.camera.registered.all():
            bad = ~shot.camera.registered
            ax.scatter(C[bad, i], C[bad, j], marker="x", color="tab:orange", label="bridged")
        for k, actor in enumerate(shot.actors):
            if actor.joints_world is not None and actor.present.any():
                root = actor.joints_world[actor.present, 0]
                ax.plot(root[:, i], root[:, j], "-", lw=1.2, color=PALETTE[k % len(PALETTE)] / 255.0,
                        label=f"person {actor.track_id}")  # fmt: skip
        ax.set_title(name)
        ax.set_xlabel("XYZ"[i] + units)
        ax.set_ylabel("XYZ"[j])
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best", fontsize=8)
    # pan (heading of the view about Z), tilt (view above the horizon), roll (image x axis above the horizon)
    pan = np.degrees(np.unwrap(np.arctan2(-fwd[:, 0], fwd[:, 1])))
    tilt = np.degrees(np.arcsin(np.clip(fwd[:, 2], -1, 1)))
    roll = np.degrees(np.arcsin(np.clip(T_wc[:, 2, 0], -1, 1)))
    frames = np.arange(len(C))
    for values, label in ((pan, "pan"), (tilt, "tilt"), (roll, "roll")):
        axes[2].plot(frames, values, label=label)
    if shot.camera.registered is not None and not shot.camera.registered.all():
        axes[2].scatter(frames[~shot.camera.registered], pan[~shot.camera.registered], marker="x", color="tab:orange",
                        label="bridged")  # fmt: skip
    axes[2].set_xlabel("frame")
    axes[2].set_ylabel("degrees")
    axes[2].grid(alpha=0.3)
    handles, labels = axes[2].get_legend_handles_labels()
    if shot.lens.zooms:  # the focal length over the shot, on its own scale
        lens_ax = axes[2].twinx()
        (line,) = lens_ax.plot(frames, shot.lens.fx, color="tab:purple", ls="--", label="focal (px, right)")
        lens_ax.set_ylabel("focal length (px)")
        handles, labels = [*handles, line], [*labels, line.get_label()]
    axes[2].legend(handles, labels, loc="best", fontsize=8)
    axes[2].set_title("orientation and lens" if shot.lens.zooms else "orientation")
    solved = f"{meta.get('registered', '?')}/{meta.get('frames', '?')} frames solved"
    refined = ", refined by differentiable filming" if shot.meta.get("refine", {}).get("baseline") == "none" else ""
    source = meta.get("focal_source", "?")
    focal = (f"focal {shot.lens.fx.min():.0f}-{shot.lens.fx.max():.0f} px (zooms, {source})" if shot.lens.zooms
             else f"focal {np.median(shot.lens.fx):.0f} px ({source})")
    fig.suptitle(f"camera path: {meta.get('model', '?')} model, {focal}, {solved}{refined}")
    fig.tight_layout()
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
