"""Machine-readable literature records: the studies ablasim's defaults and rules come from.

>>> recs = load_records()                                   # doctest: +SKIP
>>> recs["liver_cryo_glazer2017"].outcome("technique efficacy", "< 40 mm").value   # doctest: +SKIP
93.4
"""

from .records import (
    SCHEMA_VERSION,
    Citation,
    Definition,
    Device,
    Factor,
    Issue,
    Measure,
    Outcome,
    Record,
    Size,
    Study,
    Threshold,
    load_record,
    load_records,
    records_dir,
)

__all__ = [
    "SCHEMA_VERSION",
    "Citation",
    "Definition",
    "Device",
    "Factor",
    "Issue",
    "Measure",
    "Outcome",
    "Record",
    "Size",
    "Study",
    "Threshold",
    "load_record",
    "load_records",
    "records_dir",
]
