"""The decode stage: containers and image folders, rotation, non-square pixels, variable
frame rate, cuts and ``shot``, the working resolution, and every kind of bad input.

Test clips are written with PyAV into ``tmp_path`` (tiny, a few frames); the real clips
in ``../shared/footage`` are used when present.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from reshoot.errors import InputError
from reshoot.shot import Shot
from reshoot.stages.decode import (
    DecodeConfig,
    decode,
    find_cuts,
    orient,
    orientation_from_display_matrix,
    probe,
    working_size,
)

RED = (255, 0, 0)


# ---------------------------------------------------------------------------- helpers


def texture(h: int, w: int, seed: int, tint: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """A smooth random picture (RGB uint8, (h, w, 3)): structure like a real scene, not noise."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.random((max(2, h // 16), max(2, w // 16), 3)) * 255 * np.asarray(tint)
    return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)


def write_video(path: Path, frames: list[np.ndarray] | np.ndarray, fps: float = 24.0, *, pts: list[int] | None = None,
                time_base: Fraction | None = None, rotation: float | None = None, hflip: bool = False,
                vflip: bool = False, sar: Fraction | None = None, crf: int = 10, faststart: bool = False) -> Path:
    """H.264 (yuv420p) mp4 of RGB frames; ``pts`` in ``time_base`` units for variable timing."""  # fmt: skip
    import av

    container = av.open(str(path), mode="w", options={"movflags": "faststart"} if faststart else {})
    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
    h, w = frames[0].shape[:2]
    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
    stream.options = {"crf": str(crf), "preset": "ultrafast"}
    if rotation is not None or hflip or vflip:
        stream.set_display_rotation(rotation or 0.0, hflip=hflip, vflip=vflip)
    if sar is not None:
        stream.codec_context.sample_aspect_ratio = sar
    if time_base is not None:
        stream.codec_context.time_base = time_base
    for i, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if pts is not None:
            frame.pts, frame.time_base = pts[i], time_base
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def marked(h: int, w: int, n: int = 6) -> list[np.ndarray]:
    """Dark frames with a red block in the top-left corner (a quarter of each side)."""
    frame = np.full((h, w, 3), 30, np.uint8)
    frame[: h // 4, : w // 4] = RED
    return [frame.copy() for _ in range(n)]


def red_corner(rgb: np.ndarray) -> str:
    """Which corner of an RGB frame is red: 'tl', 'tr', 'bl' or 'br'."""
    h, w = rgb.shape[:2]
    corners = {"tl": rgb[h // 16, w // 16], "tr": rgb[h // 16, -w // 16 - 1],
               "bl": rgb[-h // 16 - 1, w // 16], "br": rgb[-h // 16 - 1, -w // 16 - 1]}  # fmt: skip
    red = [k for k, px in corners.items() if px[0] > 180 and px[1] < 80 and px[2] < 80]
    assert len(red) == 1, corners
    return red[0]


def panning(h: int, w: int, n: int, seed: int, step: int = 2, tint=(1.0, 1.0, 1.0)) -> list[np.ndarray]:
    """A slow pan across a smooth picture: ``step`` pixels a frame."""
    big = texture(h, w + step * n, seed, tint)
    return [big[:, step * i : step * i + w] for i in range(n)]


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory) -> Path:
    """48 frames at 24 fps, 160x96: a slow pan over one scene, a hard cut at frame 24 to another."""
    a = panning(96, 160, 24, seed=1, tint=(1.0, 0.9, 0.5))
    b = panning(96, 160, 24, seed=2, tint=(0.4, 0.7, 1.0))
    return write_video(tmp_path_factory.mktemp("cut") / "cut.mp4", a + b)


# ---------------------------------------------------------------------------- video files


def test_video_decodes_to_its_frames_size_rate_and_times(tmp_path):
    frames = panning(96, 160, 12, seed=0)
    path = write_video(tmp_path / "clip.mp4", frames, fps=30000 / 1001, crf=0)
    footage = decode(path)
    v = footage.video
    assert (v.width, v.height, v.num_frames, v.pixel_aspect) == (160, 96, 12, 1.0)
    assert v.fps == pytest.approx(30000 / 1001, rel=1e-9)
    assert np.allclose(v.timestamps_s, np.arange(12) * 1001 / 30000, atol=1e-6)
    assert v.source == str(path.resolve())
    Shot(video=v).validate()  # a valid record of the shot model
    assert footage.source_size == (160, 96) and footage.scale == 1.0 and footage.first_frame == 0
    assert footage.cut_frames == () and footage.start_s == 0.0
    got = footage.read()
    assert got.shape == (12, 96, 160, 3) and got.dtype == np.uint8
    # crf 0 keeps the luma (chroma is subsampled): the brightness is what was written
    luma = np.array([0.299, 0.587, 0.114])
    assert np.abs(got @ luma - np.stack(frames) @ luma).mean() < 2.0


def test_streamed_frames_equal_the_cached_ones(cut_clip):
    cached = decode(cut_clip, DecodeConfig(shot=1))
    streamed = decode(cut_clip, DecodeConfig(shot=1, cache_mb=0))
    assert cached.in_memory and not streamed.in_memory
    assert np.array_equal(cached.read(), streamed.read())
    assert np.array_equal(cached.read(5, 9), streamed.read(5, 9))
    assert len(list(streamed.frames(20))) == 4 and streamed.read(3, 3).shape == (0, 96, 160, 3)
    with pytest.raises(InputError, match="outside"):
        list(streamed.frames(5, 2))


@pytest.mark.parametrize(
    "rotation, hflip, vflip, size, corner",
    [
        (None, False, False, (64, 48), "tl"),
        (90, False, False, (48, 64), "bl"),  # PyAV: degrees counter-clockwise, as frame.rotation reads
        (-90, False, False, (48, 64), "tr"),  # a phone held upright: stored landscape, shown turned clockwise
        (180, False, False, (64, 48), "br"),
        (0, True, False, (64, 48), "tr"),
        (0, False, True, (64, 48), "bl"),
        (90, True, False, (48, 64), "br"),  # turned, then mirrored left-right
    ],
)
def test_display_matrix_is_honoured(tmp_path, rotation, hflip, vflip, size, corner):
    path = write_video(tmp_path / "rot.mp4", marked(48, 64), rotation=rotation, hflip=hflip, vflip=vflip)
    footage = decode(path)
    assert (footage.video.width, footage.video.height) == size == footage.source_size
    assert red_corner(footage.read(0, 1)[0]) == corner


def test_orientation_covers_the_eight_symmetries_of_the_square():
    img = np.arange(12).reshape(3, 4, 1)
    seen = {orient(img, k, m).tobytes() + bytes(orient(img, k, m).shape) for k in range(4) for m in (False, True)}
    assert len(seen) == 8
    # the raw matrices phones write (the legacy "rotate" tag 90, 180, 270 clockwise)
    assert orientation_from_display_matrix((0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)) == (3, False)
    assert orientation_from_display_matrix((-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30)) == (2, False)
    assert orientation_from_display_matrix((0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30)) == (1, False)
    assert orientation_from_display_matrix((65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30)) == (0, False)


def test_non_square_pixels_are_made_square(tmp_path):
    stored = np.full((48, 64, 3), 30, np.uint8)
    stored[16:32, 24:32] = RED  # 8 stored pixels wide, 16 high: a square on screen at pixel aspect 2
    path = write_video(tmp_path / "anamorphic.mp4", [stored] * 4, sar=Fraction(2))
    footage = decode(path)
    v = footage.video
    assert v.pixel_aspect == 1.0 and footage.info.pixel_aspect == 2.0  # the frames are square, the source was not
    assert (v.width, v.height) == (128, 48) and footage.source_size == (128, 48)
    red = footage.read(0, 1)[0, ..., 0] > 150
    rows, cols = np.nonzero(red.any(1))[0], np.nonzero(red.any(0))[0]
    assert abs(len(rows) - len(cols)) <= 2 and 14 <= len(cols) <= 18  # square again: ~16 x 16
    assert footage.to_source_px([[48.0, 16.0]]).tolist() == [[48.0, 16.0]]  # source display px = working px


def test_variable_frame_rate_keeps_real_timing(tmp_path):
    pts_ms = [0, 40, 80, 100, 140, 200, 240, 250, 290]
    path = write_video(tmp_path / "vfr.mp4", panning(48, 64, len(pts_ms), seed=3), pts=pts_ms,
                       time_base=Fraction(1, 1000))  # fmt: skip
    v = decode(path).video
    assert np.allclose(v.timestamps_s, np.asarray(pts_ms) / 1000, atol=1e-6)
    assert v.fps == pytest.approx(25.0)  # the median spacing, 40 ms
    assert v.duration_s == pytest.approx(0.29 + 0.04)


def test_8k_is_perceived_at_the_working_size_and_maps_back(tmp_path):
    frame = np.full((4320, 7680, 3), 40, np.uint8)
    frame[2000:2400, 4000:4400] = 255  # a white block in source pixels
    path = write_video(tmp_path / "8k.mp4", [frame, frame], crf=30)
    footage = decode(path)
    assert (footage.video.width, footage.video.height) == (1920, 1080) and footage.source_size == (7680, 4320)
    assert footage.scale == 0.25 and footage.scale_xy == (0.25, 0.25)
    white = footage.read(0, 1)[0, ..., 1] > 150
    ys, xs = np.nonzero(white)
    box_work = np.array([[xs.min(), ys.min()], [xs.max() + 1, ys.max() + 1]], float)  # pixel corners
    assert np.abs(footage.to_source_px(box_work) - [[4000, 2000], [4400, 2400]]).max() <= 4  # one working px
    assert footage.from_source_px([4000.0, 2000.0]).tolist() == [1000.0, 500.0]
    xy = np.random.default_rng(0).uniform(0, 1920, (10, 2))
    assert np.allclose(footage.from_source_px(footage.to_source_px(xy)), xy)


def test_working_size():
    assert working_size(7680, 4320, 1920) == (1920, 1080)
    assert working_size(1080, 1920, 1920) == (1080, 1920)  # portrait: the longer side is the height
    assert working_size(3840, 2160, 1280) == (1280, 720)
    assert working_size(427, 241, 1920) == (427, 241)  # nothing to resample: exact size, odd or not
    assert working_size(85.33, 48, 1920, resample=True) == (86, 48)  # resampled: even sizes
    assert working_size(4000, 3001, 1920) == (1920, 1440)


# ---------------------------------------------------------------------------- image folders


def test_image_folder_in_natural_order_at_the_configured_rate(tmp_path):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    names = ["f1.png", "f2.png", "f10.png", "f11.jpg"]  # "f10" after "f2", not before
    for i, name in enumerate(names):
        rgb = np.full((40, 64, 3), 50 * (i + 1), np.uint8)
        cv2.imwrite(str(folder / name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("not a frame")
    footage = decode(folder, DecodeConfig(images_fps=12.0))
    v = footage.video
    assert (v.num_frames, v.width, v.height, v.fps) == (4, 64, 40, 12.0)
    assert np.allclose(v.timestamps_s, np.arange(4) / 12.0)
    assert [int(f[0, 0, 0]) for f in footage.frames()] == pytest.approx([50, 100, 150, 200], abs=2)
    assert decode(folder).video.fps == 24.0  # the documented default


def test_image_folder_honours_exif_orientation(tmp_path):
    import struct

    import cv2

    bgr = np.ascontiguousarray(marked(40, 64, 1)[0][..., ::-1])
    jpg = cv2.imencode(".jpg", bgr)[1].tobytes()
    # an APP1 Exif segment with one tag, Orientation = 6: "turn 90 degrees clockwise to view"
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
    app1 = b"\xff\xe1" + struct.pack(">H", 2 + 6 + len(tiff)) + b"Exif\x00\x00" + tiff
    folder = tmp_path / "phone"
    folder.mkdir()
    for name in ("1.jpg", "2.jpg"):
        (folder / name).write_bytes(jpg[:2] + app1 + jpg[2:])
    footage = decode(folder)
    assert (footage.video.width, footage.video.height) == (40, 64)
    assert red_corner(footage.read(0, 1)[0]) == "tr"


def test_image_folder_errors(tmp_path):
    import cv2

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="folder with no images .it is empty"):
        decode(empty)
    (empty / "clip.mp4").write_bytes(b"x")
    with pytest.raises(InputError, match="no images .it holds 1 other files, e.g. clip.mp4"):
        decode(empty)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    cv2.imwrite(str(mixed / "a.png"), np.zeros((40, 64, 3), np.uint8))
    cv2.imwrite(str(mixed / "b.png"), np.zeros((40, 60, 3), np.uint8))
    with pytest.raises(InputError, match=r"b.png is 60x40 but the first frame a.png is 64x40"):
        decode(mixed)
    broken = tmp_path / "broken"
    broken.mkdir()
    cv2.imwrite(str(broken / "a.png"), np.zeros((40, 64, 3), np.uint8))
    (broken / "b.png").write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(InputError, match="b.png: unreadable image"):
        decode(broken)
    single = tmp_path / "single"
    single.mkdir()
    cv2.imwrite(str(single / "a.png"), np.zeros((40, 64, 3), np.uint8))
    with pytest.raises(InputError, match="has a single frame"):
        decode(single)


# ---------------------------------------------------------------------------- cuts and --shot


def test_clip_with_a_cut_is_refused_with_the_cut_frames(cut_clip):
    with pytest.raises(InputError) as err:
        decode(cut_clip)
    msg = str(err.value)
    assert msg == (f"{cut_clip} has 1 cut (at frame 24): 2 shots (frames 0-23, 24-47); "
                   "pick one with --shot N (0..1)")  # fmt: skip
    assert "\n" not in msg


def test_shot_picks_one_segment(cut_clip):
    first = decode(cut_clip, DecodeConfig(shot=0))
    second = decode(cut_clip, DecodeConfig(shot=1))
    assert first.cut_frames == second.cut_frames == (24,)
    assert (first.first_frame, first.num_frames, first.start_s) == (0, 24, 0.0)
    assert (second.first_frame, second.num_frames) == (24, 24)
    assert second.start_s == pytest.approx(1.0)
    assert np.allclose(second.video.timestamps_s, np.arange(24) / 24)  # from the shot's first frame
    a, b = first.read(), second.read()
    assert a[..., 2].mean() < a[..., 0].mean() and b[..., 2].mean() > b[..., 0].mean()  # warm scene, then cool
    with pytest.raises(InputError, match=r"--shot 2 is out of range: .* has 1 cuts, so 2 shots; pick 0..1"):
        decode(cut_clip, DecodeConfig(shot=2))


def test_shot_on_a_clip_without_cuts(tmp_path):
    path = write_video(tmp_path / "one.mp4", panning(48, 64, 6, seed=4))
    assert decode(path, DecodeConfig(shot=0)).num_frames == 6
    with pytest.raises(InputError, match="--shot 1 is out of range: .* has no cuts, so 1 shot; pick 0..0"):
        decode(path, DecodeConfig(shot=1))


def test_a_segment_too_short_is_refused(tmp_path):
    # one stray frame of another scene before the shot: a cut at frame 1
    frames = panning(96, 160, 1, seed=9, tint=(0.3, 0.5, 1.0)) + panning(96, 160, 12, seed=1, tint=(1.0, 0.8, 0.4))
    path = write_video(tmp_path / "stray.mp4", frames)
    with pytest.raises(InputError, match=r"has 1 cut \(at frame 1\)"):
        decode(path)
    with pytest.raises(InputError, match=r"shot 0 of .* \(frames 0-0\) has 1 frame; a shot needs at least 2"):
        decode(path, DecodeConfig(shot=0))
    assert decode(path, DecodeConfig(shot=1)).num_frames == 12


def test_find_cuts_rule():
    # mmaction2_test_video_structuralize.mp4's last 40 frames: a whip pan with heavy motion blur
    whip = [7.5, 7.1, 7.4, 6.7, 5.3, 5.4, 5.9, 6.6, 7.0, 7.0, 8.4, 8.6, 8.8, 12.9, 12.7, 12.6, 12.7, 12.6, 13.6, 14.1,
            15.8, 16.9, 17.5, 17.7, 18.3, 17.6, 17.5, 18.5, 20.0, 20.9, 21.6, 21.4, 20.9, 20.8, 21.7, 22.9, 21.0, 17.8,
            15.9, 16.8]  # fmt: skip
    assert max(whip) > DecodeConfig().cut_threshold  # it would pass a fixed threshold of 15 ...
    assert find_cuts([0.0, *whip]) == []  # ... but it is sustained, not a spike
    calm = [0.0] + [6.0] * 20
    spike = calm.copy()
    spike[10] = 50.0
    assert find_cuts(spike) == [10]
    edges = calm.copy()
    edges[1] = edges[-1] = 40.0  # the first and last frames are judged too
    assert find_cuts(edges) == [1, 20]
    assert find_cuts([0.0, 40.0]) == [1]  # no neighbours: the threshold alone decides
    assert find_cuts([0.0, 14.0, 3.0, 3.0]) == []  # under the threshold
    assert find_cuts(spike, threshold=60.0) == [] and find_cuts(spike, ratio=10.0) == []


# ---------------------------------------------------------------------------- bad input


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="nope.mp4: no such file or folder; expected a video file or a folder of"):
        decode(tmp_path / "nope.mp4")


def test_still_image_is_not_a_shot(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "still.jpg"), texture(40, 64, 0))
    with pytest.raises(InputError, match="still.jpg is a still image, and a still image is not a shot"):
        decode(tmp_path / "still.jpg")


@pytest.mark.parametrize("content", [b"", b"\x00" * 10, "random"])
def test_unreadable_file(tmp_path, content):
    path = tmp_path / "x.mp4"
    path.write_bytes(np.random.default_rng(0).bytes(20000) if content == "random" else content)
    with pytest.raises(InputError, match=r"x.mp4: not a video FFmpeg can read \(.*\); expected a video file"):
        decode(path)


def test_text_file_is_not_a_video(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n" * 100)
    with pytest.raises(InputError, match="notes.txt is a text file .* not a video"):
        decode(tmp_path / "notes.txt")


def test_truncated_file(tmp_path, caplog):
    frames = [texture(64, 96, seed=i) for i in range(24)]  # every frame new: the bytes spread evenly
    # moov at the end (the default): half a file has no index at all and cannot be opened
    whole = write_video(tmp_path / "whole.mp4", frames).read_bytes()
    (tmp_path / "half.mp4").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"half.mp4: not a video FFmpeg can read .*is it complete\?"):
        decode(tmp_path / "half.mp4")
    # moov first ("faststart"): the index promises 24 frames, half of them are there
    whole = write_video(tmp_path / "fs.mp4", frames, faststart=True).read_bytes()
    cut = tmp_path / "fs_half.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"damaged or truncated video: decoded \d+ of 24 frames .*--allow-damaged"):
        decode(cut)
    with caplog.at_level(logging.WARNING, logger="reshoot.stages.decode"):
        footage = decode(cut, DecodeConfig(allow_damaged=True))
    assert 2 <= footage.num_frames < 24
    assert "damaged or truncated" in caplog.text
    assert np.allclose(footage.video.timestamps_s, np.arange(footage.num_frames) / 24)


def test_zero_frames(tmp_path):
    import av

    path = tmp_path / "empty.mp4"
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=24)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    container.start_encoding()
    container.close()
    with pytest.raises(InputError, match="empty.mp4 has no video stream .*a file with no frames has none either"):
        decode(path)
    # a stream whose every frame is destroyed: zeros in place of the coded pictures
    data = bytearray(write_video(tmp_path / "ok.mp4", panning(48, 64, 8, seed=5), faststart=True).read_bytes())
    mdat = data.find(b"mdat") + 4
    data[mdat:] = bytes(len(data) - mdat)
    (tmp_path / "zeros.mp4").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"zeros.mp4: no frame could be decoded \(\d+ packets failed to decode\)"):
        decode(tmp_path / "zeros.mp4")


def test_single_frame_video(tmp_path):
    path = write_video(tmp_path / "one.mp4", panning(48, 64, 1, seed=6))
    with pytest.raises(InputError, match=r"one.mp4 has a single frame \(a still image\?\); a shot needs at least 2"):
        decode(path)


def test_bad_config():
    with pytest.raises(InputError, match="--shot must be 0 or more"):
        DecodeConfig(shot=-1).check()
    with pytest.raises(InputError, match="min_shot_frames must be at least 2"):
        DecodeConfig(min_shot_frames=1).check()
    with pytest.raises(InputError, match="images_fps"):
        DecodeConfig(images_fps=0).check()


# ---------------------------------------------------------------------------- real footage

#: name: (frames, fps, stored width, stored height), from ../shared/footage/README.md
FOOTAGE = {
    "sam2_bedroom.mp4": (200, 30.0, 960, 540),
    "sam2_05_default_juggle.mp4": (247, 24.0, 1280, 720),
    "mmaction2_test_video_structuralize.mp4": (300, 30000 / 1001, 426, 240),
    "mmhuman3d_single_person_demo.mp4": (40, 12.0, 1080, 1920),
    "FlowMotion_hike_854x480.mp4": (49, 8.0, 854, 480),
}


@pytest.mark.footage
@pytest.mark.parametrize("name", sorted(FOOTAGE))
def test_real_footage_decodes_as_one_shot(footage_dir, name):
    frames, fps, w, h = FOOTAGE[name]
    footage = decode(footage_dir / name, DecodeConfig(max_side_px=640, cache_mb=0))
    assert footage.cut_frames == ()  # none has a hard cut
    assert footage.num_frames == frames and footage.video.fps == pytest.approx(fps, rel=1e-6)
    assert footage.source_size == (w, h)  # none carries a rotation tag or non-square pixels
    assert max(footage.video.width, footage.video.height) == min(640, max(w, h))
    assert np.all(np.diff(footage.video.timestamps_s) > 0)
    if name.startswith("mmaction2"):  # the whip pan at the end scores above the threshold, yet is no cut
        assert footage.cut_scores[-30:].max() > DecodeConfig().cut_threshold


@pytest.mark.footage
def test_portrait_phone_clip_is_upright(footage_dir):
    info = probe(footage_dir / "mmhuman3d_single_person_demo.mp4")
    assert (info.quarter_turns, info.mirror, info.stored_size) == (0, False, (1080, 1920))


@pytest.mark.footage
def test_a_cut_between_two_real_clips_is_found(footage_dir, tmp_path):
    import av
    import cv2

    def clip(name: str, start: int, n: int) -> list[np.ndarray]:
        with av.open(str(footage_dir / name)) as container:
            frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(start + n), container.decode(video=0))]
        return [cv2.resize(f, (320, 180), interpolation=cv2.INTER_AREA) for f in frames[start:]]

    edit = clip("sam2_bedroom.mp4", 0, 12) + clip("sam2_05_default_juggle.mp4", 100, 12)
    path = write_video(tmp_path / "edit.mp4", edit, fps=30.0)
    with pytest.raises(InputError, match=r"has 1 cut \(at frame 12\): 2 shots"):
        decode(path)
    footage = decode(path, DecodeConfig(shot=1))
    assert footage.first_frame == 12 and footage.num_frames == 12
