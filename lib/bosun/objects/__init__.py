"""The Kubernetes v1 object model: kinds, defaults, validation, selectors and status errors."""
