"""nginx in front of two workers, with the configuration docs/operations.md describes.

Only when Debian's nginx is installed (``command -v nginx``); the suite skips that fault
otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from tests_support import free_port

CONF = """
worker_processes 1;
daemon off;
user root;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream tkd {{
{servers}
        keepalive 16;
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 20m;
        location /ws/ {{
            proxy_pass http://tkd;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 75s;
            proxy_send_timeout 15s;
            proxy_connect_timeout 3s;
            proxy_next_upstream error timeout;
        }}
        location / {{
            proxy_pass http://tkd;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 3s;
            proxy_next_upstream error timeout http_502 http_503;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, upstream_urls: list[str]) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tkd-chaos-nginx-"))
        self.port = free_port()
        servers = "\n".join(
            f"        server {u.split('://', 1)[1]} max_fails=1 fail_timeout=5s;"
            for u in upstream_urls
        )
        conf = self.root / "nginx.conf"
        conf.write_text(CONF.format(root=self.root, servers=servers, port=self.port))
        self.process = subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", str(self.root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"nginx did not start: {(self.root / 'error.log').read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)
