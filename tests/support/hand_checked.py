"""The hand-checked example client of every B2B KPI of the Spanish article.

Its expected numbers were worked out by hand from the rows (the comments in
``tests/system/test_b2b_examples.py`` and ``tests/unit/test_metrics.py`` show the
arithmetic), not by running the toolkit. The fixture ``hand_checked_params`` of
``tests/conftest.py`` writes it with :func:`write_hand_checked`.

Customers, in the window January-March 2024 (monthly periods):

* ``a``: an old offline customer (first order December 2023) who goes online on
  5 February, orders online again, then also by phone: retained online.
* ``b``: new in January; first online order on 20 January, every later order by
  phone: reverted to offline, 22 days after going online.
* ``c``: new in March, online only; a cancelled order the next day.
* ``d``: offline only; one returned order (counts in GMV only).
* ``e``: visits the portal, never orders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.support.clientkit import ORDER_HEADER, write_client

ORDERS = [
    ("1", "a", "2023-12-10", "phone", 100, "placed"),
    ("2", "a", "2024-01-05", "phone", 200, "placed"),
    ("3", "a", "2024-02-05", "web", 50, "placed"),
    ("4", "a", "2024-02-20", "web", 70, "placed"),
    ("5", "a", "2024-03-10", "phone", 180, "placed"),
    ("6", "b", "2024-01-07", "phone", 300, "placed"),
    ("7", "b", "2024-01-20", "web", 40, "placed"),
    ("8", "b", "2024-02-11", "phone", 260, "placed"),
    ("9", "b", "2024-03-15", "phone", 240, "placed"),
    ("10", "c", "2024-03-01", "web", 60, "placed"),
    ("11", "c", "2024-03-02", "web", 90, "cancelled"),
    ("12", "d", "2024-02-14", "email", 500, "returned"),
    ("13", "d", "2024-02-15", "fax", 400, "placed"),
    ("14", "d", "2024-03-20", "phone", 80, "placed"),
]
VISITS = [
    ("v0", "a", "2023-12-01 10:00:00"),
    ("v1", "a", "2024-02-05 09:00:00"),
    ("v2", "b", "2024-01-20 08:00:00"),
    ("v3", "b", "2024-01-20 08:30:00"),
    ("v4", "", "2024-02-01 12:00:00"),
    ("v5", "c", "2024-03-01 07:00:00"),
    ("v6", "", "2024-03-05 15:00:00"),
    ("v7", "e", "2024-03-06 16:00:00"),
]
SURVEYS = [
    ("a", "2024-01-10", 5, "csat"),
    ("b", "2024-02-01", 2, "csat"),
    ("c", "2024-03-05", 4, "csat"),
    ("d", "2024-03-06", 10, "nps"),
    ("a", "2024-03-07", 9, "nps"),
    ("b", "2024-03-08", 3, "nps"),
    ("e", "2024-03-09", 7, "nps"),
]
INVESTMENTS = [
    ("2023-12-01", 9999, "platform"),  # before the window: not counted
    ("2024-01-01", 1000, "platform"),
    ("2024-02-01", 500, "marketing"),
]
START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)


def write_hand_checked(folder: Path) -> Path:
    """Write the client's tables and params file into ``folder``; return the params file."""
    return write_client(
        folder,
        {
            "orders": (ORDER_HEADER, ORDERS),
            "visits": (("visit_id", "customer_id", "visit_start"), VISITS),
            "surveys": (("customer_id", "response_date", "score", "kind"), SURVEYS),
            "investments": (("date", "amount", "category"), INVESTMENTS),
        },
        client="Hand Checked",
        gross_margin=0.3,
        small_order_threshold=100,
        window={"start": "2024-01-01", "end": "2024-03-31"},
    )
