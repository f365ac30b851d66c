"""The ``postgres_dsn`` fixture starts a real server with password auth on."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def test_dsn_shape(postgres_dsn: str, postgres_password: str) -> None:
    url = urlsplit(postgres_dsn)
    assert url.scheme == "postgresql"
    assert url.hostname == "127.0.0.1"
    assert url.username == "b2b"
    assert url.path == "/b2b"
    assert postgres_password not in postgres_dsn  # '@' and '/' are URL-encoded
    assert unquote(url.password or "") == postgres_password


def test_roundtrip(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == (
            "b2b",
            "b2b",
        )
        conn.execute("CREATE TEMP TABLE orders (id int PRIMARY KEY, client text, amount numeric)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO orders VALUES (%s, %s, %s)",
                [(1, "acme", 10.5), (2, "globex", 3), (3, "acme", 1.25)],
            )
        rows = conn.execute(
            "SELECT client, sum(amount)::float FROM orders GROUP BY client ORDER BY client"
        ).fetchall()
    assert rows == [("acme", 11.75), ("globex", 3.0)]


def test_persistent_table(postgres_dsn: str) -> None:
    table = "fixture_smoke"
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute(f"CREATE TABLE {table} (k text, v int)")
        conn.execute(f"INSERT INTO {table} VALUES ('a', 1), ('b', 2)")
    try:
        with psycopg.connect(postgres_dsn) as conn:
            assert conn.execute(f"SELECT k, v FROM {table} ORDER BY k").fetchall() == [
                ("a", 1),
                ("b", 2),
            ]
    finally:
        with psycopg.connect(postgres_dsn) as conn:
            conn.execute(f"DROP TABLE {table}")


def test_wrong_password_rejected(postgres_dsn: str, postgres_password: str) -> None:
    url = urlsplit(postgres_dsn)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host=url.hostname,
            port=url.port,
            user="b2b",
            dbname="b2b",
            password=postgres_password + "-wrong",
            connect_timeout=5,
        )


def test_no_password_rejected(postgres_dsn: str) -> None:
    url = urlsplit(postgres_dsn)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            host=url.hostname,
            port=url.port,
            user="b2b",
            dbname="b2b",
            password="",
            connect_timeout=5,
        )


def test_server_is_postgres(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        method = conn.execute("SHOW password_encryption").fetchone()
    assert version is not None and int(version[0]) >= 130000
    assert method == ("scram-sha-256",)


def test_closed_port_refused(closed_port_dsn: str, postgres_password: str) -> None:
    with pytest.raises(psycopg.OperationalError) as excinfo:
        psycopg.connect(closed_port_dsn, connect_timeout=5)
    assert postgres_password not in str(excinfo.value)
