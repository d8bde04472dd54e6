"""The one synthesis path behind every door: validate, resolve, charge, render, encode, store."""

from voxify.synthesis.options import Admitted, Door, Speech, plan_request
from voxify.synthesis.service import SpeechStream, SynthesisService

__all__ = ["Admitted", "Door", "Speech", "SpeechStream", "SynthesisService", "plan_request"]
