"""`dedup_exact`: drop records whose (normalised) text, or another key field, was seen before.

Keep-first in input order, the same through a pipe, with any worker count, and across
versions (`against` earlier indexes). In `curate run`, `keep.prefer` may rank the copies
instead (BigCode kept the most-starred, best-licensed one).
"""

from __future__ import annotations

import itertools
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import orjson
import zstandard
from pydantic import Field, field_validator

from curate.core.errors import ConfigError
from curate.core.records import dumps_record, get_path, split_path
from curate.dedup.exact_index import (
    INDEX_SUFFIX,
    LoadedIndex,
    prefer_survivors,
    resolve_partition,
    save_index,
    save_index_parts,
)
from curate.dedup.exact_keys import DIGEST_DTYPE, KeyMaker, digests_to_array
from curate.dedup.memory import DEFAULT_MEMORY, parse_memory
from curate.io.atomic import atomic_write
from curate.io.reader import Batch
from curate.io.sections import read_sections, write_sections
from curate.stages.base import (
    FINE_PARTS,
    Context,
    GlobalStage,
    ReduceInfo,
    StageConfig,
    StageStats,
)

# streaming (pipe) mode holds a Python set of 16-byte keys: about this many bytes a record
SET_BYTES_PER_RECORD = 100
SPILL_PARTITIONS = 256
FINE_BITS = FINE_PARTS.bit_length() - 1


KEEP_HELP = "which copy to keep: first, or {prefer: [fields]} to rank copies (curate run)"


class KeepConfig(StageConfig):
    prefer: list[str] = Field(
        min_length=1, description="fields to rank copies by; '-' = descending"
    )


class DedupExactConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("index", "against")

    normalize: Literal["none", "whitespace", "lower"] = Field(
        "none", description="none, whitespace (collapse runs, strip ends) or lower (+ NFKC)"
    )
    key: str | None = Field(None, description="field to key on instead of the text, e.g. meta.url")
    keep: Literal["first"] | KeepConfig = Field("first", description=KEEP_HELP)
    memory: str = Field(
        DEFAULT_MEMORY, description="index budget (e.g. 2GB, 25%); past it, keys spill to disk"
    )
    index: str | None = Field(None, description="save the keys of the kept records here")
    against: list[str] = Field(default_factory=list, description="indexes of earlier versions")

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        parse_memory(value)
        return value


class DedupExactStage(GlobalStage):
    name = "dedup_exact"
    Config = DedupExactConfig
    key_bytes_per_record = 40  # digest + position while resolving, ids of kept records aside

    def setup(self) -> None:
        cfg: DedupExactConfig = self.config
        self.keys = KeyMaker(cfg.key or self.fields.text, cfg.normalize)
        self.memory = parse_memory(cfg.memory)
        self.against: list[LoadedIndex] = []
        for path in cfg.against:
            try:
                self.against.append(LoadedIndex(Path(path)))
            except ValueError as exc:
                raise ConfigError(f"dedup_exact: against: {exc}") from None
        self._seen: set[bytes] = set()
        self._seen_ids: dict[bytes, str] = {}
        self._kept_digests: list[bytes] = []
        self._kept_ids: list[str] = []
        self._spill: _Spill | None = None

    # ---- shared ---------------------------------------------------------------------------

    def _against_hit(self, digest_array: np.ndarray) -> list[str | None]:
        """For each digest, 'version:id' of an earlier version that has it, else None."""
        hits: list[str | None] = [None] * len(digest_array)
        for index in self.against:
            where = index.lookup(digest_array)
            for i in np.nonzero(where >= 0)[0]:
                if hits[i] is None:
                    hits[i] = f"{index.name()}:{index.ids[where[i]]}"
        return hits

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [
            self.resource("dedup_index", index.path, len(index.ids), base_dir)
            for index in self.against
        ]

    def manifest_info(self) -> dict:
        cfg: DedupExactConfig = self.config
        return {"key": f"sha256({cfg.key or self.fields.text}, normalize={cfg.normalize})[:16]"}

    # ---- streaming form (pipes) -------------------------------------------------------------

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        if not isinstance(self.config.keep, str):
            raise ConfigError(
                "dedup_exact: keep.prefer ranks copies across the whole input and "
                "needs `curate run`; a pipe keeps the first copy"
            )
        started = time.perf_counter()
        digests, ok_rows = self._digests(batch, ctx, stats)
        against = self._against_hit(digests_to_array(digests)) if self.against else None
        keep_rows: list[int] = []
        seen = self._seen
        seen_add = seen.add
        want_ids = ctx.keep_rejects or self.config.index is not None
        records = batch.records
        plain = against is None and self._spill is None and not want_ids
        if plain:  # the hot path: one set operation a record
            dropped = 0
            for i, digest in zip(ok_rows, digests):
                size = len(seen)
                seen_add(digest)
                if len(seen) == size:
                    dropped += 1
                    continue
                keep_rows.append(i)
            if dropped:
                stats.dropped["duplicate"] += dropped
        else:
            for j, (i, digest) in enumerate(zip(ok_rows, digests)):
                record = records[i]
                if against is not None and against[j] is not None:
                    stats.dropped["duplicate"] += 1
                    ctx.reject(record, self.name, "duplicate", {"duplicate_of": against[j]})
                    continue
                if self._spill is not None:
                    self._spill.add(digest, batch, i)
                    continue
                if digest in seen:
                    stats.dropped["duplicate"] += 1
                    details = (
                        {"duplicate_of": self._seen_ids.get(digest)} if ctx.keep_rejects else None
                    )
                    ctx.reject(record, self.name, "duplicate", details)
                    continue
                seen_add(digest)
                if want_ids:
                    rid = self._id_or_none(record)
                    self._seen_ids[digest] = rid
                    if self.config.index is not None:
                        self._kept_digests.append(digest)
                        self._kept_ids.append(rid or "")
                keep_rows.append(i)
        if self._spill is None and len(seen) * SET_BYTES_PER_RECORD > self.memory:
            self._start_spill()
        stats.records_in += len(records)
        stats.records_out += len(keep_rows)
        stats.seconds += time.perf_counter() - started
        return batch.select(keep_rows)

    def _ids(self, records: list[dict]) -> list[str]:
        parts = self.fields.id_parts
        if len(parts) == 1:
            key = parts[0]
            ids = [r.get(key) for r in records]
            if all(type(i) is str for i in ids):
                return ids
        return [self._id_or_none(r) or "" for r in records]

    def _id_or_none(self, record: dict) -> str | None:
        parts = self.fields.id_parts
        value = record.get(parts[0]) if len(parts) == 1 else get_path(record, parts)
        return None if value is None else str(value)

    def _digests(
        self, batch: Batch, ctx: Context, stats: StageStats
    ) -> tuple[list[bytes], list[int]]:
        digests, rows, bad = self.keys.digests(batch.records)
        for i, problem in bad:
            stats.errors += 1
            ctx.policy.bad_line(batch.source, batch.linenos[i], problem, batch.raws[i])
        return digests, rows

    def _start_spill(self) -> None:
        """The set outgrew the budget: from here on, hold records on disk and decide at the end."""
        self._spill = _Spill(self._seen)
        self._seen = set()
        self._seen_ids = {}

    def flush(self, ctx: Context, stats: StageStats) -> Iterator[Batch]:
        if self._spill is not None:
            yield from self._spill.finish(self, ctx, stats)
            self._spill = None
        if self.config.index is not None:
            label = {"name": "pipe", "version": "", "stage": self.name}
            save_index(
                Path(self.config.index), digests_to_array(self._kept_digests), self._kept_ids, label
            )

    # ---- split form (curate run) ------------------------------------------------------------

    def map_keys(self, batch: Batch, ctx: Context, stats: StageStats) -> tuple[Batch, Any]:
        started = time.perf_counter()
        digests, rows = self._digests(batch, ctx, stats)
        batch = batch.select(rows)
        keys: dict[str, Any] = {
            "digests": digests_to_array(digests),
            "ids": self._ids(batch.records),
        }
        if not isinstance(self.config.keep, str):
            keys["ranks"] = [
                [get_path(r, split_path(f.lstrip("-"))) for f in self.config.keep.prefer]
                for r in batch.records
            ]
        stats.seconds += time.perf_counter() - started
        return batch, keys

    def shuffle(self, keys: Any, unit: int, folder: Path) -> dict[int, Any]:
        """Partition by the digest's top bits: a partition holds every copy of its keys."""
        digests = keys["digests"]
        head = digests.view(np.uint8).reshape(-1, 16)
        part = ((head[:, 0].astype(np.int64) << 8) | head[:, 1]) >> (16 - FINE_BITS)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(FINE_PARTS + 1))
        ids, ranks = keys["ids"], keys.get("ranks")
        sections = {}
        for p in np.flatnonzero(np.diff(bounds)).tolist():
            rows = order[bounds[p] : bounds[p + 1]]
            sections[p] = (
                rows.astype(np.int64),
                digests[rows],
                [ids[i] for i in rows.tolist()],
                None if ranks is None else [ranks[i] for i in rows.tolist()],
            )
        return sections

    def reduce_run(self, engine: Any, info: ReduceInfo) -> list[str]:
        """Partition groups resolved as jobs, each writing its decisions and its kept keys;
        then one job streams the kept keys, in digest order, into the indexes."""
        jobs = [(info, "resolve", job, lo, hi) for job, (lo, hi) in enumerate(info.groups)]
        counts = list(engine.map(_exact_job, jobs, step=f"{self.name}: decisions"))
        job = (info, "index", 0, counts, None)
        (files,) = list(engine.map(_exact_job, [job], step=f"{self.name}: index"))
        return files

    def write_indexes(self, info: ReduceInfo, counts: list[int]) -> list[str]:
        parts = [
            (info.keys / f"kept-{job:05d}.digests", info.keys / f"kept-{job:05d}.ids", n)
            for job, n in enumerate(counts)
        ]
        label = {"name": info.name, "version": info.version, "stage": self.name}
        files = []
        if info.out_dir is not None:
            rel = f"indexes/{info.position}-{self.name}{INDEX_SUFFIX}"
            save_index_parts(Path(info.out_dir) / rel, parts, label)
            files.append(rel)
        if self.config.index is not None:
            save_index_parts(Path(self.config.index), parts, label)
        return files

    def resolve(self, info: ReduceInfo, job: int, lo: int, hi: int) -> int:
        """One group of partitions: decisions by unit, and the kept keys (sorted, to work
        files the index is made of); returns how many were kept."""
        offsets = info.offsets()
        pos, digs, ids, ranks = [], [], [], []
        for u in info.units:
            for _p, (rows, digests, part_ids, part_ranks) in read_sections(
                info.unit_file(u), lo, hi
            ):
                pos.append(rows + offsets[u])
                digs.append(digests)
                ids.extend(part_ids)
                ranks.extend(part_ranks or [None] * len(rows))
        if not pos:
            write_sections(info.decision_file(job), {})
            return self._kept_part(info, job, np.zeros(0, DIGEST_DTYPE), [])
        positions = np.concatenate(pos)
        digests = np.concatenate(digs)
        order = np.argsort(positions, kind="stable")
        positions, digests = positions[order], digests[order]
        ids = [ids[i] for i in order.tolist()]
        ranks = [ranks[i] for i in order.tolist()]
        at = {p: i for i, p in enumerate(positions.tolist())}
        dropped, kept = resolve_partition(digests, positions)
        verdict: dict[int, str] = {}  # position -> id it duplicates
        if isinstance(self.config.keep, str):
            for d, k in zip(dropped.tolist(), kept.tolist()):
                verdict[d] = ids[at[k]]
        else:
            groups: dict[int, list[int]] = {}
            for d, k in zip(dropped.tolist(), kept.tolist()):
                groups.setdefault(k, [k]).append(d)
            rank_of = {p: ranks[at[p]] for members in groups.values() for p in members}
            survivors = prefer_survivors(groups, rank_of, self.config.keep.prefer)
            for first, members in groups.items():
                for p in members:
                    if p != survivors[first]:
                        verdict[p] = ids[at[survivors[first]]]
        if self.against:
            for i, hit in enumerate(self._against_hit(digests)):
                if hit is not None:
                    verdict[int(positions[i])] = hit
        by_unit: dict[int, dict] = {}
        unit_of = np.searchsorted(offsets, positions, side="right") - 1
        for p, of in verdict.items():
            u = int(unit_of[at[p]])
            by_unit.setdefault(u, {})[p - int(offsets[u])] = ("duplicate", {"duplicate_of": of})
        write_sections(info.decision_file(job), by_unit)
        keep = np.ones(len(positions), dtype=bool)
        keep[[at[p] for p in verdict]] = False
        kept_digests = digests[keep]
        kept_ids = list(itertools.compress(ids, keep.tolist()))
        order = np.argsort(kept_digests, kind="stable")
        return self._kept_part(
            info, job, kept_digests[order], [kept_ids[i] for i in order.tolist()]
        )

    def _kept_part(self, info: ReduceInfo, job: int, digests: np.ndarray, ids: list[str]) -> int:
        base = info.keys / f"kept-{job:05d}"
        atomic_write(Path(f"{base}.digests"), digests.tobytes())
        atomic_write(Path(f"{base}.ids"), "\n".join(ids).encode("utf-8", "surrogatepass"))
        return len(ids)


def _exact_job(info: ReduceInfo, step: str, job: int, lo: Any, hi: Any) -> Any:
    stage = info.stage()
    if step == "resolve":
        return stage.resolve(info, job, lo, hi)
    return stage.write_indexes(info, lo)


_HEAD = struct.Struct("<qIBI")  # line number, source index, modified flag, length


class _Spill:
    """Pipe mode past the memory budget: records wait in a zstd spool, keys in partitions.

    At the end each partition is resolved in turn (keep-first) and the spool is replayed
    without the duplicates, so output bytes and decisions are those of the in-memory path.
    Memory stays bounded: per record, only its key on disk and its raw line in the spool.
    """

    def __init__(self, already_seen: set[bytes]) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="curate-dedup-exact-")
        root = Path(self.tmp.name)
        self.parts = [open(root / f"p{i:03d}.bin", "wb") for i in range(SPILL_PARTITIONS)]  # noqa: SIM115
        self.spool_path = root / "spool.bin.zst"
        self._spool_file = open(self.spool_path, "wb")  # noqa: SIM115
        self.spool = zstandard.ZstdCompressor(level=1).stream_writer(self._spool_file)
        self.position = 0
        self.sources: dict[str, int] = {}
        # keys already emitted get position -1: they always win
        for digest in already_seen:
            self._write_key(digest, -1)

    def _write_key(self, digest: bytes, position: int) -> None:
        self.parts[digest[0]].write(digest + position.to_bytes(8, "little", signed=True))

    def add(self, digest: bytes, batch: Batch, i: int) -> None:
        self._write_key(digest, self.position)
        raw = dumps_record(batch.records[i]) if batch.modified else batch.raws[i]
        source = self.sources.setdefault(batch.source, len(self.sources))
        self.spool.write(_HEAD.pack(batch.linenos[i], source, batch.modified, len(raw)) + raw)
        self.position += 1

    def finish(self, stage: DedupExactStage, ctx: Context, stats: StageStats) -> Iterator[Batch]:
        for fh in self.parts:
            fh.close()
        self.spool.flush(zstandard.FLUSH_FRAME)
        self._spool_file.close()
        entry = np.dtype([("digest", DIGEST_DTYPE), ("pos", "<i8")])
        dropped_parts = []
        for p in range(SPILL_PARTITIONS):
            entries = np.fromfile(Path(self.tmp.name) / f"p{p:03d}.bin", dtype=entry)
            if len(entries):
                entries = entries[np.argsort(entries["pos"], kind="stable")]
                dropped, _kept = resolve_partition(entries["digest"], entries["pos"])
                dropped_parts.append(dropped)
        drop = np.sort(np.concatenate(dropped_parts)) if dropped_parts else np.zeros(0, np.int64)
        names = {v: k for k, v in self.sources.items()}
        want_index = stage.config.index is not None
        cut = 0
        with open(self.spool_path, "rb") as fh:
            data = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
            batch: Batch | None = None
            for position in range(self.position):
                lineno, source, modified, size = _HEAD.unpack(_read_exact(data, _HEAD.size))
                raw = _read_exact(data, size)
                record = orjson.loads(raw)
                if cut < len(drop) and drop[cut] == position:
                    cut += 1
                    stats.dropped["duplicate"] += 1
                    ctx.reject(record, stage.name, "duplicate", None)
                    continue
                if want_index:
                    stage._kept_digests.append(stage.keys.digest(record))
                    stage._kept_ids.append(stage._id_or_none(record) or "")
                name = names[source]
                if (
                    batch is None
                    or batch.source != name
                    or batch.modified != bool(modified)
                    or len(batch) >= 4096
                ):
                    if batch is not None:
                        stats.records_out += len(batch)
                        yield batch
                    batch = Batch(name, [], [], [], bool(modified))
                batch.records.append(record)
                batch.linenos.append(lineno)
                batch.raws.append(raw)
            if batch is not None and batch.records:
                stats.records_out += len(batch)
                yield batch
        self.tmp.cleanup()


def _read_exact(reader, size: int) -> bytes:
    data = reader.read(size)
    while len(data) < size:
        more = reader.read(size - len(data))
        if not more:
            raise OSError("spool file ended early")
        data += more
    return data
