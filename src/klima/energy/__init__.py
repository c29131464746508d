"""Energy: per-unit power model, usage, tariffs and bills."""
