"""Quality signals and their presets (Gopher, C4, StarCoder)."""
