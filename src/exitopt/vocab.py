"""The fixed vocabularies of exitopt, written once: products, their sectors, unit kinds and
the other fixed values of the unit table.

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
#: sectors, in the order reports list them
SECTORS: tuple[str, ...] = ("coal", "steel", "cement")
#: unit kind -> the product it makes
KIND_PRODUCT: dict[str, str] = {
    "coal_mine": "coal",
    "blast_furnace": "pig_iron",
    "converter": "crude_steel",
    "rolling_mill": "rolled_steel",
    "clinker_line": "clinker",
    "grinding_station": "cement",
}
#: the worst safety accident of the last three years, mildest first
ACCIDENTS: tuple[str, ...] = ("none", "general", "large", "major", "extraordinary")
#: where a row of the unit table comes from
SOURCES: tuple[str, ...] = ("gcmt", "plan", "press", "synthetic")
