"""Slice sections of binary masks (``geometry/_kernels/sections.py``): labels and in-plane distances, against
scipy's labelling and a brute-force distance over all pixel pairs."""

import numpy as np
import pytest
from scipy import ndimage

from ablasim.geometry._kernels.sections import section_distances, section_labels

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


def test_distances_exact_where_the_partial_volume_reads_them():
    rng = np.random.default_rng(3)
    for vol in _volumes(4, 40):
        sx, sy = (float(x) for x in rng.choice([0.5, 0.7, 1.0, 2.5], 2))
        out = np.empty(vol.shape)
        section_distances(vol, sx, sy, out)  # slices first
        ref = np.stack([_brute(vol[k], sx, sy) for k in range(vol.shape[0])])
        # read at inside pixels and at outside pixels inside on a neighbouring slice (where columns cross)
        read = vol.copy()
        read[1:] |= vol[:-1]
        read[:-1] |= vol[1:]
        assert np.allclose(out[read], ref[read], rtol=0, atol=1e-12)
        # elsewhere (outside pixels, some within the boxes computed): exact or the far-outside value
        rest = ~read
        assert np.all((out[rest] == -1e7) | (np.abs(out[rest] - ref[rest]) < 1e-12))
