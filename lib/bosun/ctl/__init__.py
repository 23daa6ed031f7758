"""kubectl-like commands for users without kubectl: apply, get, describe, delete, scale, logs,
cordon, uncordon, drain.

Thin clients of Bosun's API through `bosun.api.client`; each command is one module and prints
what kubectl prints for the same call. `options` declares their arguments (cheap to import).
"""
