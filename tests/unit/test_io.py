"""Loading a client's tables (:mod:`b2b_analysis.io`), in-process.

Bad input through the command line is checked in ``tests/system/test_bad_input.py``
and ``tests/system/test_streaming.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import warnings
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b2b_analysis import io, load_client
from b2b_analysis.config import load_params
from b2b_analysis.errors import InputError


@pytest.fixture(scope="module", params=["acme", "iberia", "nordic"])
def parquet_demo_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A demo client (6,000 orders, seed 0) written as Parquet, and its params file:
    what ``b2b-analysis generate --format parquet --params`` writes."""
    from b2b_analysis import demo as gen

    folder = tmp_path_factory.mktemp(request.param)
    gen.generate(folder / "data", profile=request.param, orders=6_000, seed=0, fmt="parquet")
    params = folder / f"{request.param}.yaml"
    params.write_text(gen.params_yaml(request.param, "data", fmt="parquet"), encoding="utf-8")
    return params


def test_streaming_tables_are_plans_that_collect_to_the_in_memory_tables(
    parquet_demo_client: Path,
) -> None:
    loaded = load_params(parquet_demo_client)
    eager = load_client(loaded)
    streamed = load_client(loaded, streaming=True)
    assert isinstance(streamed.orders, pl.LazyFrame)
    assert streamed.engine == "streaming" and eager.engine == "auto"
    for name in ("orders", "visits", "surveys", "investments"):
        table = getattr(eager, name)
        if table is None:
            assert getattr(streamed, name) is None
            continue
        collected = getattr(streamed, name).collect(engine="streaming")
        # the same rows, in the same order, with the same types
        assert collected.equals(table), name


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.one_of(st.none(), st.text("abé", max_size=3)), max_size=12),
       slice_rows=st.integers(1, 5), lazy=st.booleans())  # fmt: skip
def test_the_sorted_id_shortcut_only_accepts_unique_ids(
    ids: list[str | None], slice_rows: int, lazy: bool
) -> None:
    """Loading skips the duplicate search when ids increase strictly, checked in slices."""
    frame = pl.DataFrame({"k": ids}, schema={"k": pl.String})

    def shorter_first(value: str) -> tuple[int, str]:
        return len(value.encode()), value

    pairs = list(itertools.pairwise(ids))
    expected = None not in ids and (
        all(a < b for a, b in pairs) or all(shorter_first(a) < shorter_first(b) for a, b in pairs)
    )
    original = io.ID_SLICE_ROWS
    io.ID_SLICE_ROWS = slice_rows
    try:
        assert io._strictly_increasing(frame.lazy() if lazy else frame, "k") == expected
    finally:
        io.ID_SLICE_ROWS = original


#: text around which trimming does and does not change anything
EDGES = st.text(st.sampled_from(["a", "é", " ", "\t", "\u00a0", "\u2009", "\u3000", "\x01", "!"]))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), EDGES), max_size=8),
       chunks=st.integers(1, 3), streaming=st.booleans())  # fmt: skip
def test_text_is_found_untrimmed_exactly_when_trimming_changes_it(
    values: list[str | None], chunks: int, streaming: bool
) -> None:
    """Loading trims a column only if trimming changes a value; it finds out from the
    ends of the values first."""
    parts = [pl.DataFrame({"k": values[i::chunks]}, schema={"k": pl.String}) for i in range(chunks)]
    frame = pl.concat(parts, rechunk=False)
    expected = any(v is not None and (v.strip() == "" or v.strip() != v) for v in frame["k"])
    engine = "streaming" if streaming else "auto"
    assert io._untrimmed(frame, ["k"], engine) == ({"k"} if expected else set())


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.sampled_from("abcdef")), min_size=1, max_size=12),
       chunks=st.integers(1, 4))  # fmt: skip
def test_customer_codes_follow_first_appearance_and_keep_the_chunks(
    values: list[str | None], chunks: int
) -> None:
    size = -(-len(values) // chunks)
    parts = [values[i : i + size] for i in range(0, len(values), size)]
    ids = pl.concat([pl.Series("c", part, dtype=pl.String) for part in parts], rechunk=False)
    coded = io._categorical(ids)
    assert coded.n_chunks() == ids.n_chunks()
    assert coded.cast(pl.String).equals(ids)
    # the same codes as casting the whole column at once
    assert coded.to_physical().equals(ids.rechunk().cast(pl.Categorical).to_physical())


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [("4,C2,2024-01-07,Pigeon,5", "channel"), ("4,C2,2024-01-07,web,-5", "revenue")],
    ids=["unknown-channel", "negative-revenue"],
)
def test_rows_in_messages_count_the_file_rows_after_duplicates_are_dropped(
    tmp_path: Path, bad_row: str, column: str
) -> None:
    """Rows are numbered only when a message needs them; the numbers stay those of the
    file after exact duplicate rows are dropped (the unknown channel is found later)."""
    rows = ["1,C1,2024-01-05,web,10", "1,C1,2024-01-05,web,10", "3,C1,2024-01-06,phone,7"]
    (tmp_path / "orders.csv").write_text(
        "\n".join(["order_id,customer_id,order_date,channel,revenue", *rows, bad_row]) + "\n"
    )
    params = {
        "client": "X",
        "data": {"orders": "orders.csv"},
        "channels": {"online": ["web"], "offline": ["phone"], "unmapped": "error"},
    }
    (tmp_path / "client.yaml").write_text(json.dumps(params))
    with warnings.catch_warnings(), pytest.raises(InputError) as caught:
        warnings.simplefilter("ignore", io.DataWarning)  # the duplicate row, dropped
        load_client(load_params(tmp_path / "client.yaml"))
    assert caught.value.column == column
    assert caught.value.rows == [4]


def _visits_client(tmp_path: Path, ids: list[str | None], fmt: str) -> Path:
    """A client whose visits (ids as given; mapped from ``SessionID``) are Parquet or CSV."""
    n = len(ids)
    visits = pl.DataFrame(
        {
            "SessionID": ids,
            "customer_id": [f"C{i % 3}" if i % 4 else None for i in range(n)],
            "visit_start": [dt.datetime(2024, 1, 1 + i % 28, i % 24) for i in range(n)],
        },
        schema={"SessionID": pl.String, "customer_id": pl.String, "visit_start": pl.Datetime},
    )
    if fmt == "parquet":
        visits.write_parquet(tmp_path / "visits.parquet")
    else:
        visits.write_csv(tmp_path / "visits.csv")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,order_date,channel,revenue\n1,C1,2024-01-05,web,10\n"
    )
    params = {
        "client": "X",
        "data": {
            "orders": "orders.csv",
            "visits": {"path": f"visits.{fmt}", "columns": {"visit_id": "SessionID"}},
        },
        "channels": {"online": ["web"], "offline": ["phone"], "unmapped": "error"},
    }
    (tmp_path / "client.yaml").write_text(json.dumps(params))
    return tmp_path / "client.yaml"


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize(
    "ids",
    [
        [f"V{i:03d}" for i in range(40)],  # increasing: checked apart (Parquet)
        [f"V{i}" for i in range(40)],  # shorter first
        [f"V{(i * 7) % 40:03d}" for i in range(40)],  # unique, unordered
        [f" V{i:03d}" for i in range(40)],  # trimmed while loading
    ],
    ids=["increasing", "shorter-first", "unordered", "untrimmed"],
)
def test_visits_are_loaded_without_their_ids_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids: list[str], fmt: str
) -> None:
    """The visit ids are checked, then left out of the loaded table; checking them apart
    from the other columns (Parquet, in memory) loads the same table as reading them with
    the others, in memory and streaming."""
    loaded = load_params(_visits_client(tmp_path, ids, fmt))
    apart = load_client(loaded).visits
    streamed = load_client(loaded, streaming=True).visits
    monkeypatch.setattr(io, "_key_checked_apart", lambda *_: False)
    monkeypatch.setattr(io, "_ids_apart", lambda *_: False)
    together = load_client(loaded).visits
    assert apart.columns == ["customer_id", "visit_start", "visit_date"]
    assert apart.equals(together)
    assert apart["customer_id"].to_physical().equals(together["customer_id"].to_physical())
    assert streamed.collect(engine="streaming").equals(together)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("streaming", [False, True])
def test_visit_ids_are_still_checked_when_left_out(
    tmp_path: Path, fmt: str, streaming: bool
) -> None:
    """Empty and conflicting visit ids stop the run; an exact duplicate row is dropped
    with a warning: the same messages as when the ids were kept."""
    ids: list[str | None] = [f"V{i:03d}" for i in range(12)]
    empty = load_params(_visits_client(tmp_path, [*ids[:5], None, *ids[6:]], fmt))
    with pytest.raises(InputError, match="empty values are not allowed") as caught:
        load_client(empty, streaming=streaming)
    assert (caught.value.column, caught.value.rows) == ("visit_id", [6])
    conflicting = load_params(_visits_client(tmp_path, [*ids[:5], "V002", *ids[6:]], fmt))
    with pytest.raises(InputError, match="duplicate visit_id values") as caught:
        load_client(conflicting, streaming=streaming)
    assert caught.value.rows == [3, 6]


def test_an_exact_duplicate_visit_is_dropped_with_its_id_checked(tmp_path: Path) -> None:
    path = _visits_client(tmp_path, [f"V{i:03d}" for i in range(12)], "parquet")
    visits = pl.read_parquet(tmp_path / "visits.parquet")
    pl.concat([visits, visits.slice(3, 1)]).write_parquet(tmp_path / "visits.parquet")
    with pytest.warns(io.DataWarning, match="1 exact duplicate row"):
        loaded = load_client(load_params(path)).visits
    assert loaded.equals(
        visits.drop("SessionID").with_columns(
            pl.col("customer_id").cast(pl.Categorical),
            pl.col("visit_start").dt.date().alias("visit_date"),
        )
    )


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.sampled_from(["a", " a", "b ", "", "c", "\tc"])),
                       min_size=1, max_size=20),
       groups=st.integers(1, 5), slice_rows=st.integers(1, 8))  # fmt: skip
def test_customer_ids_read_apart_are_the_trimmed_codes_in_the_tables_chunks(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[str | None],
    groups: int,
    slice_rows: int,
) -> None:
    """Read slice after slice, the ids are trimmed and coded as a whole column would be,
    and keep the chunks of the table's other columns."""
    path = tmp_path_factory.mktemp("ids") / "t.parquet"
    pl.DataFrame({"c": values}, schema={"c": pl.String}).write_parquet(path)
    size = -(-len(values) // groups)
    lengths = [len(values[i : i + size]) for i in range(0, len(values), size)]
    original = io.ID_SLICE_ROWS
    io.ID_SLICE_ROWS = slice_rows
    try:
        coded = io._codes_apart(path, "c", lengths)
    finally:
        io.ID_SLICE_ROWS = original
    trimmed = pl.Series("c", values, dtype=pl.String).to_frame().select(io._trimmed("c"))
    assert coded.chunk_lengths() == lengths
    assert coded.cast(pl.String).equals(trimmed.to_series())
    assert coded.to_physical().equals(io._categorical(trimmed.to_series()).to_physical())
