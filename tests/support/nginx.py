"""A real nginx (Debian's package) balancing a webhook over several local `attn run` processes.

`nginx_executable()` installs the package with apt-get when it is missing and FAILS the test
(never skips it) when that is impossible. `Nginx` writes a config like deploy/nginx.conf (same
proxy settings: keep-alive upstream, `proxy_next_upstream error http_502 http_503
non_idempotent`), but plain HTTP on a loopback port and the upstream servers given, and logs
which upstream served each request.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

from tests.support.debian import debian_program

_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


def nginx_executable() -> str:
    """The nginx binary; installs Debian's `nginx` package when it is missing."""
    return debian_program(
        ("nginx", *_CANDIDATES), ("nginx",), "three webhook processes behind a real load balancer"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CONFIG = """\
{user}worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    log_format upstream '$upstream_addr|$status|$request_time';
    access_log {dir}/access.log upstream;
    server_tokens off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;

    upstream attn_bot {{
{servers}
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;

        location ~ ^/(healthz|readyz|metrics)$ {{
            return 404;
        }}

        location ~ ^/projector/[^/]+/[^/]+/events$ {{
            proxy_pass http://attn_bot;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 60s;
        }}

        location / {{
            proxy_pass http://attn_bot;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 60s;
            proxy_next_upstream error http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground with a generated config under `directory`."""

    def __init__(self, directory: Path, upstream_ports: list[int]) -> None:
        self.executable = nginx_executable()
        self.directory = directory
        self.port = free_port()
        self.upstream_ports = upstream_ports
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        (self.directory / "tmp").mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;"
            for port in self.upstream_ports
        )
        config = CONFIG.format(
            # As root, nginx's workers would run as nobody, who cannot reach pytest's 0700 dirs.
            user="user root;\n" if os.geteuid() == 0 else "",
            dir=self.directory,
            servers=servers,
            port=self.port,
        )
        config_path = self.directory / "nginx.conf"
        config_path.write_text(config)
        argv = [self.executable, "-p", str(self.directory), "-c", str(config_path)]
        check = subprocess.run(
            [*argv, "-e", str(self.directory / "error.log"), "-t"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert check.returncode == 0, f"nginx -t refused the config:\n{check.stderr}\n{config}"
        with (self.directory / "stdout.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*argv, "-e", str(self.directory / "error.log"), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise AssertionError("nginx exited at start:\n" + self.error_log())
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return self
            if time.monotonic() > deadline:
                raise AssertionError("nginx did not listen:\n" + self.error_log())
            time.sleep(0.05)

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def served_by(self) -> Counter[str]:
        """Requests per upstream address (as nginx logged them; retries show as "a, b")."""
        path = self.directory / "access.log"
        if not path.exists():
            return Counter()
        return Counter(line.split("|")[0] for line in path.read_text().splitlines() if line)

    def statuses(self) -> Counter[str]:
        path = self.directory / "access.log"
        if not path.exists():
            return Counter()
        return Counter(line.split("|")[1] for line in path.read_text().splitlines() if line)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish open requests
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
