"""Bosun: the Kubernetes v1 model (pods, services, replication controllers) run agentless.

Minions run only sshd, Docker, haproxy and iptables; one controller does the kubelet's and the
proxy's work over SSH. This package must import with the standard library alone (see bootstrap).
"""

__version__ = "0.1.0"
