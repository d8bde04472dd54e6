"""Speech engines: text in, mono float32 audio out (see ``voxify.engines.base``)."""
