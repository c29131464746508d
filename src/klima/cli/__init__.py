"""The klima command line."""
