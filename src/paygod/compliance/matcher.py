"""Fuzzy name matching against list entries, with a blocking index.

Every name variant of every entry is tokenised once (names.py). The index maps blocking
keys (each token's consonant skeleton and its first three letters) to the variants that
hold them; a query scores only the variants that share its rarest keys, so screening
costs the same whether the lists hold a thousand names or a hundred thousand.

A variant's name score is the best of
- a token alignment: each query token against its best partner (Jaro-Winkler, an equal
  skeleton counts 0.92, an initial against a word starting with it 0.9), weighted 0.6 for
  the query's tokens and 0.4 for the variant's, where a variant token left unmatched
  counts 0.35 once the query has two or more tokens (a missing middle name or
  patronymic costs less than a different person), and
- rapidfuzz's token_sort_ratio over the normalised strings (word order, joined or split
  words such as `binladen`).
Date of birth and nationality then move the score: a matching year lifts it, a year more
than one apart lowers it by 0.15; a matching nationality lifts it, a different one
lowers it by 0.1 (only where the entry publishes them).
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

from paygod.compliance.model import Hit, ListEntry, ScreeningQuery
from paygod.compliance.names import normalized, skeleton, tokens

MAX_CANDIDATES = 48
POOL = 600  # variants ranked per query, drawn from its rarest keys first
COMMON_KEY_SHARE = 0.005  # a key on more than 0.5% of variants is too common to block on alone
FLOOR = 0.5  # below this a candidate is not worth keeping, even as evidence


@dataclass(frozen=True, slots=True)
class Variant:
    entry: int  # position in the index's entries
    name: str
    tokens: tuple[str, ...]
    skeletons: tuple[str, ...]
    text: str
    keys: frozenset[str] = frozenset()


def keys_of(words: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for word in words:
        if len(word) >= 2:
            found.add("t:" + word)
            found.add("s:" + skeleton(word))
            found.add("p:" + word[:3])
    return found


def token_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return 0.9 if a[0] == b[0] else 0.0
    similarity = JaroWinkler.normalized_similarity(a, b)
    # Same consonant skeleton: a transliteration (Muhammad/Mohammed, Qaddafi/Gadhafi) when
    # the spellings are already close; two-consonant skeletons of words that are not
    # (Alice/Liga: "lk") are a coincidence, and a payee named Alice is not the EU's LIGA.
    if similarity >= 0.75 and skeleton(a) == skeleton(b) and len(skeleton(a)) >= 2:
        similarity = max(similarity, 0.92)
    return similarity


class TokenTable:
    """A query's tokens against every token they meet, each pair scored once: candidates
    share most of their words (given names, particles), so a query scores a few hundred
    pairs instead of one per pair per candidate."""

    __slots__ = ("order", "rows", "tokens")

    def __init__(self, words: Sequence[str]) -> None:
        self.tokens = tuple(words)
        # Longest first: a surname claims its partner before an initial can.
        self.order = sorted(range(len(words)), key=lambda i: -len(words[i]))
        self.rows: list[dict[str, float]] = [{} for _ in words]

    def similarity(self, i: int, token: str) -> float:
        row = self.rows[i]
        found = row.get(token)
        if found is None:
            found = row[token] = token_similarity(self.tokens[i], token)
        return found


def alignment(table: TokenTable, v: Variant) -> float:
    """One-to-one greedy alignment of tokens, the query's longest first."""
    matched: dict[int, float] = {}
    forward = 0.0
    for i in table.order:
        best, at = 0.0, -1
        for j, token in enumerate(v.tokens):
            if j not in matched:
                similarity = table.similarity(i, token)
                if similarity > best:
                    best, at = similarity, j
        if best >= 0.7:
            matched[at] = best
            forward += best
    spare = 0.35 if len(table.tokens) >= 2 and len(matched) >= 2 else 0.0
    backward = sum(matched.get(j, spare) for j in range(len(v.tokens))) / len(v.tokens)
    return 0.6 * forward / len(table.tokens) + 0.4 * backward


def name_score(table: TokenTable, text: str, v: Variant) -> float:
    sorted_ratio = fuzz.token_sort_ratio(text, v.text) / 100.0
    return max(alignment(table, v), sorted_ratio)


def adjust(score: float, query: ScreeningQuery, entry: ListEntry) -> tuple[float, list[str]]:
    reasons: list[str] = []
    if query.dob and entry.dobs:
        year = int(query.dob[:4])
        years = {int(d[:4]) for d in entry.dobs}
        if any(d.startswith(query.dob) or query.dob.startswith(d) for d in entry.dobs):
            score += 0.05 if len(query.dob) < 10 else 0.08
            reasons.append("dob matches")
        elif year in years:
            score += 0.03
            reasons.append("birth year matches")
        elif min(abs(year - y) for y in years) > 1:
            score -= 0.15
            reasons.append("dob differs")
    if query.country and entry.countries:
        if query.country in entry.countries:
            score += 0.04
            reasons.append("nationality matches")
        else:
            score -= 0.10
            reasons.append("nationality differs")
    return max(0.0, min(1.0, score)), reasons


class ScreeningIndex:
    """The entries of the active snapshots, indexed for screening. Immutable once built."""

    def __init__(self, entries: Iterable[ListEntry]) -> None:
        self.entries: list[ListEntry] = list(entries)
        self.variants: list[Variant] = []
        self.postings: dict[str, list[int]] = {}
        for position, entry in enumerate(self.entries):
            seen: set[str] = set()
            for name in entry.names:
                words = tokens(name)
                text = " ".join(words)
                if not words or text in seen:
                    continue
                seen.add(text)
                vid = len(self.variants)
                keys = frozenset(keys_of(words))
                self.variants.append(
                    Variant(position, name, words, tuple(skeleton(w) for w in words), text, keys)
                )
                for key in keys:
                    self.postings.setdefault(key, []).append(vid)
        self._common = max(64, int(len(self.variants) * COMMON_KEY_SHARE))
        total = max(1, len(self.variants))
        self.idf = {k: math.log(1 + total / len(p)) for k, p in self.postings.items()}
        # The index is long-lived and holds no cycles: moving it (and what exists with it)
        # out of the cyclic collector's reach keeps a full collection from walking its
        # hundreds of thousands of objects in the middle of a screening (a 30 ms pause,
        # the whole p99, before this).
        gc.freeze()

    def __len__(self) -> int:
        return len(self.entries)

    def candidates(self, query: Variant) -> list[int]:
        """The variants that share the query's rarest keys, ranked by the weight (idf) of
        every key they share with it, at most MAX_CANDIDATES."""
        keys = keys_of(query.tokens)
        # Each word's rarest key: the words, not their several keys, are what is shared.
        rarest: dict[str, list[int]] = {}
        for word in query.tokens:
            for key in keys_of((word,)):
                posting = self.postings.get(key)
                if posting and (word not in rarest or len(posting) < len(rarest[word])):
                    rarest[word] = posting
        postings = sorted(rarest.values(), key=len)
        if not postings:
            return []
        pool: set[int] = set()
        if len(postings[0]) > self._common and len(postings) > 1:
            # Only common words (`Mohammed Ali`): the variants holding two of them.
            pool = set(postings[0]).intersection(postings[1])
        if not pool:
            for posting in postings:
                if pool and (len(posting) > self._common or len(pool) >= POOL):
                    break
                pool.update(posting[:POOL])
        if len(pool) <= MAX_CANDIDATES:
            return list(pool)
        idf = self.idf.__getitem__
        variants = self.variants

        def weight(vid: int) -> float:
            # map over a C-level lookup: this runs for every pooled variant (a profile's
            # second-largest cost behind the alignment).
            return sum(map(idf, keys & variants[vid].keys))

        return heapq.nlargest(MAX_CANDIDATES, pool, key=weight)

    def screen(self, query: ScreeningQuery, threshold: float) -> tuple[list[Hit], list[Hit]]:
        """(hits at or above threshold, best candidates below it), best first, one per entry."""
        words = tokens(query.name)
        if not words:
            return [], []
        probe = Variant(-1, query.name, words, tuple(skeleton(w) for w in words), " ".join(words))
        table = TokenTable(words)
        best: dict[int, Hit] = {}
        for vid in self.candidates(probe):
            variant = self.variants[vid]
            raw = name_score(table, probe.text, variant)
            if raw < FLOOR:
                continue
            entry = self.entries[variant.entry]
            score, reasons = adjust(raw, query, entry)
            current = best.get(variant.entry)
            if current is None or (score, raw) > (current.score, current.name_score):
                best[variant.entry] = Hit(
                    entry.list,
                    entry.entry_id,
                    entry.reference,
                    variant.name,
                    round(score, 4),
                    round(raw, 4),
                    tuple(reasons),
                )
        ranked = sorted(best.values(), key=lambda h: (-h.score, h.list, h.entry_id))
        hits = [h for h in ranked if h.score >= threshold]
        below = [h for h in ranked if h.score < threshold][:5]
        return hits, below


def screen_entries(
    entries: Sequence[ListEntry], query: ScreeningQuery, threshold: float
) -> list[Hit]:
    """Screen against a handful of entries (a list delta) without keeping an index."""
    return ScreeningIndex(entries).screen(query, threshold)[0]


__all__ = ["ScreeningIndex", "normalized", "screen_entries"]
