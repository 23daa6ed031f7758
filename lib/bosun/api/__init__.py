"""Bosun's API server: Kubernetes core/v1 over etcd, for kubectl and the Python client."""
