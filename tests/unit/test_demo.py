"""The synthetic data generator: deterministic, consistent, and loadable by its params."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from b2b_analysis import demo as gen
from b2b_analysis.config import load_params
from b2b_analysis.schema import STATUSES

ORDERS = 3_000
SEED = 7


def read_raw(path: Path, profile: gen.Profile) -> pl.DataFrame:
    """A generated file as written: CSV cells as text, Parquet with its own types."""
    if path.suffix == ".csv":
        return pl.read_csv(path, separator=profile.separator, infer_schema=False)
    return pl.read_parquet(path)


def canonical(frame: pl.DataFrame, profile: gen.Profile, table: str) -> pl.DataFrame:
    """Rename a raw table to canonical column names."""
    return frame.rename({profile.raw(table, c): c for c in profile.written_columns(table)})


def cents(column: str) -> pl.Expr:
    return (pl.col(column).cast(pl.Float64) * 100).round().cast(pl.Int64)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Each demo client's files, generated once in its own format."""
    root = tmp_path_factory.mktemp("generated")
    return {
        slug: gen.generate(root / slug, profile=slug, orders=ORDERS, seed=SEED)
        for slug in gen.DEMO_CLIENTS
    }


def tables(datasets: dict[str, dict[str, Path]], slug: str) -> dict[str, pl.DataFrame]:
    profile = gen.PROFILES[slug]
    return {
        name: canonical(read_raw(path, profile), profile, name)
        for name, path in datasets[slug].items()
    }


# ------------------------------------------------------------------------ the API


def test_demo_clients_are_profiles() -> None:
    assert set(gen.DEMO_CLIENTS) <= set(gen.PROFILES)
    assert {"acme", "iberia", "nordic"} <= set(gen.DEMO_CLIENTS)
    assert gen.PROFILES["nordic"].fmt == "parquet"
    assert gen.PROFILES["acme"].fmt == gen.PROFILES["iberia"].fmt == "csv"


@pytest.mark.parametrize("orders", [0, 999, -5])
def test_too_few_orders_is_an_error(tmp_path: Path, orders: int) -> None:
    with pytest.raises(ValueError, match="at least 1,000"):
        gen.generate(tmp_path, orders=orders)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown profile 'nope'.*acme"):
        gen.generate(tmp_path, profile="nope")
    with pytest.raises(ValueError, match="unknown profile"):
        gen.params_yaml("nope", "data/nope")
    with pytest.raises(ValueError, match="format"):
        gen.generate(tmp_path, fmt="xlsx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after start"):
        gen.generate(tmp_path, start=date(2024, 1, 1), end=date(2024, 1, 1))
    with pytest.raises(ValueError, match="seed"):
        gen.generate(tmp_path, seed=-1)


def test_files_per_profile(datasets: dict[str, dict[str, Path]]) -> None:
    for slug, paths in datasets.items():
        profile = gen.PROFILES[slug]
        expected = {"orders", "order_lines", *profile.tables}
        assert set(paths) == expected
        for name, path in paths.items():
            assert path.name == f"{name}.{profile.fmt}"
            assert path.is_file()
        # nothing else (no temporary files) is left in the folder
        assert {p.name for p in next(iter(paths.values())).parent.iterdir()} == {
            p.name for p in paths.values()
        }
    assert "visits" not in datasets["nordic"] and "surveys" not in datasets["nordic"]


def test_without_lines_and_other_format(tmp_path: Path) -> None:
    paths = gen.generate(tmp_path, profile="nordic", orders=ORDERS, fmt="csv", with_lines=False)
    assert set(paths) == {"orders", "investments"}
    assert paths["orders"].suffix == ".csv"


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for slug, fmt in [("acme", "csv"), ("iberia", "parquet"), ("nordic", None)]:
        a = gen.generate(tmp_path / "a" / slug, profile=slug, orders=ORDERS, seed=3, fmt=fmt)
        b = gen.generate(tmp_path / "b" / slug, profile=slug, orders=ORDERS, seed=3, fmt=fmt)
        for name in a:
            assert a[name].read_bytes() == b[name].read_bytes(), (slug, name)
    other = gen.generate(tmp_path / "c", profile="acme", orders=ORDERS, seed=4, fmt="csv")
    same = tmp_path / "a" / "acme" / "orders.csv"
    assert other["orders"].read_bytes() != same.read_bytes()


def test_orders_do_not_depend_on_other_tables(tmp_path: Path) -> None:
    full = gen.generate(tmp_path / "full", orders=ORDERS, fmt="csv")
    bare = gen.generate(tmp_path / "bare", orders=ORDERS, fmt="csv", with_lines=False)
    assert full["orders"].read_bytes() == bare["orders"].read_bytes()
    assert full["visits"].read_bytes() == bare["visits"].read_bytes()


def test_chunks_report_progress_and_never_leave_half_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = gen.generate(tmp_path / "whole", orders=ORDERS, fmt="csv")
    monkeypatch.setattr("b2b_analysis.demo.dataset.CHUNK_ORDERS", 1_000)
    calls: list[tuple[int, int]] = []
    chunked = gen.generate(
        tmp_path / "chunked",
        orders=ORDERS,
        fmt="csv",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1_000, ORDERS), (2_000, ORDERS), (ORDERS, ORDERS)]
    # the visit ids run on across chunks, so only the orders file is chunk-independent
    assert whole["orders"].read_bytes() == chunked["orders"].read_bytes()

    class Interrupted(BaseException):
        """Like Ctrl-C."""

    def interrupt(done: int, total: int) -> None:
        raise Interrupted

    out = tmp_path / "interrupted"
    with pytest.raises(Interrupted):
        gen.generate(out, orders=ORDERS, fmt="csv", progress=interrupt)
    assert list(out.iterdir()) == []


# ------------------------------------------------------------------------ the data


def test_orders(datasets: dict[str, dict[str, Path]]) -> None:
    for slug in datasets:
        profile = gen.PROFILES[slug]
        orders = tables(datasets, slug)["orders"]
        assert orders.height == ORDERS
        assert orders["order_id"].n_unique() == ORDERS
        pattern = re.escape(profile.order_prefix) + r"\d{8}"
        assert orders["order_id"].str.contains(f"^{pattern}$").all()
        # ids count up with time
        assert orders["order_id"].to_list() == sorted(orders["order_id"].to_list())
        assert (orders["revenue"].cast(pl.Float64) > 0).all()
        assert (orders["lines"].cast(pl.Int64) >= 1).all()
        assert set(orders["channel"]) <= {*profile.online, *profile.offline}
        assert set(orders["channel"]) & set(profile.online)
        assert set(orders["status"]) == set(profile.status_labels)
        shares = orders["status"].value_counts(normalize=True)
        share = dict(zip(shares["status"], shares["proportion"], strict=True))
        assert 0.015 < share[profile.status_labels[1]] < 0.05  # cancelled, ~3%
        assert 0.005 < share[profile.status_labels[2]] < 0.04  # returned, ~2%
        assert ("cost" in orders.columns) == profile.cost_column
        # several orders on one day
        day = orders["order_date"].cast(pl.String).str.slice(0, 10)
        assert day.value_counts()["count"].max() > 1


def test_order_dates_span_history_and_window(datasets: dict[str, dict[str, Path]]) -> None:
    for slug in datasets:
        day = tables(datasets, slug)["orders"]["order_date"].cast(pl.String).str.slice(0, 10)
        assert day.min() < "2023-01-01" <= day.max() <= "2025-12-31"
        assert day.min() >= "2022-01-01"


def test_iberia_writes_local_timestamps_with_offsets(datasets: dict[str, dict[str, Path]]) -> None:
    data = tables(datasets, "iberia")
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00$"
    for name, column in [("orders", "order_date"), ("visits", "visit_start")]:
        values = data[name][column]
        assert values.str.contains(stamp).all()
        assert values.str.ends_with("+01:00").any() and values.str.ends_with("+02:00").any()
    text = datasets["iberia"]["orders"].read_text(encoding="utf-8").splitlines()
    assert text[0] == "pedido;cliente;fecha;canal;importe;estado;lineas"


def test_lines_add_up_to_the_order(datasets: dict[str, dict[str, Path]]) -> None:
    for slug in datasets:
        profile = gen.PROFILES[slug]
        data = tables(datasets, slug)
        orders, lines = data["orders"], data["order_lines"]
        assert lines.height == orders["lines"].cast(pl.Int64).sum()
        assert set(lines["category"]) <= set(profile.categories)
        assert lines["category"].n_unique() == len(profile.categories)
        assert (lines["quantity"].cast(pl.Int64) >= 1).all()
        assert lines.select(cents("line_revenue").gt(0).all()).item()
        per_order = lines.group_by("order_id").agg(
            cents("line_revenue").sum().alias("sum"), pl.len().alias("n")
        )
        joined = orders.select("order_id", cents("revenue").alias("rev"), "lines").join(
            per_order, on="order_id", how="left"
        )
        assert joined["sum"].null_count() == 0
        assert (joined["sum"] == joined["rev"]).all()
        assert (joined["n"] == joined["lines"].cast(pl.Int64)).all()


def test_reverters_only_order_offline_after_their_first_online_order() -> None:
    for slug in gen.DEMO_CLIENTS:
        profile = gen.PROFILES[slug]
        world = gen.simulate(profile, ORDERS, SEED, date(2023, 1, 1), date(2025, 12, 31))
        assert world.reverter.any() and (world.adopter & ~world.reverter).any()
        orders = pl.DataFrame(
            {
                "customer": world.customer,
                "online": world.online,
                "reverter": world.reverter[world.customer],
                "adopter": world.adopter[world.customer],
            }
        )
        online_so_far = pl.col("online").cast(pl.Int32).cum_sum()
        per_customer = orders.group_by("customer").agg(
            pl.col("reverter", "adopter").first(),
            pl.col("online").any().alias("ever"),
            # an online order after the first online one
            (online_so_far.gt(1) & pl.col("online")).any().alias("again"),
            # orders from the first online one on
            online_so_far.ge(1).sum().alias("from_first"),
        )
        reverters = per_customer.filter("reverter")
        assert not reverters["again"].any()
        assert (reverters.filter("ever")["from_first"] > 1).any()  # and ordered again
        # customers who never adopted never order online
        assert not per_customer.filter(~pl.col("adopter"))["ever"].any()


def test_reverters_are_visible_in_the_files(datasets: dict[str, dict[str, Path]]) -> None:
    for slug in datasets:
        profile = gen.PROFILES[slug]
        orders = tables(datasets, slug)["orders"].sort("order_id")
        online = orders["channel"].is_in(list(profile.online))
        per_customer = (
            orders.with_columns(online.alias("online"))
            .group_by("customer_id", maintain_order=True)
            .agg(
                pl.col("online").sum().alias("online_orders"),
                pl.col("online").cum_sum().ge(1).sum().alias("from_first"),
            )
        )
        # tried the shop once, then ordered offline at least twice more
        reverted = per_customer.filter((pl.col("online_orders") == 1) & (pl.col("from_first") >= 3))
        assert reverted.height > 0, slug


def test_adoption_changes_behaviour() -> None:
    world = gen.simulate(gen.PROFILES["acme"], 20_000, 1, date(2023, 1, 1), date(2025, 12, 31))
    online = world.online
    # online orders are smaller, and orders after adoption have more lines
    assert world.cents[online].mean() < world.cents[~online].mean()
    assert world.lines[world.stays_online].mean() > world.lines[~world.stays_online].mean()
    # customers whose first order predates the window, and an S-curve of adoption
    assert (world.first < world.cal.start_day).any()
    assert (world.first >= world.cal.start_day).any()
    year = world.day // 365
    share = [online[year == y].mean() for y in range(4)]
    assert share[0] < 0.2 < share[1] < share[3]


def test_visits(datasets: dict[str, dict[str, Path]]) -> None:
    for slug in ("acme", "iberia"):
        data = tables(datasets, slug)
        visits, orders = data["visits"], data["orders"]
        profile = gen.PROFILES[slug]
        assert visits["visit_id"].n_unique() == visits.height
        anonymous = visits["customer_id"].is_null() | (visits["customer_id"] == "")
        assert 0.15 < anonymous.mean() < 0.35
        n_online = orders["channel"].is_in(list(profile.online)).sum()
        assert 0.1 <= n_online / visits.height <= 0.25  # conversion
        known = visits.filter(~anonymous)
        assert (known.group_by("customer_id").len()["len"] > 1).any()  # customers revisit
        assert set(known["customer_id"]) <= set(orders["customer_id"])


def test_every_online_order_follows_a_visit(tmp_path: Path) -> None:
    paths = gen.generate(tmp_path, profile="acme", orders=ORDERS, fmt="parquet")
    world = gen.simulate(gen.PROFILES["acme"], ORDERS, 0, date(2023, 1, 1), date(2025, 12, 31))
    visits = pl.read_parquet(paths["visits"])
    orders = pl.read_parquet(paths["orders"]).with_columns(
        (
            pl.col("order_date").cast(pl.Datetime("us"))
            + pl.duration(seconds=pl.Series(world.seconds))
        ).alias("placed")
    )
    online = orders.filter(pl.col("channel").is_in(list(gen.PROFILES["acme"].online)))
    matched = online.join(visits, on="customer_id").filter(
        pl.col("visit_start").is_between(
            pl.col("placed") - pl.duration(minutes=40), pl.col("placed")
        )
    )
    assert matched["order_id"].n_unique() == online.height


def test_surveys(datasets: dict[str, dict[str, Path]]) -> None:
    for slug in ("acme", "iberia"):
        data = tables(datasets, slug)
        surveys = data["surveys"].with_columns(pl.col("score").cast(pl.Int64))
        assert set(surveys["kind"]) == {"csat", "nps"}
        csat = surveys.filter(pl.col("kind") == "csat")["score"]
        nps = surveys.filter(pl.col("kind") == "nps")["score"]
        assert csat.min() >= 1 and csat.max() <= 5
        assert nps.min() >= 0 and nps.max() <= 10
        assert set(surveys["customer_id"]) <= set(data["orders"]["customer_id"])
        assert surveys["response_date"].cast(pl.String).max() <= "2025-12-31"


def test_satisfied_customers_stay() -> None:
    world = gen.simulate(gen.PROFILES["acme"], 40_000, 2, date(2023, 1, 1), date(2025, 12, 31))
    stays = world.last == world.cal.n_days - 1
    assert world.satisfaction[stays].mean() > world.satisfaction[~stays].mean()


def test_investments(datasets: dict[str, dict[str, Path]]) -> None:
    for slug in datasets:
        inv = tables(datasets, slug)["investments"]
        assert set(inv["category"]) == {"platform", "marketing", "integration"}
        assert (inv["amount"].cast(pl.Float64) > 0).all()
        assert inv["date"].cast(pl.String).str.ends_with("-01").all()


def test_nordic_costs(datasets: dict[str, dict[str, Path]]) -> None:
    orders = tables(datasets, "nordic")["orders"]
    margin = 1 - orders["cost"] / orders["revenue"]
    assert orders["order_date"].dtype == pl.Date
    assert 0.25 < margin.mean() < 0.45
    assert (orders["cost"] > 0).all()


# ------------------------------------------------------------------- params files


@pytest.mark.parametrize("slug", gen.DEMO_CLIENTS)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_params_yaml_describes_the_files(tmp_path: Path, slug: str, fmt: gen.Format) -> None:
    profile = gen.PROFILES[slug]
    paths = gen.generate(tmp_path / "data" / slug, profile=slug, orders=ORDERS, fmt=fmt)
    params_file = tmp_path / f"{slug}.yaml"
    params_file.write_text(gen.params_yaml(slug, f"data/{slug}", fmt=fmt), encoding="utf-8")
    loaded = load_params(params_file)
    params = loaded.params
    assert params.client == profile.client and params.client_slug == slug
    assert params.currency == profile.currency and params.timezone == profile.timezone
    assert params.fiscal_year_start == profile.fiscal_year_start
    assert params.period == profile.period
    assert params.gross_margin == profile.gross_margin
    assert params.channels.unmapped == "error"
    # the file lists the profile's own labels; the built-in ones extend them
    written = yaml.safe_load(params_file.read_text(encoding="utf-8"))
    assert written["statuses"] == {
        status: [label] for status, label in zip(STATUSES, profile.status_labels, strict=True)
    }
    for status, label in zip(STATUSES, profile.status_labels, strict=True):
        assert getattr(params.statuses, status)[0] == label
    configured = {t for t in paths if getattr(params.data, t) is not None}
    assert configured == set(paths)
    for table, path in paths.items():
        source = getattr(params.data, table)
        assert loaded.resolve(table) == path.resolve()
        header = read_raw(path, profile).columns
        assert header == [source.columns.get(c, c) for c in profile.written_columns(table)]
        if fmt == "csv":
            assert source.separator == profile.separator
    orders = read_raw(paths["orders"], profile)
    emitted = set(orders[profile.raw("orders", "channel")])
    assert emitted <= set(params.channels.online) | set(params.channels.offline)
    assert written["channels"]["online"] == list(profile.online)
    assert written["channels"]["offline"] == list(profile.offline)
    assert set(profile.online) <= set(params.channels.online)
    assert set(profile.offline) <= set(params.channels.offline)


def test_params_without_lines() -> None:
    text = gen.params_yaml("acme", "data/acme", with_lines=False)
    assert "order_lines" not in text and "data/acme/orders.csv" in text


@pytest.mark.parametrize("slug", gen.DEMO_CLIENTS)
def test_committed_params_files_are_current(slug: str) -> None:
    committed = Path(__file__).parents[2] / "params" / f"{slug}.yaml"
    assert committed.read_text(encoding="utf-8") == gen.params_yaml(slug, f"data/{slug}")
    assert load_params(committed).params.client == gen.PROFILES[slug].client
