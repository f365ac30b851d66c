"""Security of the reports: paths, HTML escaping in a real browser, secrets, injection.

One ``report`` run (:func:`secure_run`, the real notebooks) over

* ``evil``: its orders come from a real PostgreSQL server; the client name, the
  customer ids and the online channel label carry HTML and script payloads, the
  name also quotes, triple quotes and a newline; its params file sits in a folder
  whose name is a Python injection attempt (the path is a notebook parameter);
* ``pg-down``: a PostgreSQL source whose server is down;
* ``pg-query``: a query that fails (on a table named like a script tag);
* ``unmapped``: an unmapped channel label that is a script tag.

Every file the run writes and everything it prints is searched for the
connection strings and the password (raw and URL-encoded); every page is opened
in headless Chromium, the chart points hovered, and no script from the data may
run. A second, small run checks that no client name or slug writes outside
the output folder.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
import psycopg
import pytest
import yaml

from b2b_analysis.report import NOTEBOOKS
from tests.support.bad_input import GOOD
from tests.support.clientkit import ORDER_HEADER, open_report_page, run_cli, write_client
from tests.support.reportkit import Run, lite_notebooks, run_report, tiny_client

SCRIPT = "<script>window.__xss=1;alert(1)</script>"
IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
#: The client's display name: quotes of every kind, a newline and two payloads.
CLIENT = f'Evil "Corp" \'\'\'triple\'\'\' """quotes""" \\ back\nsecond line {SCRIPT} {IMG}'
#: The online channel label of ``evil`` (mapped, so it loads).
CHANNEL = "<script>alert('channel')</script>"
CUSTOMERS = (SCRIPT, IMG, 'Zoë & "Sons" <b>bold</b>', "plain-4", "plain-5")
#: The folder of evil's params file: each line tries another way out of a string literal.
EVIL_DIR = (
    "q \" ' \"\"\" ''' \\ end"
    '"+open(__import__("os").environ["B2B_SEC_PWNED"],"w").name+"'
    "'+open(__import__('os').environ['B2B_SEC_PWNED'],'w').name+'"
    '"""+open(__import__("os").environ["B2B_SEC_PWNED"],"w").name+"""'
    '\n__import__("os").system("touch $B2B_SEC_PWNED") #'
)
DSN_ENV, DOWN_ENV = "B2B_SEC_DSN", "B2B_SEC_DOWN_DSN"


def _orders() -> list[tuple[Any, ...]]:
    """Six months of orders; every customer buys online and by phone (distinct AOVs);
    the three customers whose ids carry markup stop after May, so that they are on the
    page's "lapsed" account list (ids shown in a table)."""
    rows = []
    for month in range(1, 7):
        for i, customer in enumerate(CUSTOMERS):
            if month == 6 and i < 3:
                continue
            day = dt.date(2024, month, 3 + 4 * i)
            rows.append((f"E-{month}-{i}-w", customer, day, CHANNEL, 100 + 37 * i + month, "ok"))
            rows.append((f"E-{month}-{i}-p", customer, day, "Phone", 400 + 91 * i + month, "ok"))
    return rows


@dataclass
class SecureRun(Run):
    base: Path
    env: dict[str, str]
    secrets: list[str]
    evil_params: Path
    pwned: Path


@pytest.fixture(scope="module")
def secure_run(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_dsn: str,
    closed_port_dsn: str,
    postgres_password: str,
) -> SecureRun:
    base = tmp_path_factory.mktemp("security")
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS evil_orders")
        conn.execute(
            "CREATE TABLE evil_orders (order_id text, customer_id text, order_date date, "
            "channel text, revenue numeric(12, 2), status text)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO evil_orders VALUES (%s, %s, %s, %s, %s, %s)", _orders())

    def pg_client(folder: Path, slug: str, query: str, env: str, **extra: Any) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        doc = {
            "client": extra.pop("client", slug),
            "slug": slug,
            "data": {"orders": {"query": query, "connection_env": env}},
            "channels": {"online": [CHANNEL], "offline": ["Phone"]},
            "statuses": {"placed": ["ok"]},
            **extra,
        }
        path = folder / "client.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        return path

    evil = pg_client(base / EVIL_DIR, "evil", "SELECT * FROM evil_orders", DSN_ENV, client=CLIENT)
    down = pg_client(base / "down", "pg-down", "SELECT * FROM evil_orders", DOWN_ENV)
    failing = pg_client(base / "query", "pg-query", f'SELECT * FROM "{CHANNEL}"', DSN_ENV)
    unmapped = write_client(
        base / "unmapped",
        {"orders": (ORDER_HEADER, [*GOOD, ("4", "c", "2024-01-08", SCRIPT, 5, "placed")])},
        client="Unmapped",
    )
    pwned = base / "PWNED"
    env = {DSN_ENV: postgres_dsn, DOWN_ENV: closed_port_dsn, "B2B_SEC_PWNED": str(pwned)}
    run = run_report(evil, down, failing, unmapped, "--out", base / "out", env=env)
    secrets = [
        postgres_dsn,
        closed_port_dsn,
        postgres_password,
        quote(postgres_password, safe=""),
        quote(postgres_password),
        postgres_password[:6],  # any piece of it
    ]
    return SecureRun(
        **vars(run), base=base, env=env, secrets=secrets, evil_params=evil, pwned=pwned
    )


# ------------------------------------------------------------------ secrets


@pytest.mark.postgres
@pytest.mark.slow
def test_the_run_used_the_database_and_failed_where_expected(secure_run: SecureRun) -> None:
    err = secure_run.stderr
    assert secure_run.returncode == 1, err
    assert "ok evil:" in err and "Traceback" not in err
    for slug in ("pg-down", "pg-query", "unmapped"):
        assert f"FAILED {slug}:" in err
    lines = [line.strip() for line in err.splitlines() if line.startswith("    kpis: ")]
    assert any(
        "(data.orders, PostgreSQL via $B2B_SEC_DOWN_DSN): cannot connect to the PostgreSQL "
        "server" in line
        for line in lines
    ), lines
    assert any("the query failed: " in line and CHANNEL in line for line in lines), lines
    assert any("channel label(s) not in the channel mapping" in line for line in lines), lines
    doc = json.loads((secure_run.out / "evil" / "kpis.json").read_text(encoding="utf-8"))
    assert doc["kpis"]["orders"] == len(_orders()) and doc["client"] == CLIENT


@pytest.mark.postgres
@pytest.mark.slow
def test_no_secret_in_any_output_log_or_message(secure_run: SecureRun) -> None:
    """Every file under the output folder (hidden ones, notebooks and the workers'
    log included), stdout and stderr: no connection string, no password."""
    files = [p for p in secure_run.out.rglob("*") if p.is_file()]
    names = {str(p.relative_to(secure_run.out)) for p in files}
    # the clients that fail run no notebook: their error is in status.json and index.html
    assert {".workers.log", "evil/overview.ipynb", "pg-down/status.json"} <= names
    assert "cannot connect" in (secure_run.out / "pg-down" / "status.json").read_text("utf-8")
    texts = {str(p): p.read_bytes().decode("utf-8", "replace") for p in files}
    texts["stdout"], texts["stderr"] = secure_run.stdout, secure_run.stderr
    for where, text in texts.items():
        for secret in secure_run.secrets:
            assert secret not in text, f"a secret ({secret[:3]}...) is in {where}"


@pytest.mark.postgres
def test_no_secret_in_kpis_output_or_errors(
    tmp_path: Path, postgres_dsn: str, closed_port_dsn: str, postgres_password: str
) -> None:
    """The same search over ``kpis`` in every format, with the server up and down."""
    secrets = [postgres_dsn, closed_port_dsn, postgres_password, quote(postgres_password, safe="")]
    params = tmp_path / "client.yaml"
    params.write_text(
        f"client: K\ndata:\n  orders: {{query: SELECT 1 AS x, connection_env: {DSN_ENV}}}\n",
        encoding="utf-8",
    )
    seen = []
    for dsn in (postgres_dsn, closed_port_dsn):
        for fmt in ("json", "table"):
            result = run_cli("kpis", str(params), "-f", fmt, env={DSN_ENV: dsn})
            assert result.returncode == 2 and "Traceback" not in result.stderr
            seen.append(result.stdout + result.stderr)
    assert "missing required column" in seen[0] and "cannot connect" in seen[2]
    for text in seen:
        for secret in secrets:
            assert secret not in text


# ------------------------------------------------------------------ injection


def _injected(nb_path: Path) -> dict[str, Any]:
    nb = nbformat.read(nb_path, as_version=4)
    [cell] = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    values = {}
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign), ast.dump(node)  # assignments of literals only
        [target] = node.targets
        assert isinstance(target, ast.Name)
        values[target.id] = ast.literal_eval(node.value)
    return values


@pytest.mark.postgres
@pytest.mark.slow
def test_params_path_with_quotes_and_newlines_cannot_inject_code(
    secure_run: SecureRun,
) -> None:
    assert not secure_run.pwned.exists(), "code from a folder name ran"
    folder = secure_run.out / "evil"
    for name in NOTEBOOKS:
        assert _injected(folder / f"{name}.ipynb") == {
            "params_path": str(secure_run.evil_params.resolve()),
            "start": None,
            "end": None,
            "period": None,
        }
    status = (folder / "status.json").read_text(encoding="utf-8")
    assert '"ok": true' in status


@pytest.mark.postgres
@pytest.mark.slow
def test_client_name_is_shown_literally_and_escaped(secure_run: SecureRun) -> None:
    folder = secure_run.out / "evil"
    index = (folder / "index.html").read_text(encoding="utf-8")
    for path in secure_run.out.rglob("*.html"):
        page = path.read_text(encoding="utf-8")
        for payload in (SCRIPT, IMG, CHANNEL):
            assert payload not in page, (payload, path)
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in index
    overview = (folder / "overview.html").read_text(encoding="utf-8")
    # the notebook header (Markdown): escaped, and no Markdown escape left visible
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt; &lt;img src=x onerror=" in overview
    assert "\\(" not in overview.split("second line", 1)[1][:200]


def test_yaml_tags_are_not_constructed(tmp_path: Path) -> None:
    """A params file with Python object tags is refused as malformed; nothing runs."""
    pwned = tmp_path / "PWNED"
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system"):
        params = tmp_path / "client.yaml"
        params.write_text(f'client: !{tag[1:]} ["touch {pwned}"]\ndata: x.csv\n')
        result = run_cli("kpis", str(params))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "malformed YAML at line 1" in result.stderr and "client.yaml" in result.stderr
        assert not pwned.exists()


# ------------------------------------------------------------------ output paths


@pytest.fixture(scope="module")
def path_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, set[Path]]:
    """Clients named ``../../etc``, ``a/b`` and ``..``; slugs ``../../etc``, ``a/b`` and
    ``.hidden``; a params file whose name is console markup. Returns the run and the
    files it created (anywhere under pytest's temporary root)."""
    base = tmp_path_factory.mktemp("paths")
    files = [
        tiny_client(base / "name-etc", "../../etc"),
        tiny_client(base / "name-ab", "a/b"),
        tiny_client(base / "name-dots", ".."),
        tiny_client(base / "slug-etc", "X", slug="../../etc"),
        tiny_client(base / "slug-ab", "Y", slug="a/b"),
        tiny_client(base / "slug-hidden", "Z", slug=".hidden"),
    ]
    markup = base / "markup" / "[bold]x[red]y.yaml"
    markup.parent.mkdir()
    markup.write_text("client: [unclosed\n", encoding="utf-8")
    notebooks = lite_notebooks(base / "notebooks")
    root = base.parent  # out/../../etc would land here
    before = {p for p in root.rglob("*") if p.is_file()}
    out = base / "o[" / "]ut"  # printed as ".../o[/]ut": rich markup if not escaped
    run = run_report(*files, markup, "--notebooks", notebooks, "--out", out)
    created = {p for p in root.rglob("*") if p.is_file()} - before
    return run, created


@pytest.mark.slow
def test_no_client_name_or_slug_writes_outside_the_output_folder(
    path_run: tuple[Run, set[Path]],
) -> None:
    run, created = path_run
    assert run.returncode == 1, run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    assert created and all(p.is_relative_to(run.out) for p in created), sorted(created)
    visible = sorted(p.name for p in run.out.iterdir() if not p.name.startswith("."))
    assert visible == ["a-b", "client", "etc", "index.html"]
    for slug in ("a-b", "client", "etc"):
        assert (run.out / slug / "status.json").exists()


@pytest.mark.slow
def test_unsafe_slugs_are_refused_by_key(path_run: tuple[Run, set[Path]]) -> None:
    run, _ = path_run
    problems = [line.strip() for line in run.stderr.splitlines() if line.startswith("    ")]
    slugs = {"slug-etc": "../../etc", "slug-ab": "a/b", "slug-hidden": ".hidden"}
    for folder, value in slugs.items():
        [line] = [p for p in problems if f"/{folder}/client.yaml" in p]
        assert f"slug: {value!r} cannot name the client's report folder" in line
    assert any("[bold]x[red]y.yaml: malformed YAML" in p for p in problems), problems
    assert "FAILED [bold]x[red]y: " in run.stderr  # the summary shows names as they are
    assert f"Portfolio: {run.out / 'index.html'}" in run.stderr


# ------------------------------------------------------------------ the browser


@dataclass
class Visit:
    dialogs: list[str]
    xss: Any
    payload_elements: int
    charts: int
    drawn: int
    tooltips: list[str]
    tooltip_elements: int
    text: str


def _visit(browser: Any, path: Path) -> Visit:
    """Open a page offline, hover every chart point, report what ran and what shows."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def route(r: Any) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            r.abort()

    page.on("dialog", on_dialog)
    page.route("**/*", route)
    try:
        charts = open_report_page(page, path)
        drawn = page.locator("div.b2b-chart svg.marks").count()
        tooltips = []
        visible = (
            "() => { const t = document.getElementById('vg-tooltip-element');"
            " return t && t.classList.contains('visible') ? t.textContent : ''; }"
        )
        points = page.locator("div.b2b-chart g.mark-symbol path[aria-label]")  # not legends
        for i in range(min(points.count(), 60)):
            page.mouse.move(0, 0)  # hides the previous tooltip
            points.nth(i).hover(force=True)
            try:
                page.wait_for_function(visible, timeout=5_000)
            except Exception:  # a point without a tooltip
                continue
            tooltips.append(page.evaluate(visible))
        return Visit(
            dialogs=dialogs,
            xss=page.evaluate("() => window.__xss === undefined ? null : window.__xss"),
            payload_elements=page.evaluate(
                "() => document.querySelectorAll('img[src=\"x\"], img[onerror]').length"
            ),
            charts=charts,
            drawn=drawn,
            tooltips=tooltips,
            tooltip_elements=page.evaluate(
                "() => document.querySelectorAll("
                "'#vg-tooltip-element img, #vg-tooltip-element script, "
                "#vg-tooltip-element b').length"
            ),
            text=page.evaluate("() => document.body.innerText"),
        )
    finally:
        page.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_no_script_from_the_data_runs_in_any_page(browser: Any, secure_run: SecureRun) -> None:
    pages = sorted(secure_run.out.rglob("*.html"))
    # evil's pages; the three failing clients' KPI step fails: an index page each
    assert len(pages) == 1 + (1 + len(NOTEBOOKS)) + 3
    visits = {str(p.relative_to(secure_run.out)): _visit(browser, p) for p in pages}
    for name, seen in visits.items():
        assert seen.dialogs == [], f"{name}: a script from the data ran: {seen.dialogs}"
        assert seen.xss is None, f"{name}: a script from the data ran"
        assert seen.payload_elements == 0, f"{name}: an element from the data was created"
        assert seen.tooltip_elements == 0, f"{name}: HTML from the data in a tooltip"
        assert seen.drawn == seen.charts, name
    flat = " ".join(CLIENT.split())
    # shown literally where the data appears: names, error messages, tooltips
    assert flat in " ".join(visits["evil/index.html"].text.split())
    assert flat in " ".join(visits["evil/overview.html"].text.split())
    assert flat in " ".join(visits["index.html"].text.split())
    assert SCRIPT in visits["unmapped/index.html"].text
    assert CHANNEL in visits["pg-query/index.html"].text
    # customer ids: the charts no longer name customers (bands, not one dot per customer);
    # the page's "Accounts to call" tables do, and show each id literally
    doc = json.loads((secure_run.out / "evil" / "kpis.json").read_text(encoding="utf-8"))
    shown = {row["customer_id"] for entry in doc["accounts"].values() for row in entry["top"]}
    assert set(CUSTOMERS[:3]) <= shown, shown  # the ids carrying markup are all shown
    for customer in shown:
        assert customer in visits["evil/index.html"].text, customer
    assert visits["evil/aov.html"].charts >= 3
