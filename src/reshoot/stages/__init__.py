"""Pipeline stages: each reads typed inputs and a config dataclass and returns typed outputs."""
