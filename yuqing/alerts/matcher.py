"""Many monitoring rules matched at once, through an Aho-Corasick prefilter.

Each rule is reduced to clauses of literals (:func:`~yuqing.alerts.rule_match.required_literals`
with field keys): every clause must have a literal in the document for the rule to be able
to match. All literals of all rules go into one ``ahocorasick_rs`` automaton; each rule is
*posted* under the literals of one clause, the one whose literals the fewest other rules
share (a rare literal lets few rules through). Matching a document is then:

1. one overlapping scan of its text and field keys: the set of literals present;
2. the rules posted under those literals (the candidates), and the rules without literals
   (``NOT 广告``, ``risk.rumor>0.8``: :attr:`RuleMatcher.unindexed`, evaluated every time);
3. for each candidate, a check that every clause has a present literal (set operations),
   then the full evaluation of the compiled rule.

So the cost per document follows the number of rules that could match, not the number of
rules: 100,000 rules cost little more than 10 as long as few of them are unindexed. The
index is rebuilt lazily, on the first match after rules were added or removed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick_rs

from yuqing.alerts.rule_match import (
    Predicate,
    RegionLookup,
    Subject,
    compile_rule,
    required_literals,
)
from yuqing.alerts.rule_syntax import Node, parse
from yuqing.errors import UsageError
from yuqing.gc_tuning import paused_gc
from yuqing.models import Document

__all__ = ["MatcherStats", "RuleMatcher"]


@dataclass(slots=True)
class _Entry:
    rule_id: str
    text: str
    node: Node
    clauses: list[set[str]] | None
    predicate: Predicate | None = None  # compiled on first use: most rules never are


@dataclass(slots=True, frozen=True)
class MatcherStats:
    """What the index holds; ``evaluated`` counts full rule evaluations so far."""

    rules: int
    indexed: int
    unindexed: int
    literals: int
    documents: int
    evaluated: int


class _Index:
    """The immutable product of a build: automaton, postings and per-rule clauses."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self.entries = list(entries)
        counts: Counter[str] = Counter()
        for entry in self.entries:
            for clause in entry.clauses or ():
                counts.update(clause)
        literals = list(counts)
        number = {literal: index for index, literal in enumerate(literals)}
        self.literals = literals
        self.postings: list[list[int]] = [[] for _ in literals]
        # per rule, the clauses besides the posted one: None, one frozenset (the common
        # case: one C-level isdisjoint per candidate) or a tuple of them
        self.clauses: list[frozenset[int] | tuple[frozenset[int], ...] | None] = []
        self.unindexed: list[int] = []
        for position, entry in enumerate(self.entries):
            if not entry.clauses:
                self.unindexed.append(position)
                self.clauses.append(None)
                continue
            best = min(entry.clauses, key=lambda c: (max(counts[x] for x in c), len(c)))
            for literal in best:
                self.postings[number[literal]].append(position)
            # the posted clause is satisfied by construction; check the others
            others = tuple(frozenset(number[x] for x in c) for c in entry.clauses if c is not best)
            self.clauses.append(None if not others else others[0] if len(others) == 1 else others)
        self.automaton = (
            ahocorasick_rs.AhoCorasick(literals, matchkind=ahocorasick_rs.MatchKind.Standard)
            if literals
            else None
        )


class RuleMatcher:
    """Holds many rules by id; ``match(doc)`` returns the ids of the rules it satisfies,
    in the order the rules were added. Not safe for concurrent ``add`` and ``match``.

    ``region_lookup`` widens ``region:NAME`` to the places inside NAME
    (:func:`~yuqing.alerts.rule_match.gazetteer_region_lookup`); by default a region name
    matches by substring of the post's region names and a code by prefix.
    """

    def __init__(self, *, region_lookup: RegionLookup | None = None) -> None:
        self._region_lookup = region_lookup
        self._entries: dict[str, _Entry] = {}
        self._index: _Index | None = None
        self._documents = 0
        self._evaluated = 0

    def add(self, rule_id: str, text: str) -> Node:
        """Parse and add (or replace) a rule; raises RuleSyntaxError. Returns the AST."""
        node = parse(text)
        self.add_node(rule_id, node, text)
        return node

    def add_many(self, rules: Iterable[tuple[str, str]]) -> None:
        """``add`` for each (rule_id, text), with the cyclic garbage collector paused: a
        bulk load makes millions of small acyclic objects, and the collector's passes over
        them cost more than the parsing (3-5x at 100,000 rules)."""
        with paused_gc():
            for rule_id, text in rules:
                self.add(rule_id, text)

    def add_node(self, rule_id: str, node: Node, text: str = "") -> None:
        """Add (or replace) an already parsed rule."""
        lookup = self._region_lookup
        self._entries.pop(rule_id, None)  # a replaced rule moves to the end of the order
        self._entries[rule_id] = _Entry(
            rule_id, text, node, required_literals(node, fields=True, region_lookup=lookup)
        )
        self._index = None

    def remove(self, rule_id: str) -> None:
        """Remove a rule; raises UsageError when there is no rule with that id."""
        if self._entries.pop(rule_id, None) is None:
            raise UsageError(f"no monitoring rule with id {rule_id!r} to remove")
        self._index = None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._entries

    def rule(self, rule_id: str) -> Node:
        """The AST of a rule; raises UsageError for an unknown id."""
        entry = self._entries.get(rule_id)
        if entry is None:
            raise UsageError(f"no monitoring rule with id {rule_id!r}")
        return entry.node

    @property
    def unindexed(self) -> int:
        """How many rules have no literal and are evaluated for every document."""
        return sum(1 for entry in self._entries.values() if not entry.clauses)

    def stats(self) -> MatcherStats:
        index = self._built()
        return MatcherStats(
            rules=len(index.entries),
            indexed=len(index.entries) - len(index.unindexed),
            unindexed=len(index.unindexed),
            literals=len(index.literals),
            documents=self._documents,
            evaluated=self._evaluated,
        )

    def build(self) -> None:
        """Build the index now (``match`` does it when needed)."""
        self._built()

    def _built(self) -> _Index:
        if self._index is None:
            with paused_gc():  # see add_many
                self._index = _Index(list(self._entries.values()))
        return self._index

    def match(self, doc: Document) -> list[str]:
        """Ids of the rules ``doc`` satisfies, in the order the rules were added."""
        index = self._built()
        subject = Subject(doc)
        candidates: set[int] = set(index.unindexed)
        found: set[int] = set()
        if index.automaton is not None:
            haystack = subject.text + "\n" + subject.keys
            found = {m[0] for m in index.automaton.find_matches_as_indexes(haystack, True)}
            postings = index.postings
            for literal in found:
                candidates.update(postings[literal])
        self._documents += 1
        out: list[str] = []
        clauses = index.clauses
        for position in sorted(candidates):
            other = clauses[position]
            if other is not None:
                if isinstance(other, frozenset):
                    if found.isdisjoint(other):
                        continue
                elif any(found.isdisjoint(clause) for clause in other):
                    continue
            entry = index.entries[position]
            if entry.predicate is None:
                entry.predicate = compile_rule(entry.node, region_lookup=self._region_lookup)
            self._evaluated += 1
            if entry.predicate(subject):
                out.append(entry.rule_id)
        return out

    def match_batch(self, docs: Iterable[Document]) -> list[list[str]]:
        """``match`` for each document, in order."""
        return [self.match(doc) for doc in docs]
