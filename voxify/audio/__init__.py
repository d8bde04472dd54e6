"""Audio post-processing, encoding and measurement; pure numpy/scipy/soundfile/pyworld."""
