"""`autocolor serve`: a web page and an HTTP API for colorizing, on FastAPI and uvicorn (extra: [web]).

    GET  /                the page (no external scripts or fonts)
    GET  /healthz         200 {"status": "ok", ...} once the model is loaded
    POST /api/colorize    multipart `file` (+ optional `render_size`) -> image/png of the input's size
    GET  /static/...      the page's scripts and the bundled onnxruntime-web (colorizing in the browser)
    GET  /model/...       the browser's model: manifest.json and the ONNX graphs (404 when there is none)

Errors are JSON {"error": "..."}: 413 for uploads over the byte or pixel limit, 415 for files that are not
images, 400 for corrupt ones. One model is shared; at most `concurrency` images are colorized at once (the
rest wait), which bounds memory under load.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
from dataclasses import dataclass
from importlib import resources
from typing import Annotated

from fastapi import FastAPI, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from .io import ImageError, load_image
from .pipeline import Colorizer
from .site import ISOLATION_HEADERS, browser_model, static_dir

STATUS = {"too_large": 413, "not_image": 415, "corrupt": 400, "missing": 400}


@dataclass
class ServerLimits:
    max_upload_bytes: int = 40 * 1024 * 1024
    max_pixels: int = 50_000_000
    concurrency: int = 1
    max_render_size: int = 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(
    colorizer: Colorizer, limits: ServerLimits | None = None, browser_dir: str | os.PathLike | None = None
) -> FastAPI:
    """`browser_dir`: a folder from `autocolor export --onnx` for the page to colorize with in the browser."""
    limits = limits or ServerLimits()
    app = FastAPI(title="autocolor", docs_url="/api/docs", redoc_url=None)
    _mount_browser(app, browser_dir)
    gate = asyncio.Semaphore(limits.concurrency)
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
        }

    @app.post("/api/colorize")
    async def colorize(
        file: Annotated[UploadFile, File()], render_size: Annotated[int | None, Form()] = None
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
            image = load_image(data, limits.max_pixels, name=name)
        except ImageError as e:
            return _error(STATUS.get(e.kind, 400), str(e))
        async with gate:
            result = await run_in_threadpool(lambda: colorizer.colorize(image, render_size))
        buf = io.BytesIO()
        result.save(buf, format="PNG", compress_level=1)
        return Response(
            buf.getvalue(),
            media_type="image/png",
            headers={"Content-Disposition": f'inline; filename="{_png_name(name)}"'},
        )

    return app


def _mount_browser(app: FastAPI, browser_dir: str | os.PathLike | None) -> None:
    """Static files for colorizing in the browser, and the cross-origin isolation that its threads need."""
    mimetypes.add_type("text/javascript", ".mjs")
    mimetypes.add_type("application/wasm", ".wasm")
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    files, manifest = browser_model(browser_dir) if browser_dir is not None else ({}, None)
    served = {path.name: path for path in files.values()}

    @app.get("/model/{name}", include_in_schema=False)
    def model_file(name: str) -> Response:
        if name == "manifest.json" and manifest is not None:
            return JSONResponse(manifest)
        if name not in served:
            return _error(404, f"{name}: no such model file (this server has no browser model)")
        return FileResponse(served[name], media_type="application/octet-stream")

    @app.middleware("http")
    async def isolate(request, call_next):
        response = await call_next(request)
        for key, value in ISOLATION_HEADERS.items():
            response.headers.setdefault(key, value)
        return response


def _png_name(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:100] or "photo"
    return f"{safe}.colorized.png"


def serve(
    colorizer: Colorizer,
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: ServerLimits | None = None,
    browser_dir: str | os.PathLike | None = None,
) -> None:
    import uvicorn

    print(f"autocolor is serving at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    uvicorn.run(create_app(colorizer, limits, browser_dir), host=host, port=port, log_level="warning")
