"""The controller manager's decisions: replication, endpoints and node lifecycle.

Each module here is a pure plan: objects read from the API in, small frozen actions out, the same
input always giving the same list. The loops that watch, queue keys and carry the actions out
through the API sit on top; each action says which Event the loop should record for it.
"""
