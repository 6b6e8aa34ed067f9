"""`autocolor serve`: a web page and an HTTP API for colorizing, on FastAPI and uvicorn (extra: [web]).

    GET  /                the page (no external scripts or fonts)
    GET  /healthz         200 {"status": "ok", ...} once the model is loaded
    POST /api/colorize    multipart `file` (+ optional `render_size`, and `hints`: a JSON list of
                          {"x", "y", "color": "#rrggbb"} for a generator that takes colour hints)
                          -> image/png of the input's size

Errors are JSON {"error": "..."}: 413 for uploads over the byte or pixel limit, 415 for files that are not
images, 400 for corrupt ones. One model is shared; at most `concurrency` images are colorized at once (the
rest wait), which bounds memory under load.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Annotated

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .hints import parse_hints
from .io import ImageError, LoadedImage, load_image
from .pipeline import Colorizer

STATUS = {"too_large": 413, "not_image": 415, "corrupt": 400, "missing": 400}


@dataclass
class ServerLimits:
    max_upload_bytes: int = 40 * 1024 * 1024
    max_pixels: int = 50_000_000
    concurrency: int = 1
    max_render_size: int = 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(colorizer: Colorizer, limits: ServerLimits | None = None) -> FastAPI:
    limits = limits or ServerLimits()
    app = FastAPI(title="autocolor", docs_url="/api/docs", redoc_url=None)
    gate = asyncio.Semaphore(limits.concurrency)
    decoded = RecentImages()  # the page re-sends the same photo with each change of its colour hints
    page = resources.files("autocolor").joinpath("static", "index.html").read_text()

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page.replace("{{MAX_MB}}", str(limits.max_upload_bytes // (1024 * 1024))).replace(
            "{{MAX_MP}}", str(limits.max_pixels // 1_000_000)
        )

    @app.get("/healthz")
    def healthz() -> dict:
        return {
            "status": "ok",
            "render_size": colorizer.render_size,
            "max_upload_bytes": limits.max_upload_bytes,
            "max_pixels": limits.max_pixels,
            "hints": colorizer.takes_hints,
        }

    @app.post("/api/colorize")
    async def colorize(
        file: Annotated[UploadFile, File()],
        render_size: Annotated[int | None, Form()] = None,
        hints: Annotated[str | None, Form()] = None,
    ) -> Response:
        name = file.filename or "upload"
        data = await file.read(limits.max_upload_bytes + 1)
        if len(data) > limits.max_upload_bytes:
            return _error(
                413, f"{name}: larger than the {limits.max_upload_bytes // (1024 * 1024)} MB upload limit"
            )
        if render_size is not None and not 16 <= render_size <= limits.max_render_size:
            return _error(400, f"render_size must be between 16 and {limits.max_render_size}")
        try:
            points = parse_hints(json.loads(hints), "hints") if hints else []
        except (ValueError, json.JSONDecodeError) as e:
            return _error(400, str(e))
        try:
            image = decoded.get(data, lambda: load_image(data, limits.max_pixels, name=name))
            colorizer.check_hints(points, image)
        except ImageError as e:
            return _error(STATUS.get(e.kind, 400), str(e))
        except ValueError as e:
            return _error(400, f"hints: {e}")
        async with gate:
            result = await run_in_threadpool(lambda: colorizer.colorize(image, render_size, hints=points))
        buf = io.BytesIO()
        result.save(buf, format="PNG", compress_level=1)
        return Response(
            buf.getvalue(),
            media_type="image/png",
            headers={"Content-Disposition": f'inline; filename="{_png_name(name)}"'},
        )

    return app


class RecentImages:
    """The last few decoded uploads, by the SHA-256 of their bytes, so editing hints does not decode again."""

    def __init__(self, size: int = 4):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, data: bytes, load: Callable[[], LoadedImage]) -> LoadedImage:
        key = hashlib.sha256(data).digest()
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        image = load()
        with self._lock:
            self._items[key] = image
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return image


def _png_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:100] or "photo"
    return f"{safe}.colorized.png"


def serve(
    colorizer: Colorizer, host: str = "127.0.0.1", port: int = 8000, limits: ServerLimits | None = None
) -> None:
    import uvicorn

    print(f"autocolor is serving at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.run(create_app(colorizer, limits), host=host, port=port, log_level="warning")
