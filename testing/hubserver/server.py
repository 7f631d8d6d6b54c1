"""A local Hugging Face Hub for tests and demos: standard library only, 127.0.0.1 only.

Serves what huggingface_hub 2.4 uses (resolve HEAD/GET, repo info, refs, tree, paths-info, commits, whoami) from a
`HubStore`. LFS files answer with a 302 to a second listener (another loopback port = another origin, like the
real CDN), so the client reads the metadata from the 302 itself and drops the Authorization header.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode, urlsplit

from .store import HubStore

REPO_TYPE_PLURALS = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"datasets": "dataset", "spaces": "space"}  # resolve URLs; models have no prefix
API_ACTIONS = ("revision", "refs", "tree", "paths-info", "commits")
UNGATED_FILES = ("README.md", ".gitattributes")  # the real Hub serves the card of a gated repo
CHUNK = 1024 * 1024


class HttpError(Exception):
    """An error answer: status, X-Error-Code (may be None), X-Error-Message, extra headers."""

    def __init__(self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, hub: HubServer, role: str, port: int):
        self.hub = hub
        self.role = role  # "hub" or "cdn"
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def close_connections(self) -> None:
        with self.connections_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class HubServer:
    """Fake Hub on ``endpoint`` plus a fake LFS CDN on ``cdn_endpoint``.

    Args:
        store_root: directory of a `HubStore` (or a HubStore instance); re-read whenever its state.json changes.
        latency: seconds added to every request (settable at run time).
        nodelay: send each answer at once (TCP_NODELAY). Off by default, as before: a body written after its headers
            then waits for the client's delayed ACK (about 40 ms on Linux), on top of `latency`.
        page_size: entries per page of tree and commit listings (settable).
        port, cdn_port: 0 (default) picks free ports.
    """

    def __init__(
        self,
        store_root: Path | str | HubStore,
        *,
        latency: float = 0.0,
        nodelay: bool = False,
        page_size: int = 50,
        port: int = 0,
        cdn_port: int = 0,
    ):
        self.store = store_root if isinstance(store_root, HubStore) else HubStore(store_root)
        self.latency = latency
        self.nodelay = nodelay
        self.page_size = page_size
        self._ports = (port, cdn_port)
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._fail_status: int | None = None
        self._fail_times: int | None = None
        self._fail_retry_after: int | None = 0
        self._file_faults: dict[str, str] = {}
        self._silent_after: int | None = None  # see `go_silent`
        self._held: list[dict[str, str]] = []
        self._wake = threading.Event()
        self._listeners: list[_Listener] = []
        self._threads: list[threading.Thread] = []
        self.endpoint = ""
        self.cdn_endpoint = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> HubServer:
        if self._listeners:
            return self
        hub = _Listener(self, "hub", self._ports[0])
        cdn = _Listener(self, "cdn", self._ports[1])
        self._listeners = [hub, cdn]
        self.endpoint = f"http://127.0.0.1:{hub.server_address[1]}"
        self.cdn_endpoint = f"http://127.0.0.1:{cdn.server_address[1]}"
        for listener in self._listeners:
            t = threading.Thread(
                target=listener.serve_forever, kwargs={"poll_interval": 0.05}, name=f"hubserver-{listener.role}"
            )
            t.daemon = True
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._wake.set()  # requests held by `go_silent` end without an answer
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.shutdown()
            listener.close_connections()
            listener.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    @property
    def cdn_port(self) -> int:
        return int(self.cdn_endpoint.rsplit(":", 1)[1])

    # ------------------------------------------------------------------ request log and fault injection
    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the log: dicts with method, path (raw, without query), query (raw), status, has_auth,
        token (the bearer token or None), origin ("hub" or "cdn"), range (the Range header or None),
        bytes (the body length sent)."""
        with self._log_lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._log.append(entry)

    def fail_with(self, status: int | None, times: int | None = None, *, retry_after: int | None = 0) -> None:
        """Answer every request (or only the next `times`) of both listeners with `status`; None stops failing.

        The answer carries ``Retry-After: <retry_after>`` (default 0, None = no header): huggingface_hub then
        waits retry_after + 1 s between its retries of 408/429/5xx instead of its 1, 2, 4, 8, 8 s backoff."""
        with self._log_lock:
            self._fail_status = status
            self._fail_times = times if status is not None else None
            self._fail_retry_after = retry_after

    def corrupt(self, etag: str, mode: str | None) -> None:
        """Serve the blob `etag` (sha256 of an LFS file, git sha1 otherwise) badly; None serves it well again.

        "short": a well-framed body of half the bytes (Content-Length says half too); "cut": Content-Length says
        the full size, half the bytes are sent, then the connection is closed; "wrong": the right size, other bytes."""
        if mode not in (None, "short", "cut", "wrong"):
            raise ValueError(f"unknown fault {mode!r}")
        with self._log_lock:
            if mode is None:
                self._file_faults.pop(etag, None)
            else:
                self._file_faults[etag] = mode

    def _file_fault(self, etag: str) -> str | None:
        with self._log_lock:
            return self._file_faults.get(etag)

    def go_silent(self, after: int | None = 0) -> None:
        """After `after` more requests, accept and read every request (both listeners) but never answer it, until
        `go_silent(None)` or `stop()`; a held request is then closed unanswered. Held requests are in `held`."""
        with self._log_lock:
            self._silent_after = after
            if after is None:
                self._wake.set()
            else:
                self._wake.clear()

    @property
    def held(self) -> list[dict[str, str]]:
        """The requests held unanswered by `go_silent`: dicts with method, path (raw) and origin."""
        with self._log_lock:
            return list(self._held)

    def _hold(self, entry: dict[str, str]) -> bool:
        """Whether the request described by `entry` was held (see `go_silent`); returns once it is released."""
        with self._log_lock:
            if self._silent_after is None:
                return False
            if self._silent_after > 0:
                self._silent_after -= 1
                return False
            self._held.append(entry)
        self._wake.wait()
        return True

    def _take_failure(self) -> tuple[int, int | None] | None:
        with self._log_lock:
            status = self._fail_status
            if status is None:
                return None
            if self._fail_times is not None:
                self._fail_times -= 1
                if self._fail_times <= 0:
                    self._fail_status, self._fail_times = None, None
            return status, self._fail_retry_after


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on")


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\r", " ").replace("\n", " ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubserver/1.0"
    timeout = 60  # idle keep-alive connections are closed after this
    server: _Listener

    # ------------------------------------------------------------------ plumbing
    def setup(self) -> None:
        super().setup()
        if self.server.hub.nodelay:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    @property
    def hub(self) -> HubServer:
        return self.server.hub

    @property
    def store(self) -> HubStore:
        return self.server.hub.store

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        self._responded = False
        split = urlsplit(self.path)
        self.raw_path, self.raw_query = split.path, split.query
        self.query = parse_qs(split.query, keep_blank_values=True)
        try:
            body = self._read_body()
            if self.hub._hold({"method": self.command, "path": self.raw_path, "origin": self.server.role}):
                self.close_connection = True
                return
            if self.hub.latency > 0:
                time.sleep(self.hub.latency)
            failure = self.hub._take_failure()
            if failure is not None:
                status, retry_after = failure
                extra = {} if retry_after is None else {"Retry-After": str(retry_after)}
                raise HttpError(status, None, f"Injected failure (HTTP {status})", extra)
            if self.server.role == "cdn":
                self._cdn()
            else:
                self._route(body)
        except HttpError as e:
            self._send_error(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:
            if self._responded:
                self.close_connection = True
            else:
                tb = traceback.format_exc()
                self._send_error(HttpError(500, None, f"hubserver internal error: {e!r}"), detail=tb)

    def _respond(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        file: Path | None = None,
        start: int = 0,
        length: int | None = None,
        fault: str | None = None,
    ) -> None:
        """Log, then send a response with `body` or `length` bytes of `file` from `start` (no body for HEAD),
        spoilt by `fault` (see `HubServer.corrupt`)."""
        headers = dict(headers or {})
        fault = fault if self.command == "GET" else None  # a HEAD still tells the true size
        size = len(body) if file is None else (length or 0)
        headers.setdefault("Content-Length", str(size // 2 if fault == "short" else size))
        self.hub._record(
            {
                "method": self.command,
                "path": self.raw_path,
                "query": self.raw_query,
                "status": status,
                "has_auth": "Authorization" in self.headers,
                "token": self._token(),
                "origin": self.server.role,
                "range": self.headers.get("Range"),
                "bytes": 0 if self.command == "HEAD" else size,  # the body's length as sent
            }
        )
        self._responded = True
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, _ascii(v) if k.startswith("X-") else v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if file is None:
            self.wfile.write(body)
            return
        with open(file, "rb") as f:
            f.seek(start)
            remaining = size // 2 if fault in ("short", "cut") else size
            while remaining > 0:
                chunk = f.read(min(CHUNK, remaining))
                if not chunk:
                    break
                if fault == "wrong":
                    chunk = bytes(b ^ 0xFF for b in chunk)
                self.wfile.write(chunk)
                remaining -= len(chunk)
        if fault == "cut":
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _send_json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        h = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        self._respond(status, h, json.dumps(data).encode())

    def _send_error(self, e: HttpError, detail: str | None = None) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Error-Message": e.message, **e.headers}
        if e.code:
            headers["X-Error-Code"] = e.code
        payload: dict[str, Any] = {"error": e.message}
        if detail:
            payload["detail"] = detail
        self._respond(e.status, headers, json.dumps(payload).encode())

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return auth.strip() or None

    # ------------------------------------------------------------------ access control and revisions
    def _check_access(self, repo_type: str, repo_id: str, *, gate: bool) -> dict[str, Any]:
        store = self.store
        rec = store.repo(repo_id, repo_type)
        token = self._token()
        valid = store.token_info(token) is not None
        if rec is None:
            raise HttpError(404 if valid else 401, "RepoNotFound", "Repository not found")
        if rec["private"]:
            if not valid:
                msg = "Invalid credentials in Authorization header" if token else "Repository not found"
                raise HttpError(401, "RepoNotFound", msg)
            if not store.token_can_read(token, repo_id, repo_type):
                raise HttpError(404, "RepoNotFound", "Repository not found")
        elif rec["gated"] and gate and not store.token_can_read(token, repo_id, repo_type):
            if not valid:
                raise HttpError(
                    401,
                    "GatedRepo",
                    f"Access to {repo_type} {repo_id} is restricted. You must have access to it and be "
                    "authenticated to access it. Please log in.",
                )
            raise HttpError(
                403,
                "GatedRepo",
                f"Access to {repo_type} {repo_id} is restricted and you are not in the authorized list. "
                f"Visit {self.hub.endpoint}/{repo_id} to ask for access.",
            )
        return rec

    def _resolve_rev(self, repo_type: str, repo_id: str, rev: str) -> str:
        sha = self.store.resolve(repo_id, rev, repo_type)
        if sha is None:
            raise HttpError(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        return sha

    @staticmethod
    def _split_rev(segs: list[str]) -> tuple[str, list[str]]:
        """First revision segment (quoted as the client does), tolerating an unquoted refs/pr/N etc."""
        first = unquote(segs[0])
        if first == "refs" and len(segs) >= 3 and segs[1] in ("pr", "heads", "tags", "convert"):
            return f"refs/{segs[1]}/{unquote(segs[2])}", segs[3:]
        return first, segs[1:]

    def _find_repo(self, repo_type: str, rest: list[str], marker: tuple[str, ...]) -> tuple[str, list[str]]:
        """Split `rest` into a repo id (namespace/name or a bare name) and what follows."""
        two = "/".join(unquote(s) for s in rest[:2]) if len(rest) >= 2 else None
        one = unquote(rest[0])
        if two and self.store.repo(two, repo_type) is not None:
            return two, rest[2:]
        if self.store.repo(one, repo_type) is not None:
            return one, rest[1:]
        if len(rest) == 1 or (rest[1] in marker and (len(rest) < 3 or rest[2] not in marker)):
            return one, rest[1:]
        return two or one, rest[2:]

    # ------------------------------------------------------------------ routing
    def _route(self, body: bytes) -> None:
        segs = self.raw_path.split("/")[1:]
        while len(segs) > 1 and segs[-1] == "":
            segs.pop()
        if segs and segs[0] == "api":
            return self._api(segs[1:], body)
        repo_type = "model"
        if segs and segs[0] in URL_PREFIXES:
            repo_type, segs = URL_PREFIXES[segs[0]], segs[1:]
        if len(segs) >= 3 and "resolve" in segs[1:3]:
            repo_id, rest = self._find_repo(repo_type, segs, ("resolve",))
            if rest and rest[0] == "resolve" and len(rest) >= 2:
                if self.command not in ("GET", "HEAD"):
                    raise HttpError(405, None, f"Method {self.command} not allowed")
                rev, path = self._split_rev(rest[1:])
                return self._resolve(repo_type, repo_id, rev, unquote("/".join(path)))
        raise HttpError(404, None, f"Not Found: {self.raw_path}")

    def _api(self, segs: list[str], body: bytes) -> None:
        if segs == ["whoami-v2"]:
            return self._whoami()
        if not segs or segs[0] not in REPO_TYPE_PLURALS or len(segs) < 2:
            raise HttpError(404, None, f"Not Found: {self.raw_path}")
        repo_type = REPO_TYPE_PLURALS[segs[0]]
        repo_id, rest = self._find_repo(repo_type, segs[1:], API_ACTIONS)
        action, args = (rest[0], rest[1:]) if rest else (None, [])
        if action not in (None, *API_ACTIONS) or (action in ("revision", "tree", "paths-info") and not args):
            raise HttpError(404, None, f"Not Found: {self.raw_path}")
        wanted = "POST" if action == "paths-info" else "GET"
        if self.command not in (wanted, "HEAD" if wanted == "GET" else wanted):
            raise HttpError(405, None, f"Method {self.command} not allowed on {self.raw_path}")
        rec = self._check_access(repo_type, repo_id, gate=False)
        if action is None:
            return self._info(rec, None)
        if action == "revision":
            return self._info(rec, unquote("/".join(args)))
        if action == "refs":
            return self._refs(rec)
        if action == "tree":
            rev, path = self._split_rev(args)
            return self._tree(rec, rev, unquote("/".join(path)).strip("/"))
        if action == "paths-info":
            return self._paths_info(rec, unquote("/".join(args)), body)
        return self._commits(rec, unquote("/".join(args)) if args else "main")

    # ------------------------------------------------------------------ resolve (files) and CDN
    def _resolve(self, repo_type: str, repo_id: str, rev: str, path: str) -> None:
        self._check_access(repo_type, repo_id, gate=path not in UNGATED_FILES)
        sha = self._resolve_rev(repo_type, repo_id, rev)
        info = self.store.files_at(repo_id, sha, repo_type).get(path)
        if info is None:
            raise HttpError(404, "EntryNotFound", f"Entry not found: {path}", {"X-Repo-Commit": sha})
        headers = {"X-Repo-Commit": sha, "ETag": f'"{info.git_oid}"', "Accept-Ranges": "bytes"}
        if info.sha256 is not None:
            name = path.rsplit("/", 1)[-1]
            location = f"{self.hub.cdn_endpoint}/blobs/{info.sha256}?" + urlencode({"filename": name})
            headers.update(
                {
                    "Location": location,
                    "X-Linked-Etag": f'"{info.sha256}"',
                    "X-Linked-Size": str(info.size),
                    "Content-Type": "text/plain; charset=utf-8",
                }
            )
            return self._respond(302, headers)
        headers["Content-Type"] = "application/octet-stream"
        self._send_file(info.data, info.size, headers, self.hub._file_fault(info.git_oid))

    def _send_file(self, data: Path, size: int, headers: dict[str, str], fault: str | None = None) -> None:
        start, end = 0, size - 1
        status = 200
        rng = self.headers.get("Range")
        if rng and self.command == "GET" and rng.strip().startswith("bytes=") and "," not in rng:
            first, _, last = rng.strip()[6:].partition("-")
            try:
                if first == "":  # suffix range: last N bytes
                    start, end = max(size - int(last), 0), size - 1
                else:
                    start = int(first)
                    end = min(int(last), size - 1) if last else size - 1
            except ValueError:
                start, end = 0, size - 1
            else:
                if start >= size or start > end:
                    raise HttpError(416, None, "Range Not Satisfiable", {"Content-Range": f"bytes */{size}"})
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        self._respond(status, headers, file=data, start=start, length=end - start + 1, fault=fault)

    def _cdn(self) -> None:
        segs = self.raw_path.split("/")[1:]
        if self.command not in ("GET", "HEAD") or len(segs) != 2 or segs[0] != "blobs":
            raise HttpError(404, None, "NoSuchKey")
        path = self.store.object_path(segs[1])
        if len(segs[1]) != 64 or not path.is_file():
            raise HttpError(404, None, "NoSuchKey")
        headers = {
            "ETag": f'"{segs[1]}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        name = (self.query.get("filename") or [""])[0]
        if name:
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}; filename=\"{_ascii(name)}\";"
        self._send_file(path, path.stat().st_size, headers, self.hub._file_fault(segs[1]))

    # ------------------------------------------------------------------ API endpoints
    def _whoami(self) -> None:
        token = self._token()
        info = self.store.token_info(token)
        if info is None:
            raise HttpError(401, None, "Invalid credentials in Authorization header")
        self._send_json(
            {
                "type": "user",
                "id": hashlib.sha1(info["user"].encode()).hexdigest()[:24],
                "name": info["user"],
                "fullname": info["user"],
                "email": None,
                "emailVerified": False,
                "isPro": False,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "hubserver", "role": "read"}},
            }
        )

    def _info(self, rec: dict[str, Any], revision: str | None) -> None:
        repo_type, repo_id = rec["type"], rec["id"]
        if revision is None:
            sha = self.store.resolve(repo_id, "main", repo_type)
        else:
            sha = self._resolve_rev(repo_type, repo_id, revision)
        files = self.store.files_at(repo_id, sha, repo_type) if sha else {}
        blobs = _truthy((self.query.get("blobs") or [None])[0])
        siblings = []
        for path, fi in files.items():
            s: dict[str, Any] = {"rfilename": path}
            if blobs:
                s["size"] = fi.size
                s["blobId"] = fi.git_oid
                if fi.sha256:
                    s["lfs"] = {"size": fi.size, "sha256": fi.sha256, "pointerSize": fi.pointer_size}
            siblings.append(s)
        commit = self.store.commit_record(repo_id, sha, repo_type) if sha else None
        data: dict[str, Any] = {
            "_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": sha,
            "lastModified": commit["date"] if commit else rec["created_at"],
            "createdAt": rec["created_at"],
            "private": rec["private"],
            "gated": rec["gated"],
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(fi.size for fi in files.values()),
        }
        if repo_type == "model":
            data["modelId"] = repo_id
            data["library_name"] = None
            data["pipeline_tag"] = None
        elif repo_type == "dataset":
            data["description"] = ""
            data["paperswithcode_id"] = None
        else:
            data["sdk"] = "static"
            data["runtime"] = {"stage": "RUNNING", "hardware": {"current": None, "requested": None}}
        expand = self.query.get("expand") or self.query.get("expand[]")
        if expand:
            data = {k: v for k, v in data.items() if k in ("_id", "id") or k in expand}
        self._send_json(data)

    def _refs(self, rec: dict[str, Any]) -> None:
        def items(table: str, prefix: str, name_prefix: str = "") -> list[dict[str, str]]:
            return [
                {"name": name_prefix + name, "ref": prefix + name, "targetCommit": sha}
                for name, sha in sorted(rec[table].items())
            ]

        data = {
            "branches": items("branches", "refs/heads/"),
            "converts": items("converts", "refs/convert/"),
            "tags": items("tags", "refs/tags/"),
        }
        if _truthy((self.query.get("include_prs") or [None])[0]):
            data["pullRequests"] = sorted(
                items("prs", "refs/pr/", "refs/pr/"), key=lambda d: int(d["ref"].rsplit("/", 1)[1])
            )
        self._send_json(data)

    def _entries(self, rec: dict[str, Any], sha: str, paths: list[str], expand: bool) -> list[dict[str, Any]]:
        repo_type, repo_id = rec["type"], rec["id"]
        files = self.store.files_at(repo_id, sha, repo_type)
        trees = self.store.tree_oids(repo_id, sha, repo_type)
        out = []
        for p in paths:
            if p in files:
                fi = files[p]
                e: dict[str, Any] = {"type": "file", "oid": fi.git_oid, "size": fi.size, "path": p}
                if fi.sha256:
                    e["lfs"] = {"oid": fi.sha256, "size": fi.size, "pointerSize": fi.pointer_size}
            elif p in trees and p:
                e = {"type": "directory", "oid": trees[p], "size": 0, "path": p}
            else:
                continue
            if expand:
                last = self._last_commit(rec, sha, p)
                e["lastCommit"] = {"id": last["id"], "title": last["title"], "date": last["date"]}
            out.append(e)
        return out

    def _last_commit(self, rec: dict[str, Any], sha: str, path: str) -> dict[str, Any]:
        repo_type, repo_id = rec["type"], rec["id"]

        def oid_at(commit: str) -> str | None:
            fi = self.store.files_at(repo_id, commit, repo_type).get(path)
            return fi.git_oid if fi else self.store.tree_oids(repo_id, commit, repo_type).get(path)

        cur = self.store.commit_record(repo_id, sha, repo_type)
        current_oid = oid_at(sha)
        while cur["parent"] and oid_at(cur["parent"]) == current_oid:
            cur = self.store.commit_record(repo_id, cur["parent"], repo_type)
        return cur

    def _paginate(self, items: list[Any]) -> None:
        cursor = (self.query.get("cursor") or [""])[0]
        try:
            offset = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        except ValueError:
            raise HttpError(400, "BadRequest", "Invalid cursor") from None
        size = max(int(self.hub.page_size), 1)
        page = items[offset : offset + size]
        headers = {}
        if offset + size < len(items):
            params = [(k, v) for k, v in parse_qsl(self.raw_query, keep_blank_values=True) if k != "cursor"]
            params.append(("cursor", base64.urlsafe_b64encode(str(offset + size).encode()).decode()))
            headers["Link"] = f'<{self.hub.endpoint}{self.raw_path}?{urlencode(params)}>; rel="next"'
        self._send_json(page, headers=headers)

    def _tree(self, rec: dict[str, Any], rev: str, path: str) -> None:
        repo_type, repo_id = rec["type"], rec["id"]
        sha = self._resolve_rev(repo_type, repo_id, rev)
        files = self.store.files_at(repo_id, sha, repo_type)
        dirs = [d for d in self.store.tree_oids(repo_id, sha, repo_type) if d]
        if path and path not in dirs:
            raise HttpError(404, "EntryNotFound", f"Entry not found: {path} is not a directory at {rev}")
        base = path + "/" if path else ""
        recursive = _truthy((self.query.get("recursive") or [None])[0])
        expand = _truthy((self.query.get("expand") or [None])[0])
        selected = [p for p in (*files, *dirs) if p.startswith(base) and (recursive or "/" not in p[len(base) :])]
        self._paginate(self._entries(rec, sha, sorted(selected), expand))

    def _paths_info(self, rec: dict[str, Any], rev: str, body: bytes) -> None:
        sha = self._resolve_rev(rec["type"], rec["id"], rev)
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            payload = json.loads(body or b"{}")
            paths = payload.get("paths") or []
            paths = [paths] if isinstance(paths, str) else paths
            expand = bool(payload.get("expand"))
        else:
            form = parse_qs(body.decode(), keep_blank_values=True)
            paths = form.get("paths", [])
            expand = _truthy((form.get("expand") or [None])[0])
        wanted = list(dict.fromkeys(p.strip("/") for p in paths if p.strip("/")))
        self._send_json(self._entries(rec, sha, wanted, expand))

    def _commits(self, rec: dict[str, Any], rev: str) -> None:
        repo_type, repo_id = rec["type"], rec["id"]
        sha = self._resolve_rev(repo_type, repo_id, rev)
        formatted = "formatted" in (self.query.get("expand[]") or []) + (self.query.get("expand") or [])
        items = []
        for c in self.store.commits(repo_id, sha, repo_type):
            item: dict[str, Any] = {
                "id": c["id"],
                "title": c["title"],
                "message": c["message"],
                "date": c["date"],
                "authors": [{"user": c["author"], "avatar": None}],
            }
            if formatted:
                item["formatted"] = {"title": html.escape(c["title"]), "message": html.escape(c["message"])}
            items.append(item)
        self._paginate(items)
