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
import time
from collections import deque
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from curate.dedup.exact_index import rank_comparator
from curate.dedup.lsh import NearDecider, band_keys, candidate_mask, optimal_params
from curate.dedup.minhash import MinHasher, ShingleSets, unique_per_doc
from curate.dedup.near_index import SUFFIX, NearIndex, save_near_index
from curate.errors import ConfigError, RecordError
from curate.executors.forked import OrderedWorkers
from curate.io.reader import Batch
from curate.records import get_path, split_path
from curate.stages.base import (
    Context,
    GlobalStage,
    ReduceContext,
    StageConfig,
    StageStats,
)
from curate.stages.dedup_exact import KeepConfig

_POOL_STAGE: DedupNearStage | None = None


def _sketch_job(texts: list[str]):
    return _POOL_STAGE._sketch(texts)


JOB_BYTES = 2 << 20  # text per pool job: fewer, larger jobs keep both cores busy


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


class _Done:
    """A finished result with the interface of a pool's AsyncResult."""

    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value


SCHEME = "curate-shingle-hash32 + datasketch affine32 (fmix32, a*h+b mod 2^32, seed 1)"


class DedupNearConfig(StageConfig):
    path_fields: ClassVar[tuple[str, ...]] = ("index", "against")

    tokenizer: Literal["words", "chars", "code"] = "words"
    ngram: int = Field(5, ge=1, le=64)
    num_perm: int = Field(128, ge=8, le=1024)
    threshold: float = Field(0.8, gt=0, le=1)
    bands: int | None = Field(None, ge=1)
    rows: int | None = Field(None, ge=1)
    verify: Literal["signature", "exact"] = "exact"
    # LSH weights of false positives vs false negatives when choosing bands x rows. Every
    # candidate is verified, so a false positive costs one check while a false negative is a
    # missed duplicate: weigh misses far more than datasketch's default (0.5, 0.5).
    weights: tuple[float, float] = (0.05, 0.95)
    seed: int = Field(1, ge=0)
    keep: Literal["first"] | KeepConfig = "first"
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
        allh, doc_of = self.hasher.batch_hashes(texts)
        sets = None
        if self.exact:  # computed here, in the parallel part, not in the serial decisions
            # MinHash ignores repeats: the signatures come from the distinct shingles too.
            sets, allh, doc_of = unique_per_doc(allh, doc_of, len(texts))
        sigs = self.hasher._signatures(allh, doc_of, len(texts))
        keys = band_keys(sigs, self.bands, self.rows)
        return sigs, keys, sets

    def _id(self, record: dict) -> str:
        value = get_path(record, self._id_parts)
        return "" if value is None else str(value)

    # ---- streaming form (pipes) -------------------------------------------------------------

    def process(self, batch: Batch, ctx: Context, stats: StageStats) -> Batch:
        started = time.perf_counter()
        texts, rows = self._texts(batch, ctx, stats)
        sketch = self._sketch(texts)
        stats.seconds += time.perf_counter() - started
        return self._decide(batch, rows, _Done(sketch), ctx, stats)

    def stream(self, batches, ctx: Context, stats: StageStats):
        """Sketch batches on a pool of forked processes while this one decides, in order."""
        if not isinstance(self.config.keep, str):
            raise ConfigError(
                "dedup_near: keep.prefer ranks copies across the whole input and "
                "needs `curate run`; a pipe keeps the first copy"
            )
        workers = min(os.cpu_count() or 1, 8)
        if workers < 2:
            yield from super().stream(batches, ctx, stats)
            return
        yield from self._parallel_stream(batches, ctx, stats, workers)
        yield from self.flush(ctx, stats)

    def _parallel_stream(self, batches, ctx: Context, stats: StageStats, workers: int):
        global _POOL_STAGE
        _POOL_STAGE = self
        pool = OrderedWorkers(workers, _sketch_job)
        # a window of jobs out at once; each result is decided in input order
        pending: deque = deque()
        try:
            for batch in _grouped(batches, JOB_BYTES):
                started = time.perf_counter()
                texts, rows = self._texts(batch, ctx, stats)
                for sketch in pool.submit(texts):
                    pending[0][2] = sketch
                    yield from self._decided(pending.popleft(), ctx, stats)
                pending.append([batch, rows, None])
                stats.seconds += time.perf_counter() - started
            for sketch in pool.drain():
                pending[0][2] = sketch
                yield from self._decided(pending.popleft(), ctx, stats)
        except BaseException:  # a closed pipe downstream included: stop the workers now
            pool.kill()
            raise
        pool.close()

    def _decided(self, item: list, ctx: Context, stats: StageStats):
        batch, rows, sketch = item
        out = self._decide(batch, rows, _Done(sketch), ctx, stats)
        if out.records:
            yield out

    def _decide(self, batch: Batch, rows: list[int], job, ctx: Context, stats: StageStats) -> Batch:
        sigs, keys, sets = job.get()
        started = time.perf_counter()
        keep: list[int] = []
        decide = self.decider.decide
        for j, i in enumerate(rows):
            dup, sim = decide(keys[j], sigs[j], sets[j] if sets is not None else None)
            if dup is None:
                keep.append(i)
                if ctx.keep_rejects or self.config.index is not None or self.against:
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

    def reduce(
        self, unit_keys: list[Any], rctx: ReduceContext
    ) -> list[dict[int, tuple[str, dict]]]:
        counts = [len(k["keys"]) for k in unit_keys]
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        all_keys = (
            np.concatenate([k["keys"] for k in unit_keys])
            if unit_keys
            else np.zeros((0, self.bands), np.uint64)
        )
        external = [ix.keys for ix in self.against]
        n_ext = sum(len(k) for k in external)
        mask = candidate_mask(np.concatenate([*external, all_keys]) if external else all_keys)
        candidates = np.flatnonzero(mask[n_ext:])
        if not isinstance(self.config.keep, str):
            # the same rule, walking the candidates in preferred order instead of input order
            ranks = {}
            for pos in candidates.tolist():
                unit = int(np.searchsorted(offsets, pos, side="right") - 1)
                ranks[pos] = unit_keys[unit]["ranks"][pos - int(offsets[unit])]
            order = sorted(
                candidates.tolist(),
                key=functools.cmp_to_key(rank_comparator(ranks, self.config.keep.prefer)),
            )
            candidates = np.array(order, dtype=np.int64)
        decisions: list[dict[int, tuple[str, dict]]] = [{} for _ in unit_keys]
        decider = self._new_decider()
        kept_positions: list[int] = [-1 - i for i in range(n_ext)]
        units = np.searchsorted(offsets, candidates, side="right") - 1
        for pos, unit in zip(candidates.tolist(), units.tolist()):
            row = pos - int(offsets[unit])
            keys = unit_keys[unit]
            sets = keys["sets"][row] if keys["sets"] is not None else None
            dup, sim = decider.decide(all_keys[pos], keys["sigs"][row], sets)
            if dup is None:
                kept_positions.append(pos)
                continue
            of = kept_positions[dup]
            if of < 0:  # a record of an earlier version
                of_id = self._external[-1 - of]
            else:
                of_unit = int(np.searchsorted(offsets, of, side="right") - 1)
                of_id = unit_keys[of_unit]["ids"][of - int(offsets[of_unit])]
            decisions[unit][row] = (
                "near_duplicate",
                {"duplicate_of": of_id, "similarity": round(sim, 4)},
            )
        self._save_indexes(unit_keys, decisions, rctx)
        return decisions

    def _save_indexes(
        self, unit_keys: list[Any], decisions: list[dict], rctx: ReduceContext
    ) -> None:
        """Sketches of the records this stage kept: in the version folder, and to `index`."""
        keys, sigs, ids = [], [], []
        for unit, dropped in zip(unit_keys, decisions):
            keep = np.ones(len(unit["keys"]), dtype=bool)
            if dropped:
                keep[list(dropped)] = False
            keys.append(unit["keys"][keep])
            sigs.append(unit["sigs"][keep])
            ids.extend(itertools.compress(unit["ids"], keep.tolist()))
        cfg: DedupNearConfig = self.config
        all_keys = np.concatenate(keys) if keys else np.zeros((0, self.bands), np.uint64)
        all_sigs = np.concatenate(sigs) if sigs else np.zeros((0, cfg.num_perm), np.uint32)
        label = {"name": rctx.name, "version": rctx.version, "stage": self.name}
        if rctx.out_dir is not None:
            rel = f"indexes/{rctx.position}-{self.name}{SUFFIX}"
            save_near_index(rctx.out_dir / rel, all_keys, all_sigs, ids, self.params(), label)
            rctx.files.append(rel)
        if cfg.index is not None:
            save_near_index(Path(cfg.index), all_keys, all_sigs, ids, self.params(), label)
