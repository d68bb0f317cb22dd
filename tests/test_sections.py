"""Slice sections of binary masks (``geometry/_kernels/sections.py``): labels and in-plane distances, against
scipy's labelling and a brute-force distance over all pixel pairs."""

import numpy as np
import pytest
from scipy import ndimage

from ablasim.geometry._kernels.sections import section_distances, section_labels
from ablasim.geometry._kernels.slices import neighbour_areas

PLANAR = np.zeros((3, 3, 3), dtype=bool)
PLANAR[:, :, 1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]  # 4-connected within slices along the last axis


def _volumes(seed, n):
    rng = np.random.default_rng(seed)
    for t in range(n):
        shape = tuple(int(x) for x in rng.integers(1, 18, 3))
        if t % 2:
            yield rng.random(shape) < rng.uniform(0.05, 0.95)
        else:  # a ball (sections shrinking to caps), off-centre
            x = np.indices(shape).astype(float)
            c = np.array(shape) / 2 + rng.uniform(-3, 3, 3)
            yield ((x - c[:, None, None, None]) ** 2).sum(0) <= rng.uniform(1, 9) ** 2


@pytest.mark.parametrize("seed", [0, 1])
def test_labels_match_scipy_numbering_and_counts(seed):
    for vol in _volumes(seed, 60):
        ref, n = ndimage.label(vol, structure=PLANAR)
        lab = np.empty(vol.shape, dtype=np.int64)
        m, counts = section_labels(vol, lab)
        assert m == n
        assert np.array_equal(lab, ref)  # the same numbering: the neighbour-area sums keep their order
        expected = np.bincount(ref.ravel(), minlength=n + 1)
        expected[0] = 0
        assert np.array_equal(counts, expected)


def _brute(sl, sx, sy):
    """Signed in-plane distance of every pixel of one slice, less half the finer pixel (definition in the kernel)."""
    idx = np.argwhere(np.ones(sl.shape, dtype=bool))
    out = np.empty(sl.shape)
    for i, j in idx:
        other = np.argwhere(sl != sl[i, j])
        if len(other) == 0:
            out[i, j] = 1e7 if sl[i, j] else -1e7
            continue
        d2 = ((other[:, 0] - i) * sx) ** 2 + ((other[:, 1] - j) * sy) ** 2
        d = np.sqrt(d2.min()) - 0.5 * min(sx, sy)
        out[i, j] = d if sl[i, j] else -d
    return out


@pytest.mark.parametrize("budget", [0, 10**9])  # every slice transformed whole; ring searches only
def test_distances_exact_where_the_partial_volume_reads_them(budget):
    rng = np.random.default_rng(3)
    n_caps = 0
    for vol in _volumes(4, 40):
        sx, sy = (float(x) for x in rng.choice([0.5, 0.7, 1.0, 2.5], 2))
        lab = np.empty(vol.shape, dtype=np.int64)
        n, counts = section_labels(vol, lab)
        up, down, _, _ = neighbour_areas(lab, n + 1, counts.astype(np.float64))
        out = np.empty(vol.shape)
        section_distances(vol, lab, up, down, sx, sy, budget, out)  # slices along the last axis
        ref = np.stack([_brute(vol[:, :, k], sx, sy) for k in range(vol.shape[2])], axis=2)
        # read where a column crosses towards the slice before or after, and on every inside pixel of a slice
        # holding a cap (a section with nothing overlapping it above or below: its depth is read)
        cross = np.zeros(vol.shape, dtype=bool)
        cross[:, :, 1:] |= vol[:, :, 1:] != vol[:, :, :-1]
        cross[:, :, :-1] |= vol[:, :, :-1] != vol[:, :, 1:]
        cap = (up == 0) | (down == 0)
        cap[0] = False
        cap_slice = np.array([cap[lab[:, :, k]].any() for k in range(vol.shape[2])])
        n_caps += int(cap_slice.sum())
        read = cross | (vol & cap_slice[None, None, :])
        assert np.allclose(out[read], ref[read], rtol=0, atol=1e-12)
        # elsewhere 0 inside and -1e7 outside, or exact (slices transformed whole); a slice of one label only is
        # +/-1e7 throughout
        one = vol.all(axis=(0, 1)) | ~vol.any(axis=(0, 1))
        rest = ~read & ~one[None, None, :]
        exact = np.abs(out - ref) < 1e-12
        assert np.all(((out == 0.0) | exact)[rest & vol]) and np.all(((out == -1e7) | exact)[rest & ~vol])
        if budget == 0:  # a slice with a crossing is transformed whole: every inside pixel exact
            crossing = cross.any(axis=(0, 1)) & ~one
            assert np.all(exact[vol & crossing[None, None, :]])
        assert np.array_equal(out[:, :, one], np.where(vol[:, :, one], 1e7, -1e7))
    assert n_caps > 40  # 175 slices hold a cap in these 40 volumes: the check reads whole transforms, not just rings


def _neighbour_areas_reference(lab, nlab, area):
    """Per label, the summed area of the labels sharing a pixel with it on the next (previous) slice, and of those
    two slices up (down) through such overlaps; each sum over the distinct labels in increasing order."""
    above = [set() for _ in range(nlab)]
    below = [set() for _ in range(nlab)]
    for k in range(lab.shape[2] - 1):
        for a, b in zip(lab[:, :, k].ravel(), lab[:, :, k + 1].ravel()):
            if a > 0 and b > 0:
                above[a].add(b)
                below[b].add(a)

    def sums(nbrs):
        one = np.array([sum(area[b] for b in sorted(nbrs[a])) for a in range(nlab)], dtype=float)
        two = np.array([sum(area[c] for c in sorted(set().union(*(nbrs[b] for b in nbrs[a])))) for a in range(nlab)])
        return one, two.astype(float)

    (up, up2), (down, down2) = sums(above), sums(below)
    return up, down, up2, down2


def test_neighbour_areas_against_the_definition():
    for vol in _volumes(6, 60):
        lab = np.empty(vol.shape, dtype=np.int64)
        n, counts = section_labels(vol, lab)
        area = counts * 0.49  # 0.7 mm pixels: areas that are not exact in binary, so the order of sums matters
        got = neighbour_areas(lab, n + 1, area)
        for g, e in zip(got, _neighbour_areas_reference(lab, n + 1, area)):
            assert np.array_equal(g, e)
