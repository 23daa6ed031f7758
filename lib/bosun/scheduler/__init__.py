"""The scheduler: binds each pending pod to a minion, as kube-scheduler does for Kubernetes v1.

This package is the pure decision. `predicates` say whether a pod may go on a node (cordoned,
Ready and taints, nodeSelector, host ports, CPU/memory/pod count) and why not in Kubernetes'
words; `priorities` score the nodes left; `plan.schedule`/`schedule_all` pick one node per pod
(`Bind`) or give the FailedScheduling message (`Unschedulable`). The loop that watches pending
pods and the binder that POSTs pods/NAME/binding sit on top of it.
"""

from bosun.scheduler.plan import Bind, Decision, Unschedulable, schedule, schedule_all

__all__ = ["Bind", "Decision", "Unschedulable", "schedule", "schedule_all"]
