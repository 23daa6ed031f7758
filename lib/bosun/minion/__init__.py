"""The only door to the minions: SSH connections, Docker over SSH, host keys, facts, uploads."""
