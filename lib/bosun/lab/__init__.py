"""The local lab: minions as namespaces on this machine, each a real host to the controller."""
