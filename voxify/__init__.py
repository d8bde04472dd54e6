"""Voxify: a self-hostable voice-cloning text-to-speech platform."""

__version__ = "0.1.0"
