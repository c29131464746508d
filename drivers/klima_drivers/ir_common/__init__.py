"""Building blocks shared by the IR brand codecs (pure, no I/O)."""
