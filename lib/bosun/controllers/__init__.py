"""The controller manager: the decisions of replication, endpoints and node lifecycle, and the
loops that carry them out.

`replication`, `endpoints` and `nodelifecycle` are pure plans (`model` holds what they share):
objects read from the API in, small frozen actions out, the same input always giving the same
list; each action says which Event to record for it. `manager`, `loops` and `leader` run them:
watches wake the loops, writes go through the in-process API, one leader acts at a time.
"""
