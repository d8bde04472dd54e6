"""Ray Serve adapters over voxify/: the only package that imports ray."""
