"""A bad download, a full disk, a Hub that never answers or asks us to wait, a token in HF_ENDPOINT: linker
links what it can, says what failed in one line, exits with the documented code, and never prints a secret."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from testing.fsfaults import small_tmpfs
from testing.hfprobe import load_file
from testing.hubhelpers import entry, push
from testing.hubserver.pytest_plugin import make_hub_env

HF_LOG_MARKERS = ("Consistency check failed", "Trying to resume", "Retrying in", "thrown while requesting", "Traceback")


def assert_no_raw_hf_output(text: str) -> None:
    for marker in HF_LOG_MARKERS:
        assert marker not in text, f"raw huggingface_hub output leaked: {marker!r}\n{text}"


def lines_naming(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


# ---------------------------------------------------------------------------------------------------------------
# Item 10: one bad download does not abort the sync


@pytest.mark.parametrize("fault", ["short", "cut", "wrong"])
def test_bad_download_links_the_rest_and_names_the_entry(project, hub_store, hub, hub_env, fault):
    good, bad = push(hub_store, "acme/good"), push(hub_store, "acme/bad", seed=3)
    project.write_lock([entry(hub_store, "acme/good", good)])
    assert project.linker("sync", env=hub_env).returncode == 0  # acme/good is in the global cache already
    fresh = push(hub_store, "acme/fresh", seed=4)
    project.write_lock(
        [entry(hub_store, "acme/bad", bad), entry(hub_store, "acme/good", good), entry(hub_store, "acme/fresh", fresh)]
    )
    hub.corrupt(hub_store.files_at("acme/bad", bad)["model.safetensors"].etag, fault)
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert_no_raw_hf_output(r.stdout + r.stderr)
    named = lines_naming(r.stderr, "acme/bad")
    assert named and any("model.safetensors" in line for line in named), r.stderr
    for repo, sha in (("acme/good", good), ("acme/fresh", fresh)):
        assert load_file(project.view, repo, "config.json", revision=sha) == (
            hub_store.files_at(repo, sha)["config.json"].read_bytes()
        )
    status = json.loads(project.linker("status", "--json").stdout)
    states = {e["repo"]: e["state"] for e in status["entries"]}
    assert states["acme/good"] == states["acme/fresh"] == "linked" and states["acme/bad"] != "linked"
    # once the Hub serves the file well again, the next sync completes it
    hub.corrupt(hub_store.files_at("acme/bad", bad)["model.safetensors"].etag, None)
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert load_file(project.view, "acme/bad", "model.safetensors", revision=bad) == (
        hub_store.files_at("acme/bad", bad)["model.safetensors"].read_bytes()
    )


def test_full_disk_while_downloading_links_the_rest(project, hub_store, hub, hub_env, tmp_path):
    from testing.cachefactory import tiny_model_files

    small = push(hub_store, "acme/small")
    big = push(hub_store, "acme/big", files={**tiny_model_files(seed=9, big=3 * 1024 * 1024)})
    with small_tmpfs(project.global_cache, "2m"):
        project.write_lock([entry(hub_store, "acme/small", small)])
        assert project.linker("sync", env=hub_env).returncode == 0
        project.write_lock([entry(hub_store, "acme/big", big), entry(hub_store, "acme/small", small)])
        r = project.linker("sync", env=hub_env)
        assert r.returncode == 1, r.stdout + r.stderr
        assert_no_raw_hf_output(r.stdout + r.stderr)
        named = lines_naming(r.stderr, "acme/big")
        assert any("No space left on device" in line for line in named), r.stderr
        assert load_file(project.view, "acme/small", "vocab.txt", revision=small) == (
            hub_store.files_at("acme/small", small)["vocab.txt"].read_bytes()
        )


@pytest.fixture
def silent_hub() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def trickling_hub() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that answers every request with headers, then one body byte every 0.2 s."""
    stop = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while not stop.wait(0.2):
                conn.sendall(b" ")

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = server.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        server.close()


# ---------------------------------------------------------------------------------------------------------------
# Item 12: a deadline on every Hub request; retries that honour Retry-After, counted


ONLINE_COMMANDS = [("add", "acme/tiny"), ("lock",), ("sync",), ("verify", "--remote")]


def _lock_for(project, hub_store, args: tuple[str, ...]) -> None:
    sha = push(hub_store, "acme/tiny")
    if args[0] != "add":
        project.write_lock([entry(hub_store, "acme/tiny", sha, files=args[0] != "lock")])


@pytest.mark.parametrize("args", ONLINE_COMMANDS, ids=lambda a: a[0])
@pytest.mark.parametrize("server", ["silent_hub", "trickling_hub"])
def test_hub_that_never_answers_exits_3(project, hub_store, tmp_path, request, args, server):
    endpoint = request.getfixturevalue(server)
    _lock_for(project, hub_store, args)
    env = {**make_hub_env(endpoint, tmp_path / "hf-home"), "LINKER_HUB_TIMEOUT": "1"}
    r = project.linker(*args, env=env, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 3, out
    assert_no_raw_hf_output(out)
    named = lines_naming(out, f"{endpoint} did not answer within 1 s")
    assert named, out
    assert len(lines_naming(r.stderr, "error:")) <= 1


def test_invalid_timeout_warns_and_uses_the_default(project, hub_store, hub, hub_env):
    push(hub_store, "acme/tiny")
    r = project.linker("add", "acme/tiny", env={**hub_env, "LINKER_HUB_TIMEOUT": "soon"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(lines_naming(r.stderr, "LINKER_HUB_TIMEOUT")) == 1
    assert "using 30" in r.stderr


@pytest.mark.parametrize(("status", "retry_after"), [(429, 0), (503, 1)])
@pytest.mark.parametrize("args", ONLINE_COMMANDS, ids=lambda a: a[0])
def test_429_and_503_are_retried_and_counted(project, hub_store, hub, hub_env, args, status, retry_after):
    _lock_for(project, hub_store, args)
    hub.fail_with(status, times=2, retry_after=retry_after)
    r = project.linker(*args, env=hub_env, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert_no_raw_hf_output(out)
    assert "2 Hub request(s) retried" in r.stderr and f"HTTP {status} x2" in r.stderr, r.stderr
    waits = [e for e in hub.requests if e["status"] == status]
    assert len(waits) == 2


def test_retry_after_beyond_the_deadline_gives_up_at_once(project, hub_store, hub, hub_env):
    push(hub_store, "acme/tiny")
    hub.fail_with(429, retry_after=3600)
    r = project.linker("add", "acme/tiny", env={**hub_env, "LINKER_HUB_TIMEOUT": "5"}, timeout=60)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "rate limited" in r.stderr and len(hub.requests) == 1


# ---------------------------------------------------------------------------------------------------------------
# Item 17: a token in HF_ENDPOINT is never printed

URL_SECRET = "hf_UrlEmbeddedSecret0123456789"


def _secret_endpoint(endpoint: str) -> str:
    return endpoint.replace("http://", f"http://linker:{URL_SECRET}@")


@pytest.mark.parametrize("args", ONLINE_COMMANDS, ids=lambda a: a[0])
@pytest.mark.parametrize("outcome", ["ok", "failing", "silent"])
def test_token_in_the_endpoint_url_is_never_printed(project, hub_store, hub, hub_env, silent_hub, args, outcome):
    _lock_for(project, hub_store, args)
    endpoint = silent_hub if outcome == "silent" else hub.endpoint
    env = {**hub_env, "HF_ENDPOINT": _secret_endpoint(endpoint), "LINKER_HUB_TIMEOUT": "1"}
    if outcome == "failing":
        hub.fail_with(500)
    for flags in (["-v"], ["--json"] if args[0] != "verify" else ["--remote", "--json"]):
        cmd = [*flags, *args] if flags == ["-v"] else [args[0], *flags, *[a for a in args[1:] if a != "--remote"]]
        if args[0] == "add":
            project.lock_path.unlink(missing_ok=True)
        r = project.linker(*cmd, env=env, timeout=60)
        out = r.stdout + r.stderr
        assert r.returncode == (0 if outcome == "ok" else 3), out
        assert URL_SECRET not in out, out
        if outcome != "ok":
            assert "127.0.0.1" in out  # the endpoint is still named, without its userinfo


@pytest.mark.parametrize(
    ("raw", "want", "warned"),
    [("", 30.0, False), ("2.5", 2.5, False), ("0", None, False), ("-1", 30.0, True), ("nan", 30.0, True),
     ("inf", 30.0, True), ("soon", 30.0, True)],
)  # fmt: skip
def test_timeout_setting(monkeypatch, raw, want, warned):
    from linker.hub.client import timeout_from_env

    monkeypatch.setenv("LINKER_HUB_TIMEOUT", raw)
    said: list[str] = []
    assert timeout_from_env(said.append) == want
    assert len(said) == (1 if warned else 0)


def test_scrubbing_urls_tokens_and_streams(monkeypatch):
    import io

    from linker.redact import ScrubbingStream, scrub_text, scrub_url

    monkeypatch.setenv("HF_TOKEN", "hf_FromTheEnvironment123")
    assert scrub_url("see https://me:hf_x1@hub.example:8080/api?x=1") == "see https://***@hub.example:8080/api?x=1"
    assert scrub_url("https://hub.example/a@b") == "https://hub.example/a@b"  # an @ in the path is not userinfo
    text = "Traceback: GET http://u:p@h/x failed (Bearer hf_FromTheEnvironment123)"
    assert scrub_text(text) == "Traceback: GET http://***@h/x failed (Bearer ***)"
    sink = io.StringIO()
    stream = ScrubbingStream(sink, ("s3cr3t-value",))
    stream.write(f"{URL_SECRET} http://a:{URL_SECRET}@h s3cr3t-value\n")
    assert sink.getvalue() == f"{URL_SECRET} http://***@h ***\n"  # a bare value is hidden only when it is known
    assert stream.getvalue() == sink.getvalue()  # everything else is the wrapped stream's


def test_repair_never_keeps_a_refetched_blob_with_wrong_bytes(project, hub_store, hub, hub_env):
    sha = push(hub_store, "acme/tiny")
    project.write_lock([entry(hub_store, "acme/tiny", sha)])
    assert project.linker("sync", env=hub_env).returncode == 0
    etag = hub_store.files_at("acme/tiny", sha)["model.safetensors"].etag
    blob = project.global_cache / "models--acme--tiny" / "blobs" / etag
    blob.unlink()
    hub.corrupt(etag, "wrong")
    r = project.linker("repair", env=hub_env)
    assert r.returncode != 0, r.stdout + r.stderr
    assert not blob.exists()
    assert "model.safetensors" in r.stdout + r.stderr
    hub.corrupt(etag, None)
    r = project.linker("repair", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert load_file(project.view, "acme/tiny", "model.safetensors", revision=sha) == (
        hub_store.files_at("acme/tiny", sha)["model.safetensors"].read_bytes()
    )
