"""craft: crafts, serves, inspects and verifies DNS and HTTP packets.

The package root owns only the version; each submodule owns one job (see README).
"""

__version__ = "0.1.0"
