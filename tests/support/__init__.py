"""Test helpers shared by several test packages (real brokers, fake peers)."""
