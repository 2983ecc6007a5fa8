"""An index of evaluation sets' n-grams, and the first one a text shares with them.

Two forms, as the decontamination reports of GPT-3, Llama and StarCoder use them:
- `words`: lowercased Unicode word tokens (`\\w+`), n consecutive ones (13 by default);
- `chars`: the text's characters with all whitespace removed, n consecutive ones (50 by
  default), for code whose formatting changes while its tokens stay.

Word n-grams are looked up through the evaluation sets' vocabulary: a text's words map to
vocabulary ids first, and only runs of at least n known words can hold a shared n-gram, so
most of a text is skipped by one dict lookup a word.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path

from curate.core.errors import ConfigError
from curate.core.records import get_path, split_path
from curate.io.policy import ErrorPolicy
from curate.io.reader import read_source
from curate.io.sources import Source

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_SUFFIXES = (".gz", ".zst", ".jsonl", ".json", ".parquet")
DEFAULT_N = {"words": 13, "chars": 50}


def benchmark_name(path: str) -> str:
    """A file's benchmark name: its name without data suffixes (HumanEval.jsonl.gz -> HumanEval)."""
    name = Path(path).name
    while name.endswith(_SUFFIXES) and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


# ASCII: `\w` is [A-Za-z0-9_]; one byte table lowercases those and blanks the rest
_ASCII_WORDS = bytes(
    c if c < 128 and (chr(c).isalnum() or c == 0x5F) else 0x20 for c in range(256)
).lower()


def words_of(text: str) -> list[str]:
    """Lowercased word tokens, `\\w+` (ASCII text through a byte table: ~2x faster, same
    tokens)."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
    return _WORD.findall(text.lower())


def chars_of(text: str) -> str:
    return _SPACE.sub("", text)


@dataclass
class NgramIndex:
    """Every n-gram of the evaluation items, mapped to the first item (in file order) that
    holds it; items are (benchmark, item id).

    Compact: an n-gram is kept as a 64-bit hash (sorted, 8 bytes, plus 4 for its item), with
    each item's own tokens (4 bytes a word) and an 8-byte digest of its text for the
    checksum; a hash found in a text is confirmed against the item's tokens, so a collision
    never names an item that does not hold the n-gram. (~30 bytes an n-gram instead of
    ~240 for a dict of tuples.)
    """

    unit: str
    n: int
    items: list[tuple[str, str]] = field(default_factory=list)
    vocab: dict[str, int] = field(default_factory=dict)  # words unit: word -> id
    files: list[dict] = field(default_factory=list)  # {path, sha256, items}
    short_items: int = 0  # items with fewer than n tokens: nothing to match
    _keys: array = field(default_factory=lambda: array("q"))  # hashes, as added
    _owners: array = field(default_factory=lambda: array("i"))  # their items
    _tokens: list = field(default_factory=list)  # each item's ids (words) or text (chars)
    _digests: array = field(default_factory=lambda: array("Q"))  # BLAKE2b-64 of n-gram texts
    _sorted: tuple | None = None  # (keys, owners) as numpy arrays, built on first lookup
    _distinct: object = None  # the sorted distinct digests, built when first asked

    def add(self, benchmark: str, item: str, text: str) -> None:
        at = len(self.items)
        self.items.append((benchmark, item))
        n = self.n
        if self.unit == "words":
            words = words_of(text)
            vocab = self.vocab
            ids = array("i", (vocab.setdefault(w, len(vocab)) for w in words))
            self._tokens.append(ids)
            windows = [tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)]
            texts = (" ".join(words[i : i + n]) for i in range(len(ids) - n + 1))
        else:
            chars = chars_of(text)
            self._tokens.append(chars)
            windows = [chars[i : i + n] for i in range(len(chars) - n + 1)]
            texts = iter(windows)
        if not windows:
            self.short_items += 1
            return
        self._keys.extend(map(hash, windows))
        self._owners.extend([at] * len(windows))
        blake = hashlib.blake2b
        self._digests.extend(
            int.from_bytes(blake(t.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
            for t in texts
        )
        self._sorted = self._distinct = None

    def _distinct_digests(self):
        if self._distinct is None:
            import numpy as np

            self._distinct = np.unique(np.frombuffer(self._digests, dtype=np.uint64))
        return self._distinct

    @property
    def ngrams(self) -> int:
        """Distinct n-grams in the index."""
        return len(self._distinct_digests())

    def _lookup(self) -> tuple:
        if self._sorted is None:
            import numpy as np

            keys = np.frombuffer(self._keys, dtype=np.int64)
            owners = np.frombuffer(self._owners, dtype=np.int32)
            order = np.lexsort((owners, keys))  # by hash, then the first item holding it
            keys, owners = keys[order], owners[order]
            first = np.ones(len(keys), dtype=bool)
            first[1:] = keys[1:] != keys[:-1]
            self._sorted = (keys[first], owners[first])
        return self._sorted

    def first_match(self, text: str) -> tuple[str, str] | None:
        """The (benchmark, item) of the first n-gram of `text` that an item holds."""
        n = self.n
        if self.unit == "chars":
            chars = chars_of(text)
            windows: list = [chars[i : i + n] for i in range(len(chars) - n + 1)]
        else:
            ids = list(map(self.vocab.get, words_of(text)))
            windows = []
            run = 0  # known words ending at i: only runs of n known words can match
            for i, word_id in enumerate(ids):
                if word_id is None:
                    run = 0
                    continue
                run += 1
                if run >= n:
                    windows.append(tuple(ids[i - n + 1 : i + 1]))
        if not windows or not self._keys:
            return None
        import numpy as np

        keys, owners = self._lookup()
        wanted = np.fromiter(map(hash, windows), dtype=np.int64, count=len(windows))
        at = np.searchsorted(keys, wanted)
        at[at == len(keys)] = 0
        for w in np.flatnonzero(keys[at] == wanted):  # in text order
            owner = int(owners[at[w]])
            if self._holds(owner, windows[w]):
                return self.items[owner]
        return None

    def _holds(self, owner: int, window) -> bool:
        """Whether item `owner` holds the n-gram (a hash match confirmed, not trusted)."""
        tokens = self._tokens[owner]
        if self.unit == "chars":
            return window in tokens
        target = array("i", window)
        n = self.n
        first = window[0]
        return any(
            tokens[i : i + n] == target for i in range(len(tokens) - n + 1) if tokens[i] == first
        )

    def checksum(self) -> str:
        """SHA-256 of the index's content: the sorted 8-byte BLAKE2b digests of its distinct
        n-grams' text, with the unit and n. The same evaluation n-grams give the same
        checksum whatever files held them."""
        digest = hashlib.sha256(f"{self.unit}:{self.n}\n".encode())
        digest.update(self._distinct_digests().astype(">u8").tobytes())
        return digest.hexdigest()


def build_index(
    paths: list[str], unit: str, n: int, text_fields: list[str], id_field: str
) -> NgramIndex:
    """The index of the evaluation files' items: each item's text is its `text_fields` joined
    by newlines (e.g. HumanEval's prompt and canonical solution); a bad line fails with the
    file and line."""
    index = NgramIndex(unit, n)
    parts = [split_path(f) for f in text_fields]
    id_parts = split_path(id_field)
    for path in paths:
        if not Path(path).is_file():
            raise ConfigError(f"decontaminate: {path}: no such evaluation file")
        benchmark = benchmark_name(path)
        before = len(index.items)
        info: list[dict] = []  # the file's SHA-256, computed while it is read
        for batch in read_source(Source(path, path), ErrorPolicy(), info):
            for record, lineno in zip(batch.records, batch.linenos):
                texts = [get_path(record, p) for p in parts]
                texts = [t for t in texts if isinstance(t, str)]
                if not texts:
                    fields = ", ".join(text_fields)
                    raise ConfigError(
                        f"decontaminate: {path}:{lineno}: no text in {fields} "
                        "(choose the fields with eval_fields)"
                    )
                item = get_path(record, id_parts)
                item = f"{benchmark}:{lineno}" if item is None else str(item)
                index.add(benchmark, item, "\n".join(texts))
        index.files.append(
            {"path": path, "sha256": info[0]["sha256"], "items": len(index.items) - before}
        )
    return index
