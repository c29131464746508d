"""Klima: a smart-thermostat controller for mini-splits, air conditioners and heat pumps."""

__version__ = "0.1.0"
