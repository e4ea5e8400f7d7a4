"""The fixed vocabularies of exitopt, written once: products, their sectors, exit modes.

Every module that lists products (the scenario schema, the table readers, the reports, the
sweep tables) takes them from here, in this order.
"""

from __future__ import annotations

#: product -> sector, in the order reports list products
PRODUCT_SECTOR: dict[str, str] = {
    "coal": "coal",
    "pig_iron": "steel",
    "crude_steel": "steel",
    "rolled_steel": "steel",
    "clinker": "cement",
    "cement": "cement",
}
PRODUCTS: tuple[str, ...] = tuple(PRODUCT_SECTOR)
