"""Transports move bytes; they know nothing about air conditioners."""
