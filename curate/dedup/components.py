"""Connected components of a graph given as an edge list, in numpy alone.

Near dedup decides each component of its candidate graph apart; this labels them. Labels
only ever decrease to the smallest node index reachable so far (min-label propagation along
the edges), and pointer jumping (`labels[labels]`) shortens long chains, so a path of n nodes
settles in O(log n) rounds rather than n.
"""

from __future__ import annotations

import numpy as np


def component_labels(nodes: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For nodes 0..nodes-1 and edges (a[i], b[i]): each node's component, named by the
    smallest node in it."""
    labels = np.arange(nodes, dtype=np.int64)
    if not len(a):
        return labels
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    while True:
        low = np.minimum(labels[a], labels[b])
        new = labels.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        np.minimum.at(new, labels, new)  # a root takes the smallest label of what points to it
        while True:  # pointer jumping: every node straight to its root
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new
