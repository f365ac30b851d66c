"""Unit tests: one module per module of ``b2b_analysis``, in-process and fast."""
