"""The product catalogue every profile sells: 12 categories x 500 items.

>>> from b2b_analysis.demo.profiles import N_CATEGORIES, PROFILES
>>> len(CATEGORY_WEIGHTS) == N_CATEGORIES
True
>>> sku_names(PROFILES["acme"])[:2]
['AC-01-0001', 'AC-01-0002']
"""

from __future__ import annotations

import numpy as np

from b2b_analysis.demo.profiles import Profile

SKUS_PER_CATEGORY = 500
#: Relative popularity of the 12 product categories.
CATEGORY_WEIGHTS = np.array([18, 12, 9, 7, 8, 10, 9, 7, 5, 6, 5, 4], dtype=np.float64)
CATEGORY_WEIGHTS /= CATEGORY_WEIGHTS.sum()
CATEGORY_CDF = np.cumsum(CATEGORY_WEIGHTS)
#: Quantity per order line: geometric (p = 0.3) quantiles on a fine grid, so a quantity
#: is one table look-up.
QUANTITIES = (1 + np.floor(np.log1p(-(np.arange(4096) + 0.5) / 4096) / np.log(0.7))).astype(
    np.int32
)


def sku_names(profile: Profile) -> list[str]:
    """Item numbers of the catalogue, category by category, in SKU index order."""
    return [
        f"{profile.sku_prefix}{c + 1:02d}-{i + 1:04d}"
        for c in range(len(profile.categories))
        for i in range(SKUS_PER_CATEGORY)
    ]
