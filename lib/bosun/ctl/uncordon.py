"""`uncordon NODE...`: see cordon.py (one module does both; this name is what the CLI imports)."""

from bosun.ctl.cordon import command

__all__ = ["command"]
