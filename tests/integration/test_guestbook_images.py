"""The guestbook's images, without Docker: their rootfs tars, as `image build` makes them,
unpacked and run under chroot with the busybox httpd and sh inside them, so the CGI scripts
meet exactly the shell and applets they will have in a pod. Hostile input goes in; nothing
but escaped text comes out."""

from __future__ import annotations

import http.client
import io
import json
import socket
import subprocess
import tarfile
import time
import urllib.parse
from pathlib import Path

import pytest

from bosun import imagebuild, rootfs

from .conftest import require_root

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "manifests" / "images"
PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
HOSTNAME = socket.gethostname()  # a chroot shares the host's UTS namespace


def unpack(name: str, target: Path) -> Path:
    built = imagebuild.build(imagebuild.load_spec(IMAGES / name), rootfs.host_busybox())
    with tarfile.open(fileobj=io.BytesIO(built.tar)) as tar:
        tar.extractall(target, filter="fully_trusted")  # absolute applet links, inside the root
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Httpd:
    """busybox httpd of an unpacked image, under chroot, with only the given environment."""

    def __init__(self, root: Path, env: list[str]) -> None:
        self.root = root
        self.port = free_port()
        self.process = subprocess.Popen(
            ["env", "-i", PATH, *env, "chroot", str(root), "httpd", "-f", "-p",
             f"127.0.0.1:{self.port}", "-h", "/www"], stderr=subprocess.DEVNULL)
        wait_listening(self.port)

    def request(self, method: str, path: str, body: str | None = None,
                ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        text = reply.read().decode()
        conn.close()
        return reply.status, dict(reply.getheaders()), text

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    require_root()
    server = Httpd(unpack("guestbook-backend", tmp_path_factory.mktemp("backend")),
                   ["GUESTBOOK_DATA=/data"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def frontend(tmp_path_factory, backend):
    server = Httpd(unpack("guestbook-frontend", tmp_path_factory.mktemp("frontend")),
                   ["BACKEND_SERVICE=guestbook-backend", "GUESTBOOK_BACKEND_SERVICE_HOST=127.0.0.1",
                    f"GUESTBOOK_BACKEND_SERVICE_PORT={backend.port}"])
    yield server
    server.stop()


def entries(backend: Httpd) -> list[str]:
    status, _, text = backend.request("GET", "/cgi-bin/entries")
    assert status == 200
    pod, count, *lines = text.splitlines()
    assert pod == f"pod: {HOSTNAME}" and count == f"entries: {len(lines)}"
    return lines


def add(backend: Httpd, raw: str) -> list[str]:
    status, _, text = backend.request("GET", f"/cgi-bin/entries?x=1&entry={raw}&y=2")
    assert status == 200
    return text.splitlines()[2:]


def test_backend_decodes_form_encoding(backend):
    assert add(backend, "hello+world%21+1%2B1%3D2")[-1] == "hello world! 1+1=2"
    status, _, text = backend.request("POST", "/cgi-bin/entries", body="entry=posted+%C3%A9t%C3%A9")
    assert status == 200 and text.splitlines()[-1] == "posted été"
    assert entries(backend)[-2:] == ["hello world! 1+1=2", "posted été"]


@pytest.mark.parametrize(("raw", "stored"), [
    ("a%0D%0Apod%3A+forged%0Ab", "a  pod: forged b"),
    ("%1B%5B31mred%09tab", " [31mred tab"),
    ("%24%28reboot%29+%60id%60+%5C%22", '$(reboot) `id` \\"'),
    ("-d", "-d"),
], ids=["newlines", "escape-and-tab", "shell-syntax", "option-like"])
def test_backend_stores_one_plain_line_whatever_the_input(backend, raw, stored):
    assert add(backend, raw)[-1] == stored


def test_backend_cuts_long_entries_and_skips_blank_ones(backend):
    assert add(backend, "x" * 300)[-1] == "x" * 200
    before = entries(backend)
    assert add(backend, "+%20%09") == before
    assert add(backend, "%00nul") == before


def test_backend_answers_json(backend):
    add(backend, "%22quoted%22+and+back%5Cslash")
    status, headers, text = backend.request("GET", "/cgi-bin/entries?format=json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    answer = json.loads(text)
    assert answer["pod"] == HOSTNAME
    assert answer["entries"] == entries(backend)
    assert answer["entries"][-1] == '"quoted" and back\\slash'


def test_frontend_page_lists_the_backends_entries_escaped(frontend, backend):
    add(backend, urllib.parse.quote_plus("<script>alert('x')</script> & \"co\""))
    status, headers, page = frontend.request("GET", "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert ("<li>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;</li>"
            in page)
    assert "<script>" not in page
    assert page.count("<li>") == len(entries(backend))
    assert f'<b id="frontend">{HOSTNAME}</b>' in page
    assert f'<b id="backend">{HOSTNAME}</b> via 127.0.0.1:{backend.port}' in page


def test_frontend_posted_form_adds_through_the_backend_then_redirects(frontend, backend):
    status, headers, _ = frontend.request("POST", "/", body="entry=signed+%3Ci%3Ehere%3C%2Fi%3E")
    assert status == 303 and headers["Location"] == "/"
    assert entries(backend)[-1] == "signed <i>here</i>"
    assert "<li>signed &lt;i&gt;here&lt;/i&gt;</li>" in frontend.request("GET", "/")[2]


def test_frontend_refuses_what_is_not_form_encoded(frontend, backend):
    before = entries(backend)
    status, _, page = frontend.request("GET", "/?entry=a'b%26c")
    assert status == 200 and "the entry must be form-encoded" in page
    assert entries(backend) == before


def page_once(root: Path, env: list[str]) -> str:
    """The frontend CGI run once by hand (no httpd) with only env: its whole answer."""
    return subprocess.run(["env", "-i", PATH, *env, "chroot", str(root), "/www/cgi-bin/index.cgi"],
                          capture_output=True, text=True, timeout=10, check=True).stdout


def test_frontend_without_the_service_variables_says_why(frontend):
    page = page_once(frontend.root, [])
    assert "no GUESTBOOK_BACKEND_SERVICE_HOST/PORT: the guestbook-backend service" in page
    page = page_once(frontend.root, ["GUESTBOOK_BACKEND_SERVICE_HOST=127.0.0.1",
                                     f"GUESTBOOK_BACKEND_SERVICE_PORT={free_port()}"])
    assert "the backend at 127.0.0.1:" in page and "did not answer" in page


def test_frontend_finds_a_backend_service_of_another_name(frontend, backend):
    page = page_once(frontend.root, ["BACKEND_SERVICE=my-store-2",
                                     "MY_STORE_2_SERVICE_HOST=127.0.0.1",
                                     f"MY_STORE_2_SERVICE_PORT={backend.port}"])
    assert f"via 127.0.0.1:{backend.port}</p>" in page and "error" not in page
