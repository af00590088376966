"""Plan equivalence as TinyAgent scores it, and tool-set overlap between two plans.

Two plans are equivalent when their dependency DAGs are isomorphic with nodes matched by function
name: the same calls wired the same way, whatever their numbering or argument values. ``join()`` is
not a node (every plan ends in it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planforge.plan import Plan

if TYPE_CHECKING:
    import networkx as nx


def plan_graph(plan: Plan) -> nx.DiGraph:
    """Nodes: function-calling steps (attribute ``name``); edges: producer -> consumer."""
    import networkx as nx  # here, not at import: validating plans never needs it

    graph = nx.DiGraph()
    calls = {s.index: s for s in plan.steps if not s.is_join}
    for index, step in calls.items():
        graph.add_node(index, name=step.name)
    for index, step in calls.items():
        for k in set(step.references):
            if k in calls and k != index:
                graph.add_edge(k, index)
    return graph


def plans_equivalent(predicted: Plan, reference: Plan) -> bool:
    if Counter(predicted.function_names()) != Counter(reference.function_names()):
        return False
    a, b = plan_graph(predicted), plan_graph(reference)
    if a.number_of_edges() != b.number_of_edges():
        return False
    import networkx as nx
    from networkx.algorithms.isomorphism import categorical_node_match

    return nx.is_isomorphic(a, b, node_match=categorical_node_match("name", None))


@dataclass(frozen=True)
class ToolOverlap:
    """Precision and recall of the set of functions a plan uses, against a reference."""

    true_positives: int
    predicted: int
    expected: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else float(self.expected == 0)

    @property
    def recall(self) -> float:
        return self.true_positives / self.expected if self.expected else 1.0


def tool_overlap(predicted: Plan, reference: Plan) -> ToolOverlap:
    p, r = set(predicted.function_names()), set(reference.function_names())
    return ToolOverlap(len(p & r), len(p), len(r))
