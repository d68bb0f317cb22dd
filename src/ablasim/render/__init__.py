"""Pictures of margins: 3D scenes (pyvista), plots and slice views (matplotlib), self-contained HTML reports.

Nothing heavy is imported with this package: pyvista (only in :mod:`ablasim.render.scene`) and matplotlib load on
first use of a function that needs them. Requires the ``render`` extra (``pip install ablasim[render]``).

>>> from ablasim.render import scene_for_outcome, render_scene, write_report     # doctest: +SKIP
>>> scene = scene_for_outcome(run_scenario(load_scenario("examples/three_probes.toml")))   # doctest: +SKIP
>>> image = render_scene(scene, camera="thinnest", window_size=(800, 600), path="scene.png")  # doctest: +SKIP

Colours (docs/rendering.md): the tumour surface is coloured by signed margin on a diverging scale whose neutral
colour is the rule's threshold: red = thinner than required, blue = thicker, limits symmetric about the threshold.
"""

from __future__ import annotations

from importlib import import_module

from ..errors import DisplayUnavailableError as DisplayUnavailableError

_LAZY = {
    # 3D scenes
    "Scene": "_model",
    "ZoneShell": "_model",
    "make_scene": "_model",
    "scene_for_outcome": "_model",
    "Camera": "_camera",
    "CAMERA_PRESETS": "_camera",
    "render_scene": "scene",
    "render_views": "scene",
    "show_scene": "scene",
    "display_available": "scene",
    # colours
    "margin_colors": "_colors",
    "margin_limits": "_colors",
    "margin_lut": "_colors",
    "NEUTRAL_RGB": "_colors",
    "shell_color": "_colors",
    # plots and slices
    "margin_histogram": "plots",
    "cumulative_margin": "plots",
    "margin_vs_time": "plots",
    "efficacy_vs_size": "plots",
    "slice_views": "slices",
    # report
    "write_report": "report",
    "ReportFiles": "report",
}

__all__ = [  # noqa: PLE0604 - the lazily loaded names are listed once, in _LAZY
    *sorted(_LAZY),
    "DisplayUnavailableError",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ablasim.render' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
