"""`autocolor serve`: a web page and an HTTP API for colorizing, on FastAPI and uvicorn (extra: [web]).

    GET  /                the page (no external scripts or fonts; served with a Content-Security-Policy)
    GET  /healthz         200 {"status": "ok", ...} once the model is loaded, with the queue's state
    POST /api/colorize    multipart `file` (+ optional `render_size`, `vividness`, `hints`: a JSON list of
                          {"x", "y", "color": "#rrggbb"} for a generator that takes colour hints, and
                          `reference`: a colour photo to take colours from, see webjob.py)
                          -> image/png of the input's size
    GET  /static/...      the page's scripts and the bundled onnxruntime-web (colorizing in the browser)
    GET  /model/...       the browser's model: manifest.json and the ONNX graphs (404 when there is none)

Every error is JSON {"error": "..."}: 413 for uploads over the byte or pixel limit (an oversized body is
refused from its Content-Length, or as soon as the streamed bytes pass the limit; uploads are never written
to disk), 415 for files that are not images, 400 for corrupt ones or bad fields, 503 with Retry-After when
the queue is full, 404/405/422 for wrong routes, 500 for faults (details in the server's log).

Memory is bounded under load: at most `concurrency` uploads are decoded, colorized and PNG-encoded at once
(all three in a worker thread, so the event loop and /healthz stay responsive), at most `queue` more wait
with their compressed bytes, and the rest are turned away before their bodies are read.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import logging
import math
import mimetypes
import os
import re
import socket
import time
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from .config import RENDER_SIZES
from .io import ImageError
from .pipeline import Colorizer
from .reference import enough
from .site import browser_model, render_page, static_dir
from .upload import RecentImages, UploadError, drain, paced, parse_hints_field, read_upload
from .webjob import colorize_upload, content_disposition, parse_render_size, parse_vividness

STATUS = {"too_large": 413, "not_image": 415, "corrupt": 400, "missing": 400}
log = logging.getLogger("autocolor.server")


@dataclass
class ServerLimits:
    max_upload_bytes: int = 40 * 1024 * 1024
    max_pixels: int = 50_000_000
    concurrency: int = 1  # uploads decoded + colorized + encoded at once
    queue: int = 8  # admitted uploads waiting for a turn; more are answered 503
    max_render_size: int = 1024
    readers: int = 64  # uploads whose bodies may stream in at once (they hold no place in the queue yet)
    min_upload_rate: int = 64 * 1024  # bytes/s a body must keep up on average, after the grace period
    upload_grace_s: float = 5.0

    def __post_init__(self) -> None:
        for name, low in (("max_upload_bytes", 1), ("max_pixels", 1), ("concurrency", 1), ("queue", 0),
                          ("readers", 1), ("min_upload_rate", 1)):  # fmt: skip
            if getattr(self, name) < low:
                raise ValueError(f"{name} must be at least {low}, got {getattr(self, name)}")
        if not RENDER_SIZES[0] <= self.max_render_size <= RENDER_SIZES[1]:
            raise ValueError(f"max_render_size must be from {RENDER_SIZES[0]} to {RENDER_SIZES[1]}")


class Gate:
    """Admission and turns: bodies stream in (`readers` at once, holding together at most the bytes the
    queue may hold, each at a minimum pace: see upload.paced), then `concurrency` jobs run at once, `queue`
    more wait, the rest are refused. A slow client holds a reader's place only, never a place in the queue.

    Used from the event loop only (no locks needed). `seconds` is a running mean of job time, for Retry-After.
    """

    def __init__(self, concurrency: int, queue: int, readers: int = 64, max_bytes: int = 1 << 30):
        self.concurrency, self.capacity = concurrency, concurrency + queue
        self.turns = asyncio.Semaphore(concurrency)
        self.admitted = self.running = 0
        self.reading, self.readers = 0, readers
        self.buffered, self.max_buffered = 0, self.capacity * max_bytes
        self.seconds = 5.0

    def start_reading(self) -> bool:
        if self.reading >= self.readers:
            return False
        self.reading += 1
        return True

    def stop_reading(self) -> None:
        self.reading -= 1

    def hold(self, n: int) -> None:
        """Count `n` more bytes of bodies in memory; a 503 when the queue could not hold them."""
        if self.buffered + n > self.max_buffered:
            raise UploadError(503, "the server is busy; try again shortly")
        self.buffered += n

    def release(self, n: int) -> None:
        self.buffered -= n

    def admit(self) -> bool:
        if self.admitted >= self.capacity:
            return False
        self.admitted += 1
        return True

    def leave(self) -> None:
        self.admitted -= 1

    async def run(self, fn, *args):
        """fn(*args) in a worker thread once a turn is free."""
        async with self.turns:
            self.running += 1
            start = time.perf_counter()
            try:
                return await run_in_threadpool(fn, *args)
            finally:
                self.running -= 1
                self.seconds = 0.8 * self.seconds + 0.2 * (time.perf_counter() - start)

    def retry_after(self) -> int:
        """Seconds until a place in the queue is likely to free up."""
        return max(1, math.ceil(self.seconds * self.capacity / self.concurrency))

    def state(self) -> dict:
        waiting = self.admitted - self.running
        return {
            "running": self.running,
            "waiting": waiting,
            "reading": self.reading,
            "capacity": self.capacity,
        }


def _hashes(page: str, tag: str) -> str:
    """CSP source expressions allowing exactly the inline <tag> blocks of `page`."""
    blocks = re.findall(rf"<{tag}(?![^>]*\bsrc=)[^>]*>(.*?)</{tag}>", page, flags=re.S | re.I)
    digests = (base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in blocks)
    return " ".join(f"'sha256-{d}'" for d in digests)


def security_headers(page: str) -> dict[str, str]:
    """Headers for every response. The policy allows the page's own inline blocks (by hash), scripts,
    WebAssembly, workers and blob: URLs from this server, and nothing from anywhere else."""
    csp = (
        f"default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {_hashes(page, 'script')}; "
        f"style-src 'self' {_hashes(page, 'style')}; img-src 'self' blob:; connect-src 'self'; "
        "worker-src 'self' blob:; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # cross-origin isolation: lets the page use SharedArrayBuffer (multi-threaded WebAssembly)
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


class SecurityHeaders:
    """ASGI middleware adding `headers` to every HTTP response that does not set them itself."""

    def __init__(self, app, headers: dict[str, str]):
        self.app = app
        self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.raw if k not in have]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def create_app(
    colorizer: Colorizer, limits: ServerLimits | None = None, browser_dir: str | os.PathLike | None = None
) -> FastAPI:
    """`browser_dir`: a folder from `autocolor export --onnx` for the page to colorize with in the browser."""
    limits = limits or ServerLimits()
    app = FastAPI(title="autocolor", docs_url=None, redoc_url=None, openapi_url=None)  # docs need a CDN
    gate = Gate(limits.concurrency, limits.queue, limits.readers, limits.max_upload_bytes)
    recent = RecentImages()
    references = RecentImages(4, cost=lambda _: 1)  # the last few reference photos, matched-ready
    app.state.gate = gate
    page = render_page(limits.max_upload_bytes // (1024 * 1024), limits.max_pixels // 1_000_000)
    headers = security_headers(page)

    app.add_middleware(SecurityHeaders, headers=headers)
    _mount_browser(app, browser_dir, colorizer)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error(422, f"invalid request ({where})")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        return _error(500, "internal server error (the details are in the server's log)", headers)

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return page

    @app.get("/healthz")
    async def healthz() -> dict:
        return {
            "status": "ok",
            "render_size": colorizer.render_size,
            "max_upload_bytes": limits.max_upload_bytes,
            "max_pixels": limits.max_pixels,
            "concurrency": limits.concurrency,
            "hints": colorizer.takes_hints,
            "vividness": colorizer.vividness,
            "reference": colorizer.takes_reference,
            **gate.state(),
        }

    @app.post("/api/colorize")
    async def colorize(request: Request) -> Response:
        busy = {"Retry-After": str(gate.retry_after())}
        if not gate.start_reading():
            return _error(503, "the server is busy; try again shortly", busy)
        name, held, admitted = "upload", [0], False

        def hold(n: int) -> None:
            gate.hold(n)
            held[0] += n

        try:
            body = paced(request.stream(), limits.min_upload_rate, limits.upload_grace_s, hold)
            try:
                upload = await read_upload(request.headers, body, limits.max_upload_bytes)
            finally:
                gate.stop_reading()
            name = upload.filename
            if not gate.admit():
                return _error(503, "the server is busy; try again shortly", busy)
            admitted = True
            size = parse_render_size(upload.fields.get("render_size"), limits.max_render_size)
            # the page's hint editor, vividness slider and reference: the same photo will come again
            editing = any(k in upload.fields for k in ("hints", "vividness")) or upload.reference is not None
            hints = parse_hints_field(upload.fields.get("hints"))
            vividness = parse_vividness(upload.fields.get("vividness"), colorizer)
            overlay = upload.fields.get("overlay", "") not in ("", "0")
            png, confidence = await gate.run(
                colorize_upload,
                colorizer,
                upload.data,
                name,
                size,
                limits.max_pixels,
                hints,
                recent if editing else None,
                vividness,
                upload.reference,
                references,
                overlay,
            )
        except UploadError as e:  # the body may be unread: read (and drop) what comes within a second, so
            # the client is reading when the answer comes rather than meeting a reset connection
            if e.status != 408:
                await drain(request.receive, seconds=1.0, max_bytes=2 * limits.max_upload_bytes)
            message = f"{name}: {e.message}" if name != "upload" else e.message
            return _error(e.status, message, {"Connection": "close", **(busy if e.status == 503 else {})})
        except ImageError as e:
            return _error(STATUS.get(e.kind, 400), str(e))
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        except Exception:
            log.exception("colorizing %r failed", name)
            return _error(500, f"{name}: colorizing failed (the details are in the server's log)")
        finally:
            gate.release(held[0])
            if admitted:
                gate.leave()
        headers = {"Content-Disposition": content_disposition(name)}
        if confidence is not None:
            headers["X-Reference-Confidence"] = f"{confidence:.4f}"
            headers["X-Reference-Used"] = "1" if enough(confidence) else "0"
        return Response(png, media_type="image/png", headers=headers)

    return app


def _mount_browser(app: FastAPI, browser_dir: str | os.PathLike | None, colorizer: Colorizer) -> None:
    """The files for colorizing in the browser, with the colorizer's settings, so both paths give the same
    result (threads need the cross-origin isolation that `security_headers` sets on every response)."""
    mimetypes.add_type("text/javascript", ".mjs")
    mimetypes.add_type("application/wasm", ".wasm")
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    files, manifest = browser_model(browser_dir) if browser_dir is not None else ({}, None)
    if manifest is not None:
        for key in ("render_size", "chroma_gain", "guide_radius", "guide_eps", "vividness"):
            manifest[key] = getattr(colorizer, key)
    served = {path.name: path for path in files.values()}

    @app.get("/model/{name}", include_in_schema=False)
    def model_file(name: str) -> Response:
        if name == "manifest.json" and manifest is not None:
            return JSONResponse(manifest)
        if name not in served:
            return _error(404, f"{name}: no such model file (this server has no browser model)")
        return FileResponse(served[name], media_type="application/octet-stream")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (0: any free port); ValueError with one clear line if that fails."""
    where = f"{host}:{port}"
    try:
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        return socket.create_server(address, family=family, backlog=1024)
    except socket.gaierror as e:
        raise ValueError(f"cannot listen on {where}: unknown host ({e.strerror})") from None
    except OSError as e:
        reason = {
            errno.EADDRINUSE: "the port is already in use (another server running? choose another --port)",
            errno.EACCES: "permission denied (ports below 1024 need privileges; choose another --port)",
            errno.EADDRNOTAVAIL: "this machine has no such address (check --host)",
        }.get(e.errno, e.strerror)
        raise ValueError(f"cannot listen on {where}: {reason}") from None


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def answer_when_stopped(app):
    """ASGI wrapper: a request still running when a stop's grace period ends is cancelled by uvicorn; answer
    it 503 (when nothing was sent yet) instead of logging a traceback for it."""

    async def wrapped(scope, receive, send):
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if scope["type"] == "http" and not started:
                response = _error(503, "the server is stopping", {"Connection": "close"})
                await response(scope, receive, send)

    return wrapped


def serve(
    colorizer: Colorizer,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: ServerLimits | None = None,
    sock: socket.socket | None = None,
    browser_dir: str | os.PathLike | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. Binds first (or uses `sock`), then announces the address, then serves."""
    import uvicorn

    sock = sock or bind(host, port)
    app = answer_when_stopped(create_app(colorizer, limits, browser_dir))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
    print(f"autocolor is serving at {url_of(sock)}  (Ctrl-C to stop)", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
