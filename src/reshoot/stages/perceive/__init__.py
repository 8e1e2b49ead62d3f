"""Perception: people, their 2D landmarks and masks, frame by frame."""
