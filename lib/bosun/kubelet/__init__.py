"""The kubelet done from the controller: pods run on minions as Docker containers over SSH."""
