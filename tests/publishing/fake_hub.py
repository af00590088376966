"""A tiny, real HTTP imitation of the few Hugging Face Hub endpoints a dataset upload uses.

Point ``HF_ENDPOINT`` (``huggingface_hub.constants.ENDPOINT`` and ``datasets.config.HF_ENDPOINT`` in
process) at :attr:`FakeHub.url` and ``datasets.push_to_hub`` / ``HfApi.upload_file`` / ``upload_folder``
run unchanged against it: repository creation, ``whoami``, pre-upload, the git-LFS batch API and its
PUTs, NDJSON commits, ``validate-yaml``, tree listings, ``paths-info`` and ``resolve`` downloads.
This is the only mock in the publishing tests: everything up to the socket is the real library code.
(Uploads take the git-LFS path: the tests set ``HF_HUB_DISABLE_XET``, because the Xet protocol is
spoken by a Rust client to a separate storage service.)

Faults imitate a flaky network: ``hub.fail("POST", r"/commit/", status=503, times=1)`` answers the next
matching request with a 503; ``status=None`` drops the connection without an answer; ``times=None``
fails forever; ``after=2`` lets two matching requests through first.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import yaml

TOKEN = "hf_FakeHubTestToken0123456789abcdefXYZ"
USER = "tester"


@dataclass
class Repo:
    repo_id: str
    private: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    lfs_paths: set[str] = field(default_factory=set)
    commits: list[str] = field(default_factory=list)
    commit_messages: list[str] = field(default_factory=list)

    @property
    def head(self) -> str:
        return self.commits[-1]


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    times: int | None  # None: forever
    after: int = 0  # let this many matching requests through first
    seen: int = 0
    hits: int = 0


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _new_sha() -> str:
    return hashlib.sha1(uuid.uuid4().bytes).hexdigest()


class FakeHub:
    """Start with ``with FakeHub() as hub:``; ``hub.url`` is the endpoint."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, int | None]] = []  # (method, path, status; None = dropped)
        self.faults: list[Fault] = []
        self.auth_headers: list[str | None] = []
        self.bodies: list[bytes] = []
        self.lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -------------------------------------------------------------------------------------

    def fail(
        self, method: str, path_regex: str, *, status: int | None = 503, times: int | None = 1, after: int = 0
    ) -> Fault:
        """Fail the matching requests: ``times`` of them (``None``: all), once ``after`` went through."""
        fault = Fault(method.upper(), re.compile(path_regex), status, times, after)
        with self.lock:
            self.faults.append(fault)
        return fault

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def calls(self, method: str, pattern: str) -> list[tuple[str, str, int | None]]:
        rx = re.compile(pattern)
        return [r for r in self.requests if r[0] == method and rx.search(r[1])]

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and fault.pattern.search(path):
                    fault.seen += 1
                    if fault.seen <= fault.after:
                        continue
                    if fault.times is None or fault.hits < fault.times:
                        fault.hits += 1
                        return fault
        return None

    # -- repository views ----------------------------------------------------------------------------

    def entries(self, repo: Repo, path: str, recursive: bool) -> list[dict[str, Any]] | None:
        prefix = path.strip("/")
        if prefix and prefix in repo.files:
            return [self.file_entry(repo, prefix)]
        below = [p for p in sorted(repo.files) if not prefix or p.startswith(prefix + "/")]
        if prefix and not below:
            return None
        out: list[dict[str, Any]] = []
        seen_dirs: set[str] = set()
        for p in below:
            rest = p[len(prefix) + 1 :] if prefix else p
            parts = rest.split("/")
            for depth in range(1, len(parts)):
                d = "/".join(([prefix] if prefix else []) + parts[:depth])
                if d not in seen_dirs and (recursive or depth == 1):
                    seen_dirs.add(d)
                    out.append({"type": "directory", "path": d, "oid": _git_blob_sha1(d.encode()), "size": 0})
            if len(parts) == 1 or recursive:
                out.append(self.file_entry(repo, p))
        return out

    def file_entry(self, repo: Repo, path: str) -> dict[str, Any]:
        data = repo.files[path]
        entry: dict[str, Any] = {"type": "file", "path": path, "size": len(data), "oid": _git_blob_sha1(data)}
        if path in repo.lfs_paths:
            entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
        return entry

    def repo_json(self, repo: Repo) -> dict[str, Any]:
        return {
            "_id": repo.repo_id,
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": repo.head,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "lastModified": "2026-01-01T00:00:00.000Z",
            "createdAt": "2026-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": p} for p in sorted(repo.files)],
        }


_REPO = r"/api/datasets/(?P<repo>[^/]+/[^/]+)"


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ------------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        self.hub.requests.append((self.command, self.path, status))  # before answering: no race with the test
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, {"error": message}, headers)

    def _dispatch(self) -> None:
        hub = self.hub
        path = urlparse(self.path).path
        body = self._body()
        hub.bodies.append(body)
        hub.auth_headers.append(self.headers.get("Authorization"))
        fault = hub._take_fault(self.command, path)
        if fault is not None:
            if fault.status is None:  # a network failure: no answer at all
                hub.requests.append((self.command, self.path, None))
                self.close_connection = True
                self.connection.close()
                return
            self._error(fault.status, f"injected failure {fault.status}")
            return
        # LFS PUTs go to a pre-signed storage URL (like S3's): no Authorization header there.
        presigned = path.startswith("/lfs-store/") and parse_qs(urlparse(self.path).query).get("sig") == ["ok"]
        if not presigned and self.headers.get("Authorization") != f"Bearer {hub.token}":
            self._error(401, "Invalid credentials in Authorization header")
            return
        with hub.lock:
            self._route(path, body)

    do_GET = do_POST = do_PUT = do_HEAD = _dispatch

    # -- routes --------------------------------------------------------------------------------------

    def _route(self, path: str, body: bytes) -> None:  # noqa: C901 - a router
        hub = self.hub
        query = parse_qs(urlparse(self.path).query)
        m = None

        def match(pattern: str) -> bool:
            nonlocal m
            m = re.fullmatch(pattern, path)
            return m is not None

        if self.command == "GET" and path == "/api/whoami-v2":
            return self._send(200, {"type": "user", "name": USER, "auth": {"type": "access_token"}, "orgs": []})
        if self.command == "POST" and path == "/api/repos/create":
            payload = json.loads(body)
            repo_id = f"{payload.get('organization') or USER}/{payload['name']}"
            if repo_id in hub.repos:  # the Hub answers 409 with the repository's URL
                message = "You already created this dataset repo"
                body = {"error": message, "url": f"{hub.url}/datasets/{repo_id}"}
                return self._send(409, body, {"X-Error-Message": message})
            repo = Repo(repo_id, private=payload.get("visibility") == "private" or bool(payload.get("private")))
            repo.files[".gitattributes"] = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
            repo.commits.append(_new_sha())
            repo.commit_messages.append("initial commit")
            hub.repos[repo_id] = repo
            return self._send(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})
        if self.command == "POST" and path == "/api/validate-yaml":
            return self._validate_yaml(json.loads(body))
        if match(r"/datasets/(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch") and self.command == "POST":
            payload = json.loads(body)
            objects = []
            for obj in payload["objects"]:
                entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"]}
                if obj["oid"] not in hub.lfs:
                    entry["actions"] = {"upload": {"href": f"{hub.url}/lfs-store/{obj['oid']}?sig=ok"}}
                objects.append(entry)
            return self._send(200, {"transfer": "basic", "objects": objects})
        if match(r"/lfs-store/(?P<oid>[0-9a-f]{64})") and self.command == "PUT":
            if hashlib.sha256(body).hexdigest() != m["oid"]:
                return self._error(400, "sha256 mismatch")
            hub.lfs[m["oid"]] = body
            return self._send(200, {})
        if match(r"/datasets/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)"):
            repo = hub.repos.get(m["repo"])
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            file = unquote(m["file"])
            if file not in repo.files:
                return self._error(404, "Entry not found", "EntryNotFound")
            data = repo.files[file]
            headers = {"ETag": f'"{_git_blob_sha1(data)}"', "X-Repo-Commit": repo.head}
            rng = self.headers.get("Range")
            if rng:
                start, _, end = rng.removeprefix("bytes=").partition("-")
                chunk = data[int(start) : (int(end) + 1) if end else None]
                headers["Content-Range"] = f"bytes {start}-{int(start) + len(chunk) - 1}/{len(data)}"
                return self._send(206, raw=chunk, headers=headers)
            return self._send(200, raw=data, headers=headers)
        if not match(_REPO + r"(?P<rest>/.*)?"):
            return self._error(404, f"no route for {self.command} {path}")
        repo = hub.repos.get(m["repo"])
        if repo is None:
            return self._error(404, "Repository not found", "RepoNotFound")
        rest = m["rest"] or ""
        if self.command == "GET" and (rest == "" or re.fullmatch(r"/revision/[^/]+", rest)):
            return self._send(200, hub.repo_json(repo))
        if self.command == "POST" and re.fullmatch(r"/preupload/[^/]+", rest):
            files = json.loads(body)["files"]
            return self._send(
                200,
                {
                    "files": [
                        {
                            "path": f["path"],
                            "uploadMode": "lfs" if f["path"].endswith((".parquet", ".arrow")) else "regular",
                            "shouldIgnore": False,
                            "oid": None,
                        }
                        for f in files
                    ]
                },
            )
        if self.command == "POST" and re.fullmatch(r"/commit/[^/]+", rest):
            return self._commit(repo, body)
        tree = re.fullmatch(r"/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", rest)
        if self.command == "GET" and tree:
            recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
            entries = hub.entries(repo, unquote(tree["path"] or ""), recursive)
            if entries is None:
                return self._error(404, "Entry not found", "EntryNotFound")
            return self._send(200, entries)
        if self.command == "POST" and re.fullmatch(r"/paths-info/[^/]+", rest):
            try:
                paths = json.loads(body)["paths"]
            except ValueError:
                paths = parse_qs(body.decode())["paths"]
            out = []
            for p in paths:
                p = p.strip("/")
                if p in repo.files:
                    out.append(hub.file_entry(repo, p))
                elif any(f.startswith(p + "/") for f in repo.files):
                    out.append({"type": "directory", "path": p, "oid": _git_blob_sha1(p.encode()), "size": 0})
            return self._send(200, out)
        return self._error(404, f"no route for {self.command} {path}")

    def _validate_yaml(self, payload: dict[str, Any]) -> None:
        content = payload.get("content", "")
        match = re.match(r"^\s*---\r?\n([\s\S]*?)\r?\n---", content)
        errors = []
        if match:
            try:
                meta = yaml.safe_load(match.group(1))
            except yaml.YAMLError as exc:
                meta, errors = None, [{"message": f"invalid YAML: {exc}"}]
            if not errors and not isinstance(meta, dict):
                errors.append({"message": "metadata must be a mapping"})
            elif not errors:
                for key in ("license", "language", "task_categories", "size_categories", "tags"):
                    value = meta.get(key)
                    if value is not None and not isinstance(value, (str, list)):
                        errors.append({"message": f"'{key}' must be a string or a list"})
        if errors:
            return self._send(400, {"errors": errors, "warnings": []})
        return self._send(200, {"errors": [], "warnings": []})

    def _commit(self, repo: Repo, body: bytes) -> None:
        hub = self.hub
        lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        header = lines[0]["value"]
        parent = header.get("parentCommit")
        if parent and parent != repo.head:
            return self._error(412, "parent commit is not the head")
        staged = dict(repo.files)
        lfs_paths = set(repo.lfs_paths)
        for item in lines[1:]:
            key, value = item["key"], item["value"]
            if key == "file":
                staged[value["path"]] = base64.b64decode(value["content"])
                lfs_paths.discard(value["path"])
            elif key == "lfsFile":
                data = hub.lfs.get(value["oid"])
                if data is None:
                    return self._error(422, f"LFS object {value['oid']} was never uploaded")
                staged[value["path"]] = data
                lfs_paths.add(value["path"])
            elif key == "deletedFile":
                staged.pop(value["path"], None)
            elif key == "deletedFolder":
                for p in [p for p in staged if p.startswith(value["path"].rstrip("/") + "/")]:
                    del staged[p]
        repo.files, repo.lfs_paths = staged, lfs_paths
        repo.commits.append(_new_sha())
        repo.commit_messages.append(header.get("summary", ""))
        return self._send(
            200,
            {
                "commitUrl": f"{hub.url}/datasets/{repo.repo_id}/commit/{repo.head}",
                "commitOid": repo.head,
                "pullRequestUrl": None,
            },
        )
