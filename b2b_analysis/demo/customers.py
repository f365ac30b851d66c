"""The simulated customers: when they order, whether they adopt the web shop, what
they prefer, and how much of the calendar each one's orders are spread over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from b2b_analysis.demo.catalogue import CATEGORY_CDF
from b2b_analysis.demo.draws import cdf, pick
from b2b_analysis.demo.profiles import Profile
from b2b_analysis.demo.timeline import Calendar, draw_days


@dataclass(frozen=True)
class Customers:
    """Per-customer traits (arrays indexed by customer number)."""

    first: np.ndarray
    last: np.ndarray
    adopt: np.ndarray
    adopter: np.ndarray
    reverter: np.ndarray
    satisfaction: np.ndarray
    base_value: np.ndarray
    offline_pref: np.ndarray
    online_pref: np.ndarray
    home_category: np.ndarray
    #: calendar mass before adoption, and after it (weighted by the frequency uplift)
    pre_mass: np.ndarray
    post_mass: np.ndarray


def customers(profile: Profile, cal: Calendar, n: int, rng: np.random.Generator) -> Customers:
    """``n`` customers of ``profile``; the draws come from ``rng`` in a fixed order."""
    first, last, satisfaction = _lifetimes(cal, n, rng)
    rate = rng.lognormal(0.0, 0.9, n) * np.clip(1.0 + 0.15 * satisfaction, 0.5, None)
    base_value = rng.lognormal(np.log(profile.aov), 0.7, n)
    adopt, adopter, reverter = _adoption(profile, cal, first, last, rng)
    offline_pref = pick(cdf(profile.offline_labels), rng.random(n))
    online_pref = pick(cdf(profile.online_labels), rng.random(n))
    home_category = pick(CATEGORY_CDF, rng.random(n)).astype(np.int8)
    pre_mass, post_mass = _order_masses(profile, cal, first, last, adopt, reverter)
    # rate only matters through the order counts, drawn by the caller
    return Customers(
        first=first.astype(np.int32),
        last=last.astype(np.int32),
        adopt=adopt.astype(np.int32),
        adopter=adopter,
        reverter=reverter,
        satisfaction=satisfaction,
        base_value=base_value,
        offline_pref=offline_pref,
        online_pref=online_pref,
        home_category=home_category,
        pre_mass=pre_mass * rate,
        post_mass=post_mass * rate,
    )


def _lifetimes(
    cal: Calendar, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and last order day and satisfaction of each customer.

    About a third are established accounts whose first order falls in the first weeks
    of the history; the others are acquired over the whole span. The less satisfied a
    customer, the likelier it churns, after a lifetime of months to years.
    """
    n_days = cal.n_days
    established = rng.random(n) < 0.35
    lo = np.zeros(n, dtype=np.int64)
    hi = np.where(established, 45, n_days - 30)
    first = draw_days(cal, lo, hi, rng.random(n))
    satisfaction = rng.standard_normal(n)
    churns = rng.random(n) < 1.0 / (1.0 + np.exp(1.1 + 0.9 * satisfaction))
    lifetime = (60 + rng.exponential(450.0, n)).astype(np.int64)
    last = np.where(churns, np.minimum(first + lifetime, n_days - 1), n_days - 1)
    return first, last, satisfaction


def _adoption(
    profile: Profile,
    cal: Calendar,
    first: np.ndarray,
    last: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adoption day (``n_days``: never), whether a customer adopts, whether it reverts.

    Adoption dates follow an S-curve (logistic) over calendar time; a customer acquired
    after its date adopts with its first order.
    """
    n, n_days = len(first), cal.n_days
    u = np.clip(rng.random(n), 1e-9, 1 - 1e-9)
    wanted = cal.start_day + profile.adoption_mid + profile.adoption_spread * np.log(u / (1 - u))
    adopt = np.maximum(np.clip(np.rint(wanted), 0, n_days), first).astype(np.int64)
    adopter = (rng.random(n) >= profile.never_adopt) & (adopt <= last)
    adopt = np.where(adopter, adopt, n_days)
    reverter = adopter & (rng.random(n) < profile.revert_share)
    return adopt, adopter, reverter


def _order_masses(
    profile: Profile,
    cal: Calendar,
    first: np.ndarray,
    last: np.ndarray,
    adopt: np.ndarray,
    reverter: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Calendar weight of each customer's active days before and after adoption (the
    latter raised by the frequency uplift, except for reverters)."""
    uplift = np.where(reverter, 1.0, profile.frequency_uplift)
    switch = np.minimum(adopt, last + 1)
    pre_mass = cal.cum[switch] - cal.cum[first]
    post_mass = (cal.cum[last + 1] - cal.cum[switch]) * uplift
    return pre_mass, post_mass
