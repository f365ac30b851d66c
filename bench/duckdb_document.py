"""The whole ``kpis.json`` document with DuckDB SQL doing the row-level work: the peer of
``b2b-analysis kpis PARAMS --format json`` in ``bench/kpis_process.py``.

    python -m bench.duckdb_document PARAMS > kpis.json

DuckDB reads the Parquet tables, applies the data contract's row checks that matter for
the numbers (trimming ids and labels, required values, channel and status labels mapped
on their distinct values with unknown labels refused, negative revenue only on returned
orders, returned orders' values made positive, duplicate ids refused, survey kinds and
score ranges) and computes every aggregation over order, visit and survey rows: headline
figures and series, retention, cohorts of first online orders, the AOV comparisons, the
account lists, the bridge's period totals, the sales effort, the maturity inputs, the
rows outside the window, and the bootstrap samples (one value per customer or answer).
Plain Python then assembles the document from those small results, reusing the
toolkit's pure finishing functions on them (Wilson bounds and derived ratios on the
window row and the ~36-row series, bootstrap intervals, maturity flags, trends, the
bridge's Shapley split, the account summaries, the notes' sentences, findings and the
JSON rounding): see ``bench/README.md``, *The DuckDB document*.

Only Parquet sources (the bench's data) are read; CSV/Excel parsing, text dates,
time zones other than naive UTC timestamps, an ``order_lines`` table and exact duplicate
rows (the toolkit drops them with a warning; this peer refuses them) are left out.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from b2b_analysis import accounts as acc
from b2b_analysis import bridge as br
from b2b_analysis import kpis as k
from b2b_analysis import metrics as m
from b2b_analysis.config import LoadedParams, label_key, load_params
from b2b_analysis.periods import Calendar

_EPOCH_MONDAY = dt.date(1970, 1, 5)


class ContractError(Exception):
    """A row check of the data contract failed."""


def period_sql(calendar: Calendar, column: str) -> str:
    """The SQL of :meth:`Calendar.key` (Int32 period key) of the date ``column``."""
    if calendar.period == "week":
        return f"((({column})::DATE - DATE '{_EPOCH_MONDAY}') // 7)::INTEGER"
    months = f"(year({column}) * 12 + month({column}) - 1)"
    if calendar.period == "month":
        return f"{months}::INTEGER"
    return f"(({months} - {calendar.fiscal_year_start - 1}) // 3)::INTEGER"


# ------------------------------------------------------------------ loading and checks


def _labels(con: duckdb.DuckDBPyConnection, path: str, column: str) -> list[str]:
    """The distinct raw values of a label column (mapped by their trimmed lower case)."""
    rows = con.execute(f"SELECT DISTINCT {column} FROM read_parquet($p)", {"p": path}).fetchall()
    return [r[0] for r in rows if r[0] is not None]


def _classes(values: list[str], classes: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Per class, the raw values whose trimmed lower case is one of its labels."""
    wanted = {name: {label_key(x) for x in labels} for name, labels in classes.items()}
    return {name: [v for v in values if label_key(v) in keys] for name, keys in wanted.items()}


def _sql_list(values: list[str]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"[{quoted}]::VARCHAR[]"


def _blank(column: str) -> str:
    """Null or blank after trimming; ``trim`` only on the rare values starting with a space
    (``CASE`` evaluates its branches on the selected rows only)."""
    return (
        f"({column} IS NULL OR CASE WHEN starts_with({column}, ' ') "
        f"THEN trim({column}) = '' ELSE {column} = '' END)"
    )


def _untrimmed(column: str) -> str:
    """Whether a value has spaces to trim (DuckDB's ``trim`` removes spaces only)."""
    return f"(starts_with({column}, ' ') OR ends_with({column}, ' '))"


def _check(
    con: duckdb.DuckDBPyConnection, source: str, checks: dict[str, str], **params: Any
) -> dict[str, Any]:
    """Count each check's failing rows in one pass over ``source``; raise for the first that
    fails. A check named ``?name`` is a value returned, not a failure (``SELECT`` text)."""
    cols = ", ".join(
        cond if what.startswith("?") else f"count(*) FILTER ({cond})"
        for what, cond in checks.items()
    )
    counts = con.execute(f"SELECT {cols} FROM {source}", params).fetchall()[0]
    values = {}
    for what, n in zip(checks, counts, strict=True):
        if what.startswith("?"):
            values[what[1:]] = n
        elif n:
            raise ContractError(f"{source}: {n} row(s) fail the check: {what}")
    return values


def _refuse_duplicates(con: duckdb.DuckDBPyConnection, path: str, key: str, hashed: int) -> None:
    if not hashed:
        return
    row = con.execute(
        f"SELECT count(*) - count(DISTINCT trim({key})) FROM read_parquet($p)", {"p": path}
    ).fetchall()[0]
    if row[0]:
        raise ContractError(f"{path}: {row[0]} duplicate {key} value(s)")


def _load_checked(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: str,
    columns: str,
    checks: dict[str, str],
    *,
    key: str,
    blank_customer: bool,
) -> None:
    """Create ``table`` from one scan of the Parquet file at ``path``: the ``columns`` (SQL
    select list) plus the 64-bit hash of the id ``key`` and one bit per row check (bit 0:
    the id has spaces to trim); then the checks over the table in memory: raise for the
    first check that fails, refuse duplicate ids (equal neighbours among the sorted
    hashes: at 29M visits a third less CPU than ``count(DISTINCT _h)``'s hash table; the
    exact check on the trimmed strings only after a hash collision or an id to trim), trim
    the customer ids (blank as null) only when some id needs it (``blank_customer``: an
    empty id is anonymous), and drop the check columns."""
    conds = {"?id to trim": _untrimmed(key), **checks}
    bits = " + ".join(
        f"(coalesce({cond}, false)::INTEGER << {i})" for i, cond in enumerate(conds.values())
    )
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT {columns}, hash({key}) AS _h, {bits} AS _f "
        "FROM read_parquet($p)",
        {"p": path},
    )
    trim = _untrimmed("customer_id") + (" OR customer_id = ''" if blank_customer else "")
    row = con.execute(
        f"""SELECT bit_or(_f), (SELECT count(*) FILTER (_h = _before) FROM
                 (SELECT _h, lag(_h) OVER (ORDER BY _h) AS _before FROM {table})),
               bool_or({trim}) FROM {table}"""
    ).fetchall()[0]
    mask, duplicates, trim_customers = row[0] or 0, row[1], row[2]
    for i, what in enumerate(conds):
        if i and mask & (1 << i):
            n = con.execute(f"SELECT count(*) FROM {table} WHERE _f & {1 << i} <> 0").fetchall()
            raise ContractError(f"{path}: {n[0][0]} row(s) fail the check: {what}")
    _refuse_duplicates(con, path, key, duplicates + (mask & 1))
    if trim_customers:
        con.execute(f"UPDATE {table} SET customer_id = nullif(trim(customer_id), '')")
    con.execute(f"ALTER TABLE {table} DROP COLUMN _h")
    con.execute(f"ALTER TABLE {table} DROP COLUMN _f")


def load_orders(con: duckdb.DuckDBPyConnection, loaded: LoadedParams, calendar: Calendar) -> bool:
    """``o``: the orders, mapped (``is_online``, ``is_valid``, positive values of returned
    orders) and keyed by period, after the contract's checks in one pass over the file.
    Labels are mapped on their distinct values. Whether the orders have ``cost``."""
    p = loaded.params
    path = str(loaded.resolve("orders"))
    described = con.execute("DESCRIBE SELECT * FROM read_parquet($p)", {"p": path}).fetchall()
    names = {r[0] for r in described}
    channels = _classes(_labels(con, path, "channel"), p.channels.classes())
    has_status, has_cost = "status" in names, "cost" in names
    statuses = _classes(_labels(con, path, "status"), p.statuses.classes()) if has_status else {}
    returned = (
        f"coalesce(list_contains({_sql_list(statuses['returned'])}, status), false)"
        if has_status
        else "false"
    )
    valid = (
        "NOT coalesce(list_contains("
        f"{_sql_list(statuses['cancelled'] + statuses['returned'])}, status), false)"
        if has_status
        else "true"
    )
    checks = {
        "order_id, customer_id, order_date and revenue are required": (
            f"{_blank('order_id')} OR {_blank('customer_id')} OR order_date IS NULL "
            "OR revenue IS NULL"
        ),
        "revenue is a finite number": "isnan(revenue) OR isinf(revenue)",
        "negative revenue only on returned orders": f"revenue < 0 AND NOT {returned}",
    }
    if has_cost:
        checks["cost is a finite number"] = "isnan(cost) OR isinf(cost)"
        checks["negative cost only on returned orders"] = f"cost < 0 AND NOT {returned}"
    if p.channels.unmapped == "error":
        known = _sql_list(channels["online"] + channels["offline"])
        checks["channel label in the mapping"] = (
            f"NOT coalesce(list_contains({known}, channel), false)"
        )
    if has_status and p.statuses.unmapped == "error":
        placed = _sql_list([x for labels in statuses.values() for x in labels])
        checks["status label in the mapping"] = (
            f"NOT coalesce(list_contains({placed}, status), false)"
        )
    online = (
        f"NOT coalesce(list_contains({_sql_list(channels['offline'])}, channel), false)"
        if p.channels.unmapped == "online"
        else f"coalesce(list_contains({_sql_list(channels['online'])}, channel), false)"
    )
    value = f"CASE WHEN {returned} THEN abs({{0}}) ELSE {{0}} END AS {{0}}"
    cost = f", {value.format('cost')}" if has_cost else ""
    columns = f"""customer_id, order_date::DATE AS order_date,
               {value.format("revenue")}{cost}, {online} AS is_online, {valid} AS is_valid,
               {period_sql(calendar, "order_date")} AS period"""
    _load_checked(con, "o", path, columns, checks, key="order_id", blank_customer=False)
    return has_cost


def load_visits(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """``v``: the visits (customer, anonymous as null; start; date), after the checks."""
    _load_checked(
        con,
        "v",
        path,
        "customer_id, visit_start::TIMESTAMP AS visit_start, visit_start::DATE AS visit_date",
        {"visit_id and visit_start are required": f"{_blank('visit_id')} OR visit_start IS NULL"},
        key="visit_id",
        blank_customer=True,
    )


def load_surveys(con: duckdb.DuckDBPyConnection, path: str) -> None:
    con.execute(
        """CREATE TEMP TABLE s AS
        SELECT nullif(trim(customer_id), '') AS customer_id, response_date::DATE AS response_date,
               score::DOUBLE AS score, lower(nullif(trim(kind), '')) AS kind
        FROM read_parquet($p)""",
        {"p": path},
    )
    _check(
        con,
        "s",
        {
            "customer_id, response_date, score and kind are required": (
                "customer_id IS NULL OR response_date IS NULL OR score IS NULL OR kind IS NULL"
            ),
            "kind is csat or nps": "kind NOT IN ('csat', 'nps')",
            "csat scores between 1 and 5": "kind = 'csat' AND NOT score BETWEEN 1 AND 5",
            "nps scores between 0 and 10": "kind = 'nps' AND NOT score BETWEEN 0 AND 10",
        },
    )


def load_investments(con: duckdb.DuckDBPyConnection, path: str) -> None:
    con.execute(
        "CREATE TEMP TABLE inv AS SELECT date::DATE AS date, amount::DOUBLE AS amount "
        "FROM read_parquet($p)",
        {"p": path},
    )
    _check(
        con,
        "inv",
        {
            "date and amount are required": "date IS NULL OR amount IS NULL",
            "amount is a finite, non-negative number": (
                "isnan(amount) OR isinf(amount) OR amount < 0"
            ),
        },
    )


# ------------------------------------------------------------------ the aggregates


_PLAIN: dict[str, Any] = {
    "BOOLEAN": pl.Boolean,
    "TINYINT": pl.Int8,
    "SMALLINT": pl.Int16,
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "UINTEGER": pl.UInt32,
    "UBIGINT": pl.UInt64,
    "FLOAT": pl.Float32,
    "DOUBLE": pl.Float64,
    "DATE": pl.Date,
    "VARCHAR": pl.String,
}


class Sql:
    """One connection and the window's parameters, running queries into polars frames."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, lo: dt.date, hi: dt.date, calendar: Calendar
    ):
        self.con, self.lo, self.hi, self.calendar = con, lo, hi, calendar

    def frame(self, sql: str, **params: Any) -> pl.DataFrame:
        """The result of ``sql`` (small: an aggregate) as a polars frame, built from the
        rows when every column has a plain type (no pyarrow import), else through Arrow."""
        rel = self.con.sql(sql, params=self.params(sql, **params))
        types = [_PLAIN.get(str(t)) for t in rel.types]
        if all(types):
            schema = dict(zip(rel.columns, types, strict=True))
            frame = pl.DataFrame(rel.fetchall(), schema=schema, orient="row")
        else:
            frame = pl.DataFrame(pl.from_arrow(rel.to_arrow_table()))
        if "period" in frame.columns:
            frame = frame.with_columns(pl.col("period").cast(pl.Int32))
        return frame

    def params(self, sql: str, **params: Any) -> dict[str, Any]:
        """The window's ends and ``params``, those that ``sql`` names (``$name``)."""
        given = {"lo": self.lo, "hi": self.hi, **params}
        return {name: value for name, value in given.items() if f"${name}" in sql}

    def key(self, column: str) -> str:
        return period_sql(self.calendar, column)


def _wilson_counts(key: str, k_sql: str, n_sql: str) -> str:
    return f"({k_sql})::BIGINT AS _{key}_k, ({n_sql})::BIGINT AS {key}_n"


def order_aggs(threshold: float | None, profit: str | None) -> str:
    """The ``orders`` plan's aggregations (``kpis._order_aggs``) as SQL over ``o``."""
    valid_on, valid_off = "is_valid AND is_online", "is_valid AND NOT is_online"
    aggs = [
        "count(*) FILTER (is_valid)::BIGINT AS orders",
        "sum(revenue) FILTER (is_valid) / nullif(count(*) FILTER (is_valid), 0) "
        "AS average_order_value",
        "coalesce(sum(revenue), 0)::DOUBLE AS gross_merchandise_value",
        "coalesce(sum(revenue) FILTER (is_valid), 0)::DOUBLE AS net_revenue",
        "count(*) FILTER (is_valid AND is_online) / nullif(count(*) FILTER (is_valid), 0) "
        "AS online_order_share",
        f"sum(revenue) FILTER ({valid_on}) / nullif(count(*) FILTER ({valid_on}), 0) "
        "AS online_average_order_value",
        f"sum(revenue) FILTER ({valid_off}) / nullif(count(*) FILTER ({valid_off}), 0) "
        "AS offline_average_order_value",
        f"count(*) FILTER ({valid_on})::BIGINT AS _online_orders",
        _wilson_counts(
            "online_order_share", f"count(*) FILTER ({valid_on})", "count(*) FILTER (is_valid)"
        ),
        "coalesce(sum(revenue * revenue) FILTER (is_valid), 0)::DOUBLE AS _net_revenue_ss",
        "coalesce(sum(revenue * revenue), 0)::DOUBLE AS _gmv_ss",
        "count(*)::BIGINT AS _all_orders",
        f"coalesce(sum(revenue * revenue) FILTER ({valid_on}), 0)::DOUBLE AS _online_revenue_ss",
        f"coalesce(sum(revenue * revenue) FILTER ({valid_off}), 0)::DOUBLE AS _offline_revenue_ss",
        f"count(*) FILTER ({valid_off})::BIGINT AS _offline_orders",
    ]
    if profit is not None:
        aggs.append(
            f"coalesce(sum(({profit}) * ({profit})) FILTER ({valid_on}), 0)::DOUBLE "
            "AS _online_profit_ss"
        )
        aggs.append(
            f"coalesce(sum({profit}) FILTER ({valid_on}), 0)::DOUBLE AS online_gross_profit"
        )
    else:
        aggs.append("NULL::DOUBLE AS online_gross_profit")
    if threshold is not None:
        small = f"is_valid AND revenue < {threshold!r}"
        aggs.append(
            f"count(*) FILTER ({small} AND is_online) / nullif(count(*) FILTER ({small}), 0) "
            "AS small_order_online_share"
        )
        aggs.append(
            _wilson_counts(
                "small_order_online_share",
                f"count(*) FILTER ({small} AND is_online)",
                f"count(*) FILTER ({small})",
            )
        )
    else:
        aggs.append("NULL::DOUBLE AS small_order_online_share")
    return ",\n".join(aggs)


def _window_and_periods(
    sql: Sql, source: str, aggs: str, date: str | None
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """The window's one row and, with ``date``, the per-period frame of ``aggs``: one
    scan with grouping sets (the window is the empty grouping)."""
    if date is None:
        return sql.frame(f"SELECT {aggs} FROM {source}"), None
    both = sql.frame(
        f"SELECT grouping(_period) AS _whole, _period::INTEGER AS _key, {aggs} FROM "
        f"(SELECT *, {sql.key(date)} AS _period FROM {source}) "
        "GROUP BY GROUPING SETS ((), (_period))"
    )
    both = both.rename({"_key": "period"}).with_columns(pl.col("period").cast(pl.Int32))
    window = both.filter(pl.col("_whole") == 1).drop("_whole", "period")
    if window.is_empty():  # no rows at all: the window's one row of empty aggregates
        window = sql.frame(f"SELECT {aggs} FROM {source}")
    return window, both.filter(pl.col("_whole") == 0).drop("_whole")


def plans(
    sql: Sql, threshold: float | None, profit: str | None, tables: dict[str, bool]
) -> tuple[k.Results, dict[str, k.Sample]]:
    """The toolkit's plans (``kpis._plans``), each computed in SQL: the window rows, the
    per-period frames and the bootstrap samples, under the plans' names."""
    results = k.Results({}, {})
    samples: dict[str, k.Sample] = {}

    def put(name: str, pair: tuple[pl.DataFrame, pl.DataFrame | None]) -> None:
        results.window[name] = pair[0]
        if pair[1] is not None:
            results.periods[name] = pair[1]

    in_window = "(SELECT * FROM o WHERE order_date BETWEEN $lo AND $hi)"
    put("orders", _window_and_periods(sql, in_window, order_aggs(threshold, profit), "order_date"))
    put("customers", _customers(sql))
    if tables["visits"]:
        put("visits", _visits(sql))
        results.window["visitors"] = _visitors(sql)
    if tables["surveys"]:
        surveys = "(SELECT * FROM s WHERE response_date BETWEEN $lo AND $hi)"
        aggs = (
            "count(*) FILTER (kind = 'csat' AND score >= 4) / "
            "nullif(count(*) FILTER (kind = 'csat'), 0) AS csat, "
            "100 * (count(*) FILTER (kind = 'nps' AND score >= 9) - "
            "count(*) FILTER (kind = 'nps' AND score <= 6)) / "
            "nullif(count(*) FILTER (kind = 'nps'), 0) AS nps, "
            + _wilson_counts(
                "csat",
                "count(*) FILTER (kind = 'csat' AND score >= 4)",
                "count(*) FILTER (kind = 'csat')",
            )
        )
        put("surveys", _window_and_periods(sql, surveys, aggs, "response_date"))
        results.window["sample:nps"] = sql.frame(
            f"""SELECT (CASE WHEN score >= 9 THEN 100 WHEN score <= 6 THEN -100 ELSE 0 END)::DOUBLE
                   AS value, {sql.key("response_date")} AS period
            FROM s WHERE response_date BETWEEN $lo AND $hi AND kind = 'nps' AND score IS NOT NULL"""
        )
        samples["nps"] = k.Sample(pl.LazyFrame(), pl.lit(None), "mean", "response_date")
    if tables["investments"]:
        inv = "(SELECT * FROM inv WHERE date BETWEEN $lo AND $hi)"
        put(
            "investments",
            _window_and_periods(sql, inv, "sum(amount)::DOUBLE AS investment", "date"),
        )
    _adoption(sql, results, samples)
    results.window["retention"] = period_retention(sql)
    results.window["maturity"] = sql.frame(
        """SELECT (SELECT max(order_date) FROM o WHERE order_date <= $hi) AS observed_until,
                  median(gap)::DOUBLE AS median_reorder_days
        FROM (SELECT order_date - previous AS gap FROM cd)"""
    )
    return results, samples


def _customers(sql: Sql) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Customers and their repeat rate, over the window and per period."""
    aggs = (
        "count(*)::BIGINT AS customers, "
        "count(*) FILTER (n >= 2) / nullif(count(*), 0) AS customer_retention_rate, "
        + _wilson_counts("customer_retention_rate", "count(*) FILTER (n >= 2)", "count(*)")
    )
    if sql.calendar.bounds(sql.lo)[0] == sql.lo:  # whole periods: the counts per period
        first = sql.calendar.key_of(sql.lo)
        pairs = f"(SELECT cust, period, n FROM cp WHERE period >= {first})"
    else:
        pairs = "(SELECT cust, period, count(*) AS n FROM ov WHERE order_date >= $lo GROUP BY 1, 2)"
    window = sql.frame(f"SELECT {aggs} FROM (SELECT cust, sum(n) AS n FROM {pairs} GROUP BY 1)")
    periods = sql.frame(f"SELECT period, {aggs} FROM {pairs} GROUP BY 1")
    return window, periods


def _visits(sql: Sql) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Visits and the returning-visit share (first visit over the whole history); ``vf``,
    per identified visitor: the first visit and whether a visit is in the window."""
    sql.con.execute(
        """CREATE TEMP TABLE vf AS SELECT customer_id, min(visit_start) AS first_visit,
            bool_or(visit_date BETWEEN $lo AND $hi) AS seen
        FROM v WHERE customer_id IS NOT NULL GROUP BY 1""",
        {"lo": sql.lo, "hi": sql.hi},
    )
    source = """(SELECT v.visit_date,
                  coalesce(v.customer_id IS NOT NULL AND v.visit_start > f.first_visit, false)
                      AS is_returning
           FROM v LEFT JOIN vf f USING (customer_id)
           WHERE v.visit_date BETWEEN $lo AND $hi)"""
    aggs = (
        "count(*)::BIGINT AS _visits, "
        "count(*) FILTER (is_returning) / nullif(count(*), 0) AS returning_visit_share, "
        + _wilson_counts("returning_visit_share", "count(*) FILTER (is_returning)", "count(*)")
    )
    return _window_and_periods(sql, source, aggs, "visit_date")  # type: ignore[return-value]


def _visitors(sql: Sql) -> pl.DataFrame:
    return sql.frame(
        """SELECT count(*)::BIGINT AS visitors, count(b.customer_id)::BIGINT AS converted,
                  count(b.customer_id) / nullif(count(*), 0) AS visitor_conversion_rate,
                  count(b.customer_id)::BIGINT AS _visitor_conversion_rate_k,
                  count(*)::BIGINT AS visitor_conversion_rate_n
        FROM (SELECT customer_id FROM vf WHERE seen) a
        LEFT JOIN (SELECT customer_id FROM customers JOIN
                     (SELECT DISTINCT cust FROM ov WHERE is_online AND order_date >= $lo)
                   USING (cust)) b
        USING (customer_id)"""
    )


def _adoption(sql: Sql, results: k.Results, samples: dict[str, k.Sample]) -> None:
    """New online customers (``metrics.online_adoption``), the AOV before and after going
    online (``aov_before_after_online``) and online against offline AOV per customer
    (``customer_aov_comparison``): the plans and samples built on them."""
    sql.con.execute(
        """CREATE OR REPLACE TEMP TABLE adoption AS
        WITH valid AS (SELECT cust, order_date, revenue, is_online FROM ov),
        first AS (SELECT cust, min(first_online) AS first_online_date FROM cp
                  GROUP BY 1 HAVING min(first_online) >= $lo)
        SELECT cust, first_online_date,
          count(*) FILTER (order_date > first_online_date)::BIGINT AS later_orders,
          count(*) FILTER (order_date > first_online_date AND is_online)::BIGINT
              AS later_online_orders,
          min(order_date) FILTER (order_date > first_online_date AND NOT is_online)
              AS first_offline_after,
          count(*) FILTER (order_date < first_online_date) AS orders_before,
          avg(revenue) FILTER (order_date < first_online_date) AS aov_before,
          avg(revenue) FILTER (order_date >= first_online_date) AS aov_after,
          count(*) FILTER (order_date > first_online_date) AS orders_since,
          sum(revenue) FILTER (order_date > first_online_date) AS revenue_since,
          max(order_date) AS last_order_date
        FROM valid JOIN first USING (cust) GROUP BY ALL""",
        {"lo": sql.lo},
    )
    flags = """(SELECT *, later_online_orders > 0 AS retained,
                  CASE WHEN later_orders > 0 THEN later_online_orders = 0 END AS reverted
               FROM adoption)"""
    aggs = (
        "count(*) FILTER (retained) / nullif(count(*), 0) AS online_retention_rate, "
        "count(*) FILTER (reverted) / nullif(count(reverted), 0) AS reverted_to_offline_share, "
        + _wilson_counts("online_retention_rate", "count(*) FILTER (retained)", "count(*)")
        + ", "
        + _wilson_counts(
            "reverted_to_offline_share", "count(*) FILTER (reverted)", "count(reverted)"
        )
    )
    window, periods = _window_and_periods(sql, flags, aggs, "first_online_date")
    results.window["adoption"], results.periods["adoption"] = window, periods  # type: ignore[assignment]
    medians = {
        "median_days_to_revert": (
            "(first_offline_after - first_online_date)::BIGINT",
            "later_orders > 0 AND later_online_orders = 0",
            "adoption",
        ),
        "median_aov_shift": ("aov_after - aov_before", "orders_before > 0", "adoption"),
        "median_online_offline_aov_ratio": (
            "online_aov / offline_aov",
            "online_orders > 0 AND offline_orders > 0 AND offline_aov <> 0",
            """(SELECT cust,
                  count(*) FILTER (is_online) AS online_orders,
                  count(*) FILTER (NOT is_online) AS offline_orders,
                  avg(revenue) FILTER (is_online) AS online_aov,
                  avg(revenue) FILTER (NOT is_online) AS offline_aov
               FROM ov WHERE order_date >= $lo GROUP BY 1)""",
        ),
    }
    for key, (value, keep, source) in medians.items():
        results.window[f"sample:{key}"] = sql.frame(
            f"SELECT ({value})::DOUBLE AS value FROM {source} WHERE {keep}"
        )
        results.window[key] = sql.frame(
            f"SELECT median(value)::DOUBLE AS {key} FROM "
            f"(SELECT ({value}) AS value FROM {source} WHERE {keep})"
        )
        samples[key] = k.Sample(pl.LazyFrame(), pl.lit(None), "median", None)


def period_retention(sql: Sql) -> pl.DataFrame:
    """``metrics.period_retention``: per period of the window, customers of the period
    before, retained, new and reactivated customers, from the distinct (customer, period)
    pairs with an order that counts up to the window's end."""
    counts = sql.frame(
        """WITH act AS (SELECT cust, period FROM cp),
        moves AS (SELECT period, lag(period) OVER (PARTITION BY cust ORDER BY period)
                             AS before FROM act)
        SELECT period, count(*)::BIGINT AS customers_end,
               count(*) FILTER (before = period - 1)::BIGINT AS retained_customers,
               count(*) FILTER (before IS NULL)::BIGINT AS new_customers,
               count(*) FILTER (before < period - 1)::BIGINT AS reactivated_customers
        FROM moves GROUP BY 1"""
    )
    return m.retention_from_counts(
        counts.lazy(), calendar=sql.calendar, start=sql.lo, end=sql.hi
    ).collect()


# ------------------------------------------------------------------ account lists


def account_lists(sql: Sql, rule: Any) -> dict[str, pl.DataFrame]:
    """The five account lists (``accounts.lists``), each a query ending in ``_finish``'s
    join with the revenue of the last 12 months, rounding and order."""
    last = sql.calendar.key_of(sql.hi)
    lists = {
        "reverted": (
            """SELECT cust, first_online_date,
                 (first_offline_after - first_online_date)::BIGINT AS days_to_revert,
                 orders_since::BIGINT AS orders_since, round(revenue_since, 2) AS revenue_since,
                 last_order_date
               FROM adoption WHERE later_orders > 0 AND later_online_orders = 0"""
        ),
        "overdue": f"""
            WITH gaps AS (SELECT cust, order_date,
                            CASE WHEN previous >= $lo THEN order_date - previous END AS gap
                          FROM cd WHERE order_date >= $lo),
            per AS (SELECT cust, max(order_date) AS last_order_date,
                           count(*)::BIGINT AS order_days, median(gap)::DOUBLE AS usual_cycle_days
                    FROM gaps GROUP BY 1 HAVING count(*) >= {int(rule.min_order_days)})
            SELECT cust, last_order_date, order_days, usual_cycle_days,
                   ($hi - last_order_date)::BIGINT AS days_since_last_order,
                   ($hi - last_order_date) - usual_cycle_days AS days_overdue
            FROM per WHERE ($hi - last_order_date) > {float(rule.factor)!r} * usual_cycle_days""",
        "lapsed": f"""
            SELECT cust, last_date AS last_order_date,
                   n::BIGINT AS orders_previous_period,
                   round(revenue, 2) AS revenue_previous_period
            FROM cp WHERE period = {last - 1} AND cust NOT IN
              (SELECT cust FROM cp WHERE period = {last})""",
        "reactivated": f"""
            WITH back AS (SELECT cust, last_date AS last_order_date,
                            n::BIGINT AS orders_last_period,
                            round(revenue, 2) AS revenue_last_period
                          FROM cp WHERE period = {last} AND cust NOT IN
                            (SELECT cust FROM cp WHERE period = {last - 1})),
            earlier AS (SELECT cust, max(last_date) AS previous_order_date
                        FROM cp WHERE period < {last - 1} GROUP BY 1)
            SELECT cust, previous_order_date, last_order_date, orders_last_period,
                   revenue_last_period FROM back JOIN earlier USING (cust)""",
        "adopters": f"""
            WITH first AS (SELECT cust, min(first_date) AS first_order_date,
                             min(first_online) AS first_online_date
                           FROM cp GROUP BY 1),
            new AS (SELECT * FROM first WHERE {sql.key("first_online_date")} = {last}),
            in_last AS (SELECT cust, n::BIGINT AS orders_last_period,
                          online_n::BIGINT AS online_orders_last_period,
                          round(revenue, 2) AS revenue_last_period
                        FROM cp WHERE period = {last})
            SELECT cust, first_online_date, first_order_date, orders_last_period,
                   online_orders_last_period, revenue_last_period
            FROM new JOIN in_last USING (cust)""",
    }
    sql.con.execute(
        """CREATE OR REPLACE TEMP TABLE stake AS
        SELECT cust, round(sum(revenue), 2) AS revenue_12m FROM ov
        WHERE order_date > $year GROUP BY 1""",
        {"year": acc.year_before(sql.hi)},
    )
    out = {}
    for name, query in lists.items():
        out[name] = sql.frame(
            f"""SELECT k.customer_id, a.* EXCLUDE (cust),
                   coalesce(s.revenue_12m, 0.0)::DOUBLE AS revenue_12m
            FROM ({query}) a JOIN customers k USING (cust) LEFT JOIN stake s USING (cust)
            ORDER BY revenue_12m DESC, customer_id"""
        )
    return out


# ------------------------------------------------------------------ bridge and effort


def drivers(sql: Sql, minutes: float, threshold: float | None) -> br.Drivers:
    """``bridge.drivers``: the period totals of the compared periods and the sales effort
    per period in SQL; the choice of periods and the Shapley splits in Python."""
    row = sql.con.execute("SELECT min(order_date) FROM o WHERE order_date <= $hi", {"hi": sql.hi})
    first_order = row.fetchall()[0][0]
    current, bases = br.base_periods(sql.calendar, sql.lo, sql.hi, first_order)
    comparisons: dict[str, dict[str, Any] | None] = dict.fromkeys(br.COMPARISONS)
    notes = {f"bridge.{key}": v for key, v in bases.items() if isinstance(v, str)}
    if current is not None:
        keys = [current, *(v for v in bases.values() if isinstance(v, int))]
        totals = sql.frame(
            f"""SELECT period, count(*)::BIGINT AS customers,
                   sum(n)::BIGINT AS orders, sum(revenue)::DOUBLE AS revenue,
                   count(*) FILTER (online_n > 0)::BIGINT AS online_customers,
                   sum(online_n)::BIGINT AS online_orders
            FROM cp WHERE period IN ({", ".join(map(str, keys))}) GROUP BY 1"""
        )
        factors = {r["period"]: r for r in totals.iter_rows(named=True)}
        for name, base in bases.items():
            if isinstance(base, int):
                comparisons[name] = br.compare(
                    br._factors(factors, base, sql.calendar),
                    br._factors(factors, current, sql.calendar),
                )
    return br.Drivers(
        previous=comparisons["previous"],
        year_earlier=comparisons["year_earlier"],
        effort=_effort(sql, minutes, threshold),
        offline_order_minutes=minutes,
        notes=notes,
    )


def _effort(sql: Sql, minutes: float, threshold: float | None) -> pl.DataFrame:
    small = f"revenue < {threshold!r}" if threshold is not None else "false"
    moved = sql.frame(
        f"""WITH valid AS (SELECT * FROM ov),
        first AS (SELECT cust, min(first_online) AS first_online_date FROM cp
                  GROUP BY 1 HAVING min(first_online) IS NOT NULL),
        adopters AS (
          SELECT cust, first_online_date, {sql.key("first_online_date")} AS adopted,
                 count(*) FILTER (order_date < first_online_date AND NOT is_online)
                   / count(*) FILTER (order_date < first_online_date) AS share
          FROM valid JOIN first USING (cust) GROUP BY ALL
          HAVING count(*) FILTER (order_date < first_online_date) > 0)
        SELECT period, sum(share - (NOT is_online)::DOUBLE) AS orders_moved_online,
               sum(share - (NOT is_online)::DOUBLE) FILTER ({small}) AS _small
        FROM valid JOIN adopters USING (cust)
        WHERE order_date >= $lo AND adopted <= period GROUP BY 1"""
    )
    return br.effort_hours(
        moved.lazy(),
        calendar=sql.calendar,
        start=sql.lo,
        end=sql.hi,
        minutes=minutes,
        small_orders=threshold is not None,
    ).collect()


# ------------------------------------------------------------------ notes


_NOTE_SOURCES = {
    "orders": ("o", "order_date", "revenue"),
    "visits": ("v", "visit_date", None),
    "surveys": ("s", "response_date", None),
    "investments": ("inv", "date", "amount"),
}


def window_notes(sql: Sql, tables: dict[str, bool], currency: str, locale: str) -> dict[str, str]:
    """``kpis.window_notes``: per table, the rows outside the window counted in SQL, the
    sentence by the toolkit's ``kpis._note``."""
    notes = {}
    for name, (table, date, value) in _NOTE_SOURCES.items():
        if name != "orders" and not tables[name]:
            continue
        worth = f"sum({value})::DOUBLE" if value else "NULL::DOUBLE"
        sides = sql.frame(
            f"""SELECT {date} > $hi AS after, count(*)::UINT32 AS rows, min({date}) AS first,
                   max({date}) AS last, {worth} AS {value or "value"}
            FROM {table} WHERE NOT {date} BETWEEN $lo AND $hi GROUP BY 1 ORDER BY 1"""
        )
        note = k._note(sides, k.OUTSIDE_WINDOW[name], sql.lo, sql.hi, currency, locale)
        if note is not None:
            notes[name] = note
    return notes


# ------------------------------------------------------------------ the document


def _profit(sql: Sql, has_cost: bool, margin: float | None, notes: dict[str, str]) -> str | None:
    """``kpis._profit_expr`` as SQL over ``o``."""
    if has_cost:
        row = sql.con.execute("SELECT count(*) FILTER (cost IS NULL) FROM o").fetchall()[0]
        missing = row[0] if row else 0
        if missing and margin is None:
            why = f"{missing} orders have no cost and the params set no gross_margin to estimate it"
            notes["roi"] = notes["online_gross_profit"] = why
            return None
        return (
            f"(revenue - coalesce(cost, revenue * {margin!r}))" if missing else "(revenue - cost)"
        )
    if margin is not None:
        return f"(revenue * {margin!r})"
    why = "orders have no cost column and the params set no gross_margin"
    notes["roi"] = notes["online_gross_profit"] = why
    return None


def valid_orders(sql: Sql) -> None:
    """The orders that count up to the window's end, built once for the plans that look
    back over the whole history: ``ov`` (the rows), ``cp`` (per customer and period:
    orders, revenue, first and last order date, online orders, first online order date)
    and ``cd`` (the distinct customer and order day pairs, with the customer's previous
    order day)."""
    sql.con.execute(
        """CREATE TEMP TABLE customers AS
        SELECT customer_id, (row_number() OVER ())::INTEGER AS cust
        FROM (SELECT DISTINCT customer_id FROM o WHERE is_valid AND order_date <= $hi)""",
        {"hi": sql.hi},
    )
    sql.con.execute(
        """CREATE TEMP TABLE ov AS SELECT cust, order_date, revenue, is_online, period
        FROM o JOIN customers USING (customer_id) WHERE is_valid AND order_date <= $hi""",
        {"hi": sql.hi},
    )
    sql.con.execute(
        """CREATE TEMP TABLE cp AS SELECT cust, period, count(*) AS n,
            sum(revenue)::DOUBLE AS revenue, min(order_date) AS first_date,
            max(order_date) AS last_date, count(*) FILTER (is_online) AS online_n,
            min(order_date) FILTER (is_online) AS first_online
        FROM ov GROUP BY 1, 2"""
    )
    sql.con.execute(
        """CREATE TEMP TABLE cd AS SELECT cust, order_date,
            lag(order_date) OVER (PARTITION BY cust ORDER BY order_date) AS previous
        FROM (SELECT DISTINCT cust, order_date FROM ov)"""
    )


def _window(
    con: duckdb.DuckDBPyConnection, loaded: LoadedParams, calendar: Calendar
) -> tuple[dt.date, dt.date]:
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM o").fetchall()[0]  # type: ignore[misc]
    lo, hi = loaded.params.window.override(None, None).over(first, last, calendar)
    n = con.execute(
        "SELECT count(*) FROM o WHERE is_valid AND order_date BETWEEN $lo AND $hi",
        {"lo": lo, "hi": hi},
    ).fetchall()[0]
    if not n or not n[0]:
        raise ContractError(f"no orders that count between {lo} and {hi}")
    return lo, hi


def document(
    params_path: Path, *, threads: int | None = None
) -> tuple[dict[str, Any], dict[str, float]]:
    """The ``kpis.json`` document of a params file, and the seconds of each phase."""
    t0 = time.perf_counter()
    loaded = load_params(params_path)
    p = loaded.params
    calendar = Calendar(p.period, p.fiscal_year_start)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    tables = {t: getattr(p.data, t) is not None for t in ("visits", "surveys", "investments")}
    has_cost = load_orders(con, loaded, calendar)
    if tables["visits"]:
        load_visits(con, str(loaded.resolve("visits")))
    if tables["surveys"]:
        load_surveys(con, str(loaded.resolve("surveys")))
    if tables["investments"]:
        load_investments(con, str(loaded.resolve("investments")))
    t1 = time.perf_counter()
    lo, hi = _window(con, loaded, calendar)
    sql = Sql(con, lo, hi, calendar)
    valid_orders(sql)
    notes = window_notes(sql, tables, p.currency, p.locale)
    threshold = p.small_order_threshold
    if threshold is None:
        threshold = sql.frame(
            "SELECT median(revenue)::DOUBLE FROM o "
            "WHERE is_valid AND order_date BETWEEN $lo AND $hi"
        ).item()
    profit = _profit(sql, has_cost, p.gross_margin, notes)
    results, samples = plans(sql, threshold, profit, tables)
    lists = account_lists(sql, p.overdue)
    changes = drivers(sql, p.offline_order_minutes, threshold)
    t2 = time.perf_counter()
    con.close()
    doc = assemble(
        loaded,
        calendar,
        lo,
        hi,
        threshold,
        profit is not None,
        notes,
        results,
        samples,
        lists,
        changes,
        tables,
    )
    t3 = time.perf_counter()
    return doc, {"load": t1 - t0, "sql": t2 - t1, "assemble": t3 - t2}


def assemble(
    loaded: LoadedParams,
    calendar: Calendar,
    lo: dt.date,
    hi: dt.date,
    threshold: float | None,
    has_profit: bool,
    notes: dict[str, str],
    results: k.Results,
    samples: dict[str, k.Sample],
    lists: dict[str, pl.DataFrame],
    changes: br.Drivers,
    tables: dict[str, bool],
) -> dict[str, Any]:
    """The document from the aggregates, by the toolkit's finishing functions."""
    names = ["orders", "customers", "visits", "visitors", "surveys", "investments", "adoption"]
    names += ["median_days_to_revert", "median_aov_shift", "median_online_offline_aov_ratio"]
    rows = [results.window[n] for n in names if n in results.window]
    report = k.assemble_report(
        loaded.params,
        calendar=calendar,
        start=lo,
        end=hi,
        threshold=threshold,
        has_profit=has_profit,
        row=k._derived(pl.concat(rows, how="horizontal")).row(0, named=True),
        results=results,
        samples=samples,
        changes=changes,
        account_lists=lists,
        tables=tables,
        notes=notes,
    )
    return report.to_dict()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    doc, timings = document(Path(args[0]))
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(" ".join(f"{k_}={v:.2f}s" for k_, v in timings.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
