"""Deterministic synthetic B2B data for the demo, the tests and the benchmarks.

:func:`generate` writes the export files of one made-up client (a *profile*), with
that client's raw column names, raw channel and status labels, separator and date
style, so that the params file written by :func:`params_yaml` has real mapping work
to do. The tables and their columns, in order, are those of the data contract
(:mod:`b2b_analysis.schema`). The same profile, size, seed and dates always give
byte-identical files.

The world being simulated
-------------------------
Time runs from one year before ``start`` (the history, so that customers whose first
order predates the analysis window exist) to ``end``. Days carry a calendar weight:
weekdays busy, weekends nearly empty, a December dip, the profile's summer dip and a
slow growth trend. Every date below is drawn with these weights.

Customers (``orders / 40`` of them, at least 50)
    Each has an order rate (lognormal, so a few customers order a lot), a base order
    value (lognormal around the profile's typical order), a preferred offline and
    online channel, a home product category, and a latent satisfaction. About a third
    are established accounts whose first order falls in the first weeks of the history;
    the others are acquired steadily over the whole span. Some churn: the less
    satisfied a customer, the likelier, after a lifetime of months to years.

Online adoption
    A profile-defined share never adopts the web shop. The others adopt on a date drawn
    from an S-curve (logistic) over calendar time, centred ``adoption_mid`` days after
    ``start``; a customer acquired after that date adopts with its first order. The
    adoption date is the date of the customer's first online order. A share of adopters
    *revert*: they try the shop once, and all their orders after that first online
    order are offline again.

Orders
    A customer's orders fall between its first order and its churn date, at its rate,
    which rises by ``frequency_uplift`` after adoption (reverters excepted). Exactly the
    requested number of orders is split over customers (multinomial), each customer
    having at least its first order. Before adoption all orders are offline; after it
    (for adopters who stay) most are online, small orders especially
    (``online_small`` vs ``online_large``). Online orders are smaller
    (``online_aov_factor``) and, with the cross-sell of the shop, hold more lines from
    more categories. About 3% are cancelled and 2% returned. Offline orders are placed
    in business hours, online ones also in the evening; several orders a day are
    common. Order ids count up in time order.

Order lines
    ``lines`` rows per order: a SKU from a catalogue of 12 categories x 500 items
    (popular items more often), a quantity, and a line value; the line values of an
    order add up to the order's revenue to the cent.

Visits (profiles with a ``visits`` table)
    Every online order is preceded by its visit (2 to 40 minutes earlier); the same
    customer also comes back on other days without buying (``browse_visits`` per online
    order on average), and some customers look products up before ordering offline
    (``research_visits`` of offline orders); a quarter of all visits are anonymous (no
    customer id). The conversion rate, online orders over visits, is therefore a bit
    below ``0.75 / (1 + browse_visits)``: 10-25%.

Surveys (profiles with a ``surveys`` table)
    A CSAT score (1-5) after about 6% of orders, and a yearly NPS campaign (0-10) in
    October answered by about 30% of the active customers. Scores follow the
    customer's satisfaction (which also keeps customers ordering), are higher for
    adopters who stay online, lower for reverters and after returns.

Investments (profiles with an ``investments`` table)
    Monthly amounts in three categories: ``platform`` (a build phase before the shop
    goes live, then running costs), ``marketing`` (a launch push, then steady) and
    ``integration`` (irregular projects), scaled to the gross margin the online
    channel earns, so that the ROI is plausible.

Everything is vectorised with NumPy and polars; the only Python loops run over blocks
of customers, chunks of :data:`CHUNK_ORDERS` orders, survey years and catalogue items.

Modules
-------
``profiles``
    The demo clients, their export formats and behaviour.
``timeline``, ``draws``, ``catalogue``
    The weighted calendar, the random streams and draws, the product catalogue.
``customers``, ``world``
    The simulation: customers, then all orders in time order.
``frames``, ``orders``, ``visits``, ``surveys``, ``investments``
    The table builders, one module per table (orders with their lines).
``writing``, ``dataset``
    CSV and Parquet files written chunk by chunk; :func:`generate`, which runs it all.
``params``
    :func:`params_yaml`, the params file of a generated data set.

>>> sorted(PROFILES) == sorted(DEMO_CLIENTS)
True
>>> PROFILES["iberia"].separator
';'
"""

from b2b_analysis.demo.dataset import CHUNK_ORDERS, MIN_ORDERS, generate
from b2b_analysis.demo.params import params_yaml
from b2b_analysis.demo.profiles import (
    DEFAULT_END,
    DEFAULT_START,
    DEMO_CLIENTS,
    PROFILES,
    Format,
    Profile,
)
from b2b_analysis.demo.world import World, simulate

__all__ = [
    "CHUNK_ORDERS",
    "DEFAULT_END",
    "DEFAULT_START",
    "DEMO_CLIENTS",
    "MIN_ORDERS",
    "PROFILES",
    "Format",
    "Profile",
    "World",
    "generate",
    "params_yaml",
    "simulate",
]
