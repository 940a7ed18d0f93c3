"""Training-time refinements: near-duplicate removal, column re-fit, class offsets."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from yuqing.analysis.features import Featurizer
from yuqing.analysis.refine import (
    macro_f1,
    near_duplicates,
    refit_columns,
    tune_offsets,
)


def test_near_duplicates_finds_edited_copies_only() -> None:
    fz = Featurizer()
    test = fz.transform(["房间挺宽，干净，但电器的插头是圆孔，有点不方便。早餐一般，位置不错。"])
    train = fz.transform(
        [
            "房间挺宽,干净,但电器的插头是圆孔,有点不方便.早餐一般,位置不错,下次还来",
            "这本书的印刷质量很差，纸张发黄，不推荐购买。",
            "",
        ]
    )
    assert near_duplicates(train, test).tolist() == [True, False, False]
    assert not near_duplicates(train, fz.transform([])).any()


def test_refit_columns_changes_only_those_columns() -> None:
    rng = np.random.default_rng(0)
    x = sp.random(400, 50, density=0.2, random_state=1, format="csr")
    truth = rng.random(400) < 0.5
    x = sp.hstack([x, sp.csr_matrix(np.where(truth, 1.0, 0.0)[:, None])]).tocsr()  # column 50
    coef = rng.normal(size=51).astype(np.float32)
    coef[50] = 0.0
    new = refit_columns(coef, 0.0, x, truth, np.array([50]), c=100.0)
    assert np.array_equal(new[:50], coef[:50])
    assert new[50] > 1.0  # the column that tells the label gets a large positive weight
    assert new.dtype == coef.dtype


def test_tune_offsets_raises_macro_f1_on_a_biased_scorer() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 600)
    scores = rng.normal(size=(600, 3)) + 2.0 * np.eye(3)[truth]
    scores[:, 0] += 1.5  # a scorer that favours class 0
    before = macro_f1(truth, scores.argmax(axis=1), 3)
    offsets = tune_offsets(scores, truth)
    assert macro_f1(truth, (scores + offsets).argmax(axis=1), 3) > before + 0.05
    assert macro_f1(np.array([0, 1]), np.array([0, 0]), 3) == (2 / 3) / 3
