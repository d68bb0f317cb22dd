"""3D scenes with pyvista: the one module of ablasim that imports pyvista / VTK (lazily, inside functions).

Headless machines: when ``DISPLAY`` is unset (Linux), ``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` is set
before pyvista is first imported, so renders go through EGL off-screen; no X server is needed.

What is drawn (docs/rendering.md): the tumour surface coloured by signed margin (diverging red-white-blue scale,
neutral = the rule's threshold, limits symmetric about it), translucent zone shells with the half facing the camera
cut away (they never tint the tumour), probe shafts with conical tips, the thinnest point (a yellow sphere and a
segment to the nearest zone point, labelled with the margin), a colour bar in mm and a text block.
"""

from __future__ import annotations

import io
import os
import sys

import numpy as np

from .._io import atomic_write_bytes
from ..errors import DisplayUnavailableError, ValidationError
from ..metrics.result import MarginResult
from ._camera import check_window_size
from ._colors import LUT_SIZE, NAN_RGB, margin_lut
from ._deps import require
from ._meshes import occluded, probe_shaft
from ._model import Scene, make_scene

__all__ = ["display_available", "png_bytes", "render_scene", "render_views", "show_scene"]

BACKGROUND = "#1b1f24"
TEXT_COLOR = "#f2f2f2"
MARKER_COLOR = "#ffe14d"
PROBE_COLOR = "#c9ccd1"
SHELL_OPACITY = 0.3


def display_available() -> bool:
    """False on Linux without ``DISPLAY`` (then renders go off-screen through EGL)."""
    return not (sys.platform.startswith("linux") and not os.environ.get("DISPLAY"))


def _pyvista():
    if not display_available():
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    return require("pyvista")


def _as_scene(scene) -> Scene:
    if isinstance(scene, Scene):
        return scene
    if isinstance(scene, MarginResult):
        return make_scene(scene)
    raise ValidationError("scene", scene, "expected a Scene (render.make_scene / scene_for_outcome) or a MarginResult")


def _polydata(pv, verts, faces):
    faces = np.asarray(faces, dtype=np.int64)
    cells = np.hstack([np.full((len(faces), 1), 3, dtype=np.int64), faces]).ravel()
    return pv.PolyData(np.asarray(verts, dtype=np.float64), cells)


def _font(h: int, scale: float = 1.0) -> int:
    return max(8, round(h / 48 * scale))


def _scene_radius(scene: Scene) -> float:
    pts = scene.focus_points_mm()
    return float(np.linalg.norm(pts - pts.mean(axis=0), axis=1).max()) or 1.0


def _add_tumour(pv, plotter, scene: Scene, h: int, colorbar: bool) -> None:
    mm = scene.margin_map
    values = np.where(mm.included, mm.margins_mm, np.nan)
    lo, hi = scene.color_limits_mm
    rgba = np.hstack([margin_lut(LUT_SIZE), np.ones((LUT_SIZE, 1))])
    lut = pv.LookupTable(values=(rgba * 255).round().astype(np.uint8))
    lut.scalar_range = (lo, hi)
    lut.nan_color = NAN_RGB
    kw = dict(
        scalars="margin_mm",
        cmap=lut,
        clim=(lo, hi),
        show_scalar_bar=False,
        nan_color=NAN_RGB,
        interpolate_before_map=True,
        specular=0.15,
        diffuse=0.9,
        ambient=0.15,
    )
    if len(mm.faces):
        mesh = _polydata(pv, mm.points_mm, mm.faces)
        mesh.point_data["margin_mm"] = values
        plotter.add_mesh(mesh, smooth_shading=True, **kw)
    else:  # a margin map without triangles: points
        cloud = pv.PolyData(np.asarray(mm.points_mm, dtype=np.float64))
        cloud.point_data["margin_mm"] = values
        plotter.add_mesh(cloud, render_points_as_spheres=True, point_size=max(4, h // 80), **kw)
    if not colorbar:
        return
    bar = plotter.add_scalar_bar(
        title="margin (mm)",
        mapper=plotter.mapper,
        n_labels=5,
        fmt="%+.1f",
        vertical=True,
        position_x=0.87,
        position_y=0.12,
        width=0.06,
        height=0.62,
        title_font_size=_font(h, 1.2),
        label_font_size=_font(h, 1.1),
        color=TEXT_COLOR,
    )
    bar.SetVerticalTitleSeparation(_font(h, 1.1))  # keep the title clear of the top label


def _add_shells(pv, plotter, scene: Scene) -> list:
    entries = []
    for shell in scene.shells:
        verts, faces = shell.mesh
        if len(faces) == 0:
            continue
        plotter.add_mesh(
            _polydata(pv, verts, faces),
            color=shell.color,
            opacity=SHELL_OPACITY,
            culling="front",
            smooth_shading=True,
            specular=0.2,
            show_scalar_bar=False,
        )
        entries.append((shell.label, shell.color))
    return entries


def _add_probes(pv, plotter, scene: Scene, radius: float, h: int, labelled: bool) -> list:
    """Shafts and tips; returns ``[(anchor, label actor)]`` of the probe names."""
    if not scene.probes:
        return []
    r = float(np.clip(0.012 * radius, 0.5, 2.0))
    cone_h = 4.0 * r
    lo = scene.focus_points_mm().min(axis=0)
    hi = scene.focus_points_mm().max(axis=0)
    labels, anchors = [], []
    for name, probe in scene.probes:
        d = probe.direction
        # Shaft length: from the tip back to just beyond the framed box, so it leaves the image but never
        # reaches a camera looking down the shaft.
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(np.abs(d) > 1e-12, np.maximum((lo - probe.tip_mm) / -d, (hi - probe.tip_mm) / -d), np.inf)
        exit_len = float(max(np.min(t), 0.0))
        skin, tip = probe_shaft(probe.tip_mm, d, exit_len + 0.3 * radius)
        base = tip - cone_h * d
        shaft_len = float(np.linalg.norm(base - skin))
        if shaft_len > 0:
            plotter.add_mesh(
                pv.Cylinder(center=0.5 * (skin + base), direction=d, radius=r, height=shaft_len, resolution=24),
                color=PROBE_COLOR,
                specular=0.5,
                smooth_shading=True,
            )
        plotter.add_mesh(
            pv.Cone(center=tip - 0.5 * cone_h * d, direction=d, height=cone_h, radius=r, resolution=24),
            color=PROBE_COLOR,
            specular=0.5,
        )
        anchors.append(tip - min(exit_len, 0.8 * float(np.linalg.norm(hi - lo))) * d)
        if labelled and (len(scene.probes) > 1 or name != "probe"):
            actor = plotter.add_point_labels(
                anchors[-1][None, :],
                [name],
                font_size=_font(h, 1.1),
                text_color="#111111",
                shape_color=PROBE_COLOR,
                shape_opacity=0.85,
                show_points=False,
                always_visible=True,
                bold=False,
            )
            labels.append((anchors[-1], actor))
    return labels


def _add_thinnest(pv, plotter, scene: Scene, radius: float, h: int):
    res = scene.result
    p, q = np.asarray(res.thinnest_point_mm), np.asarray(res.zone_point_mm)
    size = float(np.clip(0.025 * radius, 0.4, 3.0))
    plotter.add_mesh(
        pv.Sphere(radius=size, center=p, theta_resolution=24, phi_resolution=24), color=MARKER_COLOR, specular=0.3
    )
    if np.linalg.norm(q - p) > 1e-6:
        plotter.add_mesh(pv.Tube(pointa=p, pointb=q, radius=0.35 * size, n_sides=16), color=MARKER_COLOR)
        plotter.add_mesh(pv.Sphere(radius=0.6 * size, center=q), color=MARKER_COLOR)
    out = p - scene.tumor_center_mm
    out = out / np.linalg.norm(out) if np.linalg.norm(out) > 1e-9 else np.zeros(3)
    anchor = max((p, q), key=lambda x: float((x - scene.tumor_center_mm) @ out)) + 1.5 * size * out
    return plotter.add_point_labels(
        anchor[None, :],
        [f"thinnest {res.min_margin_mm:+.2f} mm"],
        font_size=_font(h),
        text_color="#111111",
        shape_color=MARKER_COLOR,
        shape_opacity=0.9,
        show_points=False,
        always_visible=True,
        bold=True,
    )


def _build(scene: Scene, window_size, *, off_screen: bool, legend: bool, thinnest: bool, title):
    pv = _pyvista()
    w, h = window_size
    plotter = pv.Plotter(off_screen=off_screen, window_size=(w, h), lighting="light_kit")
    for light in plotter.renderer.lights:  # the light kit's warm / cool tints would shift the neutral colour
        light.diffuse_color = light.specular_color = light.ambient_color = (1.0, 1.0, 1.0)
    plotter.set_background(BACKGROUND)
    radius = _scene_radius(scene)
    _add_tumour(pv, plotter, scene, h, colorbar=legend)
    entries = _add_shells(pv, plotter, scene)
    probe_labels = _add_probes(pv, plotter, scene, radius, h, labelled=legend)
    label = _add_thinnest(pv, plotter, scene, radius, h) if thinnest else None
    if legend:
        head = scene.title if title is None else str(title)
        lines = ([head] if head else []) + list(scene.legend)
        if lines:
            text = plotter.add_text(
                "\n".join(lines), position=(0.012, 0.985), viewport=True, font_size=_font(h, 0.8), color=TEXT_COLOR
            )
            text.prop.justification_vertical = "top"
        if entries:
            plotter.add_legend(
                entries,
                bcolor=BACKGROUND,
                border=False,
                loc="lower left",
                size=(0.24, max(0.04, 22.0 / h) * len(entries)),
                face="rectangle",
            )
    plotter.enable_depth_peeling(number_of_peels=6, occlusion_ratio=0.0)
    plotter.enable_anti_aliasing("ssaa")  # FXAA is not supported on EGL/OSMesa builds
    return plotter, label, probe_labels


def _apply_camera(plotter, cam) -> None:
    plotter.camera.position = cam.position_mm
    plotter.camera.focal_point = cam.focal_point_mm
    plotter.camera.up = cam.view_up
    plotter.camera.view_angle = cam.view_angle_deg
    plotter.renderer.ResetCameraClippingRange()


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of an ``(H, W, 3|4)`` uint8 image."""
    image_module = require("PIL.Image")
    buf = io.BytesIO()
    image_module.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG")
    return buf.getvalue()


def render_views(
    scene,
    cameras=("iso",),
    *,
    window_size=(800, 600),
    paths=None,
    legend: bool = True,
    thinnest: bool = True,
    title: str | None = None,
) -> dict:
    """Render one scene from several cameras (the scene is built once): ``{camera name: (H, W, 3) uint8}``.

    ``paths`` (optional): one PNG path per camera, written atomically. Camera names are presets
    (:data:`ablasim.render.CAMERA_PRESETS`) or :class:`~ablasim.render.Camera` objects (keyed by their ``name``).
    """
    sc = _as_scene(scene)
    size = check_window_size(window_size)
    cams = [cameras] if isinstance(cameras, str) else list(cameras)
    if not cams:
        raise ValidationError("cameras", cameras, "expected at least one camera")
    if paths is not None and len(paths) != len(cams):
        raise ValidationError("paths", paths, f"expected one path per camera ({len(cams)})")
    resolved = [sc.camera(c, size) for c in cams]  # validates before VTK starts
    plotter, label, probe_labels = _build(sc, size, off_screen=True, legend=legend, thinnest=thinnest, title=title)
    mm = sc.margin_map
    images = {}
    try:
        for i, cam in enumerate(resolved):
            _apply_camera(plotter, cam)
            if label is not None:  # the label would float over the tumour when the marker is behind it
                label.SetVisibility(sc.thinnest_visible_from(cam))
            if probe_labels:  # likewise the name of a probe whose labelled end the tumour hides
                hidden = occluded(cam.position_mm, [a for a, _ in probe_labels], mm.points_mm, mm.faces)
                for (_, actor), hide in zip(probe_labels, hidden):
                    actor.SetVisibility(not hide)
            img = np.asarray(plotter.screenshot(return_img=True, window_size=size))[..., :3].copy()
            images[cam.name if cam.name not in images else f"{cam.name}{i}"] = img
            if paths is not None:
                atomic_write_bytes(paths[i], png_bytes(img))
    finally:
        plotter.close()
    return images


def render_scene(
    scene,
    *,
    camera="iso",
    window_size=(800, 600),
    path=None,
    legend: bool = True,
    thinnest: bool = True,
    title: str | None = None,
) -> np.ndarray:
    """Render ``scene`` (a :class:`Scene` or a bare MarginResult) off-screen: the ``(H, W, 3)`` uint8 image.

    camera : a preset (``"iso"``, ``"axial"``, ``"coronal"``, ``"sagittal"``, ``"probe"``, ``"thinnest"``) or a
        :class:`~ablasim.render.Camera`
    window_size : ``(width, height)`` in pixels; the image has exactly this size
    path : optional PNG file, written atomically
    legend : draw the overlays (title and text block, colour bar, legend of the shells, probe names)
    thinnest : mark the thinnest point (yellow sphere, segment to the nearest zone point, label)
    """
    paths = None if path is None else [path]
    (img,) = render_views(
        scene, [camera], window_size=window_size, paths=paths, legend=legend, thinnest=thinnest, title=title
    ).values()
    return img


def show_scene(scene, *, camera="iso", window_size=(1024, 768), legend: bool = True, thinnest: bool = True) -> None:
    """Open an interactive window. Without a display raises :class:`~ablasim.errors.DisplayUnavailableError`
    (write a PNG with :func:`render_scene` instead)."""
    sc = _as_scene(scene)
    size = check_window_size(window_size)
    cam = sc.camera(camera, size)
    if not display_available() or os.environ.get("VTK_DEFAULT_OPENGL_WINDOW") == "vtkEGLRenderWindow":
        raise DisplayUnavailableError(
            "show_scene needs a display (DISPLAY is not set, renders go off-screen through EGL); write a PNG "
            "instead: ablasim.render.render_scene(scene, path='scene.png'), or run `ablasim report SCENARIO`"
        )
    plotter, _, _ = _build(sc, size, off_screen=False, legend=legend, thinnest=thinnest, title=None)
    _apply_camera(plotter, cam)
    plotter.show()
