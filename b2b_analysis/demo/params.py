"""The params file of a demo client's data set: where its files are and how its raw
columns, channels and statuses map onto the data contract."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from b2b_analysis.demo.profiles import (
    DEFAULT_END,
    DEFAULT_START,
    TIMESTAMP_FORMAT,
    Format,
    Profile,
    get_profile,
)

#: Tables whose date column a profile with ``timestamps`` writes as local timestamps.
_STAMPED_TABLES = ("orders", "visits")


def params_yaml(
    profile: str,
    data_dir: str,
    *,
    fmt: Format | None = None,
    with_lines: bool = True,
    start: dt.date = DEFAULT_START,
    end: dt.date = DEFAULT_END,
) -> str:
    """The params file (YAML text) for data that :func:`~b2b_analysis.demo.generate`
    wrote for ``profile``.

    Parameters
    ----------
    profile
        Key of :data:`~b2b_analysis.demo.PROFILES`.
    data_dir
        Folder of the data files relative to the params file, e.g. ``data/acme``; the
        paths become ``f"{data_dir}/orders.csv"`` and so on.
    fmt, with_lines, start, end
        As given to :func:`~b2b_analysis.demo.generate` (``fmt=None``: the profile's
        format); the window of the params file is ``start`` .. ``end``.

    Returns
    -------
    str
        YAML that :func:`b2b_analysis.config.load_params` accepts: the data sources
        with the column mapping (only names that differ from the canonical ones) and
        CSV separator, every channel label the data holds, the status labels, and the
        client's currency, locale, time zone, fiscal year, period and gross margin.

    Examples
    --------
    A table whose file needs no mapping is just its path:

    >>> for line in params_yaml("acme", "data/acme", with_lines=False).splitlines()[2:8]:
    ...     print(line)
    client: Acme Industrial Supply
    slug: acme
    data:
      orders: data/acme/orders.csv
      visits: data/acme/visits.csv
      surveys: data/acme/surveys.csv
    """
    prof = get_profile(profile)
    ext = prof.fmt if fmt is None else fmt
    data = {
        table: _source(prof, table, f"{data_dir.rstrip('/')}/{table}.{ext}", ext)
        for table in prof.written_tables(with_lines)
    }
    # the header's wording is that of the committed params files (params/*.yaml)
    header = (
        f"# {prof.client}: demo params for data made by b2b_analysis.demo "
        f"(profile {prof.slug!r}).\n# Every key is described in docs/params.md.\n"
    )
    doc = _document(prof, data, start, end)
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def _source(profile: Profile, table: str, path: str, ext: str) -> str | dict[str, Any]:
    """One table's entry under ``data``: its path alone, or the path with the CSV
    separator, the timestamp format and the renamed columns it needs."""
    source: dict[str, Any] = {"path": path}
    if ext == "csv" and profile.separator != ",":
        source["separator"] = profile.separator
    if ext == "csv" and profile.timestamps and table in _STAMPED_TABLES:
        source["date_format"] = TIMESTAMP_FORMAT
    renamed = {
        c: profile.raw(table, c)
        for c in profile.written_columns(table)
        if profile.raw(table, c) != c
    }
    if renamed:
        source["columns"] = renamed
    return path if len(source) == 1 else source


def _document(
    profile: Profile, data: dict[str, Any], start: dt.date, end: dt.date
) -> dict[str, Any]:
    """The params document, keys in the order a reader expects them."""
    doc: dict[str, Any] = {"client": profile.client, "slug": profile.slug, "data": data}
    if profile.gross_margin is not None:
        doc["gross_margin"] = profile.gross_margin
    doc["channels"] = {
        "online": list(profile.online),
        "offline": list(profile.offline),
        "unmapped": "error",
    }
    doc["statuses"] = {
        "placed": [profile.status_label("placed")],
        "cancelled": [profile.status_label("cancelled")],
        "returned": [profile.status_label("returned")],
    }
    doc["window"] = {"start": start, "end": end}
    doc["period"] = profile.period
    doc["currency"] = profile.currency
    if profile.locale != "en-US":
        doc["locale"] = profile.locale
    doc["fiscal_year_start"] = profile.fiscal_year_start
    doc["timezone"] = profile.timezone
    return doc
