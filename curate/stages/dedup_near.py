"""`dedup_near`: MinHash + LSH near-duplicate removal with verified candidates.

One decision rule for every mode (see `curate.dedup.lsh`): in input order, drop a record
that is a verified near-duplicate of one already kept. The pipe decides as records stream by;
`curate run` computes signatures in parallel (map) and replays the same rule over the only
records that can be affected — those sharing a band bucket with another (reduce).
"""

from __future__ import annotations

import functools
import itertools
import os
import pickle
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from curate.core.errors import ConfigError, RecordError
from curate.core.records import get_path, split_path
from curate.dedup.components import component_labels
from curate.dedup.exact_index import rank_comparator
from curate.dedup.lsh import NearDecider, optimal_params
from curate.dedup.minhash import MinHasher, ShingleSets
from curate.dedup.near_index import SUFFIX, NearIndex, save_near_index
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
from curate.stages.dedup_exact import KEEP_HELP, KeepConfig

SKETCH_BYTES = 8 << 20  # characters of text sketched at a time
DECIDE_JOBS = 16  # near-duplicate components are decided in about this many jobs


FINE_BITS = FINE_PARTS.bit_length() - 1
JOB_BYTES = 2 << 20  # raw input per sketching job


def _grouped(batches, limit: int):
    """Consecutive batches of one source merged until they hold `limit` bytes of raw lines."""
    group: list[Batch] = []
    size = 0
    for batch in batches:
        if group and (batch.source != group[0].source or batch.modified != group[0].modified):
            yield Batch.concat(group)
            group, size = [], 0
        group.append(batch)
        size += batch.raw_size()
        if size >= limit:
            yield Batch.concat(group)
            group, size = [], 0
    if group:
        yield Batch.concat(group)


SCHEME = "curate-shingle-hash32 + datasketch affine32 (fmix32, a*h+b mod 2^32, seed 1)"


class DedupNearConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("index", "against")

    tokenizer: Literal["words", "chars", "code"] = Field("words", description="shingle unit")
    ngram: int = Field(5, ge=1, le=64, description="shingle size in tokens (chars: bytes)")
    num_perm: int = Field(128, ge=8, le=1024, description="MinHash permutations")
    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard that makes a duplicate")
    bands: int | None = Field(None, ge=1, description="LSH bands (default: chosen)")
    rows: int | None = Field(None, ge=1, description="LSH rows per band (with bands)")
    verify: Literal["signature", "exact"] = Field(
        "exact", description="signature (estimated Jaccard) or exact (true Jaccard of shingles)"
    )
    # LSH weights of false positives vs false negatives when choosing bands x rows. Every
    # candidate is verified, so a false positive costs one check while a false negative is a
    # missed duplicate: weigh misses far more than datasketch's default (0.5, 0.5).
    weights: tuple[float, float] = Field(
        (0.05, 0.95), description="false-positive and false-negative weights for bands x rows"
    )
    seed: int = Field(1, ge=0, description="seed of the MinHash permutations")
    keep: Literal["first"] | KeepConfig = Field("first", description=KEEP_HELP)
    index: str | None = Field(None, description="save the kept records' sketches here")
    against: list[str] = Field(
        default_factory=list, description="near-dedup indexes of earlier versions"
    )

    @model_validator(mode="after")
    def _bands_rows(self) -> DedupNearConfig:
        if min(self.weights) < 0 or sum(self.weights) <= 0:
            raise ValueError("weights are two non-negative numbers, not both zero")
        if (self.bands is None) != (self.rows is None):
            raise ValueError(
                "give both bands and rows, or neither (then they are chosen for the threshold)"
            )
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}"
            )
        return self


class DedupNearStage(GlobalStage):
    name = "dedup_near"
    Config = DedupNearConfig

    def setup(self) -> None:
        cfg: DedupNearConfig = self.config
        self.hasher = MinHasher(cfg.num_perm, cfg.tokenizer, cfg.ngram, cfg.seed)
        if cfg.bands is None:
            self.bands, self.rows = optimal_params(cfg.threshold, cfg.num_perm, *cfg.weights)
        else:
            self.bands, self.rows = cfg.bands, cfg.rows
        self.exact = cfg.verify == "exact"
        self.against = []
        for path in cfg.against:
            try:
                index = NearIndex(Path(path))
            except ValueError as exc:
                raise ConfigError(f"dedup_near: against: {exc}") from None
            if index.params != self.params():
                raise ConfigError(
                    f"dedup_near: against: {index.path} was built with {index.params}, "
                    f"not {self.params()}"
                )
            self.against.append(index)
        # earlier versions' records come first in the decider; their labels, in that order
        self._external = [f"{ix.name()}:{rid}" for ix in self.against for rid in ix.ids]
        self.decider = self._new_decider()
        self._kept_ids: list[str] = list(self._external)
        self._id_parts = split_path(self.fields.id)
        self.key_bytes_per_record = 8 * self.bands + 4 * cfg.num_perm + 40

    def params(self) -> dict:
        cfg: DedupNearConfig = self.config
        return {
            "tokenizer": cfg.tokenizer,
            "ngram": cfg.ngram,
            "num_perm": cfg.num_perm,
            "bands": self.bands,
            "rows": self.rows,
            "seed": cfg.seed,
        }

    def _new_decider(self) -> NearDecider:
        decider = NearDecider(self.bands, self.config.threshold, self.config.num_perm, self.exact)
        for index in self.against:
            decider.preload(index.keys, index.sigs)
        return decider

    def resources(self, base_dir: Path | None = None) -> list[dict]:
        return [
            self.resource("near_dedup_index", index.path, len(index.ids), base_dir)
            for index in self.against
        ]

    def flush(self, ctx: Context, stats: StageStats):
        if self.config.index is not None:
            keys, sigs = self.decider.kept_arrays()
            n = len(self._external)
            save_near_index(
                Path(self.config.index),
                keys[n:],
                sigs[n:],
                self._kept_ids[n:],
                self.params(),
                {"name": "pipe", "version": "", "stage": self.name},
            )
        return iter(())

    def manifest_info(self) -> dict:
        cfg: DedupNearConfig = self.config
        return {
            "hashing": SCHEME,
            "tokenizer": cfg.tokenizer,
            "ngram": cfg.ngram,
            "num_perm": cfg.num_perm,
            "bands": self.bands,
            "rows": self.rows,
            "threshold": cfg.threshold,
            "verify": cfg.verify,
        }

    def _texts(self, batch: Batch, ctx: Context, stats: StageStats) -> tuple[list[str], list[int]]:
        texts, rows = [], []
        text_of = self.fields.text_of
        for i, record in enumerate(batch.records):
            try:
                texts.append(text_of(record))
            except RecordError as exc:
                stats.errors += 1
                ctx.policy.bad_line(batch.source, batch.linenos[i], exc.problem, batch.raws[i])
                continue
            rows.append(i)
        return texts, rows

    def _sketch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, ShingleSets | None]:
        """Signatures, band keys and (with exact verification) shingle sets of `texts`,
        computed SKETCH_BYTES of text at a time: the temporaries (~10x the text) stay
        bounded however large a batch or unit is."""
        parts, start, size = [], 0, 0
        for i, text in enumerate(texts):
            size += len(text)
            if size >= SKETCH_BYTES or i == len(texts) - 1:
                parts.append(self._sketch_group(texts[start : i + 1]))
                start, size = i + 1, 0
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return self._sketch_group([])
        sigs = np.concatenate([p[0] for p in parts])
        keys = np.concatenate([p[1] for p in parts])
        sets = None
        if self.exact:
            values = np.concatenate([p[2].values for p in parts])
            cuts, base = [0], 0
            for p in parts:
                cuts.extend(c + base for c in p[2].cuts[1:])
                base += p[2].cuts[-1]
            sets = ShingleSets(values, cuts)
        return sigs, keys, sets

    def _sketch_group(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, ShingleSets | None]:
        # shingle sets are computed here, in the parallel part, not in the serial decisions
        return self.hasher.sketch(texts, self.bands, self.rows, self.exact)

    def _id(self, record: dict) -> str:
        value = get_path(record, self._id_parts)
        return "" if value is None else str(value)

    # ---- streaming form (pipes) -------------------------------------------------------------

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        started = time.perf_counter()
        texts, rows = self._texts(batch, ctx, stats)
        sketch = self._sketch(texts)
        stats.seconds += time.perf_counter() - started
        return self._decide(batch, rows, sketch, ctx, stats)

    def stream(self, batches, ctx: Context, stats: StageStats):
        """Sketch batches on threads (the kernels release the GIL) while this thread decides,
        in input order."""
        if not isinstance(self.config.keep, str):
            raise ConfigError(
                "dedup_near: keep.prefer ranks copies across the whole input and "
                "needs `curate run`; a pipe keeps the first copy"
            )
        threads = min(os.cpu_count() or 1, 8)
        pending: deque = deque()  # (batch, rows, future), in input order
        with ThreadPoolExecutor(threads, thread_name_prefix="sketch") as pool:
            try:
                for batch in _grouped(batches, JOB_BYTES):
                    started = time.perf_counter()
                    texts, rows = self._texts(batch, ctx, stats)
                    pending.append((batch, rows, pool.submit(self._sketch, texts)))
                    stats.seconds += time.perf_counter() - started
                    # a bounded window out at once; decide whatever is ready at the front
                    while pending and (len(pending) > 2 * threads or pending[0][2].done()):
                        yield from self._decided(pending.popleft(), ctx, stats)
                while pending:
                    yield from self._decided(pending.popleft(), ctx, stats)
            except BaseException:  # a closed pipe downstream included: drop queued work
                for _, _, future in pending:
                    future.cancel()
                raise
        yield from self.flush(ctx, stats)

    def _decided(self, item: tuple, ctx: Context, stats: StageStats):
        batch, rows, future = item
        out = self._decide(batch, rows, future.result(), ctx, stats)
        if out.records:
            yield out

    def _decide(
        self, batch: Batch, rows: list[int], sketch: tuple, ctx: Context, stats: StageStats
    ) -> Batch:
        sigs, keys, sets = sketch
        started = time.perf_counter()
        if sets is None:
            dups, sims = self.decider.decide_batch(keys, sigs)
        else:
            dups, sims = self.decider.decide_batch(keys, sigs, sets.values, sets.cuts)
        keep: list[int] = []
        track_ids = ctx.keep_rejects or self.config.index is not None or self.against
        for i, dup, sim in zip(rows, dups.tolist(), sims.tolist()):
            if dup < 0:
                keep.append(i)
                if track_ids:
                    self._kept_ids.append(self._id(batch.records[i]))
                continue
            stats.dropped["near_duplicate"] += 1
            if ctx.keep_rejects:
                ctx.reject(
                    batch.records[i],
                    self.name,
                    "near_duplicate",
                    {"duplicate_of": self._kept_ids[dup], "similarity": round(sim, 4)},
                )
        stats.records_in += len(batch.records)
        stats.records_out += len(keep)
        stats.seconds += time.perf_counter() - started
        return batch.select(keep)

    # ---- split form (curate run) ------------------------------------------------------------

    def map_keys(self, batch: Batch, ctx: Context, stats: StageStats) -> tuple[Batch, Any]:
        started = time.perf_counter()
        texts, rows = self._texts(batch, ctx, stats)
        batch = batch.select(rows)
        sigs, keys, sets = self._sketch(texts)
        stats.seconds += time.perf_counter() - started
        ranks = None
        if not isinstance(self.config.keep, str):
            ranks = [
                [get_path(r, split_path(f.lstrip("-"))) for f in self.config.keep.prefer]
                for r in batch.records
            ]
        return batch, {
            "ranks": ranks,
            "keys": keys,
            "sigs": sigs,
            "sets": sets,
            "ids": [self._id(r) for r in batch.records],
        }

    def shuffle(self, keys: Any, unit: int, folder: Path) -> dict[int, Any]:
        """Sketches to per-unit files (only the records of a bucket are read back); band
        keys, with their rows, partitioned by the key's top bits."""
        folder.mkdir(parents=True, exist_ok=True)
        base = folder / f"u{unit:06d}"
        np.save(f"{base}.keys.npy", np.ascontiguousarray(keys["keys"], dtype=np.uint64))
        np.save(f"{base}.sigs.npy", np.ascontiguousarray(keys["sigs"], dtype=np.uint32))
        sets = keys["sets"]
        if sets is not None:  # one array and its cut points, as the sketch made them
            np.save(f"{base}.setv.npy", np.ascontiguousarray(sets.values, dtype=np.uint32))
            np.save(f"{base}.setc.npy", np.asarray(sets.cuts, dtype=np.int64))
        atomic_write(Path(f"{base}.meta"), pickle.dumps((keys["ids"], keys["ranks"])))
        flat_keys = keys["keys"].reshape(-1)
        rows = np.repeat(np.arange(len(keys["keys"]), dtype=np.int64), self.bands)
        part = (flat_keys >> np.uint64(64 - FINE_BITS)).astype(np.int64)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(FINE_PARTS + 1))
        # each partition as the bytes of one (2, n) array of keys and rows: a thousand
        # sections a unit pickle ~30x faster as bytes than as tuples of arrays
        pairs = np.stack([flat_keys[order], rows[order].view(np.uint64)])
        return {
            p: pairs[:, bounds[p] : bounds[p + 1]].tobytes()
            for p in np.flatnonzero(np.diff(bounds)).tolist()
        }

    def reduce_run(self, engine: Any, info: ReduceInfo) -> list[str]:
        """Buckets -> edges (per partition group); components of the candidate graph; the
        pipe's rule replayed per component (records of different components never meet in
        a bucket, so each is decided apart and the result is the pipe's)."""
        name = self.name
        jobs = [(info, "edges", job, lo, hi) for job, (lo, hi) in enumerate(info.groups)]
        edge_files = list(engine.map(_near_job, jobs, step=f"{name}: candidate pairs"))
        job = (info, "components", 0, edge_files, None)
        (groups,) = list(engine.map(_near_job, [job], step=f"{name}: components"))
        jobs = [(info, "decide", job, lo, hi) for job, (lo, hi) in enumerate(groups)]
        for _ in engine.map(_near_job, jobs, step=f"{name}: decisions"):
            pass
        job = (info, "index", 0, None, None)
        (files,) = list(engine.map(_near_job, [job], step=f"{name}: index"))
        return files

    def _external_keys(self) -> np.ndarray:
        keys = [ix.keys for ix in self.against]
        return np.concatenate(keys) if keys else np.zeros((0, self.bands), np.uint64)

    def _external_sigs(self) -> np.ndarray:
        sigs = [ix.sigs for ix in self.against]
        return np.concatenate(sigs) if sigs else np.zeros((0, self.config.num_perm), np.uint32)

    def edges(self, info: ReduceInfo, job: int, lo: int, hi: int) -> str:
        """Star edges of every bucket with more than one record: first member to the rest.
        Records of earlier versions (`against`) take positions -1, -2, ..."""
        offsets = info.offsets()
        keys, pos = [], []
        ext = self._external_keys().reshape(-1)
        if len(ext):
            part = (ext >> np.uint64(64 - FINE_BITS)).astype(np.int64)
            take = (part >= lo) & (part < hi)
            keys.append(ext[take])
            pos.append(-1 - np.repeat(np.arange(len(self._external)), self.bands)[take])
        for u in info.units:
            for _p, blob in read_sections(info.unit_file(u), lo, hi):
                pairs = np.frombuffer(blob, dtype=np.uint64).reshape(2, -1)
                keys.append(pairs[0])
                pos.append(pairs[1].view(np.int64) + offsets[u])
        path = info.keys / f"edges-{job:05d}.npy"
        edges = np.zeros((0, 2), np.int64)
        if keys:
            k = np.concatenate(keys)
            p = np.concatenate(pos).astype(np.int64)
            order = np.lexsort((p, k))
            k, p = k[order], p[order]
            same = np.concatenate(([False], k[1:] == k[:-1]))
            first = np.maximum.accumulate(np.where(~same, np.arange(len(k)), 0))
            edges = np.stack([p[first[same]], p[same]], axis=1)
        np.save(path, edges)
        return str(path)

    def components(self, info: ReduceInfo, edge_files: list[str]) -> list[tuple[int, int]]:
        """Connected components of the candidate graph, written as (component, position)
        rows in component order; returns ranges of rows, one decide job each."""
        edges = np.concatenate([np.load(f) for f in edge_files]) if edge_files else None
        path = info.keys / "components.npy"
        if edges is None or not len(edges):
            np.save(path, np.zeros((0, 2), np.int64))
            return []
        nodes, inverse = np.unique(edges.reshape(-1), return_inverse=True)
        inverse = inverse.reshape(-1, 2)
        # each node's component, named by its smallest node: as `nodes` is sorted, that is
        # the component's first member in input order
        first = nodes[component_labels(len(nodes), inverse[:, 0], inverse[:, 1])]
        # components in the order of their first member; members in input order
        order = np.lexsort((nodes, first))
        table = np.stack([first[order], nodes[order]], axis=1)
        np.save(path, table)
        # rows a decide job takes: what fits the memory budget, and at most a sixteenth of
        # the rows, so that every worker has some (a count fixed by the data alone, so the
        # work folder's decision files are the same for any worker count)
        per = max(1, info.memory // (4 * self.config.num_perm + 8 * self.bands + 2048))
        per = max(1, min(per, -(-len(table) // DECIDE_JOBS)))
        starts = np.flatnonzero(np.concatenate(([True], table[1:, 0] != table[:-1, 0])))
        groups, lo = [], 0
        for s in starts.tolist()[1:] + [len(table)]:
            if s - lo >= per:
                groups.append((lo, s))
                lo = s
        if lo < len(table):
            groups.append((lo, len(table)))
        return groups

    def decide_components(self, info: ReduceInfo, job: int, lo: int, hi: int) -> None:
        """The pipe's rule over this job's components, in one batch: records of different
        components share no band key, so one decider taking the components one after the
        other decides each as if alone."""
        table = np.array(np.load(info.keys / "components.npy", mmap_mode="r")[lo:hi])
        offsets = info.offsets()
        reader = _Sketches(info, self.exact, table[:, 1])
        ext_keys, ext_sigs = self._external_keys(), self._external_sigs()
        starts = np.flatnonzero(np.concatenate(([True], table[1:, 0] != table[:-1, 0])))
        bounds = [*starts.tolist(), len(table)]
        external = sorted(-1 - p for p in table[:, 1].tolist() if p < 0)
        order: list[int] = []  # local positions, component after component
        for a, b in zip(bounds[:-1], bounds[1:]):
            local = [p for p in table[a:b, 1].tolist() if p >= 0]
            if not isinstance(self.config.keep, str):
                ranks = {p: reader.rank(p) for p in local}
                compare = rank_comparator(ranks, self.config.keep.prefer)
                local.sort(key=functools.cmp_to_key(compare))
            order.extend(local)
        decider = NearDecider(self.bands, self.config.threshold, self.config.num_perm, self.exact)
        if external:
            decider.preload(ext_keys[external], ext_sigs[external])
        keys, sigs, sets = reader.gather(order)
        if sets is None:
            dups, sims = decider.decide_batch(keys, sigs)
        else:
            dups, sims = decider.decide_batch(keys, sigs, sets.values, sets.cuts)
        kept: list[int] = [-1 - i for i in external]
        decisions: dict[int, dict] = {}
        for p, dup, sim in zip(order, dups.tolist(), sims.tolist()):
            if dup < 0:
                kept.append(p)
                continue
            of = kept[dup]
            of_id = self._external[-1 - of] if of < 0 else reader.id(of)
            u = int(np.searchsorted(offsets, p, side="right") - 1)
            decisions.setdefault(info.units[u], {})[p - int(offsets[u])] = (
                "near_duplicate",
                {"duplicate_of": of_id, "similarity": round(sim, 4)},
            )
        write_sections(info.decision_file(job), decisions)

    def write_indexes(self, info: ReduceInfo) -> list[str]:
        """Sketches of the records this stage kept: in the version folder, and to `index`."""
        from curate.io.sections import load_decisions_file

        dropped = load_decisions_file(info.decisions)
        masks, ids = {}, []
        for u in info.units:
            base = info.keys / f"u{u:06d}"
            unit_ids, _ranks = pickle.loads(Path(f"{base}.meta").read_bytes())
            keep = np.ones(len(unit_ids), dtype=bool)
            gone = dropped.get(u)
            if gone:
                keep[list(gone)] = False
            masks[u] = keep
            ids.extend(itertools.compress(unit_ids, keep.tolist()))

        def blocks(suffix: str):  # one unit's kept rows at a time: never all of them at once
            for u in info.units:
                rows = np.load(info.keys / f"u{u:06d}.{suffix}.npy", mmap_mode="r")
                yield rows[masks[u]]

        label = {"name": info.name, "version": info.version, "stage": self.name}
        cfg: DedupNearConfig = self.config
        targets = []
        if info.out_dir is not None:
            rel = f"indexes/{info.position}-{self.name}{SUFFIX}"
            targets.append(Path(info.out_dir) / rel)
        if cfg.index is not None:
            targets.append(Path(cfg.index))
        for target in targets:
            save_near_index(target, blocks("keys"), blocks("sigs"), ids, self.params(), label)
        return [f"indexes/{info.position}-{self.name}{SUFFIX}"] if info.out_dir is not None else []


class _Sketches:
    """The sketches of the records one decide job needs, read unit by unit.

    Each unit's files are opened once and only the rows asked for are copied out, so memory
    holds the job's own records (bounded by the memory budget), never whole files: random
    access through memory maps would leave every touched page resident.
    """

    def __init__(self, info: ReduceInfo, exact: bool, positions: np.ndarray):
        offsets = info.offsets()
        self.positions = np.unique(positions[positions >= 0])  # row i of the arrays below
        which = np.searchsorted(offsets, self.positions, side="right") - 1
        keys, sigs, values, lengths = [], [], [], []
        self.ids: list[str] = []
        self.ranks: list = []
        self.exact = exact
        for u in np.unique(which).tolist():
            base = info.keys / f"u{info.units[u]:06d}"
            rows = self.positions[which == u] - offsets[u]
            keys.append(np.load(f"{base}.keys.npy", mmap_mode="r")[rows])
            sigs.append(np.load(f"{base}.sigs.npy", mmap_mode="r")[rows])
            if exact:
                setv = np.load(f"{base}.setv.npy", mmap_mode="r")
                setc = np.load(f"{base}.setc.npy", mmap_mode="r")
                lo, hi = setc[rows], setc[rows + 1]
                values.append(setv[_ranges(lo, hi)])
                lengths.append(hi - lo)
                del setv, setc
            unit_ids, unit_ranks = pickle.loads(Path(f"{base}.meta").read_bytes())
            self.ids.extend(unit_ids[r] for r in rows.tolist())
            if unit_ranks is not None:
                self.ranks.extend(unit_ranks[r] for r in rows.tolist())
            del unit_ids, unit_ranks
        self.keys = np.concatenate(keys) if keys else np.zeros((0, 1), np.uint64)
        self.sigs = np.concatenate(sigs) if sigs else np.zeros((0, 1), np.uint32)
        if exact:
            self.values = np.concatenate(values) if values else np.zeros(0, np.uint32)
            self.lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
            self.cuts = np.concatenate(([0], np.cumsum(self.lengths)))

    def _row(self, pos: int) -> int:
        return int(self.positions.searchsorted(pos))

    def gather(self, order: list[int]) -> tuple[np.ndarray, np.ndarray, ShingleSets | None]:
        """Keys, signatures and shingle sets of the records at `order`, in that order."""
        rows = self.positions.searchsorted(np.asarray(order, dtype=np.int64))
        keys = np.ascontiguousarray(self.keys[rows])
        sigs = np.ascontiguousarray(self.sigs[rows])
        if not self.exact:
            return keys, sigs, None
        lengths = self.lengths[rows]
        values = self.values[_ranges(self.cuts[rows], self.cuts[rows] + lengths)]
        cuts = np.concatenate(([0], np.cumsum(lengths))).tolist()
        return keys, sigs, ShingleSets(values, cuts)

    def id(self, pos: int) -> str:
        return self.ids[self._row(pos)]

    def rank(self, pos: int) -> list:
        return self.ranks[self._row(pos)]


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The indices lo[0]..hi[0]-1, lo[1]..hi[1]-1, ... as one array (no Python loop)."""
    lengths = (np.asarray(hi) - np.asarray(lo)).astype(np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    starts = np.repeat(np.asarray(lo, dtype=np.int64) - np.cumsum(lengths) + lengths, lengths)
    return starts + np.arange(total, dtype=np.int64)


def _near_job(info: ReduceInfo, step: str, job: int, lo: Any, hi: Any) -> Any:
    stage: DedupNearStage = info.stage()
    if step == "edges":
        return stage.edges(info, job, lo, hi)
    if step == "components":
        return stage.components(info, lo)
    if step == "decide":
        return stage.decide_components(info, job, lo, hi)
    return stage.write_indexes(info)
