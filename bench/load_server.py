"""Load check for `autocolor serve` on loopback: concurrent uploads including one very large photo.

While `--clients` uploads run at once (one of them `--big-megapixels`, two of them bad files), a poller asks
/healthz every 20 ms and a sampler reads the server's RSS. Afterwards an oversized upload is sent twice (with
a Content-Length over the limit, and chunked with no length) while the server's write counter
(/proc/PID/io wchar: every byte it writes, to files or sockets) and its temp folder are watched.

Before the burst, `--slow-clients` connections send their headers and then a byte a second (slow-loris), and
one real upload of `--megapixels` is timed while they hold on; they stay through the burst.

Prints one JSON line (an oversized status 0: no answer within 10 s without the body) and exits 1 if a target
is missed: /healthz p99 < 100 ms, server peak RSS < 1.5 GB, the oversized upload refused with nothing written,
every error body JSON {"error": ...}, the real upload beside the slow clients answered 200 within 10 s and the
slow clients cut off (408).

    .venv/bin/python bench/load_server.py [--weights DIR] [--clients 20] [--megapixels 2] [--big-megapixels 40]
                                          [--slow-clients 12]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

BOUNDARY = "autocolorload"


def _proc(pid: int, name: str, key: str) -> int:
    for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    raise KeyError(key)


def _jpeg(photo: Image.Image, megapixels: float) -> tuple[bytes, tuple[int, int]]:
    scale = (megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
    im = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue(), im.size


def _head(name: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()


def _multipart(name: str, data: bytes) -> bytes:
    return _head(name) + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _request(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 600):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"} if body is not None else {}
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read()
    finally:
        conn.close()


def _is_json_error(content_type: str, content: bytes) -> bool:
    try:
        return content_type.startswith("application/json") and "error" in json.loads(content)
    except ValueError:
        return False


def _answered(conn: http.client.HTTPConnection, timeout: float) -> bool:
    """Whether the server's answer has started to arrive (a peek: nothing is consumed); the socket's timeout
    is set back to `timeout`."""
    conn.sock.settimeout(0.0)
    try:
        return bool(conn.sock.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False
    finally:
        conn.sock.settimeout(timeout)


def _oversized(port: int, size: int, chunked: bool) -> tuple[int, bool]:
    """Send an upload of `size` bytes, reading the answer as soon as it comes; -> (status, JSON error?)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.putrequest("POST", "/api/colorize")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Transfer-Encoding" if chunked else "Content-Length", "chunked" if chunked else str(size))
    conn.endheaders()
    if chunked:  # send until the server answers (it must, long before `size`)
        block = b"x" * 65536
        conn.send(b"%x\r\n%s\r\n" % (len(_head("huge.jpg")), _head("huge.jpg")))
        try:
            for _ in range(size // len(block)):
                conn.send(b"%x\r\n%s\r\n" % (len(block), block))
                if _answered(conn, 60):
                    break
        except OSError:  # the server closed the connection after answering
            pass
    conn.sock.settimeout(10)
    try:
        r = conn.getresponse()
    except TimeoutError:  # the server waits for a body it should have refused from the headers
        return 0, False
    status, ok = r.status, _is_json_error(r.getheader("Content-Type", ""), r.read())
    conn.close()
    return status, ok


def _trickle(port: int, stop: threading.Event) -> int:
    """A slow client: headers, then one byte a second until answered or `stop`; -> the status it got (0: none)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.putrequest("POST", "/api/colorize")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", "1000000")
    conn.endheaders()
    try:
        for byte in _head("slow.jpg"):
            if stop.is_set():
                return 0
            conn.send(bytes([byte]))
            if _answered(conn, 120):
                break
            stop.wait(1.0)
    except OSError:  # answered and closed while we were sending
        pass
    try:
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", help="generator folder (default: bundled)")
    ap.add_argument("--clients", type=int, default=20, help="uploads sent at once (one big, two bad)")
    ap.add_argument("--megapixels", type=float, default=2.0)
    ap.add_argument("--big-megapixels", type=float, default=40.0)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--slow-clients", type=int, default=12, help="connections sending a byte a second")
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument(
        "--server-args",
        help="extra `autocolor serve` options (default: --queue CLIENTS, so all are admitted)",
    )
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    photo = Image.open(sorted((root / "examples").glob("*.jpg"))[0]).convert("L")
    big, big_size = _jpeg(photo, args.big_megapixels)
    small, small_size = _jpeg(photo, args.megapixels)
    uploads = [
        ("big.jpg", big, big_size),
        ("notes.jpg", b"not a photo", None),
        ("cut.jpg", small[:5000], None),
    ]
    uploads += [(f"p{i}.jpg", small, small_size) for i in range(args.clients - len(uploads))]

    tmp = tempfile.mkdtemp(prefix="autocolor-load-")
    extra = f"--queue {args.clients}" if args.server_args is None else args.server_args
    cmd = [sys.executable, "-m", "autocolor", "serve", "--port", str(args.port), *extra.split()]
    cmd += ["--concurrency", str(args.concurrency)] + (["--weights", args.weights] if args.weights else [])
    env = {**os.environ, "TMPDIR": tmp}
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    first = server.stdout.readline()
    if "serving at" not in first:
        print(first + server.stdout.read(), file=sys.stderr)
        return 1
    threading.Thread(target=lambda: sys.stderr.writelines(server.stdout), daemon=True).start()
    port = int(first.split("serving at ")[1].split()[0].rstrip("/").rsplit(":", 1)[1])
    try:
        for _ in range(600):  # servers that announce before they listen
            try:
                _request(port, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        idle_mb = _proc(server.pid, "status", "VmRSS:") / 1024
        started_with = set(os.listdir(tmp))  # onnxruntime leaves a small session file (.ses) at start-up
        done = threading.Event()
        health: list[float] = []
        rss: list[int] = []

        def poll() -> None:
            while not done.is_set():
                t = time.perf_counter()
                status, _, _ = _request(port, "GET", "/healthz", timeout=30)
                health.append(time.perf_counter() - t if status == 200 else float("inf"))
                rss.append(_proc(server.pid, "status", "VmRSS:"))
                done.wait(0.02)

        def post(upload):
            name, data, size = upload
            t = time.perf_counter()
            status, ctype, content = _request(port, "POST", "/api/colorize", _multipart(name, data))
            ok = status == 200 and Image.open(io.BytesIO(content)).size == size
            return (
                name,
                status,
                ok or (status != 200 and _is_json_error(ctype, content)),
                time.perf_counter() - t,
            )

        poller = threading.Thread(target=poll)
        poller.start()
        stop_slow = threading.Event()
        slow_pool = ThreadPoolExecutor(max(1, args.slow_clients))
        slow = [slow_pool.submit(_trickle, port, stop_slow) for _ in range(args.slow_clients)]
        while (
            args.slow_clients
            and json.loads(_request(port, "GET", "/healthz")[2])["reading"] < args.slow_clients
        ):
            time.sleep(0.05)
        beside_slow = post(("real.jpg", small, small_size))
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(uploads)) as pool:
            results = list(pool.map(post, uploads))
        wall = time.perf_counter() - t0
        done.set()
        poller.join()
        slow_statuses = [f.result() for f in slow]
        stop_slow.set()
        slow_pool.shutdown()
        peak_mb = _proc(server.pid, "status", "VmHWM:") / 1024

        limit = json.loads(_request(port, "GET", "/healthz")[2])["max_upload_bytes"]
        wchar = _proc(server.pid, "io", "wchar:")
        refused = [_oversized(port, limit + 20 * 2**20, chunked) for chunked in (False, True)]
        written = _proc(server.pid, "io", "wchar:") - wchar
        lat = sorted(health)
        statuses = {}
        for _, status, _, _ in results:
            statuses[status] = statuses.get(status, 0) + 1
        report = {
            "clients": len(uploads),
            "big_image": f"{big_size[0]}x{big_size[1]} ({len(big) / 2**20:.1f} MB JPEG)",
            "small_image": f"{small_size[0]}x{small_size[1]}",
            "statuses": statuses,
            "big_upload_s": round(results[0][3], 1),
            "slow_clients": args.slow_clients,
            "upload_beside_slow_clients": {"status": beside_slow[1], "seconds": round(beside_slow[3], 2)},
            "slow_client_statuses": {s: slow_statuses.count(s) for s in set(slow_statuses)},
            "wall_s": round(wall, 1),
            "healthz_samples": len(lat),
            "healthz_p50_ms": round(1000 * statistics.median(lat), 1),
            "healthz_p99_ms": round(1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], 1),
            "healthz_max_ms": round(1000 * lat[-1], 1),
            "server_rss_idle_mb": round(idle_mb),
            "server_rss_peak_mb": round(peak_mb),
            "oversized_statuses": [s for s, _ in refused],
            "oversized_bytes_written_by_server": written,
            "temp_files": len(set(os.listdir(tmp)) - started_with),
        }
        checks = {
            "healthz_p99_under_100ms": report["healthz_p99_ms"] < 100,
            "rss_under_1.5GB": peak_mb < 1536,
            "oversized_refused_unwritten": all(s == 413 for s, _ in refused)
            and written < 64 * 1024
            and report["temp_files"] == 0,
            "every_error_json": all(ok for _, _, ok, _ in results) and all(ok for _, ok in refused),
            "good_uploads_ok": statuses.get(200, 0) == len(uploads) - 2,
            "real_upload_beside_slow_clients_200_within_10s": beside_slow[1] == 200 and beside_slow[3] < 10,
            "slow_clients_cut_off": all(s == 408 for s in slow_statuses),
        }
        print(json.dumps({**report, "checks": checks}))
        return 0 if all(checks.values()) else 1
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            print("the server ignored SIGTERM for 30 s; killed", file=sys.stderr)
        if set(os.listdir(tmp)) <= {".ses"}:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
