"""The ground-truth shot generator (``reshoot synth``): camera paths, actors, set, video."""

#: The camera behaviours film people name (seed 001 sec. 4.2, seed 002 Table I); see
#: :mod:`reshoot.synth.camera_paths`. Here so that the CLI can list them without torch.
SHOT_TYPES = ("static", "push-in", "pull-out", "pan", "track", "follow", "arc", "dolly-zoom")
