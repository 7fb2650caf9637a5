"""Pure computation on numpy/pandas: no I/O, no globals."""
