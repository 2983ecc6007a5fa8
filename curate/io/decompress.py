"""Byte streams to decompressed chunks, with the format taken from the first bytes.

zstd and gzip are decoded frame by frame (member by member) so that concatenated files read
whole, and a stream that ends inside a frame is reported as truncated rather than silently
cut short (zstandard's stream_reader would return what it has and stop).
"""

from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

import zstandard

from curate.io.parquet import is_parquet

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
READ_SIZE = 1 << 18  # compressed bytes per read; bounds the memory a chunk can take
WRITE_SIZE = 1 << 20  # zstd output buffer: small ones cost many small copies


class StreamError(Exception):
    """The compressed stream is truncated or corrupt."""


class ParquetStream(Exception):
    """The stream is a Parquet file: it is read from its path, footer first, not as a stream."""


def detect_format(head: bytes) -> str:
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if is_parquet(head):
        return "parquet"
    return "plain"


def iter_decompressed(fh: BinaryIO, read_size: int = READ_SIZE) -> Iterator[bytes]:
    """Yield decompressed chunks of `fh`, whatever its compression.

    Reads with `read1` where available, so a pipe's data is handed on as soon as it arrives
    instead of waiting for a full buffer (`tail -f log | curate filter` stays live).
    """
    read = getattr(fh, "read1", fh.read)
    head = read(read_size)
    while 0 < len(head) < len(ZSTD_MAGIC):
        more = read(read_size)
        if not more:
            break
        head += more
    fmt = detect_format(head)
    if fmt == "parquet":
        raise ParquetStream()
    if fmt == "zstd":
        yield from _zstd_chunks(head, read, read_size)
    elif fmt == "gzip":
        yield from _gzip_chunks(head, read, read_size)
    else:
        data = head
        while data:
            yield data
            data = read(read_size)


def _zstd_chunks(data: bytes, read: Callable[[int], bytes], read_size: int) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    return _framed_chunks(
        data,
        read,
        read_size,
        lambda: dctx.decompressobj(write_size=WRITE_SIZE),
        zstandard.ZstdError,
        ("zstd stream", "frame"),
    )


def _gzip_chunks(data: bytes, read: Callable[[int], bytes], read_size: int) -> Iterator[bytes]:
    return _framed_chunks(
        data,
        read,
        read_size,
        lambda: zlib.decompressobj(wbits=31),
        zlib.error,
        ("gzip stream", "member"),
    )


def _framed_chunks(
    data: bytes,
    read: Callable[[int], bytes],
    read_size: int,
    new_decoder: Callable,
    error: type[Exception],
    names: tuple[str, str],
) -> Iterator[bytes]:
    """Decode frame after frame (member after member), so concatenated streams read whole
    and one that stops inside a frame is reported as truncated."""
    stream, unit = names
    dobj = new_decoder()
    open_unit = False
    try:
        while data:
            while data:
                out = dobj.decompress(data)
                if out:
                    yield out
                if dobj.eof:
                    data = dobj.unused_data
                    dobj = new_decoder()
                    open_unit = False
                else:
                    open_unit = True
                    data = b""
            data = read(read_size)
    except error as exc:
        raise StreamError(f"corrupt {stream} ({exc})") from None
    if open_unit:
        raise StreamError(f"truncated {stream} (ends inside a {unit})")


_DONE = object()


def decompress_all(data: bytes) -> bytes:
    """Every frame of an in-memory zstd (or gzip) stream: shards hold many frames, and
    `decompressobj()` alone stops after the first."""
    import io

    return b"".join(iter_decompressed(io.BytesIO(data)))


def iter_decompressed_background(fh: BinaryIO, depth: int = 4) -> Iterator[bytes]:
    """`iter_decompressed` on a helper thread, so decompression overlaps with parsing.

    zstandard and zlib release the GIL while they work, so on two cores reading costs little
    more than parsing alone. At most `depth` chunks wait in the queue, which bounds memory.
    Stopping early (e.g. `head`) tells the thread to stop at its next chunk.
    """
    chunks: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in iter_decompressed(fh):
                while not stop.is_set():
                    try:
                        chunks.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            item: object = _DONE
        except BaseException as exc:  # handed to the consumer, which raises it
            item = exc
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    thread = threading.Thread(target=produce, name="curate-decompress", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
