"""Self-contained HTML report of a scenario run (for a case conference), with a JSON file beside it.

The HTML has no external resources: images are embedded as base64 PNG data URIs, the CSS is inline and no
JavaScript is needed. Every file is written atomically (:mod:`ablasim._io`).
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from .._version import __version__
from ..errors import ValidationError
from ..workflows.run import ScenarioResult
from ._camera import CAMERA_PRESETS, check_window_size
from ._model import scene_for_outcome
from .plots import cumulative_margin, margin_histogram

__all__ = ["ReportFiles", "write_report"]

_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1080px;color:#1d1f23;
line-height:1.45;padding:0 16px}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #d9dde3;padding-bottom:.2em;margin-top:1.6em}
h3{margin-bottom:.3em}.muted{color:#5f6670}table{border-collapse:collapse;margin:.6em 0 1em;font-size:.92em}
th,td{border:1px solid #d2d6dc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f1f3f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}.pass{background:#dff3e4;color:#145a2a;font-weight:600}
.fail{background:#fbe0e0;color:#8a1414;font-weight:600}.badge{display:inline-block;padding:2px 10px;border-radius:4px}
figure{margin:.8em 0}figure img{max-width:100%;border:1px solid #d2d6dc}figcaption{font-size:.88em;color:#5f6670}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid figure{flex:1 1 460px}.grid figure.wide{flex-basis:100%}
.note{background:#f7f8fa;border-left:4px solid #9fb3c8;padding:8px 12px}ul.warn li{color:#8a4b00}
footer{margin-top:2em;font-size:.85em;color:#5f6670}
"""

_COLOURS = (
    "Colours: the tumour surface shows the signed margin; the neutral (white) colour is the required margin, "
    "red = thinner than required (dark red: thinnest, or the tumour protrudes), blue = thicker. Colour limits "
    "are symmetric about the requirement; beyond them colours saturate. Zone shells are translucent and cut "
    "open towards the viewer; the yellow sphere and segment mark the thinnest point and its nearest zone "
    "point. Grey surface: excluded from the statistics (capsule exclusion)."
)


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote: the HTML and JSON files and the PNG files (when ``save_images``)."""

    html: Path
    json: Path
    images: tuple


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "report"


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _fig_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _paths(scenario, out) -> tuple[Path, Path]:
    out = Path(out)
    if out.suffix.lower() in (".html", ".htm"):
        html_path = out
    elif out.exists() and not out.is_dir():
        raise ValidationError("out", str(out), "expected a directory or a path ending in .html")
    else:
        html_path = out / f"{_slug(scenario.name)}.html"
    return html_path, html_path.with_suffix(".json")


def _table(headers, rows, num_cols=()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            if isinstance(c, tuple):  # (html already escaped, css class)
                cells.append(f'<td class="{c[1]}">{c[0]}</td>')
            else:
                cells.append(f'<td class="num">{_e(c)}</td>' if i in num_cols else f"<td>{_e(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _verdict(passed) -> tuple:
    if passed is None:
        return ("no rule", "")
    return ('<span class="badge pass">PASS</span>', "") if passed else ('<span class="badge fail">FAIL</span>', "")


def _img(data: bytes, alt: str, caption: str, wide: bool = False) -> str:
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    cls = ' class="wide"' if wide else ""
    return f'<figure{cls}><img alt="{_e(alt)}" src="{uri}"><figcaption>{_e(caption)}</figcaption></figure>'


def _fmt_vec(v) -> str:
    return "(" + ", ".join(f"{float(x):.1f}" for x in v) + ")"


def _zone_note(sres) -> list[str]:
    sc = sres.scenario
    cat = sc.catalog
    zm = sc.zone_model
    iso = sc.isotherm_for()
    zone = sc.zone(iso)
    catalog_models = {p.probe.model for p in sc.catalog_probes}
    where = "" if iso is None else f" at the {iso:g} degC isotherm" + (" (the visible ice edge)" if iso == 0 else "")
    notes = []
    if isinstance(zone, list):
        notes.append(
            f"Zone: union of {len(zone)} ellipsoid(s){where}: one catalog zone per probe"
            + (" plus explicit [[zones]]" if sc.zones else "")
            + "; margins measured with exact "
            "point-to-ellipsoid distances, creases and triple points included (docs/methods.md)."
        )
    else:
        notes.append(
            f"Zone: {zone.description} (tail {getattr(zone, 'tail_mm', float('nan')):g} mm): a calibrated "
            "superposition model of the merged ice ball, not a heat-transfer solution; assumptions in "
            "docs/zones.md. Margins measured on its isosurface."
        )
    if zm.scaled:
        notes.append(
            f"Catalog zones scaled by {zm.zone_scale[0]:g} (radial) x {zm.zone_scale[1]:g} (axial) about their "
            "centres (vendor charts from normal animal tissue over-predict clinical zones)."
        )
    if zm.extrapolate:
        notes.append("Power/time settings outside the catalog table are extrapolated.")
    unverified = sorted(m for m in catalog_models if not cat[m].verified)
    if unverified:
        notes.append(
            f"Catalog zone sizes of {', '.join(unverified)} are not verified against the manufacturers' "
            "charts: see the provenance in the probe table."
        )
    return notes


def _probe_rows(sc) -> list:
    rows = []
    for p in sc.probes:
        settings = ", ".join(f"{k} = {v}" for k, v in p.settings.as_dict().items()) or "catalog default"
        if p.explicit is not None:
            settings = (
                f"explicit zone: semi-axes {_fmt_vec(p.explicit.semi_axes_mm)} mm, centre "
                f"{p.explicit.center_offset_mm:g} mm proximal to the tip"
            )
            prov = ("explicit zone in the scenario", "", "")
            modality = ""
        else:
            m = sc.catalog[p.probe.model]
            prov = (m.source, m.kind, "yes" if m.verified else "no")
            modality = m.modality
        rows.append(
            [p.name, p.probe.model, modality, _fmt_vec(p.probe.tip_mm), _fmt_vec(p.probe.direction), settings, *prov]
        )
    return rows


def _tumour_section(index, outcome, scene, images) -> str:
    r = outcome.result
    mm = r.margin_map
    parts = [f'<h2 id="t{index}">Tumour: {_e(outcome.name)}</h2>']
    rows = [
        ["min margin", f"{r.min_margin_mm:+.2f} mm"],
        ["coverage", f"{100 * r.coverage:.2f} %"],
        ["uncovered volume", f"{r.uncovered_volume_mm3:.1f} mm3 of {r.tumor_volume_mm3:.1f} mm3"],
        ["thinnest point", f"{_fmt_vec(r.thinnest_point_mm)} mm"],
        ["nearest zone point", f"{_fmt_vec(r.zone_point_mm)} mm"],
        ["where", r.feature],
        ["method", r.method],
        ["error bound", f"{r.error_bound_mm:.3g} mm"],
        ["surface margin 5th / 50th percentile", f"{mm.percentile(5):.2f} / {mm.percentile(50):.2f} mm"],
    ]
    if r.excluded_area_fraction:
        rows.append(["surface excluded (capsule)", f"{100 * r.excluded_area_fraction:.1f} %"])
    rows += [["warning", w] for w in r.warnings]
    iso = outcome.isotherm_c
    what = "to the ablation zone" if iso is None else f"at the {iso:g} degC isotherm"
    parts.append(
        f"<p>Margins {_e(what)}. Sign: positive = the zone extends that far beyond the tumour surface; "
        "negative = the tumour protrudes that far outside it.</p>"
    )
    parts.append(_table(["quantity", "value"], rows))
    parts.append("<h3>Rule checks</h3>")
    if outcome.checks:
        crow = [
            [
                c.rule,
                ('<span class="badge pass">PASS</span>', "")
                if c.passed
                else ('<span class="badge fail">FAIL</span>', ""),
                f">= {c.required_margin_mm:g} mm",
                f"{c.min_margin_mm:+.2f} mm",
                "-" if c.failing_surface_fraction is None else f"{100 * c.failing_surface_fraction:.1f} %",
                c.reason,
                c.source or "",
            ]
            for c in outcome.checks
        ]
        parts.append(
            _table(
                ["rule", "result", "required", "min margin", "surface below", "reason", "source"], crow, num_cols=(3, 4)
            )
        )
    else:
        parts.append("<p class='muted'>No rule and no required margin in this scenario.</p>")
    parts.append("<h3>Placement warnings</h3>")
    if outcome.placement:
        parts.append("<ul class='warn'>" + "".join(f"<li>{_e(w.message)}</li>" for w in outcome.placement) + "</ul>")
    else:
        parts.append("<p class='muted'>None.</p>")
    parts.append("<h3>Pictures</h3>")
    parts.append(f"<p class='note'>{_e(_COLOURS)}</p>")
    figs = [_img(data, f"{outcome.name} {kind}", caption, wide=kind == "slices") for kind, caption, data, _ in images]
    parts.append("<div class='grid'>" + "".join(figs) + "</div>")
    return "\n".join(parts)


def _images_for(outcome, scene, cameras, window_size, slices) -> list:
    """[(kind, caption, png bytes, camera or None)] for one tumour."""
    from .scene import png_bytes, render_views

    out = []
    views = render_views(scene, cameras, window_size=window_size)
    for cam, img in views.items():
        out.append(
            (
                f"scene_{cam}",
                f"3D view ({cam}): tumour coloured by signed margin, neutral = "
                f"{scene.threshold_mm:g} mm; zone shells: " + ", ".join(s.label for s in scene.shells) + ".",
                png_bytes(img),
                cam,
            )
        )
    thresholds = scene.meta.get("thresholds_mm", {})
    out.append(
        (
            "histogram",
            "Area-weighted distribution of the signed margin over the tumour surface, with the "
            "required margins (dashed) and the minimum (dotted).",
            _fig_png(margin_histogram(outcome.result, thresholds_mm=thresholds)),
            None,
        )
    )
    out.append(
        (
            "cumulative",
            "% of the tumour surface (by area) with margin below t; the required margins are "
            "marked with the surface fraction below them.",
            _fig_png(cumulative_margin(outcome.result, thresholds_mm=thresholds)),
            None,
        )
    )
    if slices:
        from .slices import slice_views

        zones = {s.label if s.isotherm_c is None else s.isotherm_c: s.zone for s in scene.shells}
        fig = slice_views(tumor=outcome.tumor, zones=zones, thinnest_point_mm=outcome.result.thinnest_point_mm)
        out.append(
            (
                "slices",
                "Orthogonal slices through the thinnest point (star): tumour outline (black) and zone "
                "boundaries (dashed).",
                _fig_png(fig),
                None,
            )
        )
    return out


def write_report(
    scenario_result,
    out,
    *,
    window_size=(800, 600),
    cameras=("thinnest", "iso"),
    isotherm_shells: bool = True,
    slices: bool = True,
    save_images: bool = True,
    generated: datetime | None = None,
) -> ReportFiles:
    """Write ``<name>.html`` (self-contained) and ``<name>.json`` for a :class:`~ablasim.workflows.run.ScenarioResult`.

    out : a directory (the files are named after the scenario) or a path ending in ``.html``
    window_size : ``(width, height)`` of the 3D renders, in pixels
    cameras : 3D views per tumour (presets: iso, axial, coronal, sagittal, probe, thinnest)
    isotherm_shells : draw every catalog isotherm (0 / -20 / -40 degC) of cryoprobes that have several
    slices : add orthogonal slices through the thinnest point
    save_images : also write each picture as a PNG next to the HTML (``<name>_<tumour>_<kind>.png``)
    generated : the report's date (default: now, UTC)

    The JSON holds the run's ``to_dict()`` plus ``report``: the HTML file, the images made, the software version
    and the date.
    """
    if not isinstance(scenario_result, ScenarioResult):
        raise ValidationError("scenario_result", scenario_result, "expected the ScenarioResult of run_scenario")
    size = check_window_size(window_size)
    cams = [cameras] if isinstance(cameras, str) else list(cameras)
    for c in cams:
        if c not in CAMERA_PRESETS:
            raise ValidationError("cameras", cameras, f"expected presets among {', '.join(CAMERA_PRESETS)}")
    sc = scenario_result.scenario
    if "probe" in cams and not sc.probes:
        raise ValidationError("cameras", cameras, "the 'probe' view needs probes in the scenario")
    html_path, json_path = _paths(sc, out)
    when = (generated or datetime.now(UTC)).astimezone(UTC)
    stamp = when.strftime("%Y-%m-%d %H:%M UTC")

    sections, manifest, written = [], [], []
    for i, outcome in enumerate(scenario_result.outcomes):
        scene = scene_for_outcome(scenario_result, i, isotherm_shells=isotherm_shells)
        images = _images_for(outcome, scene, cams, size, slices)
        for kind, _, data, cam in images:
            entry = {"tumor": outcome.name, "kind": kind, "camera": cam, "file": None}
            if save_images:
                png = html_path.with_name(f"{html_path.stem}_{_slug(outcome.name)}_{kind}.png")
                written.append(atomic_write_bytes(png, data))
                entry["file"] = png.name
            manifest.append(entry)
        sections.append(_tumour_section(i, outcome, scene, images))

    passed = scenario_result.passed()
    summary = _table(
        ["tumour", "min margin", "coverage", "uncovered", "result"],
        [
            [
                f"{o.name}",
                f"{o.result.min_margin_mm:+.2f} mm",
                f"{100 * o.result.coverage:.1f} %",
                f"{o.result.uncovered_volume_mm3:.1f} mm3",
                _verdict(None if not o.checks else all(c.passed for c in o.checks)),
            ]
            for o in scenario_result.outcomes
        ],
        num_cols=(1, 2, 3),
    )
    probes = (
        _table(
            ["probe", "model", "modality", "tip (mm)", "direction", "settings", "source", "kind", "verified"],
            _probe_rows(sc),
        )
        if sc.probes
        else "<p class='muted'>No probes (explicit zones).</p>"
    )
    doc = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ablasim report: {_e(sc.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(sc.name)} {_verdict(passed)[0]}</h1>",
        f"<p>{_e(sc.description)}</p>" if sc.description else "",
        f"<p class='muted'>Scenario file: {_e(sc.source)}. Generated {_e(stamp)} by ablasim {_e(__version__)}. "
        "Lengths in mm.</p>",
        "<h2>Summary</h2>",
        summary,
        "<h2>Zone model</h2>",
        "<div class='note'>" + "".join(f"<p>{_e(n)}</p>" for n in _zone_note(scenario_result)) + "</div>",
        "<h2>Probes</h2>",
        probes,
        *sections,
        f"<footer>ablasim {_e(__version__)}, {_e(stamp)}. Simulated planning aid: zone sizes come from the catalog "
        "with the provenance stated above; they are not a substitute for intra-procedural imaging.</footer>",
        "</body></html>",
    ]
    atomic_write_text(html_path, "\n".join(d for d in doc if d) + "\n")
    data = scenario_result.to_dict()
    data["report"] = {
        "html": html_path.name,
        "generated_utc": when.isoformat(),
        "ablasim_version": __version__,
        "window_size": list(size),
        "images": manifest,
    }
    atomic_write_json(json_path, data)
    return ReportFiles(html_path, json_path, tuple(written))
