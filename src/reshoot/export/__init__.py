"""Exporters: a shot written in formats other tools open.

Each exporter lives in its own module and imports its heavy dependencies there, so
importing this package costs nothing:

- :mod:`reshoot.export.gltf`: binary glTF 2.0 (``.glb``): the animated camera and every
  actor as a skinned, animated anny mesh (Blender, three.js, any glTF viewer).
"""
