"""Literature records (ablasim/data/literature/): every record loads and follows the schema, the arithmetic the
documents state holds to the reported rounding, malformed records are refused with a clear message, and the
thresholds ablasim's rules use are present.

Expected numbers come from the five source documents (listed with their citations in the records' README.md and in
docs/references.md); each comment names the document (000 adrenal: Frenk 2017, 001 liver: Glazer 2017, 002 renal:
Interventional Radiology 2022, 003 bone review page, 004 sarcoma: Sheth) and the place in it.
"""

import dataclasses
from pathlib import Path

import pytest

from ablasim.errors import ScenarioError, UnknownNameError, ValidationError
from ablasim.literature import load_record, load_records, records_dir

RECORDS = Path(__file__).resolve().parent.parent / "src" / "ablasim" / "data" / "literature"
IDS = {
    "adrenal_frenk2017",
    "bone_cryo_review_page",
    "liver_cryo_glazer2017",
    "renal_metastases_ir2022",
    "sarcoma_cryo_sheth",
}


@pytest.fixture(scope="module")
def recs():
    return load_records()


def rounds_to(num: int, den: int, pct: float, decimals: int) -> bool:
    """num/den printed as a percentage with ``decimals`` decimals gives ``pct``."""
    return abs(100.0 * num / den - pct) <= 0.5 * 10.0**-decimals + 1e-9


# ---------------------------------------------------------------------------------------------------- all records


def test_default_directory_ships_with_the_package(recs):
    assert records_dir().resolve() == RECORDS.resolve()
    assert set(recs) == IDS
    assert set(load_records(RECORDS)) == IDS
    readme = (RECORDS / "README.md").read_text()
    assert all(f"`{rid}`" in readme for rid in IDS)


def test_one_record_per_source_document_with_a_full_citation(recs):
    kinds = {rid: r.citation.source_kind for rid, r in recs.items()}
    assert kinds["liver_cryo_glazer2017"] == "PubMed abstract page" and all(kinds.values())
    for r in recs.values():
        assert r.citation.title or r.citation.journal
        assert r.study.where and r.study.design
    liver = recs["liver_cryo_glazer2017"].citation  # 001, header lines
    assert (liver.year, liver.volume, liver.issue, liver.pages) == (2017, 209, "6", "1381-1389")
    assert liver.doi == "10.2214/AJR.16.17582" and liver.authors[0] == "Glazer DI"
    adrenal = recs["adrenal_frenk2017"].citation  # 000, citation at the end
    assert adrenal.doi == "10.1016/j.jvir.2017.07.026" and adrenal.year == 2017
    renal = recs["renal_metastases_ir2022"].citation  # 002, running header "Interventional Radiology 2022; 7: 85-92"
    assert (renal.journal, renal.year, renal.volume, renal.pages) == ("Interventional Radiology", 2022, 7, "85-92")


def test_every_figure_has_a_place_units_and_flags(recs):
    for r in recs.values():
        for o in r.outcomes + r.characteristics:
            assert o.where.strip()
            if o.value is not None:
                assert o.unit
                assert o.unit not in ("cm", "m")
            if o.unit == "%":
                assert 0 <= o.value <= 100 and abs(o.fraction - o.value / 100) < 1e-12
            if o.numerator is not None:
                assert 0 <= o.numerator <= o.denominator
                if o.value is not None and not o.inconsistent:
                    assert rounds_to(o.numerator, o.denominator, o.value, o.decimals), (r.id, o)
            if o.approximate or o.uncertain or o.inconsistent:
                assert o.note
        for s in r.sizes:
            assert s.unit == "mm" and s.where.strip()
        for t in r.thresholds:
            assert t.margin_mm >= 0 and t.where.strip()
        for entry in r.measures + r.factors + r.definitions + r.devices + r.issues:
            assert entry.where.strip()


def test_records_hold_facts_not_prose(recs):
    # terse notes only: no free-text field longer than a couple of lines (titles excepted)
    for r in recs.values():
        for entry in (
            (r.study,)
            + r.outcomes
            + r.characteristics
            + r.sizes
            + r.measures
            + r.thresholds
            + r.definitions
            + r.issues
            + r.factors
        ):
            for f in dataclasses.fields(entry):
                v = getattr(entry, f.name)
                if isinstance(v, str):
                    assert len(v) <= 260, (r.id, f.name, v)


def test_records_are_frozen(recs):
    with pytest.raises(dataclasses.FrozenInstanceError):
        recs["liver_cryo_glazer2017"].outcomes[0].value = 1.0


# ------------------------------------------------------------------------------------------ liver (001, Glazer)

# (name, group, numerator, denominator, percent): all from 001 abstract, "Results".
LIVER = [
    ("technical success", None, 279, 295, 94.6),
    ("technique efficacy", None, 231, 258, 89.5),
    ("technique efficacy", "< 40 mm", 213, 228, 93.4),
    ("technique efficacy", ">= 40 mm", 18, 30, 60.0),
    ("local tumour progression", None, 60, 258, 23.3),
    ("local tumour progression", "< 40 mm", 41, 228, 18.0),
    ("local tumour progression", ">= 40 mm", 19, 30, 63.3),
    ("grade >= 3 adverse events", None, 25, 236, 10.6),  # printed as "grade 3-5"
    ("grade >= 3 adverse events", "< 40 mm", 17, 195, 8.7),
    ("grade >= 3 adverse events", ">= 40 mm", 8, 41, 19.5),
]


@pytest.mark.parametrize("name, group, num, den, pct", LIVER)
def test_liver_fractions_match_the_abstract(recs, name, group, num, den, pct):
    o = recs["liver_cryo_glazer2017"].outcome(name, group)
    assert (o.numerator, o.denominator, o.value, o.unit) == (num, den, pct, "%")
    assert rounds_to(num, den, pct, 1) and o.decimals == 1


def test_liver_bins_sum_to_the_totals_and_use_40_mm(recs):
    r = recs["liver_cryo_glazer2017"]
    assert r.study.size_bin_edges_mm == (40.0,)  # 001 abstract: "smaller than 4 cm" / "4 cm or larger"
    for name in ("technique efficacy", "local tumour progression", "grade >= 3 adverse events"):
        lo, hi = r.by_size(name)
        assert (lo.size_min_mm, lo.size_max_mm, hi.size_min_mm, hi.size_max_mm) == (None, 40.0, 40.0, None)
        total = r.outcome(name)
        assert lo.numerator + hi.numerator == total.numerator
        assert lo.denominator + hi.denominator == total.denominator
    # efficacy 93.4 % below 40 mm vs 60.0 % at or above (001 abstract, results)
    assert [o.value for o in r.by_size("technique efficacy")] == [93.4, 60.0]
    assert r.outcome("technique efficacy").at_months == 3  # 001 abstract, methods: "technique efficacy at 3 months"
    # 195 + 41 = 236 procedures (001 abstract): the AE split counts procedures
    assert r.outcome("grade >= 3 adverse events", "< 40 mm").denominator + 41 == r.study.n_procedures == 236


def test_liver_cohort_sizes_and_counts(recs):
    r = recs["liver_cryo_glazer2017"]
    s = r.size("tumour diameter")  # 001 abstract, methods: mean 2.5, median 2.2, range 0.3-7.8 cm
    assert (s.mean_mm, s.median_mm, s.min_mm, s.max_mm, s.reported_unit) == (25.0, 22.0, 3.0, 78.0, "cm")
    assert (r.study.n_tumours, r.study.n_patients, r.study.n_procedures) == (299, 186, 236)
    # 243 metastases + 56 primary = 299 tumours; CT 126 + MRI 100 + PET/CT 10 = 236 procedures (abstract, methods)
    assert sum(c.numerator for c in r.characteristics if c.name == "tumour type") == 299
    assert sum(c.numerator for c in r.characteristics if c.name == "guidance") == 236
    assert (r.study.period_start, r.study.period_end) == ("1998", "2014")


def test_liver_adverse_event_rate_is_flagged_not_fixed(recs):
    o = recs["liver_cryo_glazer2017"].outcome("adverse events")
    # 001 abstract, results: "33.8% (80/236)" although 80/236 = 33.90 %
    assert (o.numerator, o.denominator, o.value) == (80, 236, 33.8)
    assert not rounds_to(80, 236, 33.8, 1) and o.inconsistent and "33.9" in o.note


# ------------------------------------------------------------------------------------------------ renal (002)


def test_renal_counts_sizes_and_margin_rule(recs):
    r = recs["renal_metastases_ir2022"]
    assert (r.study.n_patients, r.study.n_tumours, r.study.n_sessions) == (13, 19, 18)  # 002 abstract
    assert (r.study.size_limit_mm, r.study.size_limit_op) == (30.0, "<=")  # 002 abstract: "<= 3 cm"
    s = r.size("max tumour diameter")  # 002 table 1 and results: 1.7 +- 0.6 cm, range 0.7-3.0 cm
    assert (s.mean_mm, s.sd_mm, s.min_mm, s.max_mm, s.n) == (17.0, 6.0, 7.0, 30.0, 19)
    (t,) = r.thresholds  # 002 methods, thermal ablation: ice-ball margin of 6 mm or more
    assert (t.boundary, t.op, t.margin_mm, t.modality) == ("ice ball edge", ">=", 6.0, "cryoablation")
    ft = r.measure("freeze-thaw cycles", "cryoablation")  # same place: 2 +- 0.26 (range 2-3) cycles
    assert (ft.mean, ft.sd, ft.min, ft.max, ft.unit) == (2, 0.26, 2, 3, "cycles")
    rf = r.measure("RF energy application", "radiofrequency ablation")  # same section: 10-12 min
    assert (rf.min, rf.max, rf.unit) == (10, 12, "min")
    devices = {d.name: d for d in r.devices}  # same section: IceSeed/IceRod probes, 17-gauge Cool-tip electrodes
    assert {"IceSeed", "IceRod", "CryoHit", "Cool-tip"} <= set(devices) and devices["Cool-tip"].gauge == 17


# (collection, name, group, per, numerator, denominator, percent) from 002 at the place commented.
RENAL = [
    ("outcomes", "primary technique efficacy", None, None, 19, 19, 100),  # abstract; results
    ("outcomes", "technical success", None, None, 19, 19, 100),  # results, initial therapeutic results
    ("outcomes", "minor complications", None, None, 9, 18, 50.0),  # results, adverse events
    ("outcomes", "minor complications", "cryoablation", None, 7, 13, 53.8),
    ("outcomes", "minor complications", "radiofrequency ablation", None, 2, 5, 40.0),
    ("outcomes", "local tumour progression", None, None, 1, 13, 7.7),  # results, tumor progression
    ("outcomes", "distant recurrence", None, None, 12, 13, 92.3),
    ("outcomes", "deaths", None, None, 9, 13, 69.2),  # results, survival
    ("outcomes", "CKD stage 1-2 kept at 6 months", None, None, 9, 11, 81.8),  # results, adverse events
    ("characteristics", "included of all renal-ablation patients", None, None, 13, 683, 1.9),  # methods
    ("characteristics", "modality", "cryoablation", "tumours", 14, 19, 73.7),  # table 1
    ("characteristics", "modality", "radiofrequency ablation", "tumours", 5, 19, 26.3),
    ("characteristics", "tumour size", "< 20 mm", None, 14, 19, 73.7),  # table 1
    ("characteristics", "location", "right", None, 13, 19, 68.4),
    ("characteristics", "eGFR at 6 months available", None, None, 11, 13, 84.6),  # results, adverse events
]


@pytest.mark.parametrize("coll, name, group, per, num, den, pct", RENAL)
def test_renal_fractions_match_the_text(recs, coll, name, group, per, num, den, pct):
    r = recs["renal_metastases_ir2022"]
    o = r.outcome(name, group) if coll == "outcomes" else r.characteristic(name, group, per=per)
    assert (o.numerator, o.denominator, o.value) == (num, den, pct)
    assert rounds_to(num, den, pct, o.decimals)


def test_renal_local_control_survival_and_renal_function(recs):
    r = recs["renal_metastases_ir2022"]
    for years in (1, 3, 5):  # 002 results and fig. 2: 93.3 % (95 % CI 80.7-100) at 1, 3 and 5 years
        o = r.outcome("local tumour control", at_years=years)
        assert (o.value, o.ci_low, o.ci_high) == (93.3, 80.7, 100)
    assert r.outcome("overall survival", at_years=1).value == 76.9  # abstract; fig. 4
    assert r.outcome("overall survival", at_years=3).value == 59.3
    before, after = r.measure("eGFR", "before ablation"), r.measure("eGFR", "6 months after last ablation")
    assert (before.mean, after.mean) == (86.4, 75.7)  # results, adverse events; fig. 1
    assert abs((before.mean - after.mean) - r.measure("eGFR decrease").mean) < 1e-9  # 86.4 - 75.7 = 10.7
    # sessions: cryo 13 + RF 5 = 18 (abstract); tumours: 14 + 5 = 19 (table 1)
    for per, total in (("sessions", 18), ("tumours", 19)):
        assert (
            sum(r.characteristic("modality", g, per=per).numerator for g in ("cryoablation", "radiofrequency ablation"))
            == total
        )


def test_renal_inconsistencies_are_flagged(recs):
    r = recs["renal_metastases_ir2022"]
    left = r.characteristic("location", "left")  # 002 table 1: "Left 6 (36.2%)", but 6/19 = 31.6 %
    assert left.inconsistent and not rounds_to(6, 19, 36.2, 1) and rounds_to(6, 19, 31.6, 1)
    per_session = r.measure("tumours per session")  # results: "1.05 tumors per session"; 19/18 = 1.056
    assert per_session.inconsistent and round(19 / 18, 2) == 1.06
    discussion = r.outcome("local tumour control", "discussion summary")  # discussion: 92 % vs 93.3 % in results
    assert discussion.inconsistent and discussion.value == 92
    kinds = [i.kind for i in r.issues]
    assert kinds.count("inconsistent") >= 5 and "missing" in kinds  # authors/title absent from the text


# ----------------------------------------------------------------------------------------- sarcoma (004), others


def test_sarcoma_margin_rule_cohort_and_outcomes(recs):
    r = recs["sarcoma_cryo_sheth"]
    (t,) = r.thresholds  # 004 body: ice ball covers the lesion with a margin of at least 5 mm in all dimensions
    assert (t.boundary, t.op, t.margin_mm, t.all_dimensions) == ("ice ball edge", ">=", 5.0, True)
    assert (r.study.n_patients, r.study.n_lesions) == (141, 250)  # 004 body, paragraph 2
    assert (r.study.period_start, r.study.period_end) == ("2016-03", "2023-04")
    assert r.outcome("local progression-free survival", at_years=1).value == 86  # summary; body
    two = r.outcome("local progression-free survival", at_years=2)  # body reads "79% at years": index gives 2 y
    assert two.value == 79 and two.uncertain and "index" in two.note
    assert r.outcome("complications").value == 2
    factors = {f.factor for f in r.factors}  # key takeaway 3; body paragraph 2
    assert {"inadequate ice-ball coverage", "peritoneal or retroperitoneal lesion"} == factors


def test_adrenal_counts_size_and_rates(recs):
    r = recs["adrenal_frenk2017"]
    assert (r.study.n_procedures, r.study.n_tumours, r.study.n_patients) == (51, 46, 38)  # 000 paragraph 4
    assert (r.study.size_limit_mm, r.study.size_limit_op) == (50.0, "<")  # 000 title line: "< 5 cm"
    s = r.size("tumour diameter")  # 000 paragraph 4: 2.8 +- 1.1 cm, range 0.7-4.9 cm
    assert (s.mean_mm, s.sd_mm, s.min_mm, s.max_mm) == (28.0, 11.0, 7.0, 49.0)
    assert r.outcome("technical success").value == 96  # 000 paragraph 6
    assert r.outcome("primary technique efficacy").value == 72
    assert r.outcome("secondary technique efficacy").uncertain  # 25 % < 72 %: meaning unclear
    for years, lpfs, os_ in ((1, 82, 82), (3, 69, 44), (5, 55, 34)):  # 000 paragraph 7
        assert r.outcome("local progression-free survival", at_years=years).value == lpfs
        assert r.outcome("overall survival", at_years=years).value == os_
    cryo = r.characteristic("modality", "cryoablation")  # 000 paragraph 5: "In 59% of patients"
    assert cryo.per == "patients" and cryo.uncertain
    assert not any(rounds_to(k, 38, 59, 0) for k in range(39)) and rounds_to(30, 51, 59, 0)  # why it is flagged


def test_bone_review_facts(recs):
    r = recs["bone_cryo_review_page"]
    o = r.outcome("success")  # 003 paragraph 1: "around 95% success rate"
    assert o.value == 95 and o.approximate and o.denominator is None
    assert set(r.study.guidance) == {"CT", "ultrasound"}
    assert {"favourable response", "inadequate treatment"} <= {d.term for d in r.definitions}
    callstrom = next(ref for ref in r.references if ref.authors[0] == "Callstrom MR")  # reference list
    assert (callstrom.journal, callstrom.year, callstrom.volume, callstrom.pages) == ("Radiology", 2006, 241, "572-580")


def test_margin_rules_used_by_the_project_are_present(recs):
    rules = {(rid, t.margin_mm) for rid, r in recs.items() for t in r.thresholds}
    assert rules == {("sarcoma_cryo_sheth", 5.0), ("renal_metastases_ir2022", 6.0)}


def test_lookup_errors_are_clear(recs):
    r = recs["liver_cryo_glazer2017"]
    with pytest.raises(UnknownNameError, match="technique efficacy"):
        r.outcome("efficacy")
    with pytest.raises(UnknownNameError, match="< 40 mm"):
        r.outcome("technique efficacy", "< 4 cm")
    with pytest.raises(ValidationError, match="at_years"):
        recs["renal_metastases_ir2022"].outcome("overall survival")


# ----------------------------------------------------------------------------------------- malformed records

OUT = (
    '{ name = "te", group = "< 40 mm", size_max_mm = 40.0, numerator = 213, denominator = 228, value = 93.4, '
    'unit = "%", where = "abstract" }'
)
BASE = (
    """
schema_version = 1
id = "rec"
citation.source_kind = "test"
citation.journal = "J Test"
study.design = "d"
study.organ = "liver"
study.population = "p"
study.where = "abstract"
study.size_bin_edges_mm = [40.0]
outcomes = [
  """
    + OUT
    + """,
]
sizes = [ { name = "diameter", mean_mm = 25.0, min_mm = 3.0, max_mm = 78.0, where = "abstract" } ]
measures = [ { name = "age", unit = "years", mean = 60.9, where = "abstract" } ]
thresholds = [ { name = "m", boundary = "ice ball edge", op = ">=", margin_mm = 5.0, where = "body" } ]
"""
)


def write(tmp_path, text, name="rec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_base_record_is_valid_and_integer_percentages_round_to_units(tmp_path):
    rec = load_record(write(tmp_path, BASE))
    assert rec.outcome("te", "< 40 mm").decimals == 1
    # "93 %" (no decimal) is 213/228 = 93.42 % rounded to units: accepted
    assert load_record(write(tmp_path, BASE.replace("value = 93.4", "value = 93"))).outcomes[0].decimals == 0


MALFORMED = [
    ("numerator = 213", "numerator = 240", "numerator=240 > denominator=228"),
    ("value = 93.4", "value = 93.5", "93.5 % but 213/228"),
    ("value = 93.4", "value = 95", "95 % but 213/228"),
    ("value = 93.4,", "value = 93.4, inconsistent = true, note = 'x',", "agrees"),
    ("value = 93.4,", "value = 93.5, inconsistent = true,", "needs a 'note'"),
    ("value = 93.4", "value = 193.4", "[0, 100]"),
    ("numerator = 213, ", "", "both 'numerator' and 'denominator'"),
    (', unit = "%"', "", "no 'unit'"),
    (', where = "abstract" },\n]', " },\n]", "lacks 'where'"),
    ('group = "< 40 mm",', 'group = "< 40 mm", colour = "red",', "unknown key 'colour'"),
    ("size_max_mm = 40.0", "size_max_mm = 35.0", "size_bin_edges_mm"),
    ("size_max_mm = 40.0,", 'size_max_mm = 40.0, per = "people",', "per='people'"),
    ("mean_mm = 25.0", "mean_cm = 2.5", "lengths must be given in mm"),
    ('unit = "years"', 'unit = "cm"', "lengths must be given in mm"),
    ("min_mm = 3.0", "min_mm = 300.0", "min_mm=300 > max_mm=78"),
    ("margin_mm = 5.0, ", "", "lacks 'margin_mm'"),
    ('op = ">="', 'op = "about"', "op in"),
    ('citation.journal = "J Test"', "", "'title' or a 'journal'"),
    ('citation.source_kind = "test"', "", "citation lacks 'source_kind'"),
    ('id = "rec"', 'id = "other"', "must equal the file name stem"),
    ("schema_version = 1", "schema_version = 2", "schema_version=2"),
    ('study.where = "abstract"', 'study.where = "abstract"\nnotes = "x"', "unknown top-level key"),
    ("mean = 60.9", 'mean = "sixty"', "expected a number"),
    ("outcomes = [", "outcomes = [\n  " + OUT + ",", "duplicate entry"),
    ("outcomes = [", "outcomes = [[", "cannot read record"),
    ("sizes = [", 'references = [ { title = "T" } ]\nsizes = [', "lacks 'relation'"),
]


@pytest.mark.parametrize("old, new, message", MALFORMED)
def test_malformed_records_are_refused_with_the_field_named(tmp_path, old, new, message):
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load_record(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_record_without_citation_is_refused(tmp_path):
    text = "\n".join(line for line in BASE.splitlines() if not line.startswith("citation."))
    with pytest.raises(ScenarioError, match=r"lacks \[citation\]"):
        load_record(write(tmp_path, text))


def test_directories_missing_empty_or_holding_a_bad_record_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="records directory not found"):
        load_records(tmp_path / "nowhere")
    with pytest.raises(ScenarioError, match="no record files"):
        load_records(tmp_path)
    write(tmp_path, BASE)
    assert set(load_records(tmp_path)) == {"rec"}
    write(tmp_path, BASE.replace('id = "rec"', 'id = "bad"').replace("numerator = 213", "numerator = 300"), "bad.toml")
    with pytest.raises(ScenarioError, match="bad.toml.*numerator=300"):
        load_records(tmp_path)
