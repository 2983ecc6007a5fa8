"""Path globs that match in time linear in the path, whatever the pattern.

`*` matches within a folder, `**/` zero or more whole folders, `**` anything, `?` one
character but `/`, `{a,b}` either alternative (not nested). Translated to a backtracking
regex, a glob with several wildcards (`a/**/**/**/*.zz`, `*a*a*a*b`) takes time exponential in
their number on a path that almost matches: one registry entry could stall a whole pipeline.
So a glob with at most one wildcard runs as a regex (it cannot backtrack), and any other runs
on an automaton: a set of positions in the pattern advanced one character at a time, with the
sets met so far cached as a DFA.
"""

from __future__ import annotations

import re

from curate.core.limits import MAX_GLOB_ALTERNATIVES

_LIT, _ONE, _STAR, _ANY, _DIRS = range(5)  # token kinds; _DIRS is `**/`
_CACHE_LIMIT = 4096  # DFA states kept before the cache starts again


class GlobError(ValueError):
    pass


def expand_braces(glob: str) -> list[str]:
    """`{a,b}` alternatives spelled out (not nested; a `{` without `}` is literal)."""
    out = [""]
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "{":
            close = glob.find("}", i)
            if close > i and "{" not in glob[i + 1 : close]:
                options = glob[i + 1 : close].split(",")
                if len(out) * len(options) > MAX_GLOB_ALTERNATIVES:
                    raise GlobError(f"more than {MAX_GLOB_ALTERNATIVES} {{a,b}} alternatives")
                out = [o + option for o in out for option in options]
                i = close + 1
                continue
        out = [o + c for o in out]
        i += 1
    return out


def _tokens(glob: str) -> list[tuple[int, str]]:
    tokens: list[tuple[int, str]] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            if not tokens or tokens[-1][0] != _DIRS:  # `**/**/` is `**/`
                tokens.append((_DIRS, ""))
            i += 3
        elif glob.startswith("**", i):
            tokens.append((_ANY, ""))
            i += 2
            while glob.startswith("*", i):
                i += 1
        elif glob[i] == "*":
            if not tokens or tokens[-1][0] != _STAR:  # `**` handled above; `*` runs are one
                tokens.append((_STAR, ""))
            i += 1
        elif glob[i] == "?":
            tokens.append((_ONE, ""))
            i += 1
        else:
            tokens.append((_LIT, glob[i]))
            i += 1
    return tokens


def _regex(tokens: list[tuple[int, str]]) -> str:
    parts = []
    for kind, char in tokens:
        if kind == _LIT:
            parts.append(re.escape(char))
        elif kind == _ONE:
            parts.append("[^/]")
        elif kind == _STAR:
            parts.append("[^/]*")
        elif kind == _ANY:
            parts.append(".*")
        else:
            parts.append("(?:.*/)?")
    return "".join(parts)


class Glob:
    """One compiled glob. `match(path, pos)` tests `path[pos:]` as a whole."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        alternatives = [_tokens(g) for g in expand_braces(pattern)]
        wildcards = sum(1 for alt in alternatives for k, _ in alt if k in (_STAR, _ANY, _DIRS))
        self._regex = None
        if wildcards <= 1:
            self._regex = re.compile(
                "(?:" + "|".join(_regex(alt) for alt in alternatives) + r")\Z", re.S
            )
            return
        # NFA states: (alternative, token index, inside) where `inside` marks a `**/` that has
        # consumed characters (it may end only after a `/`).
        self._alts = alternatives
        self._chars = {c for alt in alternatives for k, c in alt if k == _LIT} | {"/"}
        self._start = self._closure({(a, 0, False) for a in range(len(alternatives))})
        self._reset()

    def _reset(self) -> None:
        self._ids: dict[frozenset, int] = {self._start: 0}
        self._sets: list[frozenset] = [self._start]
        self._accept: list[bool] = [self._accepts(self._start)]
        self._next: list[dict[str, int]] = [{}]

    def _closure(self, states: set) -> frozenset:
        stack = list(states)
        seen = set(states)
        while stack:
            a, t, inside = stack.pop()
            tokens = self._alts[a]
            if t < len(tokens) and not inside and tokens[t][0] in (_STAR, _ANY, _DIRS):
                nxt = (a, t + 1, False)
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    def _accepts(self, states: frozenset) -> bool:
        return any(t == len(self._alts[a]) for a, t, _ in states)

    def _step(self, states: frozenset, char: str) -> frozenset:
        out = set()
        for a, t, _inside in states:
            tokens = self._alts[a]
            if t == len(tokens):
                continue
            kind, lit = tokens[t]
            if kind == _LIT:
                if char == lit:
                    out.add((a, t + 1, False))
            elif kind == _ONE:
                if char != "/":
                    out.add((a, t + 1, False))
            elif kind == _STAR:
                if char != "/":
                    out.add((a, t, False))
            elif kind == _ANY:
                out.add((a, t, False))
            else:  # `**/`: any characters, ending after a `/`
                out.add((a, t, True))
                if char == "/":
                    out.add((a, t + 1, False))
        return self._closure(out)

    def match(self, path: str, pos: int = 0) -> bool:
        if self._regex is not None:
            return self._regex.match(path, pos) is not None
        chars = self._chars
        nexts = self._next
        state = 0
        for i in range(pos, len(path)):
            c = path[i]
            key = c if c in chars else ""  # every other character behaves alike
            target = nexts[state].get(key)
            if target is None:
                target = self._add(state, key, c)
                if target < 0:  # the cache was reset: go on from the equivalent set
                    return self._match_from(path, pos)
            state = target
        return self._accept[state]

    def _add(self, state: int, key: str, char: str) -> int:
        states = self._step(self._sets[state], char if key else "\x00")
        target = self._ids.get(states)
        if target is None:
            if len(self._sets) >= _CACHE_LIMIT:
                self._reset()
                return -1
            target = len(self._sets)
            self._ids[states] = target
            self._sets.append(states)
            self._accept.append(self._accepts(states))
            self._next.append({})
        self._next[state][key] = target
        return target

    def _match_from(self, path: str, pos: int) -> bool:
        """Rarely needed: the DFA cache filled up mid-path; finish on plain sets."""
        states = self._start
        for c in path[pos:]:
            states = self._step(states, c if c in self._chars else "\x00")
            if not states:
                return False
        return self._accepts(states)
