"""A local multi-process deployment: API processes, executor workers and the relay, supervised."""

from paygod.cluster.supervisor import ChildSpec, Supervisor, cluster_specs

__all__ = ["ChildSpec", "Supervisor", "cluster_specs"]
