"""Voice library: presets, clones and favourites."""
