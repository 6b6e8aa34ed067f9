"""Reading one uploaded file from an HTTP request as it streams in: bounded memory, never on disk.

The byte limit is checked against Content-Length before anything is read, and again on every chunk while
the body streams (chunked uploads carry no length), so an oversized upload is refused after at most the
limit has been received. The multipart/form-data body is parsed incrementally with python-multipart; the
file's bytes stay in memory (nothing is spooled to a temporary file) and its name is only ever a label.
Also here: the `hints` form field's parsing and the small cache of recently decoded uploads that colour-hint
edits reuse.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .hints import Hint, parse_hints
from .io import LoadedImage

OVERHEAD_BYTES = 64 * 1024  # room for boundaries, part headers and the small form fields
FIELD_BYTES = 32 * 1024  # a form field other than the file (render_size; hints, a JSON list of points)


class UploadError(Exception):
    """An upload refused before decoding; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(message)


@dataclass
class Upload:
    filename: str  # a display label (no folders, no control characters), never a path to open
    data: bytes
    fields: dict[str, str] = field(default_factory=dict)
    reference: tuple[str, bytes] | None = None  # an optional second file part: (label, bytes)


def too_large(max_bytes: int) -> UploadError:
    return UploadError(413, f"the upload is larger than the {max_bytes / 2**20:g} MB upload limit")


def check_length(headers: Mapping[str, str], max_bytes: int) -> None:
    """Refuse from the headers alone a body that declares more than `max_bytes` (+ multipart overhead)."""
    length = headers.get("content-length")
    if length is None:
        return
    if not length.isdigit():
        raise UploadError(400, f"invalid Content-Length header {length!r}")
    if int(length) > max_bytes + OVERHEAD_BYTES:
        raise too_large(max_bytes)


def label(filename: str | None) -> str:
    """A client's file name -> a short label: the last path component, without control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:200] or "upload"


class _Parts:
    """python-multipart callbacks that keep the file parts' bytes (together at most `max_bytes`) and the small
    text fields."""

    def __init__(self, file_fields: tuple[str, ...], max_bytes: int):
        self.file_fields, self.max_bytes = file_fields, max_bytes
        self.filenames: dict[str, str] = {}
        self.chunks: dict[str, list[bytes]] = {}
        self.size = 0
        self.fields: dict[str, str] = {}
        self._headers: dict[str, bytes] = {}
        self._header = [b"", b""]
        self._name = ""
        self._value = b""
        self.ended = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._add_header(0, d[s:e]),
            "on_header_value": lambda d, s, e: self._add_header(1, d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": lambda: setattr(self, "ended", True),
        }

    def _part_begin(self) -> None:
        self._headers, self._header, self._value = {}, [b"", b""], b""

    def _add_header(self, i: int, data: bytes) -> None:
        self._header[i] += data

    def _header_end(self) -> None:
        self._headers[self._header[0].decode("latin-1").lower()] = self._header[1]
        self._header = [b"", b""]

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name in self.file_fields:
            if self._name in self.chunks:
                raise UploadError(400, f"send one `{self._name}` per request")
            self.chunks[self._name] = []
            self.filenames[self._name] = options.get(b"filename", b"").decode("utf-8", "replace")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._name in self.file_fields:
            self.size += end - start
            if self.size > self.max_bytes:
                raise too_large(self.max_bytes)
            self.chunks[self._name].append(data[start:end])
        else:
            self._value += data[start:end]
            if len(self._value) > FIELD_BYTES:
                raise UploadError(400, f"form field {self._name!r} is too long")

    def _part_end(self) -> None:
        if self._name and self._name not in self.file_fields:
            self.fields[self._name] = self._value.decode("utf-8", "replace")


async def read_upload(
    headers: Mapping[str, str],
    stream: AsyncIterator[bytes],
    max_bytes: int,
    file_field: str = "file",
    reference_field: str = "reference",
) -> Upload:
    """Read a multipart/form-data body (`headers`, `stream`: a Starlette request's) holding one file part and
    optionally a second, `reference_field` (a reference photo); both together count against `max_bytes`.

    Raises UploadError: 413 over `max_bytes`, 415 when the body is not multipart/form-data, 400 when it is
    malformed or has no `file_field` part.
    """
    ctype, options = parse_options_header(headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or not options.get(b"boundary"):
        raise UploadError(415, f"send the photo as multipart/form-data with a `{file_field}` part")
    check_length(headers, max_bytes)
    parts = _Parts((file_field, reference_field), max_bytes)
    parser = MultipartParser(options[b"boundary"], parts.callbacks())
    received = 0
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > max_bytes + OVERHEAD_BYTES:
                raise too_large(max_bytes)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as e:
        raise UploadError(400, f"malformed multipart body ({e})") from None
    if not parts.ended:
        raise UploadError(400, "the upload ended before its closing boundary")
    if file_field not in parts.chunks:
        raise UploadError(400, f"the upload has no `{file_field}` part")
    reference = None
    if reference_field in parts.chunks:
        reference = (label(parts.filenames[reference_field]), b"".join(parts.chunks[reference_field]))
    data = b"".join(parts.chunks[file_field])
    return Upload(label(parts.filenames[file_field]), data, parts.fields, reference)


async def paced(
    stream: AsyncIterator[bytes], min_rate: int, grace: float, hold: Callable[[int], None] | None = None
) -> AsyncIterator[bytes]:
    """A body's chunks, as long as they keep coming: after `grace` seconds, on average at least `min_rate`
    bytes/s since the start, else UploadError 408 (a client that trickles a byte a second loses its place
    within `grace` seconds; a real upload at any network speed worth the name never notices). `hold(n)` is
    told of each chunk's bytes (and may refuse them by raising)."""
    loop = asyncio.get_running_loop()
    start, received = loop.time(), 0
    chunks = stream.__aiter__()
    while True:
        allowed = start + grace + received / min_rate - loop.time()
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), timeout=max(allowed, 0.0))
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadError(
                408,
                f"the upload came too slowly ({received} bytes in {loop.time() - start:.0f} s; "
                f"at least {min_rate / 1024:g} KB/s is needed)",
            ) from None
        received += len(chunk)
        if hold is not None:
            hold(len(chunk))
        yield chunk


async def drain(receive: Callable[[], Awaitable[dict]], seconds: float, max_bytes: int) -> None:
    """Read and drop the rest of a request's body for at most `seconds` and `max_bytes` (a lingering close:
    an answer sent while the client is still sending would otherwise meet a connection reset)."""
    loop = asyncio.get_running_loop()
    end, dropped = loop.time() + seconds, 0
    while dropped <= max_bytes:
        try:
            message = await asyncio.wait_for(receive(), timeout=max(end - loop.time(), 0.0))
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


class RecentImages:
    """The last decoded uploads, by the SHA-256 of their bytes, up to `max_pixels` in all: the page sends the
    same photo again with each change of its colour hints, and this spares decoding it each time. With
    another `cost` (e.g. 1 per item), it keeps anything made from upload bytes (e.g. reference photos)."""

    def __init__(self, max_pixels: int = 24_000_000, cost: Callable[[object], int] | None = None):
        self.max_pixels, self._items = max_pixels, OrderedDict()
        self._cost = cost or _pixels
        self._lock = threading.Lock()

    def get(self, data: bytes, load: Callable[[], LoadedImage]) -> LoadedImage:
        key = hashlib.sha256(data).digest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        image = load()
        with self._lock:
            self._items[key] = image
            while sum(self._cost(im) for im in self._items.values()) > self.max_pixels:
                self._items.popitem(last=False)
        return image


def _pixels(image: LoadedImage) -> int:
    return image.rgb.shape[0] * image.rgb.shape[1]


def parse_hints_field(text: str | None) -> list[Hint]:
    if not text:
        return []
    try:
        return parse_hints(json.loads(text), "hints")
    except json.JSONDecodeError as e:
        raise UploadError(400, f"hints: not JSON ({e})") from None
    except ValueError as e:
        raise UploadError(400, str(e)) from None
